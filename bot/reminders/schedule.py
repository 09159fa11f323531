"""When each person's next reminders are due: computed from their settings, stored in the
book, and never a slot that was already sent or skipped.

Every settings change, snooze and "skip today" comes through here, so the wake-up can be
re-armed at once (`on_earlier`) and a change takes effect without a restart.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from bot.clock import Clock
from bot.localtime import local_date
from bot.reminders.book import SKIPPED, Due, Next, ReminderBook
from bot.reminders.times import (DAILY, SNOOZE, WEEKLY, Prefs, iso, next_daily, next_weekly,
                                 parse_iso, spec, week_key)


class Schedule:
    """The due times of one database's reminders. `weekly_on` says whether summaries are sent;
    `on_earlier` is told of every new due time, to wake up earlier if needed."""

    def __init__(self, book: ReminderBook, clock: Clock, grace: dt.timedelta,
                 on_earlier: Callable[[dt.datetime], None] = lambda due: None) -> None:
        self.book = book
        self.clock = clock
        self.grace = grace
        self.on_earlier = on_earlier
        self.weekly_on = False

    def prefs(self, user_id: int) -> Prefs | None:
        row = self.book.settings_row(user_id)
        return Prefs.from_row(row) if row else None

    def reschedule(self, user_id: int) -> dt.datetime | None:
        """Recompute a person's rows from their settings now; the next daily instant or None.

        Called for every settings change (and by the users trigger), so a change takes effect
        without a restart. A day already logged (sent or skipped) is passed over.
        """
        row = self.book.settings_row(user_id)
        prefs = Prefs.from_row(row) if row else None
        if row is None or prefs is None:
            self.book.drop(user_id)
            return None
        now = self.clock.now()
        daily = self.next_free(user_id, DAILY, prefs, row, now)
        self.book.put(user_id, DAILY, daily)
        earliest = parse_iso(daily.due_at)
        if self.weekly_on:
            weekly = self.next_free(user_id, WEEKLY, prefs, row, now)
            self.book.put(user_id, WEEKLY, weekly)
            earliest = min(earliest, parse_iso(weekly.due_at))
        else:
            self.book.drop(user_id, [WEEKLY])
        self.on_earlier(earliest)
        return parse_iso(daily.due_at)

    def next_reminder(self, user_id: int) -> dt.datetime | None:
        """The next reminder of any kind but the summary (a pending snooze counts)."""
        rows = [self.book.row(user_id, kind) for kind in (DAILY, SNOOZE)]
        times = [parse_iso(r.due_at) for r in rows if r is not None]
        return min(times) if times else None

    def next_summary(self, user_id: int) -> dt.datetime | None:
        row = self.book.row(user_id, WEEKLY)
        return parse_iso(row.due_at) if row else None

    def snooze(self, user_id: int, at: dt.datetime) -> None:
        """One extra reminder at `at`; a newer snooze replaces it. Stored, so it survives a
        restart; logged under its own instant, so it is sent once."""
        self.book.put(user_id, SNOOZE, Next(iso(at), iso(at), ""))
        self.on_earlier(at)

    def resume_day(self, user_id: int, days: int) -> dt.date | None:
        """For "pause for N days": the local day reminders resume, so that the next `days`
        calendar days, from the next one that would have had a reminder, get none."""
        row = self.book.settings_row(user_id)
        prefs = Prefs.from_row(row) if row else None
        if row is None or prefs is None:
            return None
        unpaused = replace(prefs, paused_until=None)
        first = self.next_free(user_id, DAILY, unpaused, row, self.clock.now())
        return dt.date.fromisoformat(first.slot) + dt.timedelta(days=days)

    def skip_today(self, user_id: int, today: dt.date) -> dt.datetime | None:
        """No (more) reminders today: today's slot is logged as skipped, snoozes dropped."""
        self.book.log(user_id, DAILY, today.isoformat(), SKIPPED, iso(self.clock.now()))
        self.book.drop(user_id, [SNOOZE])
        return self.reschedule(user_id)

    def next_free(self, user_id: int, kind: str, prefs: Prefs, row: dict[str, Any],
                   after: dt.datetime, logged: set[tuple[int, str]] | None = None) -> Next:
        """The next slot of `kind` after `after` that is not logged yet."""
        at = self._next_after(kind, prefs, after)
        for _ in range(3):
            slot = self._slot(kind, at, prefs)
            done = ((user_id, slot) in logged if logged is not None
                    else self.book.status(user_id, kind, slot) is not None)
            if not done:
                break
            at = self._next_after(kind, prefs, at)
        return Next(iso(at), self._slot(kind, at, prefs), self.spec_of(kind, row))

    def next_slot(self, due: Due, due_at: dt.datetime, prefs: Prefs, row: dict[str, Any],
                  now: dt.datetime) -> Next:
        """Where a handled row goes next: the slot after this one (the same for everyone due
        at this instant in this zone, so computed once). After downtime that slot may be past
        already: it stays due, and run_due sends it late if it is still within the grace
        window (Tuesday missed, Wednesday's 30 min late still comes). Slots that downtime
        left beyond the grace window are passed over in one step, not one day at a time."""
        then = self.next_free(due.user_id, due.kind, prefs, row, due_at)
        reachable = now - self.grace - dt.timedelta(seconds=1)
        if parse_iso(then.due_at) <= reachable:
            then = self.next_free(due.user_id, due.kind, prefs, row, reachable)
        return then

    @staticmethod
    def _next_after(kind: str, prefs: Prefs, after: dt.datetime) -> dt.datetime:
        return next_daily(prefs, after) if kind == DAILY else next_weekly(prefs, after)

    @staticmethod
    def _slot(kind: str, at: dt.datetime, prefs: Prefs) -> str:
        """The log key: the local day (daily), the local week (weekly), the instant (snooze)."""
        if kind == DAILY:
            return local_date(at, prefs.zone).isoformat()
        if kind == WEEKLY:
            return week_key(local_date(at, prefs.zone))
        return iso(at)

    @staticmethod
    def spec_of(kind: str, row: dict[str, Any]) -> str:
        """The settings fingerprint a `kind` row is stored with (none for a snooze)."""
        if kind == SNOOZE:
            return ""
        return spec(row["reminder_time"], row["timezone"], row["reminder_days"],
                    row["reminders_paused_until"],
                    row["summary_day"] if kind == WEEKLY else "")
