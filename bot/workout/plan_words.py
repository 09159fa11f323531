"""The one-line plan on an exercise card ("2 sets of 10 each side, 60 s rest between sets").

It is written from the same TimerPlan the timers run, never typed by hand, so what the card says
and what the timer does cannot disagree. The words come from the [plan] texts in content/.
"""
from __future__ import annotations

from typing import Protocol

from bot.content import TimerPlan

# From two whole minutes up a duration reads better in minutes ("2 min"); shorter ones stay in
# seconds so the card matches the timer's own cues ("Rest 60 s").
MINUTES_FROM_S = 120


class TextLookup(Protocol):
    """What this module needs from bot.texts.Texts: a key and its placeholders in, text out."""

    def __call__(self, key: str, **values: object) -> str: ...


def plan_line(plan: TimerPlan, texts: TextLookup) -> str:
    """The whole plan of one stage (or warm-up move) in one line, without a final full stop."""
    if plan.mode == "paced":
        return _paced_line(plan, texts)
    return _timed_line(plan, texts)


def duration(seconds: int, texts: TextLookup) -> str:
    """"45 s", "90 s" or "2 min": minutes only for whole minutes from MINUTES_FROM_S up."""
    if seconds >= MINUTES_FROM_S and seconds % 60 == 0:
        return texts("plan.minutes", count=seconds // 60)
    return texts("plan.seconds", count=seconds)


def _sides(plan: TimerPlan, texts: TextLookup) -> str:
    if plan.sides == "each":
        return texts("plan.each_side")
    if plan.sides == "alternate":
        return texts("plan.alternating")
    return ""


def _paced_line(plan: TimerPlan, texts: TextLookup) -> str:
    """Reps at the person's own pace: "10 reps", or "2 sets of 10 each side, 60 s rest ..."."""
    sides = _sides(plan, texts)
    if plan.sets == 1:
        key = "plan.reps_one" if plan.reps == 1 else "plan.reps_many"
        return texts(key, count=plan.reps, sides=sides)
    line = texts("plan.sets_of", count=plan.sets, reps=plan.reps, sides=sides)
    return line + _set_rest(plan, texts)


def _timed_line(plan: TimerPlan, texts: TextLookup) -> str:
    """Holds or movement on the timer: "30 s each side", "2 min", "10 holds of 10 s ..."."""
    sides = _sides(plan, texts)
    work = duration(plan.work_s, texts)
    if plan.reps == 1:
        line = texts("plan.once", work=work, sides=sides)
    else:
        unit = "holds" if plan.mode == "hold" else "rounds"
        line = texts(f"plan.{unit}", count=plan.reps, work=work, sides=sides)
        if plan.rest_s:
            line += texts(f"plan.rest_between_{unit}", rest=duration(plan.rest_s, texts))
    if plan.sets > 1:
        line += texts("plan.sets", count=plan.sets) + _set_rest(plan, texts)
    return line


def _set_rest(plan: TimerPlan, texts: TextLookup) -> str:
    if plan.sets > 1 and plan.set_rest_s:
        return texts("plan.rest_between_sets", rest=duration(plan.set_rest_s, texts))
    return ""
