"""A coach on a ManualClock for reminder tests: move the clock, let due reminders go out, look
at what each person got and at what local time.

    world = await World.open(tmp_path, berlin(2026, 3, 10, 6, 0))
    ana = await world.onboards("ana", "07:30", "Europe/Berlin")
    sent = await world.at(berlin(2026, 3, 10, 7, 30))
"""
from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from chat import Person, RecordingAdapter, Sent

from bot.bootstrap import build_app
from bot.clock import ManualClock
from bot.coach import Coach
from bot.delivery import SendBudget

REMINDER = "of your programme"  # a fragment every daily reminder's greeting contains


def local(zone: str, *parts: int) -> datetime:
    return datetime(*parts, tzinfo=ZoneInfo(zone))


def berlin(*parts: int) -> datetime:
    return local("Europe/Berlin", *parts)


def new_york(*parts: int) -> datetime:
    return local("America/New_York", *parts)


class World:
    """One coach, one recording adapter, one manual clock; restartable on the same DB."""

    def __init__(self, path: Path, clock: ManualClock, adapter_class: type = RecordingAdapter,
                 budget: SendBudget | None = None) -> None:
        self.path = path
        self.clock = clock
        self.adapter_class = adapter_class
        self.budget = budget
        self.app = build_app(path, clock=clock)
        self.coach: Coach = self.app.coach
        self.adapter = adapter_class(self.coach, budget)
        self.people: dict[str, Person] = {}

    @classmethod
    async def open(cls, tmp_path: Path, start: datetime, **kwargs) -> World:
        world = cls(tmp_path / "coach.db", ManualClock(start), **kwargs)
        await world.coach.start()
        return world

    @property
    def reminders(self):
        return self.app.reminders

    def person(self, user_id: str = "ana", name: str = "Ana") -> Person:
        if user_id not in self.people:
            self.people[user_id] = Person(self.coach, self.adapter, user_id, name)
        return self.people[user_id]

    async def onboards(self, user_id: str = "ana", time: str = "07:30",
                       zone: str = "Europe/Berlin", name: str = "") -> Person:
        """The whole onboarding the quick way, with this reminder time and zone."""
        person = self.person(user_id, name or user_id.capitalize())
        await person.says("/start")
        await person.presses("Got it, let's go")
        for _ in self.coach.services.questions:
            await person.presses("No")
        await person.presses("3")
        await person.presses("Reached it easily")
        await person.says(time)
        replies = await person.says(zone)
        assert "You're all set" in replies[-1].text, replies[-1].text
        await asyncio.sleep(0)  # let the users-table watcher reschedule, as the loop would
        return person

    async def at(self, when: datetime) -> list[Sent]:
        """Move the clock to `when` and send whatever is due; returns what went out."""
        await asyncio.sleep(0)
        mark = len(self.adapter.sent)
        self.clock.set(when)
        await self.reminders.run_due()
        return self.adapter.sent[mark:]

    async def walk(self, start: datetime, end: datetime,
                   step: timedelta = timedelta(minutes=1)) -> list[Sent]:
        """Step the clock from `start` to `end`, sending what is due at every step, as a
        scheduler that wakes up too often would: catches doubles as well as misses."""
        sent: list[Sent] = []
        when = start.astimezone(timezone.utc)  # step in real time, not wall time
        while when <= end:
            sent += await self.at(when)
            when += step
        return sent

    def wall(self, sent: Sent, zone: str = "Europe/Berlin") -> datetime:
        """When a reply went out, on the person's wall clock."""
        return (self.clock.now() - timedelta(seconds=self.clock.monotonic() - sent.at)
                ).astimezone(ZoneInfo(zone))

    def reminders_to(self, person: Person, sent: list[Sent] | None = None) -> list[Sent]:
        return [s for s in (self.adapter.sent if sent is None else sent)
                if s.user == person.key and REMINDER in s.reply.text]

    async def restart(self) -> World:
        """Stop this coach (as a shutdown would) and start a new one on the same DB and clock."""
        await self.close()
        return await self.reopen()

    async def reopen(self) -> World:
        """Start a new coach on the same DB and clock (after `close`, or after a crash)."""
        world = World(self.path, self.clock, self.adapter_class, self.budget)
        for user_id, person in self.people.items():
            world.person(user_id, person.name)
        await world.coach.start()
        return world

    async def close(self) -> None:
        await self.coach.shutdown()
        self.coach.services.store.close()
