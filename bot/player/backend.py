"""What the player needs from the coach: the open workout's plan, and a place to report to.

The web server only ever passes the person it authenticated, so whatever implements this protocol
answers for that person alone. The server calls the report methods at most once per exercise and
per workout (it checks the plan first, one request at a time per person), so the coach can record
them as the chat workout does, exactly once.
"""
from __future__ import annotations

from typing import Protocol

from bot.events import UserKey
from bot.player.plan import PlanDTO


class PlayerBackend(Protocol):
    """The coach side of the player, implemented by the core."""

    async def plan_for(self, person: UserKey) -> PlanDTO | None:
        """The person's open workout (with what is already reported), or None when none is open."""
        ...

    async def exercise_reported(self, person: UserKey, workout_id: int, index: int,
                                outcome: str) -> None:
        """Exercise `index` of the open workout was finished (DONE) or skipped (SKIPPED)."""
        ...

    async def ended(self, person: UserKey, workout_id: int, outcome: str) -> None:
        """The page ended the workout: DONE after the last exercise, or STOPPED."""
        ...
