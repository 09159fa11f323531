"""The pain-monitoring rules: pain answers move exercises up or down their ladders.

Thresholds come from content/rules.toml. Every move carries its reason so the coach can tell the
person and keep it in the history; nothing changes silently.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.content import Rules

UP, DOWN, MORNING_DOWN = "up", "down", "morning_down"


@dataclass(frozen=True)
class Session:
    """One finished workout that included the exercise: its stage then and the pain after it."""

    stage_index: int
    pain_after: int
    pain_before: int


@dataclass(frozen=True)
class Move:
    exercise_id: str
    from_index: int
    to_index: int
    reason: str
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Verdict:
    """What one pain answer does: the moves, and whether to suggest seeing a clinician."""

    moves: tuple[Move, ...]
    held: bool
    see_clinician: bool


def after_workout(rules: Rules, pain: int, completed: Mapping[str, Sequence[Session]],
                  stages: Mapping[str, int], ladder_sizes: Mapping[str, int],
                  hold_up: bool = False) -> Verdict:
    """Apply the rules to each exercise completed in the workout just reported.

    `completed[exercise]` holds that exercise's finished sessions, newest (this one) first.
    `hold_up` comes from a worse next-morning answer: nothing may go up this time.
    """
    moves: list[Move] = []
    for exercise_id, sessions in completed.items():
        current = stages[exercise_id]
        if pain > rules.down_above_pain:
            if current > 0:
                moves.append(Move(exercise_id, current, current - 1, DOWN, {"score": pain}))
        elif pain <= rules.up_max_pain and not hold_up:
            if _earned_step_up(rules, sessions, current) and current + 1 < ladder_sizes[exercise_id]:
                recent = sessions[: rules.up_needs_good_workouts]
                moves.append(Move(exercise_id, current, current + 1, UP,
                                  {"scores": [s.pain_after for s in reversed(recent)],
                                   "count": len(recent)}))
    held = not moves and pain <= rules.hold_max_pain
    return Verdict(tuple(moves), held, pain >= rules.see_clinician_pain)


def _earned_step_up(rules: Rules, sessions: Sequence[Session], current: int) -> bool:
    """The last N sessions at this stage were all comfortable and never above the pain before."""
    recent = sessions[: rules.up_needs_good_workouts]
    if len(recent) < rules.up_needs_good_workouts:
        return False
    return all(s.stage_index == current and s.pain_after <= rules.up_max_pain
               and s.pain_after <= s.pain_before for s in recent)


def next_morning(rules: Rules, morning_pain: int, yesterday_before: int,
                 yesterday_exercises: Sequence[str], stages: Mapping[str, int]) -> tuple[
                     tuple[Move, ...], bool]:
    """The "next morning" half of the rule: a worse back holds (no step up) or lowers stages.

    Returns the moves and whether step-ups are held at the next workout.
    """
    rise = morning_pain - yesterday_before
    if rise >= rules.morning_down_rise:
        moves = tuple(Move(e, stages[e], stages[e] - 1, MORNING_DOWN, {"rise": rise})
                      for e in yesterday_exercises if stages.get(e, 0) > 0)
        return moves, True
    return (), rise >= rules.morning_hold_rise
