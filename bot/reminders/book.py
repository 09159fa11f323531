"""The reminder tables (created by store migration _v2): what is due when, and what was done.

`reminders` holds each person's next due instant per kind ("daily", "snooze", "weekly"); its
`due_at` index is the whole schedule, so start-up only has to find the earliest row. The
`reminder_log` has one row per person, kind and slot (the local day; the week for the summary).
`claim` inserts that row and moves the schedule on in one transaction before anything is sent:
a second claim of the same slot, after a crash or a race, finds the row and sends nothing.
`morning_checks` keeps the next-morning pain questions and answers.

Every table has a `user_id` column, so erasing a person's data (bot/data/personal.py) removes
their schedule too. Plain SQL statements run inside SAVEPOINTs here, because sqlite-utils'
table helpers commit on their own and would split a transaction.
"""
from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from bot.reminders.times import DAILY

CLAIMED, SENT, FAILED, MISSED, SKIPPED, EMPTY = (
    "claimed", "sent", "failed", "missed", "skipped", "empty")

ELIGIBLE_SQL = ("u.reminders_on = 1 AND u.reminder_time IS NOT NULL AND u.timezone IS NOT NULL "
                "AND coalesce(u.reminder_days, '') != ''")
USER_COLUMNS = ("id", "reminders_on", "reminder_time", "timezone", "reminder_days",
                "reminders_paused_until", "summary_day")


@dataclass(frozen=True)
class Due:
    """One scheduled row: who, what, when (UTC ISO) and its log key (`slot`)."""

    user_id: int
    kind: str
    due_at: str
    slot: str
    note: str | None = None


@dataclass(frozen=True)
class Next:
    """Where a row moves once its slot is handled."""

    due_at: str
    slot: str
    spec: str


class ReminderBook:
    """Reads and writes of the reminder tables, each in one transaction."""

    def __init__(self, db: sqlite_utils.Database) -> None:
        self.db = db

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        conn = self.db.conn
        conn.execute("SAVEPOINT reminders")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK TO reminders")
            conn.execute("RELEASE reminders")
            raise
        conn.execute("RELEASE reminders")

    # -- the schedule -------------------------------------------------------------------------

    def due(self, now: str, limit: int) -> list[Due]:
        """Rows due at or before `now`, earliest first (then by kind and person, for a stable
        order when thousands share 07:00)."""
        rows = self.db.execute(
            "SELECT user_id, kind, due_at, slot, note FROM reminders WHERE due_at <= ? "
            "ORDER BY due_at, kind, user_id LIMIT ?", [now, limit]).fetchall()
        return [Due(*row) for row in rows]

    def earliest(self) -> str | None:
        return self.db.execute("SELECT min(due_at) FROM reminders").fetchone()[0]

    def row(self, user_id: int, kind: str) -> Due | None:
        found = self.db.execute(
            "SELECT user_id, kind, due_at, slot, note FROM reminders WHERE user_id = ? "
            "AND kind = ?", [user_id, kind]).fetchone()
        return Due(*found) if found else None

    def put(self, user_id: int, kind: str, at: Next) -> None:
        self.put_many(kind, [(user_id, at)])

    def put_many(self, kind: str, rows: Iterable[tuple[int, Next]]) -> None:
        """Insert or move rows; a note waiting to be told survives the move."""
        with self._tx() as conn:
            conn.executemany(
                "INSERT INTO reminders (user_id, kind, due_at, slot, spec) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (user_id, kind) DO UPDATE SET due_at = excluded.due_at, "
                "slot = excluded.slot, spec = excluded.spec",
                ((uid, kind, n.due_at, n.slot, n.spec) for uid, n in rows))

    def drop(self, user_id: int, kinds: Iterable[str] | None = None) -> None:
        with self._tx() as conn:
            if kinds is None:
                conn.execute("DELETE FROM reminders WHERE user_id = ?", [user_id])
            else:
                conn.executemany("DELETE FROM reminders WHERE user_id = ? AND kind = ?",
                                 ((user_id, kind) for kind in kinds))

    def drop_kind(self, kind: str) -> None:
        with self._tx() as conn:
            conn.execute("DELETE FROM reminders WHERE kind = ?", [kind])

    def drop_ineligible(self) -> None:
        """Rows of people who are gone or have reminders off: start-up housekeeping."""
        with self._tx() as conn:
            conn.execute(f"DELETE FROM reminders WHERE user_id NOT IN "
                         f"(SELECT u.id FROM users u WHERE {ELIGIBLE_SQL})")

    def stale(self, kind: str, spec_sql: str) -> list[tuple[Any, ...]]:
        """Settings (as `USER_COLUMNS` tuples) of people whose `kind` row is missing or was
        computed from other settings; everyone else's stored due time is still right and is
        not recomputed. Read in full, so no cursor stays open while the caller writes."""
        columns = ", ".join(f"u.{c}" for c in USER_COLUMNS)
        return self.db.execute(
            f"SELECT {columns} FROM users u LEFT JOIN reminders r ON r.user_id = u.id "
            f"AND r.kind = ? WHERE {ELIGIBLE_SQL} AND (r.user_id IS NULL OR r.spec IS NOT "
            f"({spec_sql}))", [kind]).fetchall()

    @staticmethod
    def as_settings(values: tuple[Any, ...]) -> dict[str, Any]:
        return dict(zip(USER_COLUMNS, values))

    def settings_row(self, user_id: int) -> dict[str, Any] | None:
        found = self.db.execute(
            f"SELECT {', '.join(USER_COLUMNS)} FROM users WHERE id = ?", [user_id]).fetchone()
        return dict(zip(USER_COLUMNS, found)) if found else None

    def user_row(self, user_id: int) -> dict[str, Any] | None:
        """The whole users row, read with plain SQL: the sqlite-utils helpers list the schema
        on every call, which is most of the cost of a reminder when 10,000 go out at once."""
        cursor = self.db.execute("SELECT * FROM users WHERE id = ?", [user_id])
        found = cursor.fetchone()
        return dict(zip((c[0] for c in cursor.description), found)) if found else None

    def progress_facts(self, user_id: int) -> tuple[list[str], str | None, dict[str, int]]:
        """What the greeting needs, in three small queries: start times of finished workouts
        with at least one exercise, the exercise that changed stage last, and the stages."""
        started = [r[0] for r in self.db.execute(
            "SELECT w.started_at FROM workouts w WHERE w.user_id = ? AND w.status IN "
            "('done', 'stopped') AND EXISTS (SELECT 1 FROM workout_exercises e WHERE "
            "e.workout_id = w.id)", [user_id])]
        last = self.db.execute("SELECT exercise_id FROM stage_changes WHERE user_id = ? "
                               "ORDER BY id DESC LIMIT 1", [user_id]).fetchone()
        stages = dict(self.db.execute(
            "SELECT exercise_id, stage_index FROM stages WHERE user_id = ?", [user_id]))
        return started, last[0] if last else None, stages

    # -- the log ------------------------------------------------------------------------------

    def claim(self, due: Due, status: str, now: str, then: Next | None,
              note: str | None = None, state: str | None = None,
              morning_day: str | None = None) -> bool:
        """Log this slot as `status` and move the row on (`then`, or away), atomically.

        True when this call logged it; False when the slot was already logged (sent, skipped
        or claimed before a crash): the row still moves on, and nothing may be sent. `state`
        (the person's conversation state) and `morning_day` (an open morning check) are set in
        the same transaction, so a question and the state that expects its answer never part.
        """
        with self._tx() as conn:
            claimed = conn.execute(
                "INSERT OR IGNORE INTO reminder_log (user_id, kind, slot, status, at) "
                "VALUES (?, ?, ?, ?, ?)", [due.user_id, due.kind, due.slot, status, now]
            ).rowcount == 1
            if then is None:
                conn.execute("DELETE FROM reminders WHERE user_id = ? AND kind = ? AND "
                              "due_at = ?", [due.user_id, due.kind, due.due_at])
            else:
                conn.execute("UPDATE reminders SET due_at = ?, slot = ?, spec = ?, "
                             "note = coalesce(note, ?) WHERE user_id = ? AND kind = ? "
                             "AND due_at = ?", [then.due_at, then.slot, then.spec, note,
                                                due.user_id, due.kind, due.due_at])
            if claimed and state is not None:
                conn.execute("UPDATE users SET state = ? WHERE id = ?", [state, due.user_id])
            if claimed and morning_day is not None:
                conn.execute("INSERT OR IGNORE INTO morning_checks (user_id, day, asked_at) "
                             "VALUES (?, ?, ?)", [due.user_id, morning_day, now])
        return claimed

    def finish(self, due: Due, status: str, now: str, told_note: bool = False) -> None:
        """After the send: `sent` or `failed`; a missed-reminder note that went out is cleared."""
        with self._tx() as conn:
            conn.execute("UPDATE reminder_log SET status = ?, done_at = ? WHERE user_id = ? "
                         "AND kind = ? AND slot = ?",
                         [status, now, due.user_id, due.kind, due.slot])
            if told_note:
                conn.execute("UPDATE reminders SET note = NULL WHERE user_id = ? AND kind = ?",
                             [due.user_id, DAILY])

    def log(self, user_id: int, kind: str, slot: str, status: str, now: str) -> bool:
        """Log a slot without sending (e.g. "skip today" before the reminder came)."""
        with self._tx() as conn:
            return conn.execute(
                "INSERT OR IGNORE INTO reminder_log (user_id, kind, slot, status, at) "
                "VALUES (?, ?, ?, ?, ?)", [user_id, kind, slot, status, now]).rowcount == 1

    def status(self, user_id: int, kind: str, slot: str) -> str | None:
        found = self.db.execute(
            "SELECT status FROM reminder_log WHERE user_id = ? AND kind = ? AND slot = ?",
            [user_id, kind, slot]).fetchone()
        return found[0] if found else None

    def logged_slots(self, kind: str, since: str) -> set[tuple[int, str]]:
        """(person, slot) pairs logged from `since` on: one query for start-up, not one each."""
        rows = self.db.execute("SELECT user_id, slot FROM reminder_log WHERE kind = ? AND "
                               "slot >= ?", [kind, since])
        return {(uid, slot) for uid, slot in rows}

    def history(self, user_id: int) -> list[dict[str, Any]]:
        return [dict(r) for r in self.db["reminder_log"].rows_where(
            "user_id = ?", [user_id], order_by="at, kind")]

    # -- next-morning checks ------------------------------------------------------------------

    def open_check(self, user_id: int) -> dict[str, Any] | None:
        """The newest morning question neither answered nor closed, if any."""
        rows = list(self.db["morning_checks"].rows_where(
            "user_id = ? AND pain IS NULL AND outcome IS NULL", [user_id], order_by="day desc",
            limit=1))
        return rows[0] if rows else None

    def close_checks_before(self, user_id: int, day: str, outcome: str) -> int:
        """Close the questions of days before `day` still open, with `outcome` and no answer
        (answered_at stays empty, so `latest_answer` never sees them); how many were closed."""
        with self._tx() as conn:
            return conn.execute(
                "UPDATE morning_checks SET outcome = ? WHERE user_id = ? AND day < ? AND "
                "pain IS NULL AND outcome IS NULL", [outcome, user_id, day]).rowcount

    def check(self, user_id: int, day: str) -> dict[str, Any] | None:
        rows = list(self.db["morning_checks"].rows_where(
            "user_id = ? AND day = ?", [user_id, day], limit=1))
        return rows[0] if rows else None

    def answer_check(self, user_id: int, day: str, pain: int, rise: int | None, outcome: str,
                     now: str) -> None:
        with self._tx() as conn:
            conn.execute("INSERT OR IGNORE INTO morning_checks (user_id, day, asked_at) "
                         "VALUES (?, ?, ?)", [user_id, day, now])
            conn.execute("UPDATE morning_checks SET pain = ?, rise = ?, outcome = ?, "
                         "answered_at = ? WHERE user_id = ? AND day = ?",
                         [pain, rise, outcome, now, user_id, day])

    def latest_answer(self, user_id: int) -> dict[str, Any] | None:
        rows = list(self.db["morning_checks"].rows_where(
            "user_id = ? AND answered_at IS NOT NULL", [user_id], order_by="answered_at desc",
            limit=1))
        return rows[0] if rows else None
