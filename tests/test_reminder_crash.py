"""Kill -9 the bot in the middle of a 07:00 fan-out, start it again on the same database, and
count what every person received (tests/reminder_crash_child.py is the bot process)."""
from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

CHILD = Path(__file__).resolve().parent / "reminder_crash_child.py"
PEOPLE = 150
# The bot is up two seconds before 07:00: its start-up takes about 0.15 s, and a start-up that
# ran past 07:00 on a busy machine would schedule everyone for tomorrow.
BEFORE_SEVEN = "2026-03-10T06:59:58+01:00"
AFTER_CRASH = "2026-03-10T07:00:30+01:00"  # back 30 s later: well inside the grace window


def _run(db: Path, out: Path, start: str, *extra: str) -> int:
    done = subprocess.run([sys.executable, str(CHILD), str(db), str(out), str(PEOPLE), start,
                           *extra], capture_output=True, text=True, timeout=60)
    assert done.returncode in (0, -signal.SIGKILL), done.stderr
    return done.returncode


def _received(out: Path) -> Counter:
    return Counter(out.read_text().split())


def _statuses(db: Path) -> Counter:
    with sqlite3.connect(db) as conn:
        return Counter(dict(conn.execute(
            "SELECT status, count(*) FROM reminder_log GROUP BY status").fetchall()))


def _claimed_not_received(db: Path, received: Counter) -> set[str]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT u.platform_id FROM reminder_log l JOIN users u "
                            "ON u.id = l.user_id WHERE l.status = 'claimed'").fetchall()
    return {r[0] for r in rows if r[0] not in received}


def test_killed_right_after_a_send_nobody_gets_two_and_nobody_none(tmp_path):
    db, out = tmp_path / "coach.db", tmp_path / "platform.txt"
    # SIGKILL just after the 50th message reached the platform, before it was marked sent
    assert _run(db, out, BEFORE_SEVEN, "--kill-after-sends", "50") == -signal.SIGKILL
    assert sum(_received(out).values()) == 50
    assert _run(db, out, AFTER_CRASH) == 0
    received = _received(out)
    assert len(received) == PEOPLE and set(received.values()) == {1}
    assert _statuses(db) == {"sent": PEOPLE - 1, "claimed": 1}  # the one in flight at the kill


def test_killed_at_a_random_moment_of_the_fan_out_nobody_gets_two(tmp_path):
    db, out = tmp_path / "coach.db", tmp_path / "platform.txt"
    child = subprocess.Popen([sys.executable, str(CHILD), str(db), str(out), str(PEOPLE),
                              BEFORE_SEVEN], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and child.poll() is None:
        if out.exists() and out.read_text().count("\n") >= PEOPLE // 3:
            break
        time.sleep(0.001)
    child.send_signal(signal.SIGKILL)  # from outside, wherever the bot happens to be
    child.wait()
    first = sum(_received(out).values())
    assert 0 < first < PEOPLE, "the kill should land mid fan-out"
    assert _run(db, out, AFTER_CRASH) == 0
    received = _received(out)
    assert max(received.values()) == 1, "a reminder was sent twice"
    # At most once: the only way to miss is a claim committed in the very microseconds
    # before the kill and its send (the log says so). It has not happened in practice here.
    missing = {f"u{i:04d}" for i in range(PEOPLE)} - set(received)
    assert missing <= _claimed_not_received(db, received) and len(missing) <= 1, missing


def test_killed_between_the_claim_and_its_send_that_one_reminder_is_not_repeated(tmp_path):
    """The other side of "never twice": a claim counts as sent, so the one person whose
    claim was committed when the process died gets nothing that day, and the log shows it."""
    db, out = tmp_path / "coach.db", tmp_path / "platform.txt"
    assert _run(db, out, BEFORE_SEVEN, "--kill-after-claims", "40") == -signal.SIGKILL
    assert sum(_received(out).values()) == 39
    assert _run(db, out, AFTER_CRASH) == 0
    received = _received(out)
    assert set(received.values()) == {1} and len(received) == PEOPLE - 1
    assert len(_claimed_not_received(db, received)) == 1
