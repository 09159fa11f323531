"""Errors both the core and the adapters raise at start-up, told to the operator in one line.

Here, and not beside the command line, so adapters can raise them without importing it."""
from __future__ import annotations

from bot.content import ContentError
from bot.data.dbfile import StorageLost

__all__ = ["ConfigError", "ContentError", "StorageLost"]


class ConfigError(Exception):
    """A platform is chosen but not configured (no token, a bad setting): no traceback."""
