"""One way to run the coach with its adapters in a test: what `python bot.py` does
(adapters/cli.py's serve), in-process, with start and stop in the right order."""
from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from bot.bootstrap import build
from bot.coach import Coach

STEP = 10.0  # generous bound on starting or stopping an adapter


@contextlib.asynccontextmanager
async def running(tmp_path: Path, make_adapters: Callable[[Coach], list[Any]],
                  time_scale: float = 600, db: str = "coach.db",
                  coach: Coach | None = None) -> AsyncIterator[tuple[Coach, list[Any]]]:
    """Build the coach (or take one), register and start its adapters, start the coach; on the
    way out stop the adapters, shut the coach down and close its database."""
    coach = coach or build(tmp_path / db, time_scale)
    adapters = make_adapters(coach)
    for adapter in adapters:
        coach.register(adapter)
    try:
        for adapter in adapters:
            start = getattr(adapter, "start", None)
            if start is not None:
                await asyncio.wait_for(start(), STEP)
        await coach.start()
        yield coach, adapters
    finally:
        for adapter in adapters:
            stop = getattr(adapter, "stop", None)
            if stop is not None:
                await asyncio.wait_for(stop(), STEP)
        await coach.shutdown()
        coach.close()
