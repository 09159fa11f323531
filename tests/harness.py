"""One way to run the coach with its adapters in a test: what `python bot.py` does
(adapters/cli.py's serve), in-process, with start and stop in the right order."""
from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from adapters.cli import start_player
from bot.bootstrap import App, build, build_app
from bot.coach import Coach
from bot.player.service import PlayerService
from bot.player.settings import PlayerSettings, link_secret

STEP = 10.0  # generous bound on starting or stopping an adapter


@contextlib.asynccontextmanager
async def running(tmp_path: Path, make_adapters: Callable[[Coach], list[Any]],
                  time_scale: float = 600, db: str = "coach.db",
                  coach: Coach | None = None) -> AsyncIterator[tuple[Coach, list[Any]]]:
    """Build the coach (or take one), register and start its adapters, start the coach; on the
    way out stop the adapters, shut the coach down and close its database."""
    coach = coach or build(tmp_path / db, time_scale)
    async with _serving(coach, make_adapters, None, None) as (adapters, _):
        yield coach, adapters


@contextlib.asynccontextmanager
async def running_with_player(tmp_path: Path, make_adapters: Callable[[Coach], list[Any]],
                              env: dict[str, str], time_scale: float = 600,
                              db: str = "coach.db"
                              ) -> AsyncIterator[tuple[App, list[Any], PlayerService | None]]:
    """As `running`, with the workout player started as `python bot.py` starts it (after the
    adapters, before the coach), configured by `env` (BACKCOACH_PUBLIC_URL ...)."""
    app = build_app(tmp_path / db, time_scale)
    async with _serving(app.coach, make_adapters, app, (env, tmp_path / db)) as (adapters, player):
        yield app, adapters, player


@contextlib.asynccontextmanager
async def _serving(coach: Coach, make_adapters: Callable[[Coach], list[Any]], app: App | None,
                   player_setup: tuple[dict[str, str], Path] | None):
    adapters = make_adapters(coach)
    for adapter in adapters:
        coach.register(adapter)
    player = None
    try:
        for adapter in adapters:
            start = getattr(adapter, "start", None)
            if start is not None:
                await asyncio.wait_for(start(), STEP)
        if app is not None and player_setup is not None:
            env, database = player_setup
            player = await start_player(app, adapters, PlayerSettings.from_env(env),
                                        lambda: link_secret(env, database))
        await coach.start()
        yield adapters, player
    finally:
        for adapter in adapters:
            stop = getattr(adapter, "stop", None)
            if stop is not None:
                await asyncio.wait_for(stop(), STEP)
        if player is not None:
            await player.stop()
        await coach.shutdown()
        coach.close()
