"""The outbound port: how the coach speaks through whichever adapter a person is on.

Each adapter declares a send budget: per chat (the platform's chat: a group is one chat, however
many people write in it) and overall. Both are sliding windows, and a send takes its place in
both at the same instant or waits: it never holds a chat's place while waiting for the overall
budget. A send keeps its place from the moment it starts until the window's length after the
platform answered, so a request that reaches the platform late (a busy machine, a slow network)
cannot crowd the window as the platform counts it. A chat's window with no place held is no
different from a new one, so idle ones are forgotten and memory stays bounded.

Messages for one person leave in the order they were made; cues and answers wait for budget;
countdown edits are dropped when there is none to spare and give way to them (they never take
the overall budget while a cue or an answer waits for it, nor its last third). A platform's
"forbidden" is reported to the coach (which decides about the reminders: a block at once, closed
DMs only after two days of failures), and so is the first send that gets through again; 429s
wait as asked; other transient errors retry with backoff; nothing is sent twice on purpose.

Per-person locks (`PersonLocks`) live here too: Delivery, the coach and adapters each keep one
lock per person or chat, and a plain dict of them would grow by one for every person who ever
wrote. A key's lock is forgotten the moment its last holder or waiter lets go, and made afresh
the next time; callers get a handle named by the key, never the lock itself, so a handle kept
across an await cannot end up guarding a lock that was already forgotten.
"""
from __future__ import annotations

import asyncio
import bisect
import contextlib
import logging
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable, Iterable
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar

from bot.clock import Clock
from bot.events import UserKey
from bot.replies import Reply

log = logging.getLogger(__name__)

# Countdown edits leave this share of the overall budget free: a cue or an answer then finds a
# place at once unless cues and answers alone fill the budget.
CUE_RESERVE = 1 / 3


class Unreachable(Exception):
    """The platform refuses to deliver to this person (blocked the bot, DMs closed).
    `lasting` is False for a refusal the person may well lift soon (Discord's closed DMs)."""

    def __init__(self, reason: str, lasting: bool = True) -> None:
        super().__init__(reason)
        self.lasting = lasting


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
        # When the places of answered sends free, soonest first. Kept as the instant each frees
        # (not when it was answered): "free now" and "free in so long" then come from the same
        # comparison, so a full window never reports a wait of 0 through float rounding.
        self._frees_at: list[float] = []

    def _places_held(self, now: float) -> int:
        freed = bisect.bisect_right(self._frees_at, now)
        if freed:
            del self._frees_at[:freed]
        return self.open + len(self._frees_at)

    def free(self) -> int:
        """Places a send could take right now."""
        return max(0, self.rate.count - self._places_held(self.clock.monotonic()))

    def wait_time(self) -> float | None:
        """Clock seconds until a place frees: 0 when one is free now (else always more than
        0), None when every place is held by a send still under way (its answer frees it)."""
        now = self.clock.monotonic()
        if self._places_held(now) < self.rate.count:
            return 0.0
        if not self._frees_at:
            return None
        return self._frees_at[0] - now  # > now, or it would have been freed above

    def idle(self) -> bool:
        """No place held (no send under way, none answered within the window): no different
        from a new window, so it can be forgotten."""
        return self._places_held(self.clock.monotonic()) == 0

    def take(self) -> None:
        self.open += 1

    def release(self) -> None:
        self.open -= 1
        bisect.insort(self._frees_at, self.clock.monotonic() + self.rate.per_seconds)


@dataclass
class _Slot:
    """The places one message holds while it is under way, and when it started."""

    windows: tuple[SlidingWindow, ...]
    started: float


class Delivery:
    """Routes replies to adapters, in order per person, within each adapter's budget."""

    MAX_TRIES = 5
    KEEP_CHATS = 1024  # per-chat windows kept before forgetting the idle ones

    def __init__(self, clock: Clock,
                 on_unreachable: Callable[[UserKey, str, bool], Awaitable[None]] | None = None,
                 on_reachable: Callable[[UserKey], Awaitable[None]] | None = None) -> None:
        self.clock = clock
        self.on_unreachable = on_unreachable  # (person, reason, lasting)
        self.on_reachable = on_reachable  # the first send that got through after a refusal
        self.adapters: dict[str, Outbound] = {}
        self._refused: set[UserKey] = set()  # refused since their last delivered message
        self._locks: PersonLocks[UserKey] = PersonLocks()  # dropped when idle
        self._chats: dict[tuple[str, str], SlidingWindow] = {}
        self._sweep_at = self.KEEP_CHATS
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
            lock = self._locks[user]
            if lock.locked():
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
                except Unreachable as exc:
                    await self._unreachable(user, exc)
                    return False
                except (RetryAfter, Transient) as exc:
                    log.info("countdown edit dropped for %s: %s", user, exc)
                    return False
            await self._reached(user)
            return True

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
            self._forget_idle_chats()
            window = self._chats[key] = SlidingWindow(self.clock, rate)
        return window

    def _forget_idle_chats(self) -> None:
        """Keep windows for the chats sending now, not for every chat ever: each time their
        number has doubled, drop the idle ones (an idle window acts exactly like a new one).
        Nothing keeps a window across an await without holding a place in it (`_take` looks
        its windows up again each time it wakes), so a forgotten window is never used again."""
        if len(self._chats) < self._sweep_at:
            return
        for key in [key for key, window in self._chats.items() if window.idle()]:
            del self._chats[key]
        self._sweep_at = max(self.KEEP_CHATS, 2 * len(self._chats))

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
        overall = self._overall.get(user.platform)
        held_back = False  # counted among the sends waiting for the overall budget
        try:
            while True:
                freed = self._freed
                windows = self._windows(user, adapter, context)  # an idle one may be forgotten
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
                await self._reached(user)
                return True
            except Unreachable as exc:
                await self._unreachable(user, exc)
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

    async def _unreachable(self, user: UserKey, refusal: Unreachable) -> None:
        log.warning("cannot reach %s (%s)", user, refusal)
        self._refused.add(user)
        if self.on_unreachable is not None:
            await self.on_unreachable(user, str(refusal), refusal.lasting)

    async def _reached(self, user: UserKey) -> None:
        """A send got through: if this person was refused before, say so once (a set look-up
        on every other send)."""
        if user in self._refused:
            self._refused.discard(user)
            if self.on_reachable is not None:
                await self.on_reachable(user)

    def refused_before(self, users: Iterable[UserKey]) -> None:
        """People refused before a restart (from the store): their next delivered message is
        reported too."""
        self._refused.update(users)

    def forget(self, user: UserKey) -> None:
        """Drop per-person send state (after they delete their data); their lock goes by
        itself once nobody holds it, and their chat's window once it is idle (a send still
        under way or just answered keeps its place, so the chat's limit holds)."""
        adapter = self.adapters.get(user.platform)
        if adapter is not None:
            key = self._chat_key(user, adapter, None)
            window = self._chats.get(key)
            if window is not None and window.idle():
                del self._chats[key]
        self._refused.discard(user)


# -- per-person locks, dropped when idle ----------------------------------------------------

Key = TypeVar("Key", bound=Hashable)


@dataclass
class _Entry:
    """A key's lock and how many holders and waiters still need it."""

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0


class PersonLocks(Generic[Key]):
    """Locks by key that are dropped when idle: `async with locks[key]:`."""

    def __init__(self) -> None:
        self._entries: dict[Key, _Entry] = {}

    def __getitem__(self, key: Key) -> KeyLock[Key]:
        return KeyLock(self, key)

    def __contains__(self, key: object) -> bool:
        """True while someone holds or waits for this key's lock."""
        return key in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    def locked(self, key: Key) -> bool:
        entry = self._entries.get(key)
        return entry is not None and entry.lock.locked()

    async def acquire(self, key: Key) -> None:
        """Wait for the key's lock; returns at once, without yielding, when it is free."""
        entry = self._entries.get(key)
        if entry is None:
            entry = self._entries[key] = _Entry()
        entry.users += 1
        try:
            await entry.lock.acquire()
        except BaseException:  # cancelled while waiting: no longer needs the lock
            self._leave(key, entry)
            raise

    def release(self, key: Key) -> None:
        entry = self._entries.get(key)
        if entry is None or not entry.lock.locked():
            raise RuntimeError(f"release of an unlocked lock for {key!r}")
        entry.lock.release()
        self._leave(key, entry)

    def _leave(self, key: Key, entry: _Entry) -> None:
        entry.users -= 1
        if entry.users == 0:
            del self._entries[key]


@dataclass(frozen=True)
class KeyLock(Generic[Key]):
    """The lock of one key, used like an asyncio.Lock (`async with`, acquire/release, locked)."""

    locks: PersonLocks[Key]
    key: Key

    def locked(self) -> bool:
        return self.locks.locked(self.key)

    async def acquire(self) -> bool:
        await self.locks.acquire(self.key)
        return True

    def release(self) -> None:
        self.locks.release(self.key)

    async def __aenter__(self) -> None:
        await self.locks.acquire(self.key)

    async def __aexit__(self, *exc_info: object) -> None:
        self.locks.release(self.key)
