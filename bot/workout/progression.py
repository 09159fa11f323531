"""The pain-monitoring rules: pain answers move exercises up or down their ladders.

Thresholds come from content/rules.toml. Every move carries its reason so the coach can tell the
person and keep it in the history; nothing changes silently. A step up needs comfortable
sessions on separate days (three workouts in one evening are one day's work, not three), and is
then still only a proposal: the form check (form_gate.py) decides it.
"""
from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from bot.content import Rules

UP, DOWN, MORNING_DOWN = "up", "down", "morning_down"


@dataclass(frozen=True)
class Session:
    """One finished workout that included the exercise: its stage then and the pain after it."""

    stage_index: int
    pain_after: int
    pain_before: int
    day: date | None = None  # the person's local day; None: each session is a day of its own


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
                  hold_up: bool = False, kept: Collection[str] = ()) -> Verdict:
    """Apply the rules to each exercise completed in the workout just reported.

    `completed[exercise]` holds that exercise's finished sessions, newest (this one) first.
    `hold_up` comes from a worse next-morning answer or paused step-ups: nothing may go up this
    time. `kept` names exercises that may not move up at all for now (nerve care).
    """
    moves: list[Move] = []
    for exercise_id, sessions in completed.items():
        current = stages[exercise_id]
        if pain > rules.down_above_pain:
            if current > 0:
                moves.append(Move(exercise_id, current, current - 1, DOWN, {"score": pain}))
        elif pain <= rules.up_max_pain and not hold_up and exercise_id not in kept:
            days = comfortable_days(rules, sessions, current)
            if len(days) >= rules.up_needs_good_workouts and \
                    current + 1 < ladder_sizes[exercise_id]:
                recent = days[: rules.up_needs_good_workouts]
                moves.append(Move(exercise_id, current, current + 1, UP,
                                  {"scores": [s.pain_after for s in reversed(recent)],
                                   "count": len(recent), "score": pain}))
    held = not moves and pain <= rules.hold_max_pain
    return Verdict(tuple(moves), held, pain >= rules.see_clinician_pain)


def comfortable_days(rules: Rules, sessions: Sequence[Session], current: int) -> list[Session]:
    """The comfortable days in a row at this stage, newest first, one session standing for each
    day (its newest). A day counts when every session of it was at this stage, at pain
    up_max_pain or less, and no worse than before; the first day that fails ends the run."""
    days: list[Session] = []
    seen: set[object] = set()
    for number, session in enumerate(sessions):
        day = session.day if session.day is not None else ("session", number)
        good = (session.stage_index == current and session.pain_after <= rules.up_max_pain
                and session.pain_after <= session.pain_before)
        if not good:
            if day in seen:  # a bad session spoils its whole day
                days.pop()
            break
        if day not in seen:
            seen.add(day)
            days.append(session)
    return days


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
