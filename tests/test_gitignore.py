"""What the coach writes in the directory it runs in stays out of git: run it there as a
newcomer would (`python bot.py` on ./backcoach.db, an export saved to ./backcoach-files,
a backup, a stats print), then ask git what it would pick up."""
from __future__ import annotations

import shutil
import subprocess

import scripts
from bot.data.dbfile import LOCK_SUFFIX, SIDE_FILES
from bot_process import ROOT, run_bot

SESSION = "\n".join([
    *scripts.typed(scripts.onboarding(), {"Got it, let's go": "1", "No": "no"}),
    "export",    # JSON and CSV files in ./backcoach-files
]) + "\n"


def git(*args: str, cwd) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=60)


def test_nothing_the_coach_writes_in_its_directory_is_picked_up_by_git(tmp_path):
    shutil.copy(ROOT / ".gitignore", tmp_path / ".gitignore")
    git("init", "-q", cwd=tmp_path)
    talk = run_bot(stdin=SESSION, cwd=tmp_path)
    assert talk.returncode == 0, talk.stderr
    assert run_bot("backup", "--to", "backcoach-2026-11-30.db", cwd=tmp_path).returncode == 0
    assert run_bot("stats", cwd=tmp_path).returncode == 0
    written = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")
                     if p.is_file() and ".git" not in p.relative_to(tmp_path).parts)
    assert "backcoach.db" in written and "backcoach.db.lock" in written
    assert any(name.startswith("backcoach-files/") and name.endswith(".json")
               for name in written)

    untracked = git("status", "--porcelain", "--untracked-files=all", cwd=tmp_path).stdout
    assert untracked.split() == ["??", ".gitignore"], untracked

    # and what SQLite or the lock may leave beside any database, even if this run did not
    for database in ("backcoach.db", "backcoach-2026-11-30.db"):
        for name in (database, *(database + suffix for suffix in (*SIDE_FILES, LOCK_SUFFIX))):
            assert git("check-ignore", "-q", name, cwd=tmp_path).returncode == 0, name
