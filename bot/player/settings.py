"""How the player is reached and kept private: its settings, the key its links are signed with,
and the way each platform's people get to the page.

    BACKCOACH_PUBLIC_URL     the https address the player is reached at from outside (a reverse
                             proxy in front of it); Telegram and Discord offer the player only
                             when it is set. The page is at <BACKCOACH_PUBLIC_URL>/player/.
    BACKCOACH_PLAYER_HOST    the address the player's server binds to (default 127.0.0.1).
    BACKCOACH_PLAYER_PORT    its port (default 8088 behind a public URL; the terminal's
                             `console --player` takes a free one).
    BACKCOACH_PLAYER_SECRET  the key our link tokens are signed with, at least 16 bytes. Without
                             it a random one is made at the first start and kept in
                             <database>.player-secret (mode 0600), so links survive a restart;
                             delete that file to invalidate every link given out.
"""
from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from bot.errors import ConfigError
from bot.player.web import MIN_SECRET_BYTES, PREFIX

PUBLIC_URL_ENV = "BACKCOACH_PUBLIC_URL"
HOST_ENV = "BACKCOACH_PLAYER_HOST"
PORT_ENV = "BACKCOACH_PLAYER_PORT"
SECRET_ENV = "BACKCOACH_PLAYER_SECRET"
PUBLIC_PORT = 8088  # where a reverse proxy finds the player unless told otherwise
SECRET_SUFFIX = ".player-secret"
LINK_LIFETIME_S = 6 * 3600  # how long a link with our token opens the page


@dataclass(frozen=True)
class Entrance:
    """How the people of one platform open the page; adapters say which applies to them."""

    platform: str
    page_url: str | None  # None: this machine's own server address (the terminal)
    with_token: bool  # our signed token in the link; Telegram signs its own launch data
    launch_data_key: str | None = None  # Telegram: the bot token its launch data is signed with


@dataclass(frozen=True)
class PlayerSettings:
    """The player's address and port; the key is read apart (`link_secret`), when needed."""

    public_url: str | None = None  # https://..., without a trailing slash
    host: str = "127.0.0.1"
    port: int | None = None  # None: PUBLIC_PORT behind a public URL, else a free port

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> PlayerSettings:
        """Read and check the settings; a ConfigError names the variable that is wrong."""
        public = env.get(PUBLIC_URL_ENV, "").strip() or None
        if public is not None:
            parts = urlsplit(public)
            if parts.scheme != "https" or not parts.hostname or parts.query or parts.fragment:
                raise ConfigError(f"{PUBLIC_URL_ENV} must be an https address such as "
                                  "https://coach.example.org (Telegram opens Mini Apps over https "
                                  "only)")
            public = public.rstrip("/")
        port_text = env.get(PORT_ENV, "").strip()
        port = None
        if port_text:
            if not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
                raise ConfigError(f"{PORT_ENV} must be a port number (0-65535)")
            port = int(port_text)
        if env.get(SECRET_ENV) and len(env[SECRET_ENV].encode()) < MIN_SECRET_BYTES:
            raise ConfigError(f"{SECRET_ENV} must be at least {MIN_SECRET_BYTES} bytes long")
        return cls(public, env.get(HOST_ENV, "").strip() or "127.0.0.1", port)

    @property
    def public_page(self) -> str | None:
        """The page's public address, the one Telegram and Discord people are sent to."""
        return f"{self.public_url}{PREFIX}/" if self.public_url else None

    def port_for(self, entrances: list[Entrance]) -> int:
        if self.port is not None:
            return self.port
        return PUBLIC_PORT if any(entrance.page_url for entrance in entrances) else 0


def link_secret(env: Mapping[str, str], database: str | Path) -> bytes:
    """BACKCOACH_PLAYER_SECRET, or the key kept beside the database (made on first use)."""
    configured = env.get(SECRET_ENV, "")
    if configured:
        secret = configured.encode()
        if len(secret) < MIN_SECRET_BYTES:
            raise ConfigError(f"{SECRET_ENV} must be at least {MIN_SECRET_BYTES} bytes long")
        return secret
    path = Path(f"{database}{SECRET_SUFFIX}")
    try:
        secret = path.read_bytes().strip()
    except FileNotFoundError:
        secret = _new_secret_file(path)
    except OSError as exc:
        raise ConfigError(f"cannot read the player's key in {path}: {exc.strerror}") from None
    if len(secret) < MIN_SECRET_BYTES:
        raise ConfigError(f"{path} holds too short a key: delete it and a new one is made "
                          f"(links given out stop working), or set {SECRET_ENV}")
    return secret


def _new_secret_file(path: Path) -> bytes:
    """A new random key, written readable by this user only; another process's key wins."""
    secret = secrets.token_urlsafe(32).encode()
    try:
        handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # made meanwhile by another start: use that one
        return path.read_bytes().strip()
    except OSError as exc:
        raise ConfigError(f"cannot keep the player's key in {path}: {exc.strerror}; set "
                          f"{SECRET_ENV} instead") from None
    with os.fdopen(handle, "wb") as file:
        file.write(secret + b"\n")
    return secret
