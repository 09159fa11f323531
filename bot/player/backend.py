"""What the player needs from the coach: the open workout's plan, and a place to report to.

The web server only ever passes the person it authenticated, so whatever implements this protocol
answers for that person alone. The server calls the report methods at most once per exercise and
per workout (it checks the plan first, one request at a time per person), so the coach can record
them as the chat workout does, exactly once. A workout is run by the chat or by the page, never
both: opening the page takes it over (`opened`), and once the person goes back to the chat the
page's reports are refused (`PageRefused`) until they open it again.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from bot.events import UserKey
from bot.player.plan import PlanDTO


class PageRefused(Exception):
    """The open workout does not take this page's reports; `code` says why: "in_chat" (the
    person chose "Guide me here in chat": opening the page again takes it back), "no_workout"
    (it has ended) or "stale" (the page shows an older workout)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class PainNoted:
    """The coach's answer to the page's "pain right now?": what to show, and whether the
    workout goes on (False: the pain says not today, and the workout is closed)."""

    recorded: bool  # False: it was answered already, and that answer stands
    message: str
    go_on: bool


class PlayerBackend(Protocol):
    """The coach side of the player, implemented by the core."""

    async def opened(self, person: UserKey) -> PlanDTO | None:
        """The page was opened (or reloaded): from now on it runs the person's open workout,
        taking it over from the chat's timer if that was running. Its plan, or None."""
        ...

    async def plan_for(self, person: UserKey) -> PlanDTO | None:
        """The person's open workout (with what is already reported), or None when none is
        open; PageRefused("in_chat") when the chat runs it now."""
        ...

    async def pain_before(self, person: UserKey, workout_id: int, score: int) -> PainNoted:
        """The pain right now, asked by the page before the workout begins (0-10)."""
        ...

    async def exercise_reported(self, person: UserKey, workout_id: int, index: int,
                                outcome: str) -> None:
        """Exercise `index` of the open workout was finished (DONE) or skipped (SKIPPED)."""
        ...

    async def picture(self, key: str) -> bytes | None:
        """An exercise stage's animation (GIF) by the key the plan names it with, or None."""
        ...

    async def ended(self, person: UserKey, workout_id: int, outcome: str) -> None:
        """The page ended the workout: DONE after the last exercise, or STOPPED."""
        ...
