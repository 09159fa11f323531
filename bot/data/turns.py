"""One event, one turn: its effect and its platform update id in one transaction, then its
replies, each marked as sent once it went out.

- Exactly once. An event that carries a platform update id (Telegram's update_id, a Discord
  interaction or message id) claims that id in the same transaction as everything the event
  changes. The same update delivered again (after a crash, by a second poller, by a gateway
  replay) changes nothing: it only gets the replies it was still owed, and none when all went
  out (bot/data/updates.py keeps them). A crash between a reply going out and its mark is the
  one way a person can see a message twice; no effect is ever doubled.
- One turn at a time. The coach has one database connection, so turns take turns: a turn that
  waits for something (a chart drawn in a worker thread) holds the others back meanwhile.
- A bug in a feature does not lose the event: what the turn wrote so far is kept (as it always
  was), the person gets an apology, and the update counts as handled.
- A full disk. A turn that cannot be written is rolled back, the person is told once, and it
  is tried again, with growing pauses, until there is room; the platform is not told the update
  was handled meanwhile. The update's id is written first, so a full disk is found before the
  coach acts on what the person said (a pause pressed twice would be two pauses). When the disk
  fills at the commit itself and SQLite keeps the transaction open, only the commit is retried.
- A lost file (deleted or replaced) stops the turn with StorageLost: nothing is answered, and
  the command line stops the coach.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from bot.data.dbfile import StorageLost
from bot.data.store import Store, is_full
from bot.data.updates import Handled, UpdateLedger
from bot.events import Event, UserKey
from bot.replies import Reply
from bot.services import Services

log = logging.getLogger(__name__)

FIRST_RETRY_S = 1.0  # clock seconds before a turn the disk refused is tried again
LONGEST_RETRY_S = 60.0


class DiskFull(Exception):
    """The turn was rolled back because the disk is full: try it again later."""


class Turns:
    """Runs events as turns (see the module docstring) and tells people about a full disk."""

    def __init__(self, services: Services) -> None:
        self.store: Store = services.store
        self.delivery = services.delivery
        self.texts = services.texts
        self.clock = services.clock
        self.ledger = UpdateLedger(self.store)
        self._one_at_a_time = asyncio.Lock()
        self._told: set[UserKey] = set()  # told their words wait for room, not yet that they are in
        self._notices: set[asyncio.Task] = set()
        self.store.on_behind = self._behind
        self.store.on_caught_up = self._caught_up

    async def run(self, event: Event, route: Callable[[], Awaitable[list[Reply]]],
                  context: object | None = None) -> None:
        """Handle `event` once (`route` works out its replies), then send what it owes."""
        update = event.update
        handled = self.ledger.find(event.user.platform, update) if update else None
        if handled is None:
            replies, sent = await self._in_one_transaction(event, route), 0
        elif not self._same_person(event, handled):
            log.warning("%s update %s came again from someone else: refused", event.user.platform,
                        update)
            return
        else:
            log.info("%s update %s came again: already handled, %d replies owed",
                     event.user.platform, update, len(handled.owed))
            replies, sent = list(handled.replies), handled.sent
        if event.user in self._told and not self.store.behind:
            self._told.discard(event.user)
            await self.delivery.send(event.user, Reply(self.texts("storage.saved")), context)
        await self._deliver(event, replies, sent, context)

    def _same_person(self, event: Event, handled: Handled) -> bool:
        """An update id names one person's update: its owed replies go to nobody else (a
        forged update reusing someone's id gets nothing)."""
        if handled.user_id is None:  # a group's note, or someone who has since erased it all
            return True
        user = self.store.find_user(event.user)
        return user is not None and user.id == handled.user_id

    # -- the transaction ------------------------------------------------------------------------

    async def _in_one_transaction(self, event: Event,
                                  route: Callable[[], Awaitable[list[Reply]]]) -> list[Reply]:
        pause = FIRST_RETRY_S
        while True:
            try:
                async with self._one_at_a_time:
                    return await self._attempt(event, route)
            except DiskFull:
                await self._tell_full(event.user)
                await self.clock.sleep(pause)
                pause = min(pause * 2, LONGEST_RETRY_S)

    async def _attempt(self, event: Event,
                       route: Callable[[], Awaitable[list[Reply]]]) -> list[Reply]:
        store, update = self.store, event.update
        try:
            store.begin_turn()
            if update:
                self.ledger.claim(event.user.platform, update, self.clock.now())
            replies = await self._answer(event, route)
            if update:
                self.ledger.settle(event.user.platform, update, event.user, replies)
        except BaseException as exc:
            store.rollback_turn()
            if is_full(exc):
                raise DiskFull from exc
            raise
        await self._commit(event.user)
        return replies

    async def _answer(self, event: Event,
                      route: Callable[[], Awaitable[list[Reply]]]) -> list[Reply]:
        """The route's replies; a bug in it gets an apology (a full disk, or a lost file, is
        not a bug: the turn handles those)."""
        try:
            return await route()
        except Exception as exc:
            if is_full(exc) or isinstance(exc, StorageLost):
                raise
            log.exception("error handling an event from %s", event.user)
            return [Reply(self.texts("menu.error"))]

    async def _commit(self, user: UserKey) -> None:
        pause = FIRST_RETRY_S
        while True:
            try:
                self.store.commit_turn()
                return
            except Exception as exc:
                if not (is_full(exc) and self.store.in_transaction):
                    self.store.rollback_turn()
                    if is_full(exc):
                        raise DiskFull from exc
                    raise
            await self._tell_full(user)  # the transaction is still open: commit it later
            await self.clock.sleep(pause)
            pause = min(pause * 2, LONGEST_RETRY_S)

    # -- replies --------------------------------------------------------------------------------

    async def _deliver(self, event: Event, replies: list[Reply], sent: int,
                       context: object | None) -> None:
        """In order; one that cannot be delivered stops the rest, which stay owed to a later
        delivery of the same update."""
        update = event.update
        for index in range(sent, len(replies)):
            if not await self.delivery.send(event.user, replies[index], context):
                return
            if update:
                self.ledger.mark_sent(event.user.platform, update, index + 1, len(replies))

    # -- telling people about a full disk -------------------------------------------------------

    async def _tell_full(self, user: UserKey) -> None:
        if user not in self._told:
            self._told.add(user)
            await self.delivery.send(user, Reply(self.texts("storage.full")))

    def _behind(self, user_ids: set[int]) -> None:
        """Writes of these people wait for room (a timer's position, a workout's end)."""
        for key in self._keys(user_ids):
            if key not in self._told:
                self._told.add(key)
                self._notify(key, "storage.full")

    def _caught_up(self, user_ids: set[int]) -> None:
        for key in self._keys(user_ids):
            if key in self._told:
                self._told.discard(key)
                self._notify(key, "storage.saved")

    def _keys(self, user_ids: set[int]) -> list[UserKey]:
        keys = []
        for user_id in sorted(user_ids):
            row = self.store.db.conn.execute(
                "select platform, platform_id from users where id = ?", (user_id,)).fetchone()
            if row is not None:
                keys.append(UserKey(*row))
        return keys

    def _notify(self, key: UserKey, text_key: str) -> None:
        """Send from the store's synchronous callbacks, without waiting for it."""
        try:
            task = asyncio.get_running_loop().create_task(
                self.delivery.send(key, Reply(self.texts(text_key))), name=f"storage-{key}")
        except RuntimeError:  # no loop: nobody to tell right now
            return
        self._notices.add(task)
        task.add_done_callback(self._notices.discard)
