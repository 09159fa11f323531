"""SQLite storage through sqlite-utils: the single source of truth for every person's progress.

Every write that matters is committed before the coach moves on, so a crash loses nothing the
person already answered. The schema carries a version (PRAGMA user_version) and ordered migrations.

Turns: everything one event changes is written in one transaction (`begin_turn` ...
`commit_turn`, driven by bot/data/turns.py), together with the platform's update id, so an
update delivered again finds its effect already there, or none of it. The coach runs on one
connection, so a write made by another task while a turn waits for something (a chart being
drawn) lands in that turn's transaction: it is committed with it, and written again if the
turn is rolled back.

A full disk: a write outside a turn (a timer saving its position, the end of a workout) never
fails. It waits in memory, in order, and is written before anything else as soon as there is
room (the next write, the next turn, or StorageGuard's periodic try); `on_behind` and
`on_caught_up` tell whose writes wait. A turn's own writes do fail, and the turn is retried.

The file: `check_file` raises StorageLost once the database file was deleted or replaced.
"""
from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlite_utils

from bot.data import dbfile
from bot.data import personal as personal_data
from bot.events import UserKey, clean_name


def _v1(db: sqlite_utils.Database) -> None:
    """The coaching core: people, stages, workouts, pain and stage changes."""
    db["users"].create(
        {
            "id": int, "platform": str, "platform_id": str, "name": str, "state": str,
            "created_at": str, "screen_result": str, "screen_answers": str,
            "baseline_pain": int, "hamstring": str,
            "reminder_time": str, "timezone": str, "reminder_days": str, "reminders_on": int,
            "reminders_paused_until": str, "unreachable_reason": str,
        },
        pk="id",
        not_null={"platform", "platform_id", "state", "created_at"},
        defaults={"reminder_days": "0123456", "reminders_on": 0},
    )
    db["users"].create_index(["platform", "platform_id"], unique=True)
    db["stages"].create(
        {"user_id": int, "exercise_id": str, "stage_index": int, "updated_at": str},
        pk=("user_id", "exercise_id"),
        foreign_keys=[("user_id", "users", "id")],
    )
    db["workouts"].create(
        {
            "id": int, "user_id": int, "started_at": str, "ended_at": str, "status": str,
            "pain_before": int, "pain_after": int, "position": str,
        },
        pk="id",
        foreign_keys=[("user_id", "users", "id")],
    )
    db["workouts"].create_index(["user_id", "status"])
    db["workout_exercises"].create(
        {"workout_id": int, "exercise_id": str, "stage_index": int, "outcome": str, "at": str},
        pk=("workout_id", "exercise_id"),
        foreign_keys=[("workout_id", "workouts", "id")],
    )
    db["pain_reports"].create(
        {"id": int, "user_id": int, "at": str, "score": int, "kind": str, "workout_id": int},
        pk="id",
        foreign_keys=[("user_id", "users", "id")],
    )
    db["pain_reports"].create_index(["user_id", "at"])
    db["stage_changes"].create(
        {
            "id": int, "user_id": int, "at": str, "exercise_id": str, "from_index": int,
            "to_index": int, "reason": str, "detail": str, "workout_id": int,
        },
        pk="id",
        foreign_keys=[("user_id", "users", "id")],
    )
    db["stage_changes"].create_index(["user_id", "at"])


def _v2(db: sqlite_utils.Database) -> None:
    """Reminders (bot/reminders/service.py): each person's next due instant per kind ("daily",
    "snooze", "weekly"), a log with one row per person, kind and local day (its primary key is
    what makes a reminder impossible to send twice, even across a crash), the next-morning pain
    checks, and the weekday of the weekly summary (0 = Monday, default Sunday)."""
    db["reminders"].create(
        {"user_id": int, "kind": str, "due_at": str, "slot": str, "spec": str, "note": str},
        pk=("user_id", "kind"),
        foreign_keys=[("user_id", "users", "id")],
    )
    db["reminders"].create_index(["due_at"])
    db["reminder_log"].create(
        {"user_id": int, "kind": str, "slot": str, "status": str, "at": str, "done_at": str},
        pk=("user_id", "kind", "slot"),
        foreign_keys=[("user_id", "users", "id")],
    )
    db["morning_checks"].create(
        {"user_id": int, "day": str, "asked_at": str, "pain": int, "rise": int,
         "outcome": str, "answered_at": str},
        pk=("user_id", "day"),
        foreign_keys=[("user_id", "users", "id")],
    )
    db["users"].add_column("summary_day", int, not_null_default=6)


def _v3(db: sqlite_utils.Database) -> None:
    """Pain and safety (issues 14 and 15): when the starting pain was given (a pain of 8-10 then
    means no workout that day), when a clinician cleared the person (lifelong history is not
    asked again after it), and the form checks asked before a step up, answered one by one."""
    db["users"].add_column("baseline_at", str)
    db["users"].add_column("cleared_at", str)
    db["form_checks"].create(
        {"id": int, "user_id": int, "workout_id": int, "exercise_id": str, "stage_index": int,
         "due_up": int, "pain": int, "detail": str, "answer": str, "asked_at": str,
         "answered_at": str},
        pk="id",
        foreign_keys=[("user_id", "users", "id")],
    )
    db["form_checks"].create_index(["user_id", "answer"])


def _v4(db: sqlite_utils.Database) -> None:
    """Pictures of the exercises (issue 12): the stages each person has met, so the full
    instructions come unasked only the first time (Store.meet_stage), seeded from the
    workouts already done, whose cards showed them in full; and the ids platforms give uploaded
    files, per bot account, so a picture is uploaded once (bot/data/platform_files.py)."""
    db["seen_stages"].create(
        {"user_id": int, "exercise_id": str, "stage_index": int, "first_at": str},
        pk=("user_id", "exercise_id", "stage_index"),
        foreign_keys=[("user_id", "users", "id")],
    )
    db.execute(
        "insert or ignore into seen_stages (user_id, exercise_id, stage_index, first_at) "
        "select w.user_id, we.exercise_id, we.stage_index, min(we.at) from workout_exercises we "
        "join workouts w on w.id = we.workout_id group by w.user_id, we.exercise_id, "
        "we.stage_index")
    db["platform_files"].create(
        {"platform": str, "account": str, "key": str, "file_id": str},
        pk=("platform", "account", "key"),
    )


def _v5(db: sqlite_utils.Database) -> None:
    """Messages a platform refused to deliver for a reason that may pass (Discord's closed
    DMs): one row per person and local day, so the coach can wait for a second day before it
    switches their reminders off. Cleared when a message gets through again."""
    db["delivery_failures"].create(
        {"user_id": int, "day": str, "reason": str, "at": str},
        pk=("user_id", "day"),
        foreign_keys=[("user_id", "users", "id")],
    )


def _v6(db: sqlite_utils.Database) -> None:
    """Platform updates already handled (bot/data/updates.py): one row per Telegram update_id
    or Discord interaction / message id, written in the same transaction as the update's
    effect, with the replies it produced until they have all gone out. `user_id` (no foreign
    key: the row outlives an erased person's "delete my data") makes the row part of that
    person's data for export and erasure."""
    db["handled_updates"].create(
        {"platform": str, "update_id": str, "user_id": int, "at": str, "replies": str,
         "count": int, "sent": int},
        pk=("platform", "update_id"),
        not_null={"platform", "update_id", "at"},
        defaults={"count": 0, "sent": 0},
    )
    db["handled_updates"].create_index(["at"])


MIGRATIONS: list[Callable[[sqlite_utils.Database], None]] = [_v1, _v2, _v3, _v4, _v5, _v6]
SCHEMA_VERSION = len(MIGRATIONS)  # the newest schema this code can read and write
USER_TABLES = ("stages", "workouts", "pain_reports", "stage_changes")


log = logging.getLogger(__name__)


def is_full(error: BaseException) -> bool:
    """SQLite's "database or disk is full" (SQLITE_FULL), however it was raised."""
    return isinstance(error, sqlite3.OperationalError) and (
        getattr(error, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL
        or "database or disk is full" in str(error))


def _current_task() -> asyncio.Task | None:
    try:
        return asyncio.current_task()
    except RuntimeError:  # no event loop: plain synchronous use
        return None


@dataclass(frozen=True)
class Write:
    """One statement that may have to wait for disk space, and whose data it is."""

    sql: str
    params: tuple[Any, ...]
    user_id: int | None = None


@dataclass
class _Turn:
    """The transaction one event's turn holds open, and the writes other tasks made in it."""

    owner: asyncio.Task | None
    joined: list[tuple[Write, bool]] = field(default_factory=list)  # (write, applied)


@dataclass
class User:
    """One person's row; `state` is where they are in the conversation."""

    id: int
    key: UserKey
    name: str
    state: str
    screen_result: str | None
    baseline_pain: int | None
    hamstring: str | None
    reminder_time: str | None
    timezone: str | None
    reminder_days: str
    reminders_on: bool
    baseline_at: str | None = None
    cleared_at: str | None = None


@dataclass(frozen=True)
class PainReport:
    at: datetime
    score: int
    kind: str
    workout_id: int | None


@dataclass(frozen=True)
class StageChange:
    at: datetime
    exercise_id: str
    from_index: int
    to_index: int
    reason: str
    detail: dict[str, Any]


class Store:
    """All reads and writes, in plain methods named for what they do."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        dbfile.prepare(self.path, SCHEMA_VERSION)  # created 0600; refused before any write
        conn = sqlite3.connect(self.path, isolation_level=None)
        self.db = sqlite_utils.Database(conn)
        if self.path != ":memory:":
            self.db.enable_wal()
            dbfile.make_private(self.path)
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute("PRAGMA foreign_keys=ON")
        self.db.execute("PRAGMA busy_timeout=5000")
        self._migrate()
        self.file = dbfile.FileIdentity.of(self.path)
        self.lost: dbfile.StorageLost | None = None
        self._turn: _Turn | None = None
        self._pending: list[Write] = []  # writes waiting for disk space, oldest first
        self.on_behind: Callable[[set[int]], None] | None = None
        self.on_caught_up: Callable[[set[int]], None] | None = None

    def _migrate(self) -> None:
        version = self.db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:  # written by a newer coach since prepare() looked
            raise dbfile.newer_schema(self.path, version, SCHEMA_VERSION)
        for number, migration in enumerate(MIGRATIONS[version:], start=version + 1):
            with self.db.conn:
                self.db.execute("BEGIN")
                migration(self.db)
                self.db.execute(f"PRAGMA user_version={number}")

    @property
    def schema_version(self) -> int:
        return self.db.execute("PRAGMA user_version").fetchone()[0]

    def close(self) -> None:
        self.db.conn.close()

    # -- the file, turns, and writes that wait for room -----------------------------------------

    def check_file(self) -> None:
        """Raise StorageLost (and remember it) when the database file was deleted or replaced."""
        if self.lost is not None:
            raise self.lost
        if self.file is not None:
            try:
                self.file.check()
            except dbfile.StorageLost as lost:
                self.lost = lost
                raise

    @property
    def behind(self) -> bool:
        """Some writes wait for disk space."""
        return bool(self._pending)

    def begin_turn(self) -> None:
        """Open one event's transaction; the writes waiting for room go first, inside it (a
        full disk raises here, before the event is looked at)."""
        self.check_file()
        self.db.conn.execute("BEGIN IMMEDIATE")
        self._turn = _Turn(_current_task())
        try:
            for write in self._pending:
                self.db.conn.execute(write.sql, write.params)
        except BaseException:
            self.rollback_turn()
            raise

    def commit_turn(self) -> None:
        """Commit the turn. On a full disk SQLite may keep the transaction open (then commit
        again later) or give it up (then `in_transaction` is False: roll back and run again)."""
        self.check_file()
        self.db.conn.execute("COMMIT")
        turn, self._turn = self._turn, None
        flushed = {write.user_id for write in self._pending if write.user_id is not None}
        self._pending = [write for write, applied in (turn.joined if turn else []) if not applied]
        self._report(self.on_caught_up, flushed - self._users_behind())

    def rollback_turn(self) -> None:
        """Undo the turn; writes other tasks made in it are written again at once, or wait, in
        order, for room."""
        if self.db.conn.in_transaction:
            self.db.conn.execute("ROLLBACK")
        turn, self._turn = self._turn, None
        if turn is None or not turn.joined:
            return
        self._pending.extend(write for write, _ in turn.joined)
        try:
            written = self.flush_pending()
        except sqlite3.Error as exc:  # not a full disk: kept for the next try, and said
            log.error("writes made during an undone turn wait: %s", exc)
            written = False
        if not written:
            self._report(self.on_behind, {w.user_id for w, _ in turn.joined if w.user_id})

    @property
    def in_transaction(self) -> bool:
        return self.db.conn.in_transaction

    def write(self, sql: str, params: tuple[Any, ...] | list[Any], user_id: int | None = None,
              workout_id: int | None = None) -> None:
        """One statement. In the current task's own turn it fails as SQLite fails. Anywhere
        else a full disk never fails it: it waits, in order, for room (see the module
        docstring). `user_id` or `workout_id` say whose data it is (told when it waits)."""
        params = tuple(params)
        if self.lost is not None:
            return  # the file is gone and the coach is stopping: there is nowhere to write
        turn = self._turn
        if turn is not None and turn.owner is _current_task():
            self.db.conn.execute(sql, params)
            return
        if turn is None and not self._pending:
            try:
                self.db.conn.execute(sql, params)
                return
            except sqlite3.OperationalError as exc:
                if not is_full(exc):
                    raise
        write = Write(sql, params, user_id if user_id is not None else self._owner_of(workout_id))
        if turn is not None:  # another task's turn is open: this write joins it
            applied = False
            if all(done for _, done in turn.joined):
                try:
                    self.db.conn.execute(sql, params)
                    applied = True
                except sqlite3.OperationalError as exc:
                    if not is_full(exc):
                        raise
            turn.joined.append((write, applied))
            if not applied:
                self._waits(write)
            return
        self._pending.append(write)
        if not self.flush_pending():
            self._waits(write)

    def flush_pending(self) -> bool:
        """Write what waits for room, in one transaction; False while the disk is still full.
        (Nothing happens while a turn is open: the turn writes them first.)"""
        if not self._pending or self._turn is not None:
            return not self._pending
        try:
            self.db.conn.execute("BEGIN IMMEDIATE")
            for write in self._pending:
                self.db.conn.execute(write.sql, write.params)
            self.db.conn.execute("COMMIT")
        except sqlite3.OperationalError as exc:
            if self.db.conn.in_transaction:
                self.db.conn.execute("ROLLBACK")
            if is_full(exc):
                return False
            raise
        flushed = {write.user_id for write in self._pending if write.user_id is not None}
        self._pending = []
        log.warning("the database has room again: %d waiting writes are saved", len(flushed))
        self._report(self.on_caught_up, flushed)
        return True

    def _waits(self, write: Write) -> None:
        if len(self._pending) <= 1:
            log.warning("the database is full: writes wait in memory until there is room")
        if write.user_id is not None:
            self._report(self.on_behind, {write.user_id})

    def _users_behind(self) -> set[int]:
        return {write.user_id for write in self._pending if write.user_id is not None}

    def _owner_of(self, workout_id: int | None) -> int | None:
        if workout_id is None:
            return None
        row = self.db.conn.execute("select user_id from workouts where id = ?",
                                   (workout_id,)).fetchone()
        return row[0] if row else None

    @staticmethod
    def _report(listener: Callable[[set[int]], None] | None, user_ids: set[int]) -> None:
        if listener is not None and user_ids:
            listener(user_ids)

    # -- people -------------------------------------------------------------------------------

    def user(self, key: UserKey, now: datetime, name: str = "") -> User:
        """The person's row, created on first contact."""
        row = self._row_by_key(key)
        if row is None:
            self.db["users"].insert(
                {"platform": key.platform, "platform_id": key.id, "name": clean_name(name),
                 "state": "new", "created_at": now.isoformat()},
            )
            row = self._row_by_key(key)
        assert row is not None
        return _user(row)

    def find_user(self, key: UserKey) -> User | None:
        row = self._row_by_key(key)
        return _user(row) if row else None

    def user_by_id(self, user_id: int) -> User:
        rows = self._rows("select * from users where id = ?", (user_id,))
        if not rows:
            raise KeyError(f"no user {user_id}")
        return _user(rows[0])

    def _row_by_key(self, key: UserKey) -> dict[str, Any] | None:
        rows = self._rows("select * from users where platform = ? and platform_id = ? limit 1",
                          (key.platform, key.id))
        return rows[0] if rows else None

    def update_user(self, user_id: int, **fields: Any) -> None:
        """Plain SQL on the hot path: sqlite-utils re-reads the schema on every call."""
        assignments = ", ".join(f'"{name}" = ?' for name in fields)
        self.write(f"update users set {assignments} where id = ?", [*fields.values(), user_id],
                   user_id=user_id)

    def _rows(self, sql: str, params: tuple[Any, ...] | list[Any] = ()) -> list[dict[str, Any]]:
        cursor = self.db.conn.execute(sql, params)
        columns = [d[0] for d in cursor.description]
        return [dict(zip(columns, row)) for row in cursor.fetchall()]

    def set_state(self, user_id: int, state: str) -> None:
        self.update_user(user_id, state=state)

    def joined_at(self, user_id: int) -> datetime | None:
        """When the person first wrote: where their history, and their chart, begins."""
        row = self.db.conn.execute("select created_at from users where id = ?",
                                   (user_id,)).fetchone()
        return datetime.fromisoformat(row[0]) if row and row[0] else None

    def all_users(self) -> list[User]:
        return [_user(r) for r in self.db["users"].rows_where(order_by="id")]

    # -- stages -------------------------------------------------------------------------------

    def stages(self, user_id: int) -> dict[str, int]:
        rows = self.db.conn.execute(
            "select exercise_id, stage_index from stages where user_id = ?", (user_id,))
        return dict(rows.fetchall())

    def init_stages(self, user_id: int, exercise_ids: Iterable[str], now: datetime) -> None:
        """Everyone starts at the first stage of every ladder; existing stages are kept."""
        self.db["stages"].insert_all(
            ({"user_id": user_id, "exercise_id": e, "stage_index": 0, "updated_at": now.isoformat()}
             for e in exercise_ids),
            ignore=True,
        )

    def change_stage(self, user_id: int, exercise_id: str, from_index: int, to_index: int,
                     reason: str, detail: dict[str, Any], now: datetime,
                     workout_id: int | None) -> None:
        """Move one ladder and keep why, in one transaction."""
        with self.db.atomic():  # a savepoint inside the turn's transaction
            self.db["stages"].upsert(
                {"user_id": user_id, "exercise_id": exercise_id, "stage_index": to_index,
                 "updated_at": now.isoformat()}, pk=("user_id", "exercise_id"))
            self.db["stage_changes"].insert(
                {"user_id": user_id, "at": now.isoformat(), "exercise_id": exercise_id,
                 "from_index": from_index, "to_index": to_index, "reason": reason,
                 "detail": json.dumps(detail), "workout_id": workout_id})

    def stage_changes(self, user_id: int) -> list[StageChange]:
        rows = self.db["stage_changes"].rows_where("user_id = ?", [user_id], order_by="id")
        return [StageChange(datetime.fromisoformat(r["at"]), r["exercise_id"], r["from_index"],
                            r["to_index"], r["reason"], json.loads(r["detail"] or "{}"))
                for r in rows]

    def has_met_stage(self, user_id: int, exercise_id: str, stage_index: int) -> bool:
        """Whether the person has had this stage's full instructions (the exercise card)."""
        row = self.db.conn.execute(
            "select 1 from seen_stages where user_id = ? and exercise_id = ? and stage_index = ?",
            (user_id, exercise_id, stage_index)).fetchone()
        return row is not None

    def meet_stage(self, user_id: int, exercise_id: str, stage_index: int,
                   now: datetime) -> bool:
        """Remember the person has seen this stage's full instructions; True the first time.
        Written from the workout's timer: on a full disk it waits for room (see `write`)."""
        first = not self.has_met_stage(user_id, exercise_id, stage_index)
        self.write(
            "insert or ignore into seen_stages (user_id, exercise_id, stage_index, first_at) "
            "values (?, ?, ?, ?)", (user_id, exercise_id, stage_index, now.isoformat()),
            user_id=user_id)
        return first

    # -- pain ---------------------------------------------------------------------------------

    def add_pain(self, user_id: int, score: int, kind: str, now: datetime,
                 workout_id: int | None = None) -> None:
        self.write(
            "insert into pain_reports (user_id, at, score, kind, workout_id) values (?, ?, ?, ?, ?)",
            (user_id, now.isoformat(), score, kind, workout_id), user_id=user_id)

    def pain_reports(self, user_id: int) -> list[PainReport]:
        rows = self.db.conn.execute(
            "select at, score, kind, workout_id from pain_reports where user_id = ? order by id",
            (user_id,))
        return [PainReport(datetime.fromisoformat(at), score, kind, workout_id)
                for at, score, kind, workout_id in rows]

    def latest_pain(self, user_id: int) -> PainReport | None:
        reports = self.pain_reports(user_id)
        return reports[-1] if reports else None

    # -- workouts -----------------------------------------------------------------------------

    def start_workout(self, user_id: int, now: datetime, pain_before: int | None,
                      position: dict[str, Any]) -> int:
        table = self.db["workouts"]
        table.insert({"user_id": user_id, "started_at": now.isoformat(), "status": "running",
                      "pain_before": pain_before, "position": json.dumps(position)})
        return int(table.last_pk)

    def running_workout(self, user_id: int) -> dict[str, Any] | None:
        rows = list(self.db["workouts"].rows_where(
            "user_id = ? and status in ('running', 'interrupted')", [user_id],
            order_by="id desc", limit=1))
        return rows[0] if rows else None

    def set_workout_pain_before(self, workout_id: int, score: int, now: datetime) -> None:
        """The pain answer that begins a workout opened earlier: it begins now."""
        self.write("update workouts set pain_before = ?, started_at = ? where id = ?",
                   (score, now.isoformat(), workout_id), workout_id=workout_id)

    def discard_workout(self, workout_id: int) -> None:
        """A workout opened but never begun (no pain answer, nothing done): not history."""
        self.write("delete from workouts where id = ? and pain_before is null and not exists "
                   "(select 1 from workout_exercises where workout_id = ?)",
                   (workout_id, workout_id), workout_id=workout_id)

    def workouts_with_status(self, status: str) -> list[dict[str, Any]]:
        return list(self.db["workouts"].rows_where("status = ?", [status], order_by="id"))

    def save_position(self, workout_id: int, position: dict[str, Any]) -> None:
        """Called on every timer phase: plain SQL, no schema look-ups."""
        self.write("update workouts set position = ? where id = ?",
                   (json.dumps(position), workout_id), workout_id=workout_id)

    def set_workout_status(self, workout_id: int, status: str, now: datetime | None = None) -> None:
        """Plain SQL: called for a thousand workouts ending in the same second (bench.timers)."""
        if now is None:
            self.write("update workouts set status = ? where id = ?", (status, workout_id),
                       workout_id=workout_id)
        else:
            self.write("update workouts set status = ?, ended_at = ? where id = ?",
                       (status, now.isoformat(), workout_id), workout_id=workout_id)

    def record_exercise(self, workout_id: int, exercise_id: str, stage_index: int, outcome: str,
                        now: datetime) -> None:
        """Upsert by (workout, exercise): a replay after a crash cannot count an exercise twice.
        Plain SQL: it runs at the end of every exercise, on the timer's critical path."""
        self.write(
            "insert into workout_exercises (workout_id, exercise_id, stage_index, outcome, at) "
            "values (?, ?, ?, ?, ?) on conflict (workout_id, exercise_id) do update set "
            "stage_index = excluded.stage_index, outcome = excluded.outcome, at = excluded.at",
            (workout_id, exercise_id, stage_index, outcome, now.isoformat()),
            workout_id=workout_id)

    def workout_exercises(self, workout_id: int) -> list[dict[str, Any]]:
        return list(self.db["workout_exercises"].rows_where(
            "workout_id = ?", [workout_id], order_by="at"))

    def set_workout_pain(self, workout_id: int, score: int) -> None:
        self.write("update workouts set pain_after = ? where id = ?", (score, workout_id),
                   workout_id=workout_id)

    def awaiting_pain_workout(self, user_id: int) -> dict[str, Any] | None:
        """The newest finished workout still waiting for its after-pain answer."""
        rows = list(self.db["workouts"].rows_where(
            "user_id = ? and status in ('done', 'stopped') and pain_after is null", [user_id],
            order_by="id desc", limit=1))
        return rows[0] if rows else None

    def workouts(self, user_id: int) -> list[dict[str, Any]]:
        return self._rows("select * from workouts where user_id = ? order by id", (user_id,))

    def training_starts(self, user_id: int) -> list[str]:
        """Start times of finished workouts in which at least one exercise was done or skipped."""
        rows = self.db.conn.execute(
            """select w.started_at from workouts w where w.user_id = ?
               and w.status in ('done', 'stopped')
               and exists (select 1 from workout_exercises we where we.workout_id = w.id)""",
            (user_id,))
        return [r[0] for r in rows]

    def exercise_history(self, user_id: int, exercise_id: str) -> list[tuple[int, int, int]]:
        """(stage_index, pain_after, pain_before) of reported workouts that completed this
        exercise, newest first. No pain before counts as "not above" (pain_after itself)."""
        sql = """
            select we.stage_index, w.pain_after, coalesce(w.pain_before, w.pain_after)
            from workout_exercises we
            join workouts w on w.id = we.workout_id
            where w.user_id = ? and we.exercise_id = ? and we.outcome = 'done'
              and w.pain_after is not null
            order by w.id desc
        """
        return [(r[0], r[1], r[2]) for r in self.db.execute(sql, [user_id, exercise_id])]

    def exercise_sessions(self, user_id: int, exercise_id: str) -> list[tuple[int, int, int, str]]:
        """As `exercise_history`, with each workout's start (ISO), so sessions on one day can
        be counted once."""
        sql = """
            select we.stage_index, w.pain_after, coalesce(w.pain_before, w.pain_after),
                   w.started_at
            from workout_exercises we
            join workouts w on w.id = we.workout_id
            where w.user_id = ? and we.exercise_id = ? and we.outcome = 'done'
              and w.pain_after is not null
            order by w.id desc
        """
        return [(r[0], r[1], r[2], r[3]) for r in self.db.execute(sql, [user_id, exercise_id])]

    # -- form checks ----------------------------------------------------------------------------

    def add_form_checks(self, user_id: int, workout_id: int, checks: Iterable[dict[str, Any]],
                        now: datetime) -> None:
        """The form questions a pain answer raised, waiting to be answered one by one; any
        still open from before are closed unanswered ("dropped"), so only these are asked."""
        with self.db.atomic():  # its own transaction, or a savepoint inside the turn's
            self.db.conn.execute("update form_checks set answer = 'dropped', answered_at = ? "
                                 "where user_id = ? and answer is null", (now.isoformat(), user_id))
            for check in checks:
                self.db.conn.execute(
                    "insert into form_checks (user_id, workout_id, exercise_id, stage_index, "
                    "due_up, pain, detail, asked_at) values (?, ?, ?, ?, ?, ?, ?, ?)",
                    (user_id, workout_id, check["exercise_id"], check["stage_index"],
                     int(check["due_up"]), check["pain"], json.dumps(check.get("detail", {})),
                     now.isoformat()))

    def form_checks(self, user_id: int, workout_id: int | None = None,
                    unanswered: bool = False) -> list[dict[str, Any]]:
        """The person's form checks (of one workout; only those waiting for an answer), oldest
        first, detail decoded."""
        sql, params = "select * from form_checks where user_id = ?", [user_id]
        if workout_id is not None:
            sql, params = sql + " and workout_id = ?", params + [workout_id]
        if unanswered:
            sql += " and answer is null"
        rows = self._rows(sql + " order by id", params)
        for row in rows:
            row["detail"] = json.loads(row["detail"] or "{}")
        return rows

    def answer_form_check(self, check_id: int, answer: str, now: datetime) -> None:
        self.db.conn.execute("update form_checks set answer = ?, answered_at = ? where id = ?",
                             (answer, now.isoformat(), check_id))

    # -- delivery failures --------------------------------------------------------------------

    def record_delivery_failure(self, user_id: int, day: str, reason: str,
                                now: datetime) -> int:
        """Keep one refused delivery per local day (the latest reason); returns on how many
        separate days deliveries have failed since one last got through. (A refusal may come
        from a workout's timer: on a full disk the row waits for room, see `write`.)"""
        self.write(
            "insert or replace into delivery_failures (user_id, day, reason, at) "
            "values (?, ?, ?, ?)", (user_id, day, reason[:200], now.isoformat()),
            user_id=user_id)
        row = self.db.conn.execute("select count(*) from delivery_failures where user_id = ?",
                                   (user_id,)).fetchone()
        return int(row[0])

    def clear_delivery_failures(self, user_id: int) -> None:
        self.write("delete from delivery_failures where user_id = ?", (user_id,),
                   user_id=user_id)

    def users_with_delivery_failures(self) -> list[UserKey]:
        rows = self.db.conn.execute(
            "select distinct u.platform, u.platform_id from delivery_failures f "
            "join users u on u.id = f.user_id")
        return [UserKey(platform, platform_id) for platform, platform_id in rows]

    # -- export -------------------------------------------------------------------------------

    def export_user(self, user: User) -> dict[str, Any]:
        """Everything we hold about one person, in the shape `bot.py export` prints.

        The core tables keep their friendly shape; every other table with rows about the person
        (found from the schema by `personal_data`) is added under its own name, so the export
        stays complete as features add tables."""
        workouts = []
        for w in self.workouts(user.id):
            w = dict(w)
            w["position"] = json.loads(w["position"] or "null")
            w["exercises"] = self.workout_exercises(w["id"])
            workouts.append(w)
        row = self.db["users"].get(user.id)
        exported: dict[str, Any] = {
            "user": {"platform": user.key.platform, "id": user.key.id},
            "profile": {k: v for k, v in row.items() if k not in ("id", "platform", "platform_id")},
            "stages": self.stages(user.id),
            "workouts": workouts,
            "pain_reports": [{"at": p.at.isoformat(), "score": p.score, "kind": p.kind,
                              "workout_id": p.workout_id} for p in self.pain_reports(user.id)],
            "stage_changes": [{"at": c.at.isoformat(), "exercise_id": c.exercise_id,
                               "from": c.from_index, "to": c.to_index, "reason": c.reason,
                               "detail": c.detail} for c in self.stage_changes(user.id)],
        }
        shaped = {"users", "stages", "workouts", "workout_exercises", "pain_reports",
                  "stage_changes"}
        for name, rows in personal_data.rows_about(self.db, user.id).items():
            if name not in shaped:  # a table added later: its rows as stored
                exported[f"table_{name}" if name in exported else name] = rows
        return exported

    def erase_user(self, user_id: int) -> dict[str, int]:
        """Delete every row about the person in every table, and their `users` row; returns the
        rows deleted per table. Tables are found from the schema, so new ones are covered."""
        return personal_data.erase(self.db, user_id)


def _user(row: dict[str, Any]) -> User:
    return User(
        id=row["id"], key=UserKey(row["platform"], row["platform_id"]), name=row["name"] or "",
        state=row["state"], screen_result=row["screen_result"], baseline_pain=row["baseline_pain"],
        hamstring=row["hamstring"], reminder_time=row["reminder_time"], timezone=row["timezone"],
        reminder_days=row["reminder_days"] or "0123456", reminders_on=bool(row["reminders_on"]),
        baseline_at=row.get("baseline_at"), cleared_at=row.get("cleared_at"),
    )
