"""What goes out to a person, in one vocabulary shared by every platform.

A Reply is text with optional buttons, picture and files. `slot` names a message the coach may
later edit in place (the live countdown): the adapter keeps slot -> platform message id.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Choice:
    """One button. `action` is short ASCII (<= 64 bytes), e.g. "pain:3" or "wo:pause"."""

    label: str
    action: str


@dataclass(frozen=True)
class Attachment:
    """A file made in memory: a chart PNG, an export JSON or CSV, an exercise's animation."""

    name: str
    data: bytes
    mime: str
    # Stable while the content is the same (a hash): platforms that upload a file once and then
    # re-send it by their own id (Telegram's file_id) keep key -> id. None: upload every time.
    key: str | None = None
    # A moving picture (GIF): sent as an animation where the platform tells the two apart.
    animated: bool = False
    # What it shows, in one line: alt text, or the line printed beside a saved file.
    description: str = ""


@dataclass(frozen=True)
class Reply:
    """One message. With `slot`, adapters that can edit messages edit the earlier one in that slot."""

    text: str
    choices: tuple[Choice, ...] = ()
    image: Attachment | None = None
    files: tuple[Attachment, ...] = ()
    # A named message the coach may edit later: sent new (and remembered) unless `edit` is set,
    # in which case adapters that can edit change that message in place.
    slot: str | None = None
    edit: bool = False
    # "cue" and "message" must be delivered; "countdown" edits are best-effort within the budget.
    kind: str = "message"


def choices(*pairs: tuple[str, str]) -> tuple[Choice, ...]:
    """Build buttons from (label, action) pairs; keeps call sites short."""
    return tuple(Choice(label, action) for label, action in pairs)
