"""Keeps each platform of the process running: one that fails (a gateway that gives up, a
connection that ends without being asked to) is logged, stopped and started again after a
growing wait, while the other platforms carry on answering their people.

A platform whose run ends without an error (the terminal at end of input) has finished by
design, which ends the process. One that fails `Backoff.tries` times in a row (a run that lasted
`healthy_after` seconds forgives the failures before it), or whose run ends in a ConfigError
(a refusal that trying again cannot mend: a revoked token, a refused intent), is given up,
loudly; when every platform is given up the process ends with an error (adapters/cli.py: exit
code 1). A ConfigError while starting again is retried like any failure: adapters also use it
for "cannot reach the platform" at start-up.

Not a platform: the command line's supervision of them (adapters/platforms.py lists those).
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from adapters._plumbing import redact
from bot.errors import ConfigError

log = logging.getLogger("backcoach")


@dataclass(frozen=True)
class Backoff:
    """How a failing platform is started again: after `first` seconds, then `factor` times
    longer each time up to `longest`; given up after `tries` failures in a row."""

    first: float = 1.0
    factor: float = 2.0
    longest: float = 300.0
    tries: int = 10
    healthy_after: float = 60.0  # seconds of running that forgive the failures before
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep  # real time: networks heal so

    def delay(self, failure: int) -> float:
        """The wait before the start that follows failure number `failure` (1, 2, ...)."""
        return min(self.longest, self.first * self.factor ** (failure - 1))


class Supervised:
    """One platform: its current adapter, and the loop that starts it again when it fails."""

    def __init__(self, name: str, adapter: Any, make: Callable[[], Any],
                 backoff: Backoff) -> None:
        self.name = name
        self.adapter = adapter  # started by the caller; replaced at every restart
        self.make = make  # a fresh adapter, registered with the coach
        self.backoff = backoff
        self.failures = 0

    async def run(self) -> bool:
        """Until the platform finishes by design (True) or is given up (False)."""
        while True:
            started = time.monotonic()
            try:
                await self.adapter.finished()
                return True
            except ConfigError as error:
                log.critical("a platform stopped: %s: %s; not started again", self.name,
                             _describe(error))
                await self._stop_quietly()
                return False
            except Exception as error:  # noqa: BLE001 - any other failure is retried
                log.error("a platform stopped: %s: %s", self.name, _describe(error))
            await self._stop_quietly()
            if time.monotonic() - started >= self.backoff.healthy_after:
                self.failures = 0
            if not await self._start_again():
                return False

    async def _start_again(self) -> bool:
        """Wait and start a fresh adapter, as often as the backoff allows; False: given up."""
        while True:
            self.failures += 1
            if self.failures > self.backoff.tries:
                log.critical("platform %s failed %d times in a row: given up (the other "
                             "platforms keep running)", self.name, self.backoff.tries)
                return False
            delay = self.backoff.delay(self.failures)
            log.warning("platform %s: starting again in %.1f s (try %d of %d)", self.name, delay,
                        self.failures, self.backoff.tries)
            await self.backoff.sleep(delay)
            try:
                self.adapter = self.make()
                await self.adapter.start()
            except Exception as error:  # noqa: BLE001
                log.error("platform %s could not start again: %s", self.name, _describe(error))
                await self._stop_quietly()
                continue
            log.warning("platform %s is running again", self.name)
            return True

    async def stop(self) -> None:
        await self._stop_quietly()

    async def _stop_quietly(self) -> None:
        with contextlib.suppress(Exception):
            await self.adapter.stop()


def _describe(error: BaseException) -> str:
    """One line, secrets masked."""
    return redact(f"{type(error).__name__}: {error}")
