"""`python bot.py ...` run as the operator runs it: a child process, its exit code, and what it
printed. Waits are bounded by generous timeouts that only a hung process reaches: nothing here
passes or fails by how fast the machine is."""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from bot.data.dbfile import Holder, lock_path

ROOT = Path(__file__).resolve().parent.parent
PATIENCE = 60.0  # seconds: the bound on any wait, far beyond what a healthy run needs
TOKENS = ("TELEGRAM_TOKEN", "DISCORD_TOKEN")


def environment(**extra: str) -> dict[str, str]:
    """This environment without platform tokens (the terminal coach), plus `extra`."""
    env = {k: v for k, v in os.environ.items() if k not in TOKENS}
    return {**env, "PYTHONUNBUFFERED": "1", **extra}


def run_bot(*args: str, stdin: str = "", cwd: Path = ROOT, **env: str
            ) -> subprocess.CompletedProcess[str]:
    """Run bot.py to its end (the working directory is `cwd`: no .env is picked up there)."""
    return subprocess.run([sys.executable, str(ROOT / "bot.py"), *args], cwd=cwd, input=stdin,
                          capture_output=True, text=True, timeout=PATIENCE,
                          env=environment(**env))


def fingerprint(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class CoachProcess:
    """`python bot.py console` left running, fed and read like a terminal."""

    def __init__(self, db: Path, *args: str, scale: float = 600, cwd: Path = ROOT) -> None:
        self.db = db
        self.proc = subprocess.Popen(
            [sys.executable, str(ROOT / "bot.py"), "console", "--db", str(db),
             "--time-scale", str(scale), *args],
            cwd=cwd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, bufsize=1, env=environment())
        self.output: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.output.append(line)

    def say(self, *lines: str) -> None:
        self.proc.stdin.write("".join(f"{line}\n" for line in lines))
        self.proc.stdin.flush()

    def wait_for(self, fragment: str) -> str:
        """The first output line holding `fragment`."""
        end = time.monotonic() + PATIENCE
        while time.monotonic() < end:
            for line in list(self.output):
                if fragment in line:
                    return line
            if self.proc.poll() is not None and not self._reader.is_alive():
                break
            time.sleep(0.01)
        raise AssertionError(f"{fragment!r} never came; output tail: {self.output[-5:]}, "
                             f"stderr: {self.stderr() if self.proc.poll() is not None else ''}")

    def holds_the_database(self) -> Holder:
        """Wait until this process has written itself into `<db>.lock`: it holds the lock."""
        end = time.monotonic() + PATIENCE
        while time.monotonic() < end:
            try:
                holder = Holder.decode(lock_path(self.db).read_bytes())
            except FileNotFoundError:
                holder = None
            if holder is not None and holder.pid == self.proc.pid:
                return holder
            assert self.proc.poll() is None, f"the coach ended: {self.stderr()}"
            time.sleep(0.01)
        raise AssertionError("the coach never took the database's lock")

    def kill(self) -> None:
        self.proc.kill()  # SIGKILL: no clean-up of any kind
        self.proc.wait(timeout=PATIENCE)

    def finish(self) -> str:
        """Close its input, as at the end of a terminal session; the coach must end cleanly."""
        self.proc.stdin.close()
        self.proc.wait(timeout=PATIENCE)
        self._reader.join(timeout=PATIENCE)
        assert self.proc.returncode == 0, self.stderr()
        return "".join(self.output)

    def stderr(self) -> str:
        return self.proc.stderr.read() if self.proc.stderr else ""
