"""The ids platforms give the files we upload, so each picture is uploaded once per bot.

Telegram answers an upload with a file_id that sends the same file again without its bytes; the
id belongs to the bot account that uploaded it, so it is kept per platform and account (the
bot's public id, never its token) under the attachment's content key (`Attachment.key`, which
changes whenever the picture does). Nothing here is about a person."""
from __future__ import annotations

from bot.data.store import Store


class PlatformFiles:
    """key -> the platform's id for that uploaded file, for one platform and bot account."""

    def __init__(self, store: Store, platform: str, account: str) -> None:
        self.store = store
        self.platform = platform
        self.account = account

    def find(self, key: str) -> str | None:
        row = self.store.db.conn.execute(
            "select file_id from platform_files where platform = ? and account = ? and key = ?",
            (self.platform, self.account, key)).fetchone()
        return row[0] if row else None

    def keep(self, key: str, file_id: str) -> None:
        """Written while a picture is sent, often from a workout's timer: on a full disk it
        waits for room like the timer's own writes (Store.write)."""
        self.store.write(
            "insert into platform_files (platform, account, key, file_id) values (?, ?, ?, ?) "
            "on conflict (platform, account, key) do update set file_id = excluded.file_id",
            (self.platform, self.account, key, file_id))

    def forget(self, key: str) -> None:
        """The platform no longer knows the id (refused when sent): upload again next time."""
        self.store.write(
            "delete from platform_files where platform = ? and account = ? and key = ?",
            (self.platform, self.account, key))
