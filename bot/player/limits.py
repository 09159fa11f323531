"""Per-person request budgets, so one page (or one stolen link) cannot flood the coach.

A token bucket per person: a burst of `capacity` requests, refilled at `per_second`. A workout
needs about a dozen requests, so the defaults never touch an honest page.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """Allows or refuses one request for a key; memory stays bounded by forgetting full buckets."""

    def __init__(self, capacity: int = 30, per_second: float = 1.0,
                 monotonic: Callable[[], float] = time.monotonic, max_keys: int = 10_000) -> None:
        self.capacity = capacity
        self.per_second = per_second
        self.monotonic = monotonic
        self.max_keys = max_keys
        self._buckets: dict[str, _Bucket] = {}

    def allow(self, key: str) -> bool:
        now = self.monotonic()
        bucket = self._buckets.get(key)
        if bucket is None:
            self._make_room(now)
            bucket = self._buckets[key] = _Bucket(float(self.capacity), now)
        bucket.tokens = min(self.capacity,
                            bucket.tokens + (now - bucket.updated) * self.per_second)
        bucket.updated = now
        if bucket.tokens < 1:
            return False
        bucket.tokens -= 1
        return True

    def _make_room(self, now: float) -> None:
        """Forget buckets that have refilled (they hold nothing a new bucket would not)."""
        if len(self._buckets) < self.max_keys:
            return
        refill_s = self.capacity / self.per_second
        self._buckets = {key: bucket for key, bucket in self._buckets.items()
                         if now - bucket.updated < refill_s}
        if len(self._buckets) >= self.max_keys:  # all busy: drop the oldest half
            by_age = sorted(self._buckets.items(), key=lambda item: item[1].updated)
            self._buckets = dict(by_age[len(by_age) // 2:])
