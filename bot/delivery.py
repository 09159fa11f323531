"""The outbound port: how the coach speaks through whichever adapter a person is on.

Each adapter declares a send budget (per chat and overall). Messages for one person leave in the
order they were made; cues wait for budget, countdown edits are dropped when there is none left.
A platform's "forbidden" is reported to the coach (which decides about the reminders: a block at
once, closed DMs only after two days of failures), and so is the first send that gets through
again; 429s wait as asked; other transient errors retry with backoff; nothing is sent twice on
purpose.

Per-person locks (`PersonLocks`) live here too: Delivery, the coach and adapters each keep one
lock per person or chat, and a plain dict of them would grow by one for every person who ever
wrote. A key's lock is forgotten the moment its last holder or waiter lets go, and made afresh
the next time; callers get a handle named by the key, never the lock itself, so a handle kept
across an await cannot end up guarding a lock that was already forgotten.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Hashable, Iterable
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar

from bot.clock import Clock
from bot.events import UserKey
from bot.replies import Reply

log = logging.getLogger(__name__)


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
    """What every adapter implements so the coach can speak."""

    platform: str
    budget: SendBudget
    can_edit: bool

    async def send(self, user: UserKey, reply: Reply, context: object | None) -> None:
        """Deliver one reply; `context` is the adapter's own object for the event being answered."""
        ...


class TokenBucket:
    """A classic token bucket on the injected clock."""

    def __init__(self, clock: Clock, rate: Rate) -> None:
        self.clock = clock
        self.rate = rate
        self.tokens = float(rate.count)
        self.stamp = clock.monotonic()

    def _refill(self) -> None:
        now = self.clock.monotonic()
        self.tokens = min(self.rate.count, self.tokens + (now - self.stamp) / self.rate.interval)
        self.stamp = now

    def try_take(self) -> bool:
        self._refill()
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False

    def wait_time(self) -> float:
        self._refill()
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) * self.rate.interval

    def full(self) -> bool:
        """Refilled to the brim: no different from a new bucket, so it can be forgotten."""
        self._refill()
        return self.tokens >= self.rate.count

    def free_at(self) -> float:
        """Clock time at which a token will be available (now if one is)."""
        return self.clock.monotonic() + self.wait_time()


class Delivery:
    """Routes replies to adapters, in order per person, within each adapter's budget."""

    MAX_TRIES = 5
    KEEP_BUCKETS = 1024  # per-chat budgets kept before forgetting the full ones

    def __init__(self, clock: Clock,
                 on_unreachable: Callable[[UserKey, str, bool], Awaitable[None]] | None = None,
                 on_reachable: Callable[[UserKey], Awaitable[None]] | None = None) -> None:
        self.clock = clock
        self.on_unreachable = on_unreachable  # (person, reason, lasting)
        self.on_reachable = on_reachable  # the first send that got through after a refusal
        self.adapters: dict[str, Outbound] = {}
        self._refused: set[UserKey] = set()  # refused since their last delivered message
        self._locks: PersonLocks[UserKey] = PersonLocks()  # dropped when idle
        self._chat_buckets: dict[UserKey, TokenBucket] = {}
        self._sweep_at = self.KEEP_BUCKETS
        self._overall: dict[str, TokenBucket] = {}

    def register(self, adapter: Outbound) -> None:
        self.adapters[adapter.platform] = adapter
        if adapter.budget.overall:
            self._overall[adapter.platform] = TokenBucket(self.clock, adapter.budget.overall)

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
            await self._wait_for_budget(user, adapter)
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
            buckets = [b for b in (self._chat_bucket(user, adapter),
                                   self._overall.get(user.platform)) if b is not None]
            wait = max((b.wait_time() for b in buckets), default=0.0)
            if wait <= 0:
                return
            await self.clock.sleep(wait)

    async def try_send(self, user: UserKey, reply: Reply, not_after: float | None = None) -> bool:
        """Best-effort (countdown edits): only if budget is free now and leaves room for the next
        cue at `not_after`; never waits, never retries."""
        adapter = self.adapters.get(user.platform)
        if adapter is None or self._locks[user].locked():
            return False
        chat = self._chat_bucket(user, adapter)
        overall = self._overall.get(user.platform)
        if chat is not None:
            if chat.wait_time() > 0:
                return False
            if not_after is not None and self.clock.monotonic() + chat.rate.interval > not_after:
                return False
        if overall is not None and overall.wait_time() > 0:
            return False
        async with self._locks[user]:
            if chat is not None:
                chat.try_take()
            if overall is not None:
                overall.try_take()
            try:
                await adapter.send(user, reply, None)
                await self._reached(user)
                return True
            except Unreachable as exc:
                await self._unreachable(user, exc)
            except (RetryAfter, Transient) as exc:
                log.info("countdown edit dropped for %s: %s", user, exc)
            return False

    def _chat_bucket(self, user: UserKey, adapter: Outbound) -> TokenBucket | None:
        rate = adapter.budget.per_chat
        if rate is None:
            return None
        bucket = self._chat_buckets.get(user)
        if bucket is None:
            self._forget_full_buckets()
            bucket = self._chat_buckets[user] = TokenBucket(self.clock, rate)
        return bucket

    def _forget_full_buckets(self) -> None:
        """Keep budgets for the people sending now, not for everyone ever: each time their
        number has doubled, drop the full ones (a full bucket acts exactly like a new one)."""
        if len(self._chat_buckets) < self._sweep_at:
            return
        for user in [user for user, bucket in self._chat_buckets.items() if bucket.full()]:
            del self._chat_buckets[user]
        self._sweep_at = max(self.KEEP_BUCKETS, 2 * len(self._chat_buckets))

    async def _wait_for_budget(self, user: UserKey, adapter: Outbound) -> None:
        for bucket in (self._chat_bucket(user, adapter), self._overall.get(user.platform)):
            if bucket is None:
                continue
            while not bucket.try_take():
                await self.clock.sleep(bucket.wait_time())

    async def _send_with_retries(self, adapter: Outbound, user: UserKey, reply: Reply,
                                 context: object | None) -> bool:
        backoff = 1.0
        for attempt in range(1, self.MAX_TRIES + 1):
            try:
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
        itself once nobody holds it."""
        self._chat_buckets.pop(user, None)
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
