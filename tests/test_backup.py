"""`python bot.py backup --db X --to Y` while the coach runs, and the restore the README gives:
stop the coach, remove X-wal and X-shm, copy Y over X."""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import sqlite3
import stat
from pathlib import Path

import scripts
from bot_process import CoachProcess, run_bot

ONBOARDING = ["1", *["no"] * 11, "3", "1", "07:30", "UTC"]
PERSON_TABLES = ("users", "stages", "workouts", "workout_exercises", "pain_reports",
                 "stage_changes")  # what the person did: reminders may fire meanwhile


def rows(db: Path) -> dict[str, list[tuple]]:
    """Every row of the person's tables, read the way SQLite sees the file (WAL included)."""
    with contextlib.closing(sqlite3.connect(db)) as conn:
        return {table: conn.execute(f"select * from {table} order by rowid").fetchall()
                for table in PERSON_TABLES}


def export(db: Path) -> list[dict]:
    result = run_bot("export", "--db", str(db))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def backup(db: Path, to: Path) -> None:
    result = run_bot("backup", "--db", str(db), "--to", str(to))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"Backed up {db} to {to} (")
    assert stat.S_IMODE(os.stat(to).st_mode) == 0o600  # health data: private like the original
    assert not Path(f"{to}-wal").exists()  # one self-contained file
    with contextlib.closing(sqlite3.connect(to)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_a_backup_taken_while_the_coach_runs_restores_to_the_same_rows(tmp_path):
    db, quiet, busy = tmp_path / "coach.db", tmp_path / "quiet.db", tmp_path / "busy.db"
    coach = CoachProcess(db)
    coach.say(*ONBOARDING)
    coach.wait_for("You're all set")
    coach.say("pain 4")
    coach.wait_for("4/10")

    # The coach is running and holds the database; its newest rows may still be in the -wal.
    coach.holds_the_database()
    backup(db, quiet)
    assert rows(quiet) == rows(db)
    at_backup = export(quiet)
    assert [(p["score"], p["kind"]) for p in at_backup[0]["pain_reports"]] == [(4, "adhoc")]

    # Now mid-workout, the timers writing as it goes: the copy is still whole and consistent.
    coach.say(*scripts.typed(scripts.session()))  # "start session", then the pain right now
    coach.wait_for("Hold ")
    backup(db, busy)
    [person] = export(busy)
    assert [w["status"] for w in person["workouts"]] == ["running"]
    assert person["profile"]["baseline_pain"] == 3

    # A backup never writes over a file, the database itself least of all.
    again = run_bot("backup", "--db", str(db), "--to", str(quiet))
    assert again.returncode == 2 and "already exists" in again.stderr
    itself = run_bot("backup", "--db", str(db), "--to", str(db))
    assert itself.returncode == 2 and "is the database itself" in itself.stderr

    # Restore the quiet copy as the README says: stop the coach, drop -wal/-shm, copy over.
    coach.finish()
    assert len(export(db)[0]["workouts"]) == 1  # the live database moved on
    for suffix in ("-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(quiet, db)
    assert export(db) == at_backup
    assert rows(db) == rows(quiet)

    # ...and a coach runs on the restored file as if the workout had never begun.
    restored = CoachProcess(db)
    restored.say("progress")
    restored.wait_for("Your progress: 0 workouts in all")
    restored.finish()


def test_backup_of_a_missing_database_says_so_and_creates_nothing(tmp_path):
    result = run_bot("backup", "--db", str(tmp_path / "nothing.db"), "--to",
                     str(tmp_path / "copy.db"))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip() == (f"Cannot back up: there is no database at "
                                     f"{tmp_path / 'nothing.db'}: nothing to back up")
    assert os.listdir(tmp_path) == []
