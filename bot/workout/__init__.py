"""A workout: today's plan at the person's stages and the running session (session.py) with
what it says (cards.py, and card_picture.py for the stage's animation) and the questions after
"it hurts" (hurt_check.py), the deadline-based interval timers (timers.py), the rules that move
exercises up and down their ladders (progression.py), and the advice any high pain score brings
(pain.py). Around a session: "pain right now?" and rest days (pain_check.py), the pain answer
afterwards with the form check before a step up (pain_after.py), and how changes are worded
(change_words.py)."""
