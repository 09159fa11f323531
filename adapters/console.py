"""Chat in this terminal: buttons become numbered choices, answered by number or by label.

On a terminal the live countdown rewrites one line, a `you>` prompt shows whenever it is the
person's turn, and you can type "pause" while a timer runs. Pictures (the pain chart, an exercise's
animation) and exports are saved in the files folder and their path printed, with what they
show. When input is piped, the next line
is read only once the coach waits for the person, so a script plays like a patient user (each
line is echoed after the prompt, so the output reads as a conversation). `quit`, `exit` or the
end of input (Ctrl-D) end the session; a running workout is kept for the next start.

`console --player` serves the workout player on this machine: a link choice ("Open the player")
shows its URL on a line of its own, and choosing it prints the URL again and opens it in the
default browser where there is one (not with --no-browser). The terminal then waits for the
page: with piped input the next line is read once the page has ended the workout (or handed it
back to the chat), and the pain question comes here as after any workout.
"""
from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import threading
import webbrowser
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TextIO

from bot.coach import Coach
from bot.delivery import SendBudget
from bot.events import Picked, Text, UserKey
from bot.player.settings import Entrance, PlayerSettings
from bot.replies import Choice, Reply

NAME = PLATFORM = "console"
TOKEN_ENV = None  # needs no token: the default when no platform token is set


class ConsoleAdapter:
    """stdin/stdout for one local person."""

    platform = PLATFORM
    budget = SendBudget()  # a terminal has no flood limit

    def __init__(self, coach: Coach, user: str = "me", stdin: TextIO | None = None,
                 stdout: TextIO | None = None, files_dir: Path | None = None,
                 player: bool = False, open_browser: bool = True) -> None:
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
        self._prompt_shown = False
        self._leaving = False  # no prompt once the session is ending
        self.prompt = coach.texts("console.prompt") + " "
        self.player = player  # serve the workout player on this machine (--player)
        self.open_browser = open_browser
        # Set once the player is up: returns when the person's workout has left the page.
        self.follow_page: Callable[[UserKey], Awaitable[None]] | None = None
        self._on_page = False  # the person opened the page from here

    # -- lifecycle (the app starts and stops every adapter the same way) -----------------------

    async def start(self) -> None:
        """Nothing to connect: the terminal is always there."""

    async def finished(self) -> None:
        """The terminal session: read until end of input."""
        await self.run()

    async def stop(self) -> None:
        self._clear_prompt()
        self._end_countdown_line()

    def player_entrance(self, settings: PlayerSettings) -> Entrance | None:
        """With --player, the page is served here and its links carry a signed token."""
        return Entrance(PLATFORM, None, with_token=True) if self.player else None

    # -- outbound -----------------------------------------------------------------------------

    async def send(self, user: UserKey, reply: Reply, context: object | None) -> None:
        self._clear_prompt()
        if reply.kind == "countdown":
            self._write(f"\r  {reply.text.splitlines()[-1]}\033[K")
            self._on_countdown_line = True
            self._flush()
            return
        self._end_countdown_line()
        if reply.kind != "cue":
            self._last_cue_labels = ()
        # An edit of a live message: the terminal cannot change what it printed, so it prints
        # the line that changed (the lines above it, a warm-up move's how-to, are on screen).
        text = reply.text.splitlines()[-1] if reply.edit and reply.text else reply.text
        self._write(text + "\n")
        for attachment in ((reply.image,) if reply.image else ()) + reply.files:
            path = self._save(attachment.name, attachment.data)
            name = attachment.description or attachment.name  # what it shows, when we know
            self._write(self.coach.texts("console.saved", name=name, path=path) + "\n")
        if reply.choices:
            self._show_choices(reply)
        self._show_prompt()
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
            for number, choice in enumerate(reply.choices, 1):
                self._write(f"  {number}) {choice.label}\n")
                if choice.is_link:  # on a line of its own, for the terminal to make a link
                    self._write(f"{choice.url}\n")

    def _show_prompt(self) -> None:
        """On a terminal, `you>` whenever the coach waits for the person (not while a timer
        runs: typing "pause" still works then, without a prompt in the way)."""
        if self.interactive and not self._prompt_shown and not self._leaving \
                and self.coach.awaits(self.key):
            self._write(self.prompt)
            self._prompt_shown = True

    def _clear_prompt(self) -> None:
        if self._prompt_shown:
            self._write("\r\033[K")
            self._prompt_shown = False

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

    def event_for(self, line: str) -> Picked | Text | Choice:
        """A typed number or label picks a shown choice (a link is opened here, not sent to
        the coach); anything else is text."""
        typed = line.strip()
        chosen = next((choice for choice in self._choices
                       if typed.lower() == choice.label.lower()), None)
        if chosen is None and typed.isdigit() and self._numbered:
            number = int(typed)
            if 1 <= number <= len(self._choices):
                chosen = self._choices[number - 1]
        if chosen is None:
            return Text(self.key, line)
        return chosen if chosen.is_link else Picked(self.key, chosen.action)

    async def open_link(self, choice: Choice) -> None:
        """Print the page's address on a line of its own and open it in a browser."""
        self._end_countdown_line()
        self._write(f"{choice.url}\n")
        self._flush()
        self._on_page = self.follow_page is not None
        if self.open_browser and _has_a_browser():
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(None, webbrowser.open, choice.url)

    async def run(self) -> None:
        """Read lines until `quit` or the end of input; each goes to the coach in order."""
        loop = asyncio.get_running_loop()
        await self.coach.greet(self.key, self.name)
        while True:
            if not self.interactive:
                await self._page_done()
                await self.coach.settled(self.key)
                self._write(self.prompt)
            line = await self._read_line(loop)
            self._prompt_shown = False  # the person's line ended it
            if not line or self._closed:
                self._write("\n")
                break
            if not self.interactive:
                self._write(line if line.endswith("\n") else line + "\n")
            if not line.strip():
                self._show_prompt()
                self._flush()
                continue
            event = self.event_for(line.rstrip("\n"))
            if isinstance(event, Choice):
                await self.open_link(event)
            elif await self.coach.handle(event, name=self.name):
                break  # "quit", "exit"
        await self._finish()

    async def _page_done(self) -> None:
        """After opening the page from here: wait until the workout has left it."""
        if self._on_page and self.follow_page is not None:
            await self.follow_page(self.key)
        self._on_page = False

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
        """Leaving: a workout on the page is waited for; a running workout is kept for later
        (offered again at the next start)."""
        self._leaving = True
        await self._page_done()
        await self.coach.leave(self.key)
        self._clear_prompt()
        self._end_countdown_line()
        self._flush()


def _has_a_browser() -> bool:
    """A graphical browser to open: on Linux without a display `webbrowser` would start a text
    browser in this very terminal, so the URL printed above is all there is."""
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY")
                                                 or os.environ.get("WAYLAND_DISPLAY")):
        return False
    try:
        webbrowser.get()
    except webbrowser.Error:
        return False
    return True


def add_arguments(parser) -> None:
    parser.add_argument("--user", default="me", help="who is talking (one profile per name)")
    parser.add_argument("--files", type=Path, default=None,
                        help="folder for charts and exports (default: ./backcoach-files)")
    parser.add_argument("--player", action="store_true",
                        help="serve the workout player page on 127.0.0.1 and offer it")
    parser.add_argument("--no-browser", action="store_true",
                        help="print the player's address without opening a browser")


def create(coach: Coach, args) -> ConsoleAdapter:
    return ConsoleAdapter(coach, getattr(args, "user", "me"),
                          files_dir=getattr(args, "files", None),
                          player=getattr(args, "player", False),
                          open_browser=not getattr(args, "no_browser", False))
