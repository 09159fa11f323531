"""A workout: today's plan at the person's stages and the running session (session.py), the
deadline-based interval timers (timers.py), the rules that move exercises up and down their
ladders (progression.py), and the advice any high pain score brings (pain.py).
Around a session: "pain right now?" and rest days (pain_check.py), the pain answer afterwards
with the form check before a step up (pain_after.py), and how changes are worded
(change_words.py)."""
