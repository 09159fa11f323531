"""A test backend in the spirit of Errbot's: the whole coach driven by a test, no platform.

    ana = await Person.join(coach)
    await ana.says("start session")
    await ana.presses("Done")
    assert "How is your back" in (await ana.waits_for("How is your back")).text
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from bot.bootstrap import build
from bot.clock import Clock, ManualClock
from bot.coach import Coach
from bot.delivery import SendBudget
from bot.events import Picked, Text, UserKey
from bot.replies import Reply

import scripts

PAIN_NOW = "how is your back right now"  # the question before every session
FORM_YES = "Yes, every rep"  # the form check's first button


class TravelClock(Clock):
    """A scaled clock whose wall time can also jump ahead, for a night between two workouts
    (step-ups need comfortable sessions on separate days). Timers run on the monotonic
    clock, which never jumps."""

    def __init__(self, scale: float) -> None:
        super().__init__(scale)
        self.offset = 0.0

    def now(self) -> datetime:
        return super().now() + timedelta(seconds=self.offset)

    def wall_to_monotonic(self, instant: datetime) -> float:
        return super().wall_to_monotonic(instant) - self.offset

    def travel(self, seconds: float) -> None:
        self.offset += seconds


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

    async def stops(self) -> Reply:
        """"stop" during a workout, confirmed with the one tap it asks for; returns the end of
        the workout (what was done, and the pain question)."""
        asked = await self.says("stop")
        assert any("Stop the workout here?" in r.text for r in asked), asked
        self.mark = len(self.adapter.sent)
        await self.presses("Yes, stop")
        return await self.waits_for("How is your back now")

    async def skips(self, words: str = "skip exercise") -> list[Reply]:
        """Skip the exercise on the card or running now, confirmed with one tap."""
        asked = await self.says(words)
        assert any(r.text.startswith("Skip ") for r in asked), asked
        return await self.presses("Yes, skip it")

    async def reaches(self, number: int) -> Reply:
        """Start a session, skip the warm-up and every exercise before `number`, and press
        Ready on its card; returns the card."""
        await self.starts_session()
        await self.says("skip")  # the warm-up
        for earlier in range(1, number):
            await self.waits_for(f"{earlier}/7 · ")
            await self.skips()
        card = await self.waits_for(f"{number}/7 · ")
        await self.presses("Ready")
        return card

    async def onboards(self, baseline: int = 3, hamstring: str = "Reached it easily") -> None:
        """The shared onboarding script (tests/scripts.py): no warning signs."""
        for step in scripts.onboarding(baseline=baseline, zone="Europe/Berlin",
                                       hamstring=hamstring):
            replies = await (self.presses if step.gesture == "press" else self.says)(step.text)
            assert any(step.expect in reply.text for reply in replies), (step, replies)

    async def starts_session(self, pain: int = 3) -> list[Reply]:
        """Say "start session" and answer "how is your back right now?" with `pain`."""
        replies = await self.says("start session")
        if any(PAIN_NOW in reply.text for reply in replies):
            replies += await self.presses(str(pain))
        return replies

    async def next_day(self) -> None:
        """A night passes (the clock jumps a day ahead; timers are not touched)."""
        clock = self.coach.services.clock
        if isinstance(clock, ManualClock):
            clock.advance(24 * 3600)
        else:
            assert isinstance(clock, TravelClock), "next_day needs a TravelClock or ManualClock"
            clock.travel(24 * 3600)

    async def trains(self, pain: int | None = None, timeout: float = 30.0, before: int = 3,
                     form: str = FORM_YES) -> list[Reply]:
        """Start a session (pain `before` it), press Ready at the warm-up and at every exercise
        card, say "done" after every paced set, answer pain when asked, and answer any form
        check with `form`; returns the replies from the pain on."""
        self.mark = len(self.adapter.sent)
        await self.starts_session(before)
        while True:
            index = await self.adapter.wait(
                lambda s: s.user == self.key and (ready_button(s.reply) is not None
                                                  or 'Say "done"' in s.reply.text
                                                  or "How is your back now" in s.reply.text),
                timeout, self.mark)
            self.mark = index + 1
            reply = self.adapter.sent[index].reply
            if "How is your back now" in reply.text:
                break
            ready = ready_button(reply)
            if ready is not None:
                await self.sends_payload(ready)  # harmless if it has started by itself
                continue
            await self.coach.settled(self.key)
            await self.says("done")
        if pain is None:
            return []
        replies = await self.says(str(pain))
        while replies and any(choice.label == FORM_YES for choice in replies[-1].choices):
            replies += await self.presses(form)
        return replies


def ready_button(reply: Reply) -> str | None:
    """The payload of a card's "Ready" button (today's plan and every exercise card)."""
    return next((c.action for c in reply.choices if c.action.startswith("ready")), None)


def make_coach(tmp_path: Path, scale: float = 1000.0, db_name: str = "coach.db") -> Coach:
    """A coach for a conversation test. Its clock follows the test's loop, which must be on
    virtual time (the `virtual_time` fixture, tests/conftest.py): a pass or a fail then never
    depends on how busy the machine is."""
    if not getattr(asyncio.get_running_loop(), "looptime_on", False):
        raise RuntimeError("make_coach needs virtual time: ask for the virtual_time fixture")
    return build(tmp_path / db_name, scale, clock=TravelClock(scale))


def paragraphs(replies: list[Reply]) -> list[str]:
    """What the person reads, paragraph by paragraph: short answers that go out together as one
    message (bot.replies.in_one) read here as they did when each was a message of its own."""
    return [part for reply in replies for part in reply.text.split("\n\n")]
