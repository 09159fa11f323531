"""What a reminder says, and what the person can answer to it: start, snooze, skip today.

The reminder greets by the programme's progress ("Day 6 of your programme: Side plank is at
"Knees down, 30 s holds" today"). After a workout day it first asks this morning's back pain
(bot/reminders/morning.py). Snooze and skip buttons carry the local day they belong to, so a press on
yesterday's reminder is answered as passed instead of snoozing today.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.intents import Intent
from bot.localtime import CalendarNames, aware, describe_day, describe_next, local_date, zone_info
from bot.states import MORNING, PLAYER, READY, WORKOUT, in_programme
from bot.reminders.book import Due
from bot.reminders.times import DAILY, Prefs
from bot.replies import Reply
from bot.reminders.card import ReadyCard
from bot.reminders.schedule import Schedule
from bot.routing import Conversation
from bot.services import Services
from bot.data.store import User

if TYPE_CHECKING:
    from bot.reminders.morning import Morning

TONIGHT = dt.time(19, 0)
TONIGHT_MARGIN = dt.timedelta(minutes=15)
MAX_SNOOZE_MINUTES = 12 * 60
_SNOOZE_WORDS = {"tonight": "tn", "this evening": "tn", "evening": "tn", "later tonight": "tn",
                 "an hour": "60", "1 hour": "60", "one hour": "60", "hour": "60"}
_SNOOZE_NUMBER = re.compile(r"^(?:for\s+|in\s+)?(\d{1,3})\s*(m|min|mins|minutes?|h|hr|hrs|hours?)?$")


@dataclass(frozen=True)
class Message:
    """One reminder, ready to send: the replies, the state it puts the person in and the
    morning check it opens (both set in the same transaction as the claim), and whether it
    tells a missed-reminder note."""

    replies: list[Reply]
    state: str | None = None
    morning_day: str | None = None
    told_note: bool = False


def at_menu(user: User) -> bool:
    """Between workouts: the reminder can carry its own buttons and the morning question."""
    return user.state == READY or user.state.startswith(MORNING)


class ReminderChat:
    """Composes reminders and answers snooze / skip today."""

    def __init__(self, services: Services, schedule: Schedule, card: ReadyCard,
                 morning: Morning, conversation: Conversation, calendar: CalendarNames) -> None:
        self.services = services
        self.texts = services.texts
        self.schedule = schedule
        self.book = schedule.book
        self.card = card
        self.morning = morning
        self.conversation = conversation
        self.names = calendar

    # -- the reminder -------------------------------------------------------------------------

    def compose(self, user: User, prefs: Prefs, due: Due, now: dt.datetime) -> Message:
        """The daily (or snoozed) reminder for this person right now."""
        today = local_date(now, prefs.zone)
        started, last_changed, stages = self.book.progress_facts(user.id)
        days = {local_date(aware(at), prefs.zone) for at in started}
        text = self._greeting(user, prefs, now, today, days, last_changed, stages)
        told = False
        if due.kind == DAILY and due.note:
            missed = describe_day(dt.date.fromisoformat(due.note), self.names)
            text += "\n\n" + self.texts("reminders.missed", date=missed)
            told = True
        if not at_menu(user):  # mid-way through something: remind, then repeat where they are
            return Message([Reply(text)] + self.conversation.prompt(user), told_note=told)
        if today - dt.timedelta(days=1) in days and self.morning.needs_check(user, today):
            return Message([Reply(f"{text}\n\n{self.texts('morning.question')}",
                                  self.morning.buttons())], MORNING, today.isoformat(), told)
        # an older morning question left unanswered is over: today starts at the menu
        return Message([Reply(f"{text}\n{self.card.ready_text(user, stages)}", self.card.buttons(today))],
                       READY if user.state != READY else None, told_note=told)

    def greeting(self, user: User, prefs: Prefs, now: dt.datetime) -> str:
        today = local_date(now, prefs.zone)
        started, last_changed, stages = self.book.progress_facts(user.id)
        days = {local_date(aware(at), prefs.zone) for at in started}
        return self._greeting(user, prefs, now, today, days, last_changed, stages)

    def _greeting(self, user: User, prefs: Prefs, now: dt.datetime, today: dt.date,
                  days: set[dt.date], last_changed: str | None, stages: dict[str, int]) -> str:
        """"Good morning, Ana! Day 6 of your programme: Side plank is at "..." today." Day N
        counts workout days so far plus today; the exercise named is the one that changed
        stage last, else a different one each day."""
        hour = now.astimezone(zone_info(prefs.zone)).hour
        hello = "hello_morning" if hour < 12 else "hello_day" if hour < 18 else "hello_evening"
        name = f", {user.name}" if user.name else ""
        day = len(days) + (0 if today in days else 1)
        exercises = self.services.programme.exercises
        exercise = exercises[(day - 1) % len(exercises)]
        exercise = next((e for e in exercises if e.id == last_changed), exercise)
        index = stages.get(exercise.id, 0)
        stage = exercise.stage_at(index)
        return self.texts("reminders.greeting", hello=self.texts(f"reminders.{hello}", name=name),
                      day=day, exercise=exercise.name, stage=stage.name)

    # -- snooze and skip ----------------------------------------------------------------------

    async def snooze(self, user: User, intent: Intent) -> list[Reply]:
        prefs, answer = self._prefs_or_answer(user)
        if answer is not None:
            return answer
        now = self.services.clock.now()
        today = local_date(now, prefs.zone)
        choice, day = _snooze_arg(intent.arg)
        if day is not None and day != today:
            return self._stale(day)
        if self.book.status(user.id, DAILY, today.isoformat()) is None:
            nxt = self.schedule.next_reminder(user.id)  # today's has not come yet
            if nxt is not None and local_date(nxt, prefs.zone) == today:
                date, time = describe_next(nxt, prefs.zone, self.names)
                return [Reply(self.texts("reminders.nothing_yet", date=date, time=time))]
        if choice is None:
            return [Reply(self.texts("reminders.snooze_which"), self.card.buttons(today)[1:4])]
        key = "reminders.snoozed"
        if choice == "tn":
            at = dt.datetime.combine(today, TONIGHT).replace(tzinfo=zone_info(prefs.zone))
            if at - now < TONIGHT_MARGIN:
                at, key = now + dt.timedelta(hours=1), "reminders.tonight_passed"
        else:
            at = now + dt.timedelta(minutes=int(choice))
        self.schedule.snooze(user.id, at)
        date, time = describe_next(at, prefs.zone, self.names)
        if key == "reminders.snoozed" and local_date(at, prefs.zone) != today:
            key = "reminders.snoozed_day"
        return [Reply(self.texts(key, date=date, time=time))]

    async def skip_today(self, user: User, intent: Intent) -> list[Reply]:
        prefs, answer = self._prefs_or_answer(user)
        if answer is not None:
            return answer
        today = local_date(self.services.clock.now(), prefs.zone)
        day = _day_arg(intent.arg)
        if day is not None and day != today:
            return self._stale(day)
        nxt = self.schedule.skip_today(user.id, today)
        if user.state.startswith(MORNING):
            self.services.store.set_state(user.id, READY)
        if nxt is None:
            return [Reply(self.texts("reminders.skipped_no_next"))]
        date, time = describe_next(nxt, prefs.zone, self.names)
        return [Reply(self.texts("reminders.skipped", date=date, time=time))]

    def _prefs_or_answer(self, user: User) -> tuple[Prefs | None, list[Reply] | None]:
        """The person's reminder settings, or what to answer instead of snoozing or skipping
        (not in the programme, mid-workout, reminders off)."""
        refusal = self._refusal(user)
        if refusal is not None:
            return None, refusal
        prefs = self.schedule.prefs(user.id)
        if prefs is None:
            return None, [Reply(self.texts("reminders.off"))]
        return prefs, None

    def _refusal(self, user: User) -> list[Reply] | None:
        if not in_programme(user.state):
            return [Reply(self.texts("menu.not_now", hint=self.texts("hints.onboarding")))] + \
                self.conversation.prompt(user)
        if user.state == WORKOUT:
            return [Reply(self.texts("menu.not_now", hint=self.texts("hints.workout")))]
        if user.state == PLAYER and self.conversation.training(user):
            return [Reply(self.texts("menu.not_now", hint=self.texts("player_offer.on_page")))]
        return None

    def _stale(self, day: dt.date) -> list[Reply]:
        return [Reply(self.texts("reminders.stale", date=describe_day(day, self.names))),
                self.conversation.menu()]


def _snooze_arg(arg: str) -> tuple[str | None, dt.date | None]:
    """"15-20260312" from a button, or what was typed after "snooze": "1h", "30 min",
    "tonight". Returns (minutes as text or "tn", the button's day) with None for unknown."""
    text = (arg or "").strip().lower()
    choice, _, day_text = text.partition("-")
    day = _day_arg(day_text) if day_text else None
    if choice in ("15", "60", "tn") and day_text:
        return choice, day
    if text in _SNOOZE_WORDS:
        return _SNOOZE_WORDS[text], None
    match = _SNOOZE_NUMBER.match(text)
    if match:
        minutes = int(match.group(1)) * (60 if (match.group(2) or "m").startswith("h") else 1)
        if 1 <= minutes <= MAX_SNOOZE_MINUTES:
            return str(minutes), None
    return None, day


def _day_arg(text: str) -> dt.date | None:
    try:
        return dt.datetime.strptime(text, "%Y%m%d").date() if text else None
    except ValueError:
        return None
