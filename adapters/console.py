"""Chat in this terminal: buttons become numbered choices, answered by number or by label.

On a terminal the live countdown rewrites one line and you can type "pause" while a timer runs.
When input is piped, the next line is read only once the coach waits for the person, so a
script plays like a patient user; at the end of input the coach finishes and we exit.
"""
from __future__ import annotations

import asyncio
import contextlib
import sys
import threading
from pathlib import Path
from typing import TextIO

from bot.coach import Coach
from bot.delivery import SendBudget
from bot.events import Picked, Text, UserKey
from bot.replies import Choice, Reply

NAME = PLATFORM = "console"
TOKEN_ENV = None  # needs no token: the default when no platform token is set


class ConsoleAdapter:
    """stdin/stdout for one local person."""

    platform = PLATFORM
    budget = SendBudget()  # a terminal has no flood limit

    def __init__(self, coach: Coach, user: str = "me", stdin: TextIO | None = None,
                 stdout: TextIO | None = None, files_dir: Path | None = None) -> None:
        self.coach = coach
        self.key = UserKey(PLATFORM, user)
        self.name = user if user != "me" else ""
        self.stdin = stdin or sys.stdin
        self.stdout = stdout or sys.stdout
        self.interactive = self.stdin.isatty() and self.stdout.isatty()
        self.can_edit = self.stdout.isatty()
        self.files_dir = files_dir or Path.cwd() / "backcoach-files"
        self._choices: tuple[Choice, ...] = ()
        self._numbered = False
        self._closed = False  # the output went away: nobody is reading any more
        self._last_cue_labels: tuple[str, ...] = ()
        self._on_countdown_line = False

    # -- lifecycle (the app starts and stops every adapter the same way) -----------------------

    async def start(self) -> None:
        """Nothing to connect: the terminal is always there."""

    async def finished(self) -> None:
        """The terminal session: read until end of input."""
        await self.run()

    async def stop(self) -> None:
        self._end_countdown_line()

    # -- outbound -----------------------------------------------------------------------------

    async def send(self, user: UserKey, reply: Reply, context: object | None) -> None:
        if reply.kind == "countdown":
            self._write(f"\r  {reply.text}\033[K")
            self._on_countdown_line = True
            return
        self._end_countdown_line()
        if reply.kind != "cue":
            self._last_cue_labels = ()
        self._write(reply.text + "\n")
        for attachment in ((reply.image,) if reply.image else ()) + reply.files:
            path = self._save(attachment.name, attachment.data)
            self._write(self.coach.texts("console.saved", name=attachment.name, path=path) + "\n")
        if reply.choices:
            self._show_choices(reply)
        self._flush()

    def _show_choices(self, reply: Reply) -> None:
        self._choices = reply.choices
        self._numbered = False
        labels = tuple(c.label for c in reply.choices)
        if reply.kind == "cue":
            if not self._last_cue_labels:  # once per exercise: the cues themselves say the rest
                self._write("  (" + " · ".join(labels) + ")\n")
            self._last_cue_labels = labels
        elif all(label.isdigit() for label in labels):
            self._write("  " + " ".join(f"[{label}]" for label in labels) + "\n")
        else:
            self._numbered = True
            self._write("".join(f"  {i}) {label}\n" for i, label in enumerate(labels, 1)))

    def _end_countdown_line(self) -> None:
        if self._on_countdown_line:
            self._write("\r\033[K")
            self._on_countdown_line = False

    def _write(self, text: str) -> None:
        """A closed output (`python bot.py | head`) ends the session quietly, not in a traceback."""
        if self._closed:
            return
        try:
            self.stdout.write(text)
        except (BrokenPipeError, ValueError):  # ValueError: writing to a closed file
            self._closed = True

    def _flush(self) -> None:
        if not self._closed:
            try:
                self.stdout.flush()
            except (BrokenPipeError, ValueError):
                self._closed = True

    def _save(self, name: str, data: bytes) -> Path:
        self.files_dir.mkdir(parents=True, exist_ok=True)
        path = self.files_dir / Path(name).name
        path.write_bytes(data)
        return path

    # -- inbound ------------------------------------------------------------------------------

    def event_for(self, line: str) -> Picked | Text:
        """A typed number or label picks a shown choice; anything else is text."""
        typed = line.strip()
        for choice in self._choices:
            if typed.lower() == choice.label.lower():
                return Picked(self.key, choice.action)
        if typed.isdigit() and self._numbered:
            number = int(typed)
            if 1 <= number <= len(self._choices):
                return Picked(self.key, self._choices[number - 1].action)
        return Text(self.key, line)

    async def run(self) -> None:
        """Read lines until end of input; each goes to the coach in order."""
        loop = asyncio.get_running_loop()
        await self.coach.greet(self.key, self.name)
        while True:
            if not self.interactive:
                await self.coach.settled(self.key)
            line = await self._read_line(loop)
            if not line or self._closed:
                break
            if line.strip():
                await self.coach.handle(self.event_for(line.rstrip("\n")), name=self.name)
        await self._finish()

    async def _read_line(self, loop: asyncio.AbstractEventLoop) -> str:
        """One line of input, read by a daemon thread: a coach asked to stop (SIGTERM, its
        database file gone) ends without waiting for the person to press Enter, which a
        thread of the loop's executor would make it do."""
        line: asyncio.Future[str] = loop.create_future()

        def read() -> None:
            try:
                text = self.stdin.readline()
            except (OSError, ValueError):  # input closed under us
                text = ""
            with contextlib.suppress(RuntimeError):  # the loop has ended meanwhile
                loop.call_soon_threadsafe(lambda: line.done() or line.set_result(text))

        threading.Thread(target=read, name="console-input", daemon=True).start()
        return await line

    async def _finish(self) -> None:
        """End of input: let a running timer finish; a set waiting for "done" is stopped."""
        await self.coach.let_finish(self.key)
        self._end_countdown_line()
        self._flush()


def add_arguments(parser) -> None:
    parser.add_argument("--user", default="me", help="who is talking (one profile per name)")
    parser.add_argument("--files", type=Path, default=None,
                        help="folder for charts and exports (default: ./backcoach-files)")


def create(coach: Coach, args) -> ConsoleAdapter:
    return ConsoleAdapter(coach, getattr(args, "user", "me"),
                          files_dir=getattr(args, "files", None))
