"""The reminder service's tunables, and the shape of the weekly summary it is given."""
from __future__ import annotations

import datetime as dt
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.data.store import User
from bot.replies import Reply

WeeklyHook = Callable[[User], list[Reply] | Awaitable[list[Reply]]]


@dataclass(frozen=True)
class ReminderConfig:
    """Tunables. `workers` is how many sends may be in flight at once: a platform's latency,
    not only its budget, limits a single sender (30/s needs several at 100 ms each)."""

    grace: dt.timedelta = dt.timedelta(hours=3)
    workers: int = 8
    batch: int = 1000
    busy_retry: dt.timedelta = dt.timedelta(minutes=30)
    stop_grace: dt.timedelta = dt.timedelta(seconds=5)  # clock time for sends in flight at stop

    @classmethod
    def from_env(cls) -> ReminderConfig:
        minutes = os.environ.get("BACKCOACH_REMINDER_GRACE_MINUTES")
        return cls(grace=dt.timedelta(minutes=float(minutes))) if minutes else cls()
