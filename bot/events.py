"""What comes in from a person, in one vocabulary shared by every platform.

Adapters translate platform updates into these; the coach never sees a platform object.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

# The longest name kept: Telegram allows first names of up to 64 characters, Discord display
# names of up to 32. A client (or a forged update) may send far more.
MAX_NAME = 64
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")  # line breaks, escapes, NUL


@dataclass(frozen=True, order=True)
class UserKey:
    """A person on one platform: the pair is unique across the whole bot."""

    platform: str
    id: str

    def __str__(self) -> str:
        return f"{self.platform}:{self.id}"


# Every event may carry `update`: the platform's id for the update it came in (a Telegram
# update_id, a Discord interaction or message id), so a second delivery of the same update has no
# second effect (bot/data/turns.py). None for events no platform can deliver twice.


@dataclass(frozen=True)
class Text:
    """Free text the person typed."""

    user: UserKey
    text: str
    private: bool = True
    update: str | None = None


@dataclass(frozen=True)
class Picked:
    """A button the person pressed; `action` is the short payload from `Choice.action`."""

    user: UserKey
    action: str
    private: bool = True
    update: str | None = None


@dataclass(frozen=True)
class Command:
    """A slash command or menu command, without its leading slash, lower-cased."""

    user: UserKey
    name: str
    args: str = ""
    private: bool = True
    update: str | None = None


Event = Text | Picked | Command


def clean_name(name: str) -> str:
    """A person's name as it may be stored and shown: valid Unicode (a lone surrogate, which
    SQLite and every encoder refuse, becomes U+FFFD), on one line, at most MAX_NAME characters."""
    valid = name.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    one_line = " ".join(_CONTROLS.sub(" ", valid).split())
    return one_line[:MAX_NAME].rstrip()
