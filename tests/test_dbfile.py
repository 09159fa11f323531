"""The database file as an operator meets it: created private, a wrong file refused in one line
and left exactly as it was, and one coach per database, with a killed coach's lock taken over.

Every test runs the real `python bot.py` in a child process and reads its exit code and output.
"""
from __future__ import annotations

import json
import os
import sqlite3
import stat
import subprocess
from pathlib import Path

import pytest

from bot.data.dbfile import CoachLock, DatabaseInUse, Holder, lock_path
from bot.data.store import SCHEMA_VERSION, Store
from bot_process import CoachProcess, fingerprint, run_bot

ONBOARDING = ["1", *["no"] * 11, "3", "1", "07:30", "UTC"]


def mode(path: Path | str) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def one_line_refusal(result: subprocess.CompletedProcess[str]) -> str:
    """The refusal the operator reads: exit code 2, one line on stderr, no traceback."""
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


# -- created private ---------------------------------------------------------------------------

def test_a_new_database_its_wal_shm_and_lock_are_private_even_under_a_loose_umask(tmp_path):
    db = tmp_path / "coach.db"
    coach = subprocess_with_umask(db, umask=0o000)  # files would be 0666 if created plainly
    try:
        coach.holds_the_database()
        coach.say("/start")
        coach.wait_for("not: a doctor")  # it has written to the database by now
        files = [db, Path(f"{db}-wal"), Path(f"{db}-shm"), lock_path(db)]
        assert {path.name: oct(mode(path)) for path in files} == {
            path.name: oct(0o600) for path in files}
    finally:
        coach.finish()
    assert oct(mode(db)) == oct(0o600)


def subprocess_with_umask(db: Path, umask: int) -> CoachProcess:
    """A coach whose process starts with `umask` (restored here afterwards)."""
    previous = os.umask(umask)
    try:
        return CoachProcess(db)
    finally:
        os.umask(previous)


def test_an_old_world_readable_database_is_made_private(tmp_path):
    db = tmp_path / "coach.db"
    Store(db).close()
    os.chmod(db, 0o644)  # as earlier versions created it
    result = run_bot("stats", "--db", str(db))
    assert result.returncode == 0, result.stderr
    assert oct(mode(db)) == oct(0o600)
    assert "now private" in result.stderr and "Traceback" not in result.stderr


# -- a file that must not be written to ---------------------------------------------------------

@pytest.mark.parametrize("command", [["console"], ["export"], ["stats"],
                                     ["backup", "--to", "copy.db"]])
def test_a_file_that_is_not_a_database_is_refused_and_left_untouched(tmp_path, command):
    notes = tmp_path / "notes.txt"
    notes.write_text("Shopping: rice, lentils, a yoga mat.\n" * 40)
    before, listing = fingerprint(notes), sorted(os.listdir(tmp_path))

    result = run_bot(*command, "--db", str(notes), cwd=tmp_path, stdin="/start\n")

    line = one_line_refusal(result)
    assert str(notes) in line and "is not a SQLite database" in line
    assert "point --db at the coach's database" in line  # and what to do
    assert fingerprint(notes) == before
    assert sorted(os.listdir(tmp_path)) == listing  # no -wal, -shm, lock or copy beside it


def test_a_database_from_a_newer_coach_is_refused_and_left_untouched(tmp_path):
    db = tmp_path / "coach.db"
    store = Store(db)
    store.db.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")  # as a newer coach leaves it
    store.close()
    before, listing = fingerprint(db), sorted(os.listdir(tmp_path))

    for command in (["console"], ["export"]):
        result = run_bot(*command, "--db", str(db), stdin="/start\n")
        line = one_line_refusal(result)
        assert str(db) in line and "written by a newer version of the coach" in line
        assert f"schema {SCHEMA_VERSION + 1}, this one knows up to {SCHEMA_VERSION}" in line
        assert "run the newer coach, or restore a backup" in line
        assert fingerprint(db) == before
        assert sorted(os.listdir(tmp_path)) == listing


def test_a_folder_that_does_not_exist_is_one_clear_line(tmp_path):
    missing = tmp_path / "no-such-folder" / "coach.db"
    line = one_line_refusal(run_bot("console", "--db", str(missing), stdin="/start\n"))
    assert "no-such-folder" in line and "folder exists" in line


# -- one coach per database ---------------------------------------------------------------------

def test_a_second_coach_is_refused_while_reads_go_on_and_a_killed_coachs_lock_is_taken_over(
        tmp_path):
    db = tmp_path / "coach.db"
    first = CoachProcess(db)
    first.say(*ONBOARDING)
    first.wait_for("You're all set")
    holder = first.holds_the_database()
    rows_before = fingerprint(db)

    # A second coach on the same file: refused, naming who holds it and since when.
    second = run_bot("console", "--db", str(db), stdin="/start\n")
    line = one_line_refusal(second)
    assert line.startswith(f"Cannot start: {db} is in use by another coach ")
    assert f"pid {first.proc.pid} on {holder.host}, running since {holder.since}" in line
    assert "Stop that one first, or give this one its own --db" in line
    assert fingerprint(db) == rows_before  # it never opened the database
    # ...even when it names the same file another way.
    other_spelling = run_bot("console", "--db", "coach.db", cwd=tmp_path, stdin="/start\n")
    assert "in use by another coach" in one_line_refusal(other_spelling)

    # Commands that only read work beside the running coach.
    export = run_bot("export", "--db", str(db))
    assert export.returncode == 0, export.stderr
    [person] = json.loads(export.stdout)
    assert person["profile"]["baseline_pain"] == 3
    stats = run_bot("stats", "--db", str(db))
    assert stats.returncode == 0 and "people: 1" in stats.stdout

    # The coach is killed: nothing releases anything, the lock file still names it...
    first.kill()
    assert Holder.decode(lock_path(db).read_bytes()).pid == first.proc.pid
    # ...and the next coach takes over, says so, and carries on with the same person.
    third = CoachProcess(db)
    third.holds_the_database()
    third.say("progress")
    third.wait_for("Your progress: 0 workouts in all")
    third.finish()
    warning = third.stderr()
    assert f"the previous coach (pid {first.proc.pid} on {holder.host}" in warning
    assert "taking over" in warning and "Traceback" not in warning
    assert lock_path(db).read_bytes() == b""  # a clean end leaves no one named


def test_the_lock_is_refused_in_process_too_and_released_on_exit(tmp_path):
    db = tmp_path / "coach.db"
    first = CoachLock(db)
    first.acquire()
    try:
        with pytest.raises(DatabaseInUse, match=f"pid {os.getpid()} on "):
            CoachLock(db).acquire()
    finally:
        first.release()
    again = CoachLock(db)
    again.acquire()  # free once released
    again.release()


def test_a_read_only_command_opens_a_database_the_coach_holds_without_waiting(tmp_path):
    """A reader meets the coach's lock file but takes no lock: WAL lets both go on."""
    db = tmp_path / "coach.db"
    lock = CoachLock(db)
    lock.acquire()
    try:
        Store(db).close()
        with sqlite3.connect(db) as conn:
            assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        result = run_bot("export", "--db", str(db))
        assert result.returncode == 0 and json.loads(result.stdout) == []
    finally:
        lock.release()
