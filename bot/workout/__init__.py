"""A workout: today's plan at the person's stages and the running session (session.py) with
what it says (cards.py) and the questions after "it hurts" (hurt_check.py), the deadline-based
interval timers (timers.py), the rules that move exercises up and down their ladders
(progression.py), and the advice any high pain score brings (pain.py)."""
