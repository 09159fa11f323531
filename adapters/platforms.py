"""The platforms the coach can talk on, one line each: a new platform is its adapter file
and one line here. Each adapter module defines NAME and create(coach, args)."""
from __future__ import annotations

import importlib
import logging
from types import ModuleType

PLATFORMS = {
    "console": "adapters.console",    # a terminal chat; no token
    "telegram": "adapters.telegram",  # TELEGRAM_TOKEN
    "discord": "adapters.discord",    # DISCORD_TOKEN
}

log = logging.getLogger("backcoach")


def load() -> dict[str, ModuleType]:
    """Import each platform; one that cannot be imported must not stop the others."""
    found = {}
    for name, module_name in PLATFORMS.items():
        try:
            found[name] = importlib.import_module(module_name)
        except ImportError as exc:
            log.warning("platform %s is unavailable: %s", name, exc)
    return found
