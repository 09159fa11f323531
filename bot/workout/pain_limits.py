"""When pain stops the programme for a while: no workout today, stop for today, no step-ups.

Pure decisions from the [pain_limits] thresholds in content/rules.toml, so the conversation only
asks these functions and says the matching text (pain.not_today, pain.high, pain.step_ups_paused).
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from bot.content import Rules


def blocks_workout_today(rules: Rules, starting_pain: int) -> bool:
    """A starting pain this high means no workout today: moving gently helps more than exercise."""
    return starting_pain >= rules.no_workout_from


def stops_for_today(rules: Rules, pain_after: int) -> bool:
    """Pain after a workout above the hold band brings the stop-for-today advice (pain.high)."""
    return pain_after > rules.stop_for_today_above


def high_pain_workouts(rules: Rules, pain_after: Iterable[tuple[datetime, int]],
                       now: datetime) -> int:
    """How many workouts in the window ending now had pain afterwards above the hold band.

    pain_after holds (reported at, score) for the person's after-workout pain answers; the window
    is the last pause_window_days days, now included, so it rolls forward day by day.
    """
    start = now - timedelta(days=rules.pause_window_days)
    return sum(1 for at, score in pain_after if start < at <= now and stops_for_today(rules, score))


def step_ups_paused(rules: Rules, pain_after: Iterable[tuple[datetime, int]],
                    now: datetime) -> bool:
    """Enough painful workouts in the window pause every step-up (and suggest a practitioner),
    until older ones leave the window."""
    return high_pain_workouts(rules, pain_after, now) >= rules.pause_step_ups_after


STARTING_KINDS = ("before", "baseline")  # pain given as "right now", before any exercise today


def rest_day(rules: Rules, todays_pain: Iterable[tuple[str, int]]) -> tuple[str, int] | None:
    """Why today is a rest day from the exercises, if it is: (kind, score) of the newest pain
    answer of the person's day that makes it one. todays_pain holds (kind, score), oldest
    first: a starting pain (before a session, or at onboarding) of no_workout_from or more, or
    pain after a workout above the hold band (the stop-for-today advice holds all day)."""
    for kind, score in reversed(list(todays_pain)):
        if kind in STARTING_KINDS and blocks_workout_today(rules, score):
            return kind, score
        if kind == "after" and stops_for_today(rules, score):
            return kind, score
    return None
