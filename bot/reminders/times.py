"""When a person's next reminder and weekly summary are due: pure functions over their settings.

The DST policy itself lives in `localtime.next_occurrence` (a time that does not exist fires once,
shifted forward; a doubled time fires once, at its first occurrence). This module adds what the
reminder service needs on top: reading the settings row, pauses, a fingerprint of the settings
(so a restart can tell which stored due times are still valid without recomputing 100,000 of
them), and the keys of the once-per-day and once-per-week log.
"""
from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from typing import Any

from bot.localtime import next_occurrence, parse_time_of_day, zone_info

UTC = dt.timezone.utc
SUNDAY = 6
DAILY, SNOOZE, WEEKLY = "daily", "snooze", "weekly"


@dataclass(frozen=True)
class Prefs:
    """One person's reminder settings, checked; `from_row` gives None when there is nothing to
    schedule (reminders off, no time or zone yet, no days, or a zone tzdata does not know)."""

    at: dt.time
    zone: str
    days: frozenset[int]
    paused_until: dt.date | None
    summary_day: int = SUNDAY

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Prefs | None:
        if not row.get("reminders_on"):
            return None
        at = _time(row.get("reminder_time") or "")
        zone = row.get("timezone") or ""
        days = _days(row.get("reminder_days") or "")
        if at is None or not days or not _known_zone(zone):
            return None
        summary_day = row.get("summary_day")
        return cls(at, zone, days, _date_or_none(row.get("reminders_paused_until")),
                   summary_day if isinstance(summary_day, int) and 0 <= summary_day <= 6
                   else SUNDAY)


def parse_days(text: str | None) -> frozenset[int]:
    """"0123456" (0 = Monday) as stored in users.reminder_days; junk characters are ignored."""
    return frozenset(int(c) for c in (text if text is not None else "0123456") if c in "0123456")


def spec(reminder_time: str | None, zone: str | None, days: str | None,
         paused_until: str | None, extra: object = "") -> str:
    """A fingerprint of the settings a stored due time was computed from. The same expression
    exists in SQL (`SPEC_SQL`) so start-up finds stale rows with one query."""
    return f"{reminder_time or ''}|{zone or ''}|{days or ''}|{paused_until or ''}|{extra}"


SPEC_SQL = ("coalesce(u.reminder_time, '') || '|' || coalesce(u.timezone, '') || '|' || "
            "coalesce(u.reminder_days, '') || '|' || coalesce(u.reminders_paused_until, '') || '|'")


def next_daily(prefs: Prefs, after: dt.datetime) -> dt.datetime:
    """The first reminder instant strictly after `after`, on an allowed day, not in a pause."""
    return _next(prefs.at, prefs.zone, prefs.days, _resume_after(prefs, after))


def next_weekly(prefs: Prefs, after: dt.datetime) -> dt.datetime:
    """The weekly summary: the person's reminder time on their summary day (their chosen
    reminder days do not apply: the summary comes even in a week of rest days)."""
    return _next(prefs.at, prefs.zone, frozenset({prefs.summary_day}), _resume_after(prefs, after))


def week_key(day: dt.date) -> str:
    """The Monday of the week: the weekly summary's log key, so moving the summary day within a
    week can never send a second summary that week."""
    return (day - dt.timedelta(days=day.weekday())).isoformat()


def start_of_day(day: dt.date, zone: str) -> dt.datetime:
    """Local midnight of `day` as a UTC instant (shifted forward if midnight does not exist)."""
    local = dt.datetime.combine(day, dt.time(0)).replace(tzinfo=zone_info(zone))
    return local.astimezone(UTC)


def iso(instant: dt.datetime) -> str:
    """UTC, whole seconds, fixed width: stored due times compare correctly as text."""
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def _resume_after(prefs: Prefs, after: dt.datetime) -> dt.datetime:
    if prefs.paused_until is None:
        return after
    resume = start_of_day(prefs.paused_until, prefs.zone) - dt.timedelta(microseconds=1)
    return max(after, resume)


@functools.lru_cache(maxsize=8192)
def _next(at: dt.time, zone: str, days: frozenset[int], after: dt.datetime) -> dt.datetime:
    """Cached: thousands of people share a zone, a time and the instant they are computed from
    (start-up, or everyone due at 07:00 moving on to tomorrow)."""
    return next_occurrence(at, zone, days, after)


@functools.lru_cache(maxsize=4096)
def _time(text: str) -> dt.time | None:
    return parse_time_of_day(text)


@functools.lru_cache(maxsize=256)
def _days(text: str) -> frozenset[int]:
    return parse_days(text)


@functools.lru_cache(maxsize=1024)
def _known_zone(zone: str) -> bool:
    try:
        zone_info(zone)
    except (KeyError, ValueError, OSError):
        return False
    return bool(zone)


def _date_or_none(text: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text) if text else None
    except ValueError:
        return None
