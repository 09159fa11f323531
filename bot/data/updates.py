"""The ledger of platform updates already handled, and the replies each still owes.

A platform may deliver one update more than once: Telegram hands out again everything a crashed
bot fetched but did not acknowledge, a second poller sees the same updates, Discord replays
gateway events after a resume. Each update's id is recorded in the same transaction as its
effect (bot/data/turns.py), so a second delivery finds it and changes nothing.

The replies an update produced are stored with it, rather than worked out again: by the time an
update comes back the person has moved on (a pain score recorded, a workout started), so the
coach could not answer it the same way twice. Once every reply has gone out they are dropped
(`replies` is NULL) and the row keeps only the id; rows older than KEEP_DAYS are pruned, long
after any platform would deliver the update again (Telegram keeps updates for 24 hours).
"""
from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.data.store import Store
from bot.events import UserKey
from bot.replies import Attachment, Choice, Reply

KEEP_DAYS = 7


@dataclass(frozen=True)
class Handled:
    """An update met before: whose it was, the replies it produced and how many went out."""

    user_id: int | None
    replies: tuple[Reply, ...]
    sent: int

    @property
    def owed(self) -> tuple[Reply, ...]:
        return self.replies[self.sent:]


class UpdateLedger:
    """Reads and writes of `handled_updates`; the caller holds the turn's transaction."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def find(self, platform: str, update_id: str) -> Handled | None:
        row = self.store.db.conn.execute(
            "select user_id, replies, count, sent from handled_updates where platform = ? and "
            "update_id = ?", (platform, update_id)).fetchone()
        if row is None:
            return None
        user_id, replies, count, sent = row
        if replies is None or sent >= count:
            return Handled(user_id, (), 0)
        return Handled(user_id, tuple(_reply(item) for item in json.loads(replies)), sent)

    def claim(self, platform: str, update_id: str, now: datetime) -> None:
        """The update's row, first thing in its turn (a full disk fails here, before anything
        the person said is acted on)."""
        self.store.write("insert into handled_updates (platform, update_id, at) values (?, ?, ?)",
                         (platform, update_id, now.isoformat()))

    def settle(self, platform: str, update_id: str, user: UserKey,
               replies: list[Reply]) -> None:
        """What the update produced, last thing in its turn."""
        found = self.store.db.conn.execute(
            "select id from users where platform = ? and platform_id = ?",
            (user.platform, user.id)).fetchone()
        self.store.write(
            "update handled_updates set user_id = ?, replies = ?, count = ? where platform = ? "
            "and update_id = ?",
            (found[0] if found else None, json.dumps([_item(reply) for reply in replies]),
             len(replies), platform, update_id))

    def mark_sent(self, platform: str, update_id: str, sent: int, count: int) -> None:
        """`sent` replies have gone out; once all have, their text is no longer kept."""
        self.store.write(
            "update handled_updates set sent = ?, replies = case when ? >= count then null "
            "else replies end where platform = ? and update_id = ?",
            (sent, sent, platform, update_id))

    def prune(self, now: datetime, keep: timedelta = timedelta(days=KEEP_DAYS)) -> int:
        """Forget updates handled long ago; returns how many."""
        cursor = self.store.db.conn.execute("delete from handled_updates where at < ?",
                                            ((now - keep).isoformat(),))
        return cursor.rowcount


def _item(reply: Reply) -> dict[str, Any]:
    return {"text": reply.text, "choices": [_choice(c) for c in reply.choices],
            "image": _file(reply.image) if reply.image else None,
            "files": [_file(f) for f in reply.files], "slot": reply.slot, "edit": reply.edit,
            "kind": reply.kind}


def _reply(item: dict[str, Any]) -> Reply:
    return Reply(item["text"], tuple(Choice(**c) for c in item["choices"]),
                 _attachment(item["image"]) if item["image"] else None,
                 tuple(_attachment(f) for f in item["files"]), item["slot"], item["edit"],
                 item["kind"])


def _choice(choice: Choice) -> dict[str, Any]:
    """Every field: a link button (the workout player) comes back as a link."""
    return {"label": choice.label, "action": choice.action, "url": choice.url,
            "web_app": choice.web_app}


def _file(attachment: Attachment) -> dict[str, Any]:
    """Every field: a picture's key and kind decide how a platform sends it again."""
    return {"name": attachment.name, "mime": attachment.mime,
            "data": base64.b64encode(attachment.data).decode("ascii"), "key": attachment.key,
            "animated": attachment.animated, "description": attachment.description}


def _attachment(item: dict[str, Any]) -> Attachment:
    return Attachment(item["name"], base64.b64decode(item["data"]), item["mime"],
                      key=item.get("key"), animated=bool(item.get("animated")),
                      description=item.get("description", ""))
