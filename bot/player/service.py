"""The player's web server in the coach's own process, opened to the platforms that offer it.

The command line (adapters/cli.py) asks each running adapter for its `Entrance` (how its people
reach the page), then starts this once, before the coach starts; with no entrance nothing is
served and every workout runs in the chat, as before the player.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable

from bot.errors import ConfigError
from bot.player.coach_backend import CoachBackend
from bot.player.settings import Entrance, PlayerSettings
from bot.player.web import PlayerConfig, PlayerServer, make_app, start_player
from bot.texts import Texts

log = logging.getLogger(__name__)


class PlayerService:
    """Starts and stops the player's server; `url` is its address on this machine."""

    def __init__(self, backend: CoachBackend, texts: Texts, settings: PlayerSettings,
                 wall_time: Callable[[], float] = time.time) -> None:
        self.backend = backend
        self.texts = texts
        self.settings = settings
        self.wall_time = wall_time
        self.server: PlayerServer | None = None

    @property
    def url(self) -> str | None:
        return self.server.url if self.server else None

    async def start(self, entrances: list[Entrance], secret: bytes) -> None:
        """Serve the page, checking Telegram launch data with the bot token an entrance
        brings and our tokens with `secret`; then offer it on each entrance's platform."""
        launch_data_key = next((entrance.launch_data_key for entrance in entrances
                                if entrance.launch_data_key), None)
        config = PlayerConfig(secret, launch_data_key)
        app = make_app(self.backend, self.texts, config, self.wall_time)
        host, port = self.settings.host, self.settings.port_for(entrances)
        try:
            self.server = await start_player(app, host, port)
        except OSError as exc:
            raise ConfigError(f"the workout player cannot listen on {host}:{port} "
                              f"({exc.strerror or exc}); check BACKCOACH_PLAYER_HOST and "
                              "BACKCOACH_PLAYER_PORT") from None
        for entrance in entrances:
            self.backend.open_to(entrance.platform, entrance.page_url or self.server.url,
                                 entrance.with_token, secret)
        log.info("the workout player listens on %s for %s", self.server.url,
                 ", ".join(entrance.platform for entrance in entrances))

    async def stop(self) -> None:
        if self.server is not None:
            await self.server.close()
            self.server = None
