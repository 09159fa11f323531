"""Per-person locks: one event at a time for each person, and nothing kept for people who left.

A thousand people who each said one thing must not leave a thousand locks behind, and forgetting a
lock must never let two of one person's events in at once.
"""
from __future__ import annotations

import asyncio
from datetime import datetime, timezone

import pytest

from bot.clock import ManualClock
from bot.delivery import Delivery, Rate, SendBudget
from bot.events import UserKey
from bot.delivery import PersonLocks
from bot.replies import Reply
from chat import Person


async def test_people_who_said_one_thing_leave_no_lock_in_the_coach_or_delivery(coach, adapter):
    people = [Person(coach, adapter, f"walker{n}", "") for n in range(200)]
    await asyncio.gather(*(person.says("hello") for person in people))
    assert all("back-care exercise coach" in person.replies[0].text for person in people)
    assert len(coach._locks) == 0
    assert len(coach.services.delivery._locks) == 0


async def test_one_persons_events_still_wait_for_each_other_in_order():
    locks: PersonLocks[str] = PersonLocks()
    order: list[str] = []
    release_first = asyncio.Event()

    async def event(name: str, hold: asyncio.Event | None = None) -> None:
        async with locks["ana"]:
            order.append(f"{name} in")
            if hold is not None:
                await hold.wait()
            order.append(f"{name} out")

    first = asyncio.create_task(event("first", release_first))
    await asyncio.sleep(0)
    second = asyncio.create_task(event("second"))
    bob = asyncio.create_task(event_for_bob(locks, order))
    await asyncio.sleep(0)
    assert order == ["first in", "bob in", "bob out"]  # Bob never waits for Ana
    assert "ana" in locks and "bob" not in locks
    release_first.set()
    await asyncio.gather(first, second, bob)
    assert order == ["first in", "bob in", "bob out", "first out", "second in", "second out"]
    assert len(locks) == 0


async def event_for_bob(locks: PersonLocks[str], order: list[str]) -> None:
    async with locks["bob"]:
        order.append("bob in")
        order.append("bob out")


async def test_a_handle_taken_before_the_lock_was_forgotten_still_waits_for_the_holder():
    """The reminder fan-out takes a person's lock handle, then waits for its turn: meanwhile the
    person's lock may be forgotten and made again. The old handle must guard the new lock."""
    locks: PersonLocks[str] = PersonLocks()
    early = locks["ana"]
    assert not early.locked() and len(locks) == 0
    async with locks["ana"]:
        assert early.locked()
        waiter = asyncio.create_task(early.acquire())
        await asyncio.sleep(0)
        assert not waiter.done()
    await waiter
    assert early.locked() and "ana" in locks
    early.release()
    assert len(locks) == 0


async def test_a_waiter_that_gives_up_leaves_nothing_behind():
    locks: PersonLocks[str] = PersonLocks()
    async with locks["ana"]:
        waiter = asyncio.create_task(locks.acquire("ana"))
        await asyncio.sleep(0)
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
        assert "ana" in locks  # still held by us
    assert len(locks) == 0


async def test_releasing_a_lock_nobody_holds_is_a_bug_said_out_loud():
    locks: PersonLocks[str] = PersonLocks()
    with pytest.raises(RuntimeError):
        locks["ana"].release()


async def test_send_budgets_are_kept_for_people_sending_now_not_for_everyone_ever():
    """Telegram's 1 message/s per chat: a chat's window with no place held is forgotten (it
    acts exactly like a new one), so 5,000 people who each got one message leave few behind, and
    someone who just got a message still waits their second before the next."""
    clock = ManualClock(datetime(2026, 3, 10, 6, 0, tzinfo=timezone.utc))
    delivery = Delivery(clock)
    chat = Chat()
    delivery.register(chat)
    for n in range(5000):
        await delivery.send(UserKey("chat", f"p{n}"), Reply("Good morning"))
        clock.advance(0.001)  # 1,000 people a second, for five seconds
    assert len(chat.sent) == 5000
    assert len(delivery._chats) <= 2 * delivery.KEEP_CHATS  # not one each
    latest = UserKey("chat", "p4999")
    before = clock.monotonic()
    await delivery.send(latest, Reply("And one more thing"))
    assert chat.sent[-1] == (latest, "And one more thing")
    assert clock.monotonic() - before >= 0.99  # their budget was kept: they waited


class Chat:
    """A platform allowing one message a second per chat."""

    platform = "chat"
    can_edit = False
    budget = SendBudget(per_chat=Rate(1, 1.0))

    def __init__(self) -> None:
        self.sent: list[tuple[UserKey, str]] = []

    async def send(self, user: UserKey, reply: Reply, context: object | None) -> None:
        self.sent.append((user, reply.text))
