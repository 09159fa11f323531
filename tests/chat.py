"""A test backend in the spirit of Errbot's: the whole coach driven by a test, no platform.

    ana = await Person.join(coach)
    await ana.says("start session")
    await ana.presses("Done")
    assert "How is your back" in (await ana.waits_for("How is your back")).text
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path

from bot.bootstrap import build
from bot.coach import Coach
from bot.delivery import SendBudget
from bot.events import Picked, Text, UserKey
from bot.replies import Reply

import scripts


@dataclass
class Sent:
    user: UserKey
    reply: Reply
    at: float  # clock.monotonic() when it went out


class RecordingAdapter:
    """Keeps every reply; optional per-chat budget to exercise the timers' pacing."""

    platform = "test"
    can_edit = True

    def __init__(self, coach: Coach, budget: SendBudget | None = None) -> None:
        self.coach = coach
        self.budget = budget or SendBudget()
        self.sent: list[Sent] = []
        self._new = asyncio.Event()
        coach.services.delivery.register(self)

    async def send(self, user: UserKey, reply: Reply, context: object | None) -> None:
        self.sent.append(Sent(user, reply, self.coach.services.clock.monotonic()))
        self._new.set()

    def to(self, user: UserKey) -> list[Reply]:
        return [s.reply for s in self.sent if s.user == user]

    async def wait(self, predicate, timeout: float = 10.0, start: int = 0) -> int:
        """Index in `sent` of the first reply from `start` on matching predicate; fails the test
        on timeout."""
        async def poll() -> int:
            while True:
                for index in range(start, len(self.sent)):
                    if predicate(self.sent[index]):
                        return index
                self._new.clear()
                await self._new.wait()
        return await asyncio.wait_for(poll(), timeout)


class Person:
    """One person talking to the coach; every call returns the replies it produced."""

    def __init__(self, coach: Coach, adapter: RecordingAdapter, user_id: str = "ana",
                 name: str = "Ana") -> None:
        self.coach = coach
        self.adapter = adapter
        self.key = UserKey(adapter.platform, user_id)
        self.name = name
        self.seen = 0
        self.mark = 0  # where in the adapter's log `waits_for` looks from

    def _new_replies(self) -> list[Reply]:
        replies = self.adapter.to(self.key)
        new, self.seen = replies[self.seen:], len(replies)
        return new

    @property
    def replies(self) -> list[Reply]:
        return self.adapter.to(self.key)

    @property
    def last(self) -> Reply:
        return self.replies[-1]

    async def says(self, text: str, private: bool = True, update: str | None = None
                   ) -> list[Reply]:
        """`update`: the platform's id for the update carrying it (one delivered twice has it
        twice)."""
        self._new_replies()
        await self.coach.handle(Text(self.key, text, private=private, update=update),
                                name=self.name)
        return self._new_replies()

    async def sends_payload(self, action: str, update: str | None = None) -> list[Reply]:
        self._new_replies()
        await self.coach.handle(Picked(self.key, action, update=update), name=self.name)
        return self._new_replies()

    async def presses(self, label: str, update: str | None = None) -> list[Reply]:
        """Press the newest button with this label."""
        for reply in reversed(self.replies):
            for choice in reply.choices:
                if choice.label == label:
                    return await self.sends_payload(choice.action, update)
        raise AssertionError(f"no button {label!r}; last reply: {self.last.text!r}")

    async def waits_for(self, fragment: str, timeout: float = 10.0) -> Reply:
        """The first reply to this person, from now on, whose text contains fragment."""
        index = await self.adapter.wait(
            lambda s: s.user == self.key and fragment in s.reply.text, timeout, self.mark)
        self.mark = index + 1
        return self.adapter.sent[index].reply

    async def onboards(self, baseline: int = 3) -> None:
        """The shared onboarding script (tests/scripts.py): no warning signs."""
        for step in scripts.onboarding(baseline=baseline, zone="Europe/Berlin"):
            replies = await (self.presses if step.gesture == "press" else self.says)(step.text)
            assert any(step.expect in reply.text for reply in replies), (step, replies)

    async def trains(self, pain: int | None = None, timeout: float = 30.0) -> list[Reply]:
        """Start a session, tap Done on every paced set, and answer pain when asked."""
        self.mark = len(self.adapter.sent)
        await self.says("start session")
        while True:
            index = await self.adapter.wait(
                lambda s: s.user == self.key and ('Say "done"' in s.reply.text
                                                  or "How is your back now" in s.reply.text),
                timeout, self.mark)
            self.mark = index + 1
            if "How is your back now" in self.adapter.sent[index].reply.text:
                break
            await self.coach.settled(self.key)
            await self.says("done")
        if pain is None:
            return []
        return await self.says(str(pain))


def make_coach(tmp_path: Path, scale: float = 1000.0, db_name: str = "coach.db") -> Coach:
    return build(tmp_path / db_name, scale)
