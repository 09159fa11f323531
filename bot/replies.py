"""What goes out to a person, in one vocabulary shared by every platform.

A Reply is text with optional buttons, picture and files. `slot` names a message the coach may
later edit in place (the live countdown): the adapter keeps slot -> platform message id.
A button either sends an action back to the coach or, with `url`, opens a web page (the workout
player); each adapter draws a link the way its platform can.
"""
from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Choice:
    """One button. `action` is short ASCII (<= 64 bytes), e.g. "pain:3" or "wo:pause".

    With `url` the button is a link instead: pressing it opens that page and sends the coach
    nothing. `web_app` asks for the page inside the chat app where the platform can (a Telegram
    Mini App, in private chats); elsewhere it is a plain link (Discord's link button, the URL
    printed on its own line in a terminal)."""

    label: str
    action: str = ""
    url: str | None = None
    web_app: bool = False

    @property
    def is_link(self) -> bool:
        return self.url is not None


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


def in_one(replies: list[Reply]) -> list[Reply]:
    """Runs of plain text go out as one message with what follows them: on a platform that
    allows a bot one message a second per chat and 30 in all, every message saved counts.

    A plain reply (text only) is put in front of the next reply's text, blank line between, unless
    that one carries a picture or files (a caption has its own limits) or is a live message."""
    merged: list[Reply] = []
    for reply in replies:
        previous = merged[-1] if merged else None
        if previous is not None and _plain(previous) and not (reply.image or reply.files) \
                and reply.slot is None and reply.kind == "message":
            merged[-1] = replace(reply, text=f"{previous.text}\n\n{reply.text}")
        else:
            merged.append(reply)
    return merged


def _plain(reply: Reply) -> bool:
    return not (reply.choices or reply.image or reply.files or reply.slot) and reply.kind == "message"
