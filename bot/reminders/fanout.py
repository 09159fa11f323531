"""The fan-out: sends every reminder due now, in due order, within the platforms' budgets.

The reminder service (bot/reminders/service.py) finds the due rows and wakes up; this sends them. Several
workers share one queue of rows (a platform's latency, not only its budget, limits a single
sender); a FIFO turnstile makes sends start in due order. For each row it decides, from the
person's users row as it is at that moment: send, log without sending (missed after downtime,
not in the programme, training already), drop (gone, or reminders off), or try later (a
snooze during a workout).

Never doubled: the claim (log the slot and move the row on, bot/reminders/book.py) is taken only
once Delivery has room, with no await between it and the send, so a crash can lose at most the
reminders in flight at that instant, never send one twice.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import inspect
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.states import in_programme
from bot.events import UserKey
from bot.localtime import local_date
from bot.reminders.book import CLAIMED, EMPTY, FAILED, MISSED, SENT, SKIPPED, Due, Next, ReminderBook
from bot.reminders.messages import Message
from bot.reminders.times import DAILY, SNOOZE, WEEKLY, Prefs, iso, parse_iso
from bot.replies import Reply
from bot.reminders.config import ReminderConfig, WeeklyHook
from bot.delivery import KeyLock
from bot.routing import Conversation
from bot.services import Services
from bot.data.store import User
from bot.data.store import _user as user_from_row  # a users row as a User, without re-reading it

if TYPE_CHECKING:
    from bot.reminders.messages import ReminderChat
    from bot.reminders.schedule import Schedule

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Decision:
    action: str  # "send", "log" (nothing to send), "drop" (person gone or off), "later"
    status: str = ""
    then: Next | None = None
    note: str | None = None


class FanOut:
    """Sends a batch of due rows for one reminder service."""

    def __init__(self, services: Services, book: ReminderBook, schedule: Schedule,
                 chat: ReminderChat, conversation: Conversation, config: ReminderConfig,
                 is_stopping: Callable[[], bool],
                 weekly: Callable[[], WeeklyHook | None]) -> None:
        self.delivery = services.delivery
        self.clock = services.clock
        self.book = book
        self.schedule = schedule
        self.chat = chat
        self.conversation = conversation
        self.config = config
        self.is_stopping = is_stopping
        self.weekly = weekly
        self._turnstile = asyncio.Lock()  # asyncio locks wake waiters first come, first served

    async def send(self, rows: list[Due]) -> None:
        """Handle these rows (due now, earliest first) with up to `config.workers` in flight."""
        queue = iter(rows)
        workers = min(self.config.workers, len(rows))
        await asyncio.gather(*(self._worker(queue) for _ in range(workers)))

    async def _worker(self, queue: Iterator[Due]) -> None:
        for due in queue:
            if self.is_stopping():
                return
            await self.clock.sleep(0)  # let the rest of the bot in between two sends
            try:
                await self._handle(due)
            except Exception:
                log.exception("reminder %s for user %s failed", due.kind, due.user_id)
                self._move_on(due)

    async def _handle(self, due: Due) -> None:
        row = self.book.user_row(due.user_id)
        if not self._worth_waiting(due, row, self.clock.now()):
            decision, _ = self._decide(due, self.clock.now(), row)
            self._apply(due, decision)
            return
        assert row is not None
        user = user_from_row(row)
        extra = await self._weekly_replies(user) if due.kind == WEEKLY else None
        lock = await self._wait_turn(user.key)
        try:  # From here to the send: no awaits, so the budget seen free is still free.
            now = self.clock.now()
            current = self.book.row(due.user_id, due.kind)
            if current is None or current.due_at != due.due_at:
                return  # rescheduled meanwhile (settings, snooze, skip)
            decision, user = self._decide(current, now, self.book.user_row(due.user_id))
            if decision.action != "send":
                self._apply(current, decision)
                return
            assert user is not None
            message = self._message(user, current, now, extra)
            if not message.replies:
                self.book.claim(current, EMPTY, iso(now), decision.then)
                return
            if not self.book.claim(current, CLAIMED, iso(now), decision.then,
                                   state=message.state, morning_day=message.morning_day):
                return  # this slot was handled before (e.g. before a restart)
            ok = True
            for reply in message.replies:
                if not await self.delivery.send(user.key, reply):
                    ok = False
                    break
            self.book.finish(current, SENT if ok else FAILED, iso(self.clock.now()),
                             told_note=ok and message.told_note)
        finally:
            lock.release()

    def _message(self, user: User, due: Due, now: dt.datetime,
                 extra: list[Reply] | None) -> Message:
        if due.kind == WEEKLY:
            return Message(list(extra or []))
        prefs = self.schedule.prefs(user.id)
        assert prefs is not None
        return self.chat.compose(user, prefs, due, now)

    async def _wait_turn(self, key: UserKey) -> KeyLock[UserKey]:
        """Wait for this send's turn: earlier rows first (a FIFO turnstile, so sends start in
        due order even with several in flight), then budget room, then the person not being
        mid-conversation. Returns the person's lock, taken; the caller must send before its
        next await, and release it."""
        lock = self.conversation.lock(key)
        async with self._turnstile:
            while True:
                await self.delivery.wait_for_room(key)
                if not lock.locked():
                    await lock.acquire()  # free: returns without yielding
                    return lock
                async with lock:
                    pass

    async def _weekly_replies(self, user: User) -> list[Reply]:
        hook = self.weekly()
        if hook is None:
            return []
        result = hook(user)
        if inspect.isawaitable(result):
            result = await result
        return list(result or [])

    def _worth_waiting(self, due: Due, row: dict[str, Any] | None, now: dt.datetime) -> bool:
        """A cheap first look, before queueing for the budget: is this likely a send?"""
        prefs = Prefs.from_row(row) if row else None
        return prefs is not None and row is not None and \
            not self._too_late(parse_iso(due.due_at), now, prefs) and \
            in_programme(row["state"])

    def _too_late(self, due_at: dt.datetime, now: dt.datetime, prefs: Prefs) -> bool:
        """Past the grace window, or no longer the same local day: too late to send."""
        return now - due_at > self.config.grace or \
            local_date(now, prefs.zone) != local_date(due_at, prefs.zone)

    def _decide(self, due: Due, now: dt.datetime,
                row: dict[str, Any] | None) -> tuple[_Decision, User | None]:
        """What to do with a due row, given the person's users row as it is now."""
        prefs = Prefs.from_row(row) if row else None
        if row is None or prefs is None:
            return _Decision("drop"), None  # erased, switched off or blocked
        due_at = parse_iso(due.due_at)
        then = None if due.kind == SNOOZE else self.schedule.next_slot(due, due_at, prefs, row, now)
        if self._too_late(due_at, now, prefs):
            note = local_date(due_at, prefs.zone).isoformat() if due.kind == DAILY else None
            return _Decision("log", MISSED, then, note), None
        user = user_from_row(row)
        if not in_programme(user.state):
            return _Decision("log", SKIPPED, then), None
        if self.conversation.training(user):
            if due.kind == DAILY:  # training already: the reminder's job is done
                return _Decision("log", SKIPPED, then), None
            later = Next(iso(now + self.config.busy_retry), due.slot, self.schedule.spec_of(due.kind, row))
            return _Decision("later", then=later), None
        return _Decision("send", CLAIMED, then), user

    def _apply(self, due: Due, decision: _Decision) -> None:
        if decision.action == "drop":
            self.book.drop(due.user_id)
        elif decision.action == "later":
            assert decision.then is not None
            self.book.put(due.user_id, due.kind, decision.then)
        else:
            self.book.claim(due, decision.status, iso(self.clock.now()), decision.then,
                            note=decision.note)

    def _move_on(self, due: Due) -> None:
        """After an unexpected error: never leave the row due, or run_due would spin on it."""
        try:
            if due.kind == SNOOZE:
                self.book.drop(due.user_id, [SNOOZE])
            else:
                self.schedule.reschedule(due.user_id)
        except Exception:
            log.exception("dropping reminder %s of user %s", due.kind, due.user_id)
            self.book.drop(due.user_id, [due.kind])
