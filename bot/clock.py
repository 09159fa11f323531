"""One clock for the whole bot: wall time for reminders, monotonic deadlines for timers.

Both run `scale` times faster than real time from the moment the clock is made, so a test or a demo
at `--time-scale 60` lives a minute per second. Nothing else in the core reads time or sleeps.

Real seconds are read from the event loop the clock was made in (`loop.time()`, which is
`time.monotonic()` for asyncio's loops), the same clock its sleeps are measured on. A test loop
on virtual time (looptime) therefore moves this clock too: sleeps end at once, in deadline order,
however busy the machine is.
"""
from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

MIN_TIMER_S = 1e-6  # the shortest real wait a timer is armed for (see Clock._timer_delay)


class Clock:
    """Scaled wall and monotonic time, plus the only sleeping primitive the core uses."""

    def __init__(self, scale: float = 1.0, start: datetime | None = None) -> None:
        if scale <= 0:
            raise ValueError("time scale must be positive")
        self.scale = scale
        self._real_seconds = _real_seconds_source()
        self._real0 = self._real_seconds()
        # In UTC: adding seconds to a zoned datetime is wall-clock arithmetic, off by an
        # hour across a DST change.
        self._wall0 = (start or datetime.now(timezone.utc)).astimezone(timezone.utc)

    def monotonic(self) -> float:
        """Scaled seconds since the clock started; never jumps, for timer deadlines."""
        return (self._real_seconds() - self._real0) * self.scale

    def now(self) -> datetime:
        """Scaled wall time (aware, UTC), for reminders and records."""
        return self._wall0 + timedelta(seconds=self.monotonic())

    def real_delay(self, seconds: float) -> float:
        """How long `seconds` of clock time lasts in real time."""
        return max(0.0, seconds / self.scale)

    def wall_to_monotonic(self, instant: datetime) -> float:
        """The monotonic reading at which the wall clock will show `instant`."""
        return (instant - self._wall0).total_seconds()

    def real_time_of(self, instant: datetime) -> datetime | None:
        """The real (unscaled) UTC time at which this clock will show `instant`.

        For APScheduler, which runs on real time: a job for a scaled instant is armed here, so
        reminders honour --time-scale. None means the clock does not run by itself (ManualClock).
        """
        delay = self.real_delay(self.wall_to_monotonic(instant) - self.monotonic())
        return datetime.now(timezone.utc) + timedelta(seconds=delay)

    def _timer_delay(self, seconds: float) -> float:
        """The real delay to arm a loop timer with: none for no wait, else at least a
        microsecond. The loop runs a timer due within its clock's resolution at once; on a clock
        that has not moved meanwhile (virtual time) a waiter a few ns short of its deadline
        would wake, find it not reached, and wait again forever."""
        return max(self.real_delay(seconds), MIN_TIMER_S) if seconds > 0 else 0.0

    async def sleep(self, seconds: float) -> None:
        """Sleep for `seconds` of clock time."""
        await asyncio.sleep(self._timer_delay(seconds))

    async def sleep_real(self, seconds: float) -> None:
        """Sleep `seconds` of real time, whatever the scale: for checks of the machine itself
        (is the database file still there?), which a time scale must not hurry."""
        await asyncio.sleep(seconds)

    async def sleep_until(self, deadline: float) -> None:
        """Sleep until the monotonic clock reaches `deadline`."""
        await asyncio.sleep(self._timer_delay(deadline - self.monotonic()))

    async def wait_event(self, event: asyncio.Event, deadline: float | None) -> bool:
        """Wait for `event` until `deadline` (monotonic); True if the event fired first."""
        if event.is_set():
            return True
        if deadline is None:
            await event.wait()
            return True
        delay = self._timer_delay(deadline - self.monotonic())
        if delay <= 0:
            return event.is_set()
        # asyncio.timeout, not wait_for: on Python 3.11 wait_for swallows a cancel that arrives
        # as the event fires, and a workout task cancelled at shutdown would then never end.
        try:
            async with asyncio.timeout(delay):
                await event.wait()
            return True
        except TimeoutError:
            return event.is_set()


def _real_seconds_source() -> Callable[[], float]:
    """The running loop's clock, which `asyncio.sleep` also follows; time.monotonic outside a
    loop (a command-line tool). Bound once: a thread reading the clock reads the same one."""
    try:
        return asyncio.get_running_loop().time
    except RuntimeError:
        return time.monotonic


class ManualClock(Clock):
    """A clock for tests that moves only when told (`set`, `advance`).

    Sleeps pass at once and move the clock to their end, so budget waits, retries and workout
    timers finish instantly in virtual time; concurrent sleepers never push it further than the
    latest of their deadlines. It never arms real timers (`real_time_of` is None): tests call the
    service (e.g. `Reminders.run_due()`) after moving the clock.
    """

    def __init__(self, start: datetime) -> None:
        super().__init__(1.0, start)
        self._elapsed = 0.0

    def monotonic(self) -> float:
        return self._elapsed

    def set(self, instant: datetime) -> None:
        """Move the wall clock to `instant`; like a real clock it never goes back."""
        elapsed = self.wall_to_monotonic(instant)
        if elapsed < self._elapsed:
            raise ValueError(f"a clock cannot go back: {instant} is before {self.now()}")
        self._elapsed = elapsed

    def advance(self, seconds: float) -> None:
        self._elapsed += max(0.0, seconds)

    def real_time_of(self, instant: datetime) -> datetime | None:
        return None

    async def sleep(self, seconds: float) -> None:
        # At least a microsecond: a budget wait of 1e-12 s would otherwise vanish in float
        # rounding and its waiter would spin forever on a clock that does not move.
        await self.sleep_until(self._elapsed + (max(seconds, 1e-6) if seconds > 0 else 0.0))

    async def sleep_until(self, deadline: float) -> None:
        await asyncio.sleep(0)  # others due now run first, as they would on a real clock
        self._elapsed = max(self._elapsed, deadline)

    async def wait_event(self, event: asyncio.Event, deadline: float | None) -> bool:
        await asyncio.sleep(0)
        if event.is_set():
            return True
        if deadline is None:
            await event.wait()
            return True
        self._elapsed = max(self._elapsed, deadline)
        return event.is_set()
