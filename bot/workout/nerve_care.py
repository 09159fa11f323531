"""What changes for someone who reported nerve signs (the calf zinging in the onboarding test).

The exercises that care are marked in content/exercises.toml: nerve_reminder (say
nerve.stretch_reminder before it) and nerve_hold_gentlest (stay at the first stage until the
person says the zinging has gone). These pure functions apply those marks.
"""
from __future__ import annotations

from bot.content import Exercise

# users.hamstring: what the onboarding flexibility test found, and "nerve_gone" once someone
# who reported the calf zinging says it has gone.
NERVE, NERVE_GONE = "nerve", "nerve_gone"


def has_signs(hamstring: str | None) -> bool:
    """The person reported the calf zinging and has not said it has gone."""
    return hamstring == NERVE


def reminds(exercise: Exercise, nerve_signs: bool) -> bool:
    """Whether to remind the person, before this exercise, to stop if the zinging comes back."""
    return nerve_signs and exercise.nerve_reminder


def stage_index(exercise: Exercise, stored_index: int, nerve_signs: bool) -> int:
    """The stage to run today: the gentlest one while nerve signs last for an exercise that
    holds there, otherwise the stored stage (clamped to the ladder as Exercise.stage_at does)."""
    if nerve_signs and exercise.nerve_hold_gentlest:
        return 0
    return max(0, min(stored_index, len(exercise.stages) - 1))


def may_move_up(exercise: Exercise, nerve_signs: bool) -> bool:
    """An exercise held at its gentlest stage for nerve signs never steps up until they are gone."""
    return not (nerve_signs and exercise.nerve_hold_gentlest)
