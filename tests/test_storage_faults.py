"""Storage faults are loud and recoverable: a database file deleted or replaced under the running
coach stops it with a CRITICAL line and exit status 3; a full disk is told to the person once,
retried, and never leaves a workout stuck.

The disk is filled deterministically at the store boundary: FullDisk stands between the store
and its SQLite connection and refuses every write with SQLite's own error ("database or disk is
full"), as a full disk does, until it is told there is room again."""
from __future__ import annotations

import asyncio
import logging
import os
import sqlite3

import pytest

from bot.data.store import Store, is_full
from bot_process import PATIENCE, CoachProcess
from chat import Person, ready_button

WRITES = ("insert", "update", "delete", "replace")


class FullDisk:
    """The store's connection, seen through a disk that may be full. `at="writes"`: every
    write statement fails; `at="commit"`: writes succeed and the commit fails (SQLite then
    keeps the transaction open)."""

    def __init__(self, store: Store, at: str = "writes") -> None:
        self.connection = store.db.conn
        self.at = at
        self.full = False
        self.refused = 0
        store.db.conn = self

    def execute(self, sql: str, *args):
        statement = sql.lstrip().lower()
        refused = statement.startswith(WRITES) if self.at == "writes" \
            else statement.startswith("commit")
        if self.full and refused:
            self.refused += 1
            raise sqlite3.OperationalError("database or disk is full")
        return self.connection.execute(sql, *args)

    def executemany(self, sql: str, *args):
        if self.full and self.at == "writes":
            self.refused += 1
            raise sqlite3.OperationalError("database or disk is full")
        return self.connection.executemany(sql, *args)

    def __getattr__(self, name: str):
        return getattr(self.connection, name)

    async def refuses(self, more_than: int) -> None:
        """Wait until it has refused more than `more_than` writes (bounded generously)."""
        async def watch() -> None:
            while self.refused <= more_than:
                await asyncio.sleep(0.001)
        await asyncio.wait_for(watch(), PATIENCE)


def texts(person: Person, fragment: str) -> list[str]:
    return [r.text for r in person.replies if fragment in r.text]


FULL = "storage is full"
SAVED = "Saved: everything from while the storage was full"


# -- the file ------------------------------------------------------------------------------------

@pytest.mark.parametrize("how", ["deleted", "replaced"])
def test_a_database_file_deleted_or_replaced_stops_the_running_coach_loudly(tmp_path, how):
    """`python bot.py console` is running; someone deletes its database file, or moves another
    file onto its path. Within a few seconds the coach stops by itself: one CRITICAL line that
    says what happened and what to do, no traceback, exit status 3."""
    db = tmp_path / "coach.db"
    coach = CoachProcess(db)
    coach.wait_for("not: a doctor")
    coach.holds_the_database()
    if how == "deleted":
        db.unlink()
    else:
        other = tmp_path / "other.db"
        sqlite3.connect(other).close()
        os.replace(other, db)
    coach.proc.wait(timeout=PATIENCE)
    stderr = coach.stderr()
    assert coach.proc.returncode == 3, stderr
    critical = [line for line in stderr.splitlines() if " CRITICAL " in line]
    assert len(critical) == 1 and f"was {how}" in critical[0] and "Backups" in critical[0]
    assert "Traceback" not in stderr


def test_a_real_full_disk_error_is_recognised():
    """What SQLite raises when it cannot grow the file (here: a page limit) is what the store
    treats as a full disk."""
    connection = sqlite3.connect(":memory:")
    connection.execute("create table notes (body blob)")
    pages = connection.execute("pragma page_count").fetchone()[0]
    connection.execute(f"pragma max_page_count = {pages}")
    with pytest.raises(sqlite3.OperationalError) as raised:
        connection.execute("insert into notes values (?)", (b"x" * 100_000,))
    assert is_full(raised.value) and raised.value.sqlite_errorcode == sqlite3.SQLITE_FULL


# -- a full disk ---------------------------------------------------------------------------------

async def test_pain_typed_while_the_disk_is_full_is_told_retried_and_noted_once(coach, ana):
    await ana.onboards()
    disk = FullDisk(coach.services.store)
    disk.full = True
    saying = asyncio.create_task(ana.says("pain 5"))
    await disk.refuses(more_than=2)  # tried, and tried again
    assert texts(ana, FULL) and not texts(ana, "noted your back pain")
    disk.full = False
    await asyncio.wait_for(saying, PATIENCE)
    assert len(texts(ana, FULL)) == 1 and len(texts(ana, SAVED)) == 1
    assert len(texts(ana, "noted your back pain at 5/10")) == 1
    store = coach.services.store
    assert [(p.score, p.kind) for p in store.pain_reports(store.find_user(ana.key).id)] == \
        [(5, "adhoc")]


async def test_a_commit_the_disk_refuses_is_committed_later_not_done_twice(coach, ana):
    """The disk fills at the commit itself and SQLite keeps the transaction open: the coach
    commits it later instead of acting on the message a second time."""
    await ana.onboards()
    disk = FullDisk(coach.services.store, at="commit")
    disk.full = True
    saying = asyncio.create_task(ana.says("pain 3", update="42"))
    await disk.refuses(more_than=1)
    disk.full = False
    await asyncio.wait_for(saying, PATIENCE)
    store = coach.services.store
    assert [(p.score, p.kind) for p in store.pain_reports(store.find_user(ana.key).id)] == \
        [(3, "adhoc")]
    assert len(texts(ana, "noted your back pain at 3/10")) == 1


async def test_a_workout_when_the_disk_fills_goes_on_and_ends_cleanly_once_there_is_room(
        coach, adapter, ana, caplog):
    """The disk fills just after Ana's workout started. Her timers keep running (their saved
    position waits in memory), she is told once; at the first set she ends herself, her "done"
    waits for room. Room comes back: everything waiting is saved, she is told so, the workout
    goes on to its end, and her pain answer closes it as usual. Nothing is stuck, nothing is
    lost, no error is logged."""
    await ana.onboards()
    store = coach.services.store
    disk = FullDisk(store)
    mark = len(adapter.sent)
    await ana.starts_session()
    await adapter.wait(lambda s: s.user == ana.key and s.reply.kind == "cue", 30, mark)
    disk.full = True
    first_set = await adapter.wait(lambda s: s.user == ana.key and 'Say "done"' in s.reply.text,
                                   30, mark)
    ana.mark = first_set + 1  # the rest of the workout is looked for after it
    assert len(texts(ana, FULL)) == 1 and store.behind
    await coach.settled(ana.key)
    done = asyncio.create_task(ana.says("done"))
    refused = disk.refused
    await disk.refuses(more_than=refused + 1)  # her "done" was tried, and tried again
    assert coach.running(ana.key).waiting_for_person  # nothing acted on yet
    disk.full = False
    await asyncio.wait_for(done, PATIENCE)
    assert not store.behind and len(texts(ana, SAVED)) == 1

    while True:  # the rest of the workout, as Person.trains plays it
        index = await adapter.wait(
            lambda s: s.user == ana.key and (ready_button(s.reply) is not None
                                            or 'Say "done"' in s.reply.text
                                            or "How is your back now" in s.reply.text),
            30, ana.mark)
        ana.mark = index + 1
        if "How is your back now" in adapter.sent[index].reply.text:
            break
        ready = ready_button(adapter.sent[index].reply)
        if ready is not None:
            await ana.sends_payload(ready)  # harmless if it has started by itself
            continue
        await coach.settled(ana.key)
        await ana.says("done")
    await ana.says("2")
    user = store.find_user(ana.key)
    workout, = store.workouts(user.id)
    assert workout["status"] == "done" and workout["pain_after"] == 2
    assert len(store.workout_exercises(workout["id"])) == len(coach.services.programme.exercises)
    assert user.state == "ready" and len(texts(ana, FULL)) == 1
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
