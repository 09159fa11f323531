"""What comes in from a person, in one vocabulary shared by every platform.

Adapters translate platform updates into these; the coach never sees a platform object.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class UserKey:
    """A person on one platform: the pair is unique across the whole bot."""

    platform: str
    id: str

    def __str__(self) -> str:
        return f"{self.platform}:{self.id}"


@dataclass(frozen=True)
class Text:
    """Free text the person typed."""

    user: UserKey
    text: str
    private: bool = True


@dataclass(frozen=True)
class Picked:
    """A button the person pressed; `action` is the short payload from `Choice.action`."""

    user: UserKey
    action: str
    private: bool = True


@dataclass(frozen=True)
class Command:
    """A slash command or menu command, without its leading slash, lower-cased."""

    user: UserKey
    name: str
    args: str = ""
    private: bool = True


Event = Text | Picked | Command
