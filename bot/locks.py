"""One asyncio lock per person (or chat), kept only while someone holds it or waits for it.

A plain dict of locks grows by one lock for every person who ever wrote: 100,000 people leave
100,000 locks behind. Here a key's lock is forgotten the moment its last holder or waiter lets
go, and made afresh the next time. Callers get a handle named by the key, never the lock itself,
so a handle kept across an await cannot end up guarding a lock that was already forgotten.
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from collections.abc import Hashable
from typing import Generic, TypeVar

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
