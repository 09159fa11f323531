"""One clock for the whole bot: wall time for reminders, monotonic deadlines for timers.

Both run `scale` times faster than real time from the moment the clock is made, so a test or a demo
at `--time-scale 60` lives a minute per second. Nothing else in the core reads time or sleeps.
"""
from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta, timezone


class Clock:
    """Scaled wall and monotonic time, plus the only sleeping primitive the core uses."""

    def __init__(self, scale: float = 1.0, start: datetime | None = None) -> None:
        if scale <= 0:
            raise ValueError("time scale must be positive")
        self.scale = scale
        self._real0 = time.monotonic()
        self._wall0 = start or datetime.now(timezone.utc)

    def monotonic(self) -> float:
        """Scaled seconds since the clock started; never jumps, for timer deadlines."""
        return (time.monotonic() - self._real0) * self.scale

    def now(self) -> datetime:
        """Scaled wall time (aware, UTC), for reminders and records."""
        return self._wall0 + timedelta(seconds=self.monotonic())

    def real_delay(self, seconds: float) -> float:
        """How long `seconds` of clock time lasts in real time."""
        return max(0.0, seconds / self.scale)

    def wall_to_monotonic(self, instant: datetime) -> float:
        """The monotonic reading at which the wall clock will show `instant`."""
        return (instant - self._wall0).total_seconds()

    async def sleep(self, seconds: float) -> None:
        """Sleep for `seconds` of clock time."""
        await asyncio.sleep(self.real_delay(seconds))

    async def sleep_until(self, deadline: float) -> None:
        """Sleep until the monotonic clock reaches `deadline`."""
        await asyncio.sleep(self.real_delay(deadline - self.monotonic()))

    async def wait_event(self, event: asyncio.Event, deadline: float | None) -> bool:
        """Wait for `event` until `deadline` (monotonic); True if the event fired first."""
        if event.is_set():
            return True
        if deadline is None:
            await event.wait()
            return True
        delay = self.real_delay(deadline - self.monotonic())
        if delay <= 0:
            return event.is_set()
        try:
            await asyncio.wait_for(event.wait(), delay)
            return True
        except TimeoutError:
            return event.is_set()
