"""The outbound port: how the coach speaks through whichever adapter a person is on.

Each adapter declares a send budget: per chat (the platform's chat: a group is one chat, however
many people write in it) and overall. Both are sliding windows, and a send takes its place in
both at the same instant or waits: it never holds a chat's place while waiting for the overall
budget. A send keeps its place from the moment it starts until the window's length after the
platform answered, so a request that reaches the platform late (a busy machine, a slow network)
cannot crowd the window as the platform counts it.

Messages for one person leave in the order they were made; cues and answers wait for budget;
countdown edits are dropped when there is none to spare and give way to them (they never take
the overall budget while a cue or an answer waits for it, nor its last third). A platform's "forbidden"
turns the person's reminders off; 429s wait as asked; other transient errors retry with backoff;
nothing is sent twice on purpose.
"""
from __future__ import annotations

import asyncio
import bisect
import contextlib
import logging
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from bot.clock import Clock
from bot.events import UserKey
from bot.replies import Reply

log = logging.getLogger(__name__)

# Countdown edits leave this share of the overall budget free: a cue or an answer then finds a
# place at once unless cues and answers alone fill the budget.
CUE_RESERVE = 1 / 3


class Unreachable(Exception):
    """The platform refuses to deliver to this person (blocked the bot, DMs closed)."""


class RetryAfter(Exception):
    """The platform asked us to wait this many seconds before trying again (HTTP 429)."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"retry after {seconds} s")
        self.seconds = seconds


class Transient(Exception):
    """A network hiccup or 5xx: worth trying again shortly."""


@dataclass(frozen=True)
class Rate:
    """`count` sends per `per_seconds` seconds of clock time."""

    count: int
    per_seconds: float

    @property
    def interval(self) -> float:
        return self.per_seconds / self.count


@dataclass(frozen=True)
class SendBudget:
    per_chat: Rate | None = None
    overall: Rate | None = None


class Outbound(Protocol):
    """What every adapter implements so the coach can speak. An adapter may also define
    `chat_of(user, context) -> str`, the platform chat a reply goes to (the key of the per-chat
    budget); without it each person is their own chat."""

    platform: str
    budget: SendBudget
    can_edit: bool

    async def send(self, user: UserKey, reply: Reply, context: object | None) -> None:
        """Deliver one reply; `context` is the adapter's own object for the event being answered."""
        ...


class SlidingWindow:
    """At most `rate.count` sends in any `rate.per_seconds` of clock time. A send holds a place
    from `take()` until `rate.per_seconds` after its `release()` (when the platform answered)."""

    def __init__(self, clock: Clock, rate: Rate) -> None:
        self.clock = clock
        self.rate = rate
        self.open = 0  # sends under way
        self._ended: list[float] = []  # when recent sends were answered, oldest first

    def _places_held(self) -> int:
        horizon = self.clock.monotonic() - self.rate.per_seconds
        stale = bisect.bisect_right(self._ended, horizon)
        if stale:
            del self._ended[:stale]
        return self.open + len(self._ended)

    def free(self) -> int:
        """Places a send could take right now."""
        return max(0, self.rate.count - self._places_held())

    def wait_time(self) -> float | None:
        """Clock seconds until a place frees: 0 when one is free now, None when every place is
        held by a send still under way (its answer frees it)."""
        if self._places_held() < self.rate.count:
            return 0.0
        if not self._ended:
            return None
        return max(0.0, self._ended[0] + self.rate.per_seconds - self.clock.monotonic())

    def take(self) -> None:
        self.open += 1

    def release(self) -> None:
        self.open -= 1
        bisect.insort(self._ended, self.clock.monotonic())


@dataclass
class _Slot:
    """The places one message holds while it is under way, and when it started."""

    windows: tuple[SlidingWindow, ...]
    started: float


class Delivery:
    """Routes replies to adapters, in order per person, within each adapter's budget."""

    MAX_TRIES = 5

    def __init__(self, clock: Clock,
                 on_unreachable: Callable[[UserKey, str], Awaitable[None]] | None = None) -> None:
        self.clock = clock
        self.on_unreachable = on_unreachable
        self.adapters: dict[str, Outbound] = {}
        self._locks: defaultdict[UserKey, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._chats: dict[tuple[str, str], SlidingWindow] = {}
        self._overall: dict[str, SlidingWindow] = {}
        # Cues and answers waiting for the overall budget: countdown edits give way to them.
        self._waiting: defaultdict[str, int] = defaultdict(int)
        self._holding: dict[UserKey, _Slot] = {}  # sends under way, by person
        self._round_trip: dict[str, float] = {}  # a running average per platform, clock s
        self._freed = asyncio.Event()

    def register(self, adapter: Outbound) -> None:
        self.adapters[adapter.platform] = adapter
        if adapter.budget.overall:
            self._overall[adapter.platform] = SlidingWindow(self.clock, adapter.budget.overall)

    def can_edit(self, user: UserKey) -> bool:
        adapter = self.adapters.get(user.platform)
        return bool(adapter and adapter.can_edit)

    def chat_interval(self, user: UserKey) -> float:
        adapter = self.adapters.get(user.platform)
        rate = adapter.budget.per_chat if adapter else None
        return rate.interval if rate else 0.0

    async def send(self, user: UserKey, reply: Reply, context: object | None = None) -> bool:
        """Deliver now or after waiting for budget; False if it could not be delivered."""
        adapter = self.adapters.get(user.platform)
        if adapter is None:
            log.warning("no adapter for platform %s", user.platform)
            return False
        async with self._locks[user]:
            return await self._send_with_retries(adapter, user, reply, context)

    async def wait_for_room(self, user: UserKey) -> None:
        """Return at a moment when a `send` to this person would go out without waiting.

        Bulk senders (reminders) call this before recording "about to send" and then call
        `send` with no await in between, so that record and the actual send stay microseconds
        apart (a crash in between is the only way a reminder is lost, and none is ever doubled).
        """
        adapter = self.adapters.get(user.platform)
        if adapter is None:
            return
        while True:
            lock = self._locks.get(user)
            if lock is not None and lock.locked():
                async with lock:
                    pass
                continue
            freed = self._freed
            wait = self._wait_time(self._windows(user, adapter, None))
            if wait == 0:
                return
            await self._sleep_or_freed(freed, wait)

    async def try_send(self, user: UserKey, reply: Reply, not_after: float | None = None) -> bool:
        """Best-effort (countdown edits): only if the chat's budget is free now and will be
        again by the next cue at `not_after`, and the overall budget keeps CUE_RESERVE free
        with no cue or answer waiting for it; never waits, never retries."""
        adapter = self.adapters.get(user.platform)
        if adapter is None or self._locks[user].locked():
            return False
        chat = self._chat_window(user, adapter, None)
        overall = self._overall.get(user.platform)
        if chat is not None:
            if chat.free() == 0:
                return False
            ready_again = self.clock.monotonic() + chat.rate.per_seconds \
                + 2 * self._round_trip.get(user.platform, 0.0)
            if not_after is not None and ready_again > not_after:
                return False
        if overall is not None:
            spare = overall.free() - 1
            if self._waiting[user.platform] or spare < overall.rate.count * CUE_RESERVE:
                return False
        async with self._locks[user]:
            async with self._holding_slot(user, adapter, None, wait=False):
                try:
                    await adapter.send(user, reply, None)
                    return True
                except Unreachable as exc:
                    await self._unreachable(user, str(exc))
                except (RetryAfter, Transient) as exc:
                    log.info("countdown edit dropped for %s: %s", user, exc)
                return False

    async def next_message(self, user: UserKey, context: object | None = None) -> None:
        """Between two messages of one reply (a long text in parts, a photo then its text):
        the message just sent ends its place and the next one waits for its own, so every
        message an adapter sends counts against the budget."""
        adapter = self.adapters.get(user.platform)
        if adapter is None:
            return
        slot = self._holding.pop(user, None)
        if slot is not None:
            self._release(slot)
            self._holding[user] = await self._take(user, adapter, context)
        else:  # an adapter called directly, outside a Delivery send: pace it all the same
            self._release(await self._take(user, adapter, context))

    # -- budget ---------------------------------------------------------------------------------

    @staticmethod
    def _chat_key(user: UserKey, adapter: Outbound, context: object | None) -> tuple[str, str]:
        """The platform chat a reply goes to: a group is one chat for everyone in it."""
        chat_of = getattr(adapter, "chat_of", None)
        return user.platform, (chat_of(user, context) if chat_of is not None else str(user))

    def _chat_window(self, user: UserKey, adapter: Outbound,
                     context: object | None) -> SlidingWindow | None:
        rate = adapter.budget.per_chat
        if rate is None:
            return None
        key = self._chat_key(user, adapter, context)
        window = self._chats.get(key)
        if window is None:
            window = self._chats[key] = SlidingWindow(self.clock, rate)
        return window

    def _windows(self, user: UserKey, adapter: Outbound,
                 context: object | None) -> tuple[SlidingWindow, ...]:
        return tuple(window for window in (self._chat_window(user, adapter, context),
                                           self._overall.get(user.platform)) if window)

    @staticmethod
    def _wait_time(windows: tuple[SlidingWindow, ...]) -> float | None:
        """0 when every window has a place now; else the longest known wait, or None when a
        window's places are all held by sends under way."""
        waits = [window.wait_time() for window in windows]
        if any(wait is None for wait in waits):
            return None
        return max(waits, default=0.0)

    async def _take(self, user: UserKey, adapter: Outbound, context: object | None) -> _Slot:
        """Wait until the chat's window and the overall window both have a place, then take
        both at once (no await in between)."""
        windows = self._windows(user, adapter, context)
        overall = self._overall.get(user.platform)
        held_back = False  # counted among the sends waiting for the overall budget
        try:
            while True:
                freed = self._freed
                wait = self._wait_time(windows)
                if wait == 0:
                    for window in windows:
                        window.take()
                    return _Slot(windows, self.clock.monotonic())
                overall_full = overall is not None and overall.wait_time() != 0
                if overall_full != held_back:
                    self._waiting[user.platform] += 1 if overall_full else -1
                    held_back = overall_full
                await self._sleep_or_freed(freed, wait)
        finally:
            if held_back:
                self._waiting[user.platform] -= 1

    async def _sleep_or_freed(self, freed: asyncio.Event, wait: float | None) -> None:
        """Until `wait` clock seconds have passed, or (when no wait is known) a place frees."""
        if wait is None:
            await self.clock.wait_event(freed, None)
        else:
            await self.clock.sleep(wait)

    def _release(self, slot: _Slot) -> None:
        for window in slot.windows:
            window.release()
        freed, self._freed = self._freed, asyncio.Event()
        freed.set()

    @contextlib.asynccontextmanager
    async def _holding_slot(self, user: UserKey, adapter: Outbound, context: object | None,
                            wait: bool = True) -> AsyncIterator[None]:
        """Hold a place in the chat's and the overall window for one send (the caller has
        checked there is room when `wait` is False), released when the platform answered."""
        if wait:
            slot = await self._take(user, adapter, context)
        else:
            slot = _Slot(self._windows(user, adapter, context), self.clock.monotonic())
            for window in slot.windows:
                window.take()
        self._holding[user] = slot
        try:
            yield
        finally:
            last = self._holding.pop(user, slot)  # next_message may have replaced it
            self._release(last)
            took = self.clock.monotonic() - last.started
            average = self._round_trip.get(user.platform, took)
            self._round_trip[user.platform] = 0.8 * average + 0.2 * took

    # -- sending --------------------------------------------------------------------------------

    async def _send_with_retries(self, adapter: Outbound, user: UserKey, reply: Reply,
                                 context: object | None) -> bool:
        backoff = 1.0
        for attempt in range(1, self.MAX_TRIES + 1):
            try:
                async with self._holding_slot(user, adapter, context):
                    await adapter.send(user, reply, context)
                return True
            except Unreachable as exc:
                await self._unreachable(user, str(exc))
                return False
            except RetryAfter as exc:
                log.info("platform asked to wait %.1f s before sending to %s", exc.seconds, user)
                await self.clock.sleep(exc.seconds)
            except Transient as exc:
                log.warning("send to %s failed (try %d): %s", user, attempt, exc)
                await self.clock.sleep(backoff)
                backoff *= 2
        log.error("giving up on a message to %s after %d tries", user, self.MAX_TRIES)
        return False

    async def _unreachable(self, user: UserKey, reason: str) -> None:
        log.warning("cannot reach %s (%s); their reminders are turned off", user, reason)
        if self.on_unreachable is not None:
            await self.on_unreachable(user, reason)

    def forget(self, user: UserKey) -> None:
        """Drop per-person send state (after they delete their data)."""
        adapter = self.adapters.get(user.platform)
        if adapter is not None:
            self._chats.pop(self._chat_key(user, adapter, None), None)
        lock = self._locks.get(user)
        if lock is not None and not lock.locked():
            del self._locks[user]
