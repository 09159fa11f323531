"""Morning reminders: scheduled in each person's local time, none lost and none doubled.

The database is the schedule. Each person has a row per kind ("daily", "snooze", "weekly")
with the UTC instant it is next due (bot/reminders/book.py), computed with the DST rules of
`localtime.next_occurrence`. One APScheduler job, on the running loop, wakes the service at the
earliest due instant (converted from the bot's scaled clock to real time, so --time-scale
applies); the wake-up starts a fan-out (bot/reminders/fanout.py) that sends everything due, in due
order, through Delivery's rate budget, and re-arms the job. Nothing blocks the loop: the fan-out
is a task and every wait is an await.

Never doubled: just before a send, one transaction logs (person, kind, local day) and moves the
row on; a slot already in the log is never sent again, and after a crash a "claimed" row counts
as sent. The claim is taken only once Delivery has room, with no await before the send, so a
crash can lose at most the reminders in flight at that instant (at-most-once), never double one.
Never lost otherwise: after downtime a reminder still due today within the grace window (default
3 h) goes out late; an older one is logged as missed and mentioned in the next reminder, which
may be one that downtime made late too (down from before Tuesday's to after Wednesday's: Tuesday's
is missed, Wednesday's comes late and says so).

Schedules follow the users table without a restart: a TEMP trigger (this connection only, never
stored in the file) reports every change of a person's reminder settings, including onboarding,
"reminders off" after a platform block, and erasure, and the service reschedules them.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import logging
import sqlite3
from collections.abc import Iterator
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger

from bot.events import UserKey
from bot.localtime import CalendarNames
from bot.reminders.book import Next, ReminderBook
from bot.reminders.config import ReminderConfig, WeeklyHook
from bot.reminders.fanout import FanOut
from bot.reminders.card import ReadyCard
from bot.reminders.messages import ReminderChat
from bot.reminders.morning import Morning
from bot.reminders.schedule import Schedule
from bot.reminders.settings_chat import Settings
from bot.reminders.times import DAILY, SPEC_SQL, WEEKLY, Prefs, iso, parse_iso
from bot.routing import Conversation, Feature, StateRoute, Tier, verbs
from bot.services import Services
from bot.states import MORNING, SETTINGS_PREFIX

log = logging.getLogger(__name__)

JOB_ID = "backcoach-reminders-wakeup"


class Reminders:
    """The reminder service for one coach: the schedule, the wake-up, and the conversations
    around reminders (what they say, snooze and skip, the morning check, settings); the
    sending itself is the fan-out. Each part gets the few things it uses, never this object."""

    def __init__(self, services: Services, conversation: Conversation,
                 config: ReminderConfig | None = None,
                 weekly: WeeklyHook | None = None) -> None:
        self.services = services
        self.clock = services.clock
        self.config = config or ReminderConfig()
        self.book = ReminderBook(services.store.db)
        self.schedule = Schedule(self.book, self.clock, self.config.grace, self._arm_if_earlier)
        self.calendar = CalendarNames.from_texts(services.texts)  # day names in dates shown
        self.card = ReadyCard(services)
        self.morning = Morning(services, self.book, self.card, conversation)
        self.chat = ReminderChat(services, self.schedule, self.card, self.morning, conversation,
                                 self.calendar)
        self.settings = Settings(services, self.schedule, conversation, self.calendar)
        self.fanout = FanOut(services, self.book, self.schedule, self.chat, conversation,
                             self.config, is_stopping=lambda: self._stopping,
                             weekly=lambda: self._weekly)
        self._weekly: WeeklyHook | None = weekly
        self.schedule.weekly_on = weekly is not None
        self._scheduler: AsyncIOScheduler | None = None
        self._armed: dt.datetime | None = None
        self._running = asyncio.Lock()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._dirty: set[int] = set()
        self._resync_soon = False
        self._syncing = False
        self._started = False
        self._stopping = False
        self._watch_users()

    def feature(self) -> Feature:
        """What the coach routes here: snooze and skip anywhere, the settings conversation, the
        morning check; and what it tells us: start, stop, a person no platform can reach."""
        return Feature(
            name="reminders",
            verbs=verbs(Tier.ANYWHERE, {"snooze": self.chat.snooze,
                                        "skip_today": self.chat.skip_today,
                                        "settings": self.settings.open}),
            states=(StateRoute(MORNING, self.morning.answer, self.morning.prompt),
                    StateRoute(SETTINGS_PREFIX, self.settings.answer, self.settings.prompt)),
            holds_step_ups=self.morning.hold_up,
            on_start=self.start, on_stop=self.stop, on_unreachable=self._unreachable)

    async def _unreachable(self, user: UserKey, reason: str) -> None:
        """No platform can reach this person: forget their due reminders at once."""
        found = self.services.store.find_user(user)
        if found is not None:
            self.book.drop(found.id)

    @property
    def weekly(self) -> WeeklyHook | None:
        """The weekly summary: set to a callable(user) -> replies (sync or async). It is sent
        once a week, at the person's reminder time on their summary day (default Sunday)."""
        return self._weekly

    @weekly.setter
    def weekly(self, hook: WeeklyHook | None) -> None:
        self._weekly = hook
        self.schedule.weekly_on = hook is not None
        if self._started:
            self._sync_kind(WEEKLY)
            self._arm()

    # -- lifecycle ----------------------------------------------------------------------------

    async def start(self) -> None:
        """Rebuild the schedule from the database and arm the wake-up on the running loop."""
        self._stopping = False
        await self.sync_all()
        self._scheduler = AsyncIOScheduler(event_loop=asyncio.get_running_loop(),
                                           timezone=dt.timezone.utc)
        self._scheduler.start()
        self._started = True
        self._arm()

    async def stop(self) -> None:
        """Stop waking up; let sends in flight finish briefly, then cancel the rest (a cancelled
        claim counts as sent: at most once)."""
        self._stopping = True
        self._started = False
        if self._scheduler is not None and self._scheduler.running:
            self._scheduler.shutdown(wait=False)
            await self.clock.sleep(0)  # AsyncIOScheduler shuts down on the next loop turn
        self._scheduler = None
        tasks = [t for t in self._tasks if not t.done()]
        if tasks:
            settled = asyncio.Event()
            asyncio.gather(*tasks, return_exceptions=True).add_done_callback(
                lambda _: settled.set())
            deadline = self.clock.monotonic() + self.config.stop_grace.total_seconds()
            await self.clock.wait_event(settled, deadline)
            for task in tasks:
                task.cancel()  # a no-op for those done
            await asyncio.gather(*tasks, return_exceptions=True)

    @property
    def stopping(self) -> bool:
        return self._stopping

    def ready(self) -> bool:
        """Started, with the wake-up armed if anything is scheduled."""
        return self._started and (self._armed is not None or self.book.earliest() is None
                                  or self.clock.real_time_of(self.clock.now()) is None)

    # -- the schedule -------------------------------------------------------------------------

    async def sync_all(self) -> None:
        """Start-up: drop rows of people gone or switched off, and (re)compute only the rows
        that are missing or were computed from other settings. Stored due times in the past
        stay as they are, so run_due can send them late or log them missed. Works in chunks,
        yielding to the loop between them: a cold start with 100,000 people computes for about
        a second, and the bot keeps answering meanwhile."""
        for _ in self._sync_steps((DAILY, WEEKLY)):
            await self.clock.sleep(0)

    def _sync_kind(self, kind: str) -> None:
        for _ in self._sync_steps((kind,)):
            pass

    def _sync_steps(self, kinds: tuple[str, ...], chunk: int = 1000) -> Iterator[None]:
        self._syncing = True  # changes seen meanwhile are rescheduled after, not overwritten
        try:
            if DAILY in kinds:
                self.book.drop_ineligible()
            for kind in kinds:
                if kind == WEEKLY and self._weekly is None:
                    self.book.drop_kind(WEEKLY)
                    continue
                now = self.clock.now()
                spec_sql = SPEC_SQL if kind == DAILY else f"{SPEC_SQL} || u.summary_day"
                logged = self.book.logged_slots(kind, (now - dt.timedelta(days=9)).date()
                                                .isoformat())
                stale = self.book.stale(kind, spec_sql)
                shared: dict[tuple[Any, ...], Next | None] = {}  # same settings, same answer
                for start in range(0, len(stale), chunk):
                    rows, gone = [], []
                    for values in stale[start:start + chunk]:
                        user_id, settings = values[0], values[1:]
                        if settings not in shared:
                            row = self.book.as_settings(values)
                            prefs = Prefs.from_row(row)
                            shared[settings] = None if prefs is None else \
                                self.schedule.next_free(user_id, kind, prefs, row, now, set())
                        then = shared[settings]
                        if then is None:
                            gone.append(user_id)
                            continue
                        if (user_id, then.slot) in logged:  # this one's slot is done already
                            row = self.book.as_settings(values)
                            then = self.schedule.next_free(user_id, kind, Prefs.from_row(row), row, now,
                                                   logged)
                        rows.append((user_id, then))
                    self.book.put_many(kind, rows)
                    for user_id in gone:
                        self.book.drop(user_id)
                    yield
        finally:
            self._syncing = False
        self._resync()

    # -- following the users table ------------------------------------------------------------

    def _watch_users(self) -> None:
        """TEMP triggers call back into this process when reminder settings change or a person
        is erased. They live in this connection only, so other tools never see them."""
        conn = self.services.store.db.conn
        conn.create_function("backcoach_reminders_changed", 1, self._changed)
        columns = ("reminders_on, reminder_time, timezone, reminder_days, "
                   "reminders_paused_until, summary_day")
        conn.execute(f"CREATE TEMP TRIGGER IF NOT EXISTS backcoach_reminders_update AFTER UPDATE "
                     f"OF {columns} ON main.users BEGIN SELECT "
                     f"backcoach_reminders_changed(NEW.id); END")
        conn.execute("CREATE TEMP TRIGGER IF NOT EXISTS backcoach_reminders_delete AFTER DELETE "
                     "ON main.users BEGIN SELECT backcoach_reminders_changed(OLD.id); END")

    def _changed(self, user_id: int) -> None:
        """Runs inside SQLite's statement: only note the person; reschedule on the next turn."""
        try:
            self._dirty.add(int(user_id))
            if not self._resync_soon:
                asyncio.get_running_loop().call_soon(self._resync)
                self._resync_soon = True
        except Exception:  # no loop (a script): start-up or the next run_due picks it up
            pass

    def _resync(self) -> None:
        self._resync_soon = False
        if self._syncing:
            return  # the start-up sync calls again when it is done
        if self._stopping:
            self._dirty.clear()
            return
        while self._dirty:
            user_id = self._dirty.pop()
            try:
                self._dirty.discard(user_id)
                self.schedule.reschedule(user_id)
            except sqlite3.ProgrammingError:  # the store was closed under us (shutdown)
                self._dirty.clear()
                return
            except Exception:
                log.exception("could not reschedule reminders for user %s", user_id)

    # -- waking up ----------------------------------------------------------------------------

    def _arm(self) -> None:
        """(Re)arm the one wake-up job at the earliest due instant in the database."""
        if self._scheduler is None or self._stopping:
            return
        earliest = self.book.earliest()
        if earliest is None:
            if self._scheduler.get_job(JOB_ID):
                self._scheduler.remove_job(JOB_ID)
            self._armed = None
            return
        self._arm_at(parse_iso(earliest))

    def _arm_if_earlier(self, due: dt.datetime) -> None:
        if self._scheduler is None or self._running.locked():
            return  # not started yet, or a fan-out is on and re-arms from the DB when done
        if self._armed is None or due < self._armed:
            self._arm_at(due)

    def _arm_at(self, due: dt.datetime) -> None:
        assert self._scheduler is not None
        real = self.clock.real_time_of(due)
        if real is None:  # a ManualClock: the test drives run_due itself
            return
        self._scheduler.add_job(
            self._wake, DateTrigger(run_date=real + dt.timedelta(milliseconds=1)), id=JOB_ID,
            replace_existing=True, misfire_grace_time=None, coalesce=True, max_instances=1)
        self._armed = due

    async def _wake(self) -> None:
        """The APScheduler job: start a fan-out task and return at once, so the job never
        counts as running (a running job would make APScheduler skip the next wake-up)."""
        self._armed = None
        if self._stopping or self._running.locked():
            return  # the fan-out under way keeps going until nothing is due, then re-arms
        task = asyncio.get_running_loop().create_task(self.run_due())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- sending ------------------------------------------------------------------------------

    async def run_due(self) -> int:
        """Handle everything due now, earliest first, and re-arm; returns how many rows were
        handled. The wake-up job calls it; tests call it after moving a ManualClock."""
        async with self._running:
            self._resync()
            handled = 0
            while not self._stopping:
                rows = self.book.due(iso(self.clock.now()), self.config.batch)
                if not rows:
                    break
                await self.fanout.send(rows)
                handled += len(rows)
        self._arm()
        return handled
