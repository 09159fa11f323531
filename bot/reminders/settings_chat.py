"""Settings: reminder time, time zone, days, weekly summary day, pause, off and on.

Every change is saved to the database, rescheduled at once (no restart) and confirmed with the
next reminder's local date and time, so the person sees exactly what they set. Shortcuts work
from the menu too: "pause reminders for 3 days", "reminders off", "settings time 8am".
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING

from bot import localtime
from bot.intents import Intent, button
from bot.localtime import describe_day, describe_next, local_date
from bot.onboarding.flow import PRESET_TIMES
from bot.states import (MORNING, READY, SET_DAYS, SET_MENU, SET_PAUSE, SET_SUMMARY_DAY, SET_TIME,
                        SET_ZONE, SETTINGS_PREFIX, tag_for)
from bot.replies import Choice, Reply
from bot.routing import Conversation
from bot.services import Services
from bot.data.store import User

if TYPE_CHECKING:
    from bot.localtime import CalendarNames
    from bot.reminders.schedule import Schedule

PREFIX = SETTINGS_PREFIX
MENU, TIME, ZONE, DAYS, PAUSE, SUMMARY = (
    SET_MENU, SET_TIME, SET_ZONE, SET_DAYS, SET_PAUSE, SET_SUMMARY_DAY)
MAX_PAUSE_DAYS = 90
EVERY_DAY, WEEKDAYS, WEEKENDS = "0123456", "01234", "56"
_DAY_WORDS = {"every day": EVERY_DAY, "everyday": EVERY_DAY, "daily": EVERY_DAY,
              "all": EVERY_DAY, "weekdays": WEEKDAYS, "weekday": WEEKDAYS,
              "work days": WEEKDAYS, "weekends": WEEKENDS, "weekend": WEEKENDS}
_LEAVE = ("done", "ok", "stop", "no", "back")
_PAUSE = re.compile(r"^pause reminders(?:\s+for)?(?:\s+(\d{1,3})(?:\s*days?)?)?$")
_ON = ("reminders on", "turn reminders on", "turn on reminders", "resume reminders",
       "unpause reminders", "start reminders")
_OFF = ("reminders off", "turn reminders off", "turn off reminders", "stop reminders",
        "no reminders")


class Settings:
    """The settings conversation; its states all start with "set_"."""

    def __init__(self, services: Services, schedule: Schedule, conversation: Conversation,
                 calendar: CalendarNames) -> None:
        self.services = services
        self.texts = services.texts
        self.schedule = schedule
        self.conversation = conversation
        self.names = calendar

    # -- entry --------------------------------------------------------------------------------

    async def open(self, user: User, intent: Intent) -> list[Reply]:
        """"settings", or a shortcut such as "pause reminders for 3 days"."""
        if not (user.state == READY or user.state.startswith((MORNING, PREFIX))):
            hint = "hints.workout" if user.state == "workout" else "hints.onboarding"
            return [Reply(self.texts("menu.not_now", hint=self.texts(hint)))] + \
                self.conversation.prompt(user)
        text = " ".join((intent.arg or "").split())
        if text:
            replies = self._shortcut(user, text)
            if replies is not None:
                return replies
        return self._go(user, MENU)

    def _shortcut(self, user: User, text: str) -> list[Reply] | None:
        pause = _PAUSE.match(text)
        if pause:
            return self._pause(user, int(pause.group(1))) if pause.group(1) else \
                self._go(user, PAUSE)
        if text in _ON:
            return self._turn_on(user)
        if text in _OFF:
            return self._turn_off(user)
        word, _, rest = text.partition(" ")
        if word in ("time", "zone", "timezone", "days") and rest:
            state = {"time": TIME, "zone": ZONE, "timezone": ZONE, "days": DAYS}[word]
            self._set_state(user, state)  # an answer it can't read is asked again right there
            return self._answer_in(user, state, Intent("text", rest, raw=rest))
        return None

    # -- the states ---------------------------------------------------------------------------

    def prompt(self, user: User) -> list[Reply]:
        """The question of the settings step the person is at."""
        state, t = user.state, self.texts
        if state == TIME:
            return [Reply(t("settings.ask_time"), tuple(
                Choice(p, button("set", "t" + p.replace(":", ""), tag_for(TIME)))
                for p in PRESET_TIMES))]
        if state == ZONE:
            return [Reply(t("settings.ask_zone"))]
        if state == DAYS:
            return [Reply(t("settings.ask_days"), self._buttons(DAYS, [
                ("button_every_day", "d" + EVERY_DAY), ("button_weekdays", "d" + WEEKDAYS),
                ("button_weekends", "d" + WEEKENDS)]))]
        if state == PAUSE:
            return [Reply(t("settings.ask_pause"), (
                Choice(t("settings.button_pause_day"), button("set", "p1", tag_for(PAUSE))),) +
                tuple(Choice(t("settings.button_pause_days", count=n),
                             button("set", f"p{n}", tag_for(PAUSE))) for n in (3, 7)))]
        if state == SUMMARY:
            names = t("settings.day_names").split()
            return [Reply(t("settings.ask_summary_day"), tuple(
                Choice(name, button("set", f"s{i}", tag_for(SUMMARY)))
                for i, name in enumerate(names)))]
        return [self._menu(user)]

    async def answer(self, user: User, intent: Intent) -> list[Reply]:
        if intent.verb in _LEAVE or (intent.verb == "set" and intent.arg == "done"):
            return self._close(user, [Reply(self.texts("settings.closed"))])
        if intent.verb == "session":
            self._set_state(user, READY)
            return await self.conversation.in_ready(user, intent)
        replies = self._answer_in(user, user.state, intent)
        if replies is None:
            return [Reply(self.texts("settings.unknown"))] + self.prompt(user)
        return replies

    def _answer_in(self, user: User, state: str, intent: Intent) -> list[Reply] | None:
        arg = intent.arg if intent.verb == "set" else ""
        typed = (intent.raw or intent.arg).strip() if intent.verb != "set" else ""
        if state == MENU:
            choice = arg or typed.lower()
            goto = {"time": TIME, "reminder time": TIME, "zone": ZONE, "time zone": ZONE,
                    "timezone": ZONE, "days": DAYS, "pause": PAUSE, "sumday": SUMMARY,
                    "summary day": SUMMARY}.get(choice)
            if goto is not None:
                return self._go(user, goto)
            if choice in ("off", "on"):
                return self._turn_off(user) if choice == "off" else self._turn_on(user)
            return None
        if state == TIME:
            text = f"{arg[1:3]}:{arg[3:]}" if arg.startswith("t") and len(arg) == 5 else typed
            at = localtime.parse_time_of_day(text)
            if at is None:
                return [Reply(self.texts("onboarding.remind_time_again"))] + self.prompt(user)
            return self._save(user, reminder_time=at.strftime("%H:%M"))
        if state == ZONE:
            zone = localtime.parse_timezone(typed)
            if zone is None:
                return [Reply(self.texts("onboarding.remind_zone_again"))]
            return self._save(user, timezone=zone)
        if state == DAYS:
            days = arg[1:] if arg.startswith("d") else parse_day_list(typed, self._names())
            if not days:
                return [Reply(self.texts("settings.days_again"))] + self.prompt(user)
            return self._save(user, reminder_days=days)
        if state == PAUSE:
            text = arg[1:] if arg.startswith("p") else typed.lower().removesuffix("days").strip()
            return self._pause(user, int(text) if text.isdigit() else 0)
        if state == SUMMARY:
            text = arg[1:] if arg.startswith("s") else parse_day_list(typed, self._names())
            if len(text) != 1:
                return None
            return self._summary_day(user, int(text))
        return None

    # -- changes ------------------------------------------------------------------------------

    def _save(self, user: User, **fields: object) -> list[Reply]:
        """Save time, zone or days; a new time or zone also switches reminders on. When the
        other half is missing (reminders were never set up) ask for it next."""
        store = self.services.store
        row = store.db["users"].get(user.id)
        row.update(fields)
        if "reminder_time" in fields or "timezone" in fields:
            fields["reminders_on"] = int(bool(row["reminder_time"] and row["timezone"]))
        store.update_user(user.id, **fields)
        if not row["reminder_time"]:
            return self._go(user, TIME)
        if not row["timezone"]:
            return self._go(user, ZONE)
        return self._confirm(user, "settings.saved")

    def _pause(self, user: User, count: int) -> list[Reply]:
        """Pause for `count` days: 1 to MAX_PAUSE_DAYS, else ask again (in the pause step,
        whether the number came typed there or in a shortcut from the menu)."""
        if not 1 <= count <= MAX_PAUSE_DAYS:
            return [Reply(self.texts("settings.pause_again"))] + self._go(user, PAUSE)
        resume = self.schedule.resume_day(user.id, count)
        if resume is None:
            return self._close(user, [Reply(self.texts("reminders.off"))])
        self.services.store.update_user(user.id, reminders_paused_until=resume.isoformat())
        return self._confirm(user, "settings.saved_paused",
                             days=self.texts.plural("plural.days", count))

    def _turn_on(self, user: User) -> list[Reply]:
        self.services.store.update_user(user.id, reminders_on=1, reminders_paused_until=None,
                                 unreachable_reason=None)
        row = self.services.store.db["users"].get(user.id)
        if not row["reminder_time"]:
            return self._go(user, TIME)
        if not row["timezone"]:
            return self._go(user, ZONE)
        return self._confirm(user, "settings.saved")

    def _turn_off(self, user: User) -> list[Reply]:
        self.services.store.update_user(user.id, reminders_on=0)
        self.schedule.reschedule(user.id)
        return self._close(user, [Reply(self.texts("settings.saved_off"))])

    def _summary_day(self, user: User, day: int) -> list[Reply]:
        self.services.store.update_user(user.id, summary_day=day)
        self.schedule.reschedule(user.id)
        nxt = self.schedule.next_summary(user.id)
        prefs = self.schedule.prefs(user.id)
        if nxt is None or prefs is None:
            return self._close(user, [Reply(self.texts("settings.closed"))])
        date, time = describe_next(nxt, prefs.zone, self.names)
        name = self.texts("settings.day_names_long").split()[day]
        return self._close(user, [Reply(self.texts("settings.saved_summary_day", day=name,
                                               date=date, time=time))])

    def _confirm(self, user: User, key: str, **values: object) -> list[Reply]:
        """Reschedule now and say when the next reminder comes, in the person's time."""
        nxt = self.schedule.reschedule(user.id)
        prefs = self.schedule.prefs(user.id)
        if nxt is None or prefs is None:
            return self._close(user, [Reply(self.texts("settings.saved_off"))])
        date, time = describe_next(nxt, prefs.zone, self.names)
        text = self.texts(key, summary=self._summary(user.id), date=date, time=time,
                      zone=prefs.zone, **values)
        return self._close(user, [Reply(text)])

    # -- helpers ------------------------------------------------------------------------------

    def _menu(self, user: User) -> Reply:
        prefs = self.schedule.prefs(user.id)
        nxt = self.schedule.next_reminder(user.id)
        if nxt is not None and prefs is not None:
            date, time = describe_next(nxt, prefs.zone, self.names)
            next_text = self.texts("settings.next", date=date, time=time)
        else:
            next_text = self.texts("settings.next_none")
        if self.schedule.weekly_on and prefs is not None:
            day = self.texts("settings.day_names_long").split()[prefs.summary_day]
            next_text += "\n" + self.texts("settings.weekly", day=day)
        pairs = [("button_time", "time"), ("button_zone", "zone"), ("button_days", "days")]
        if self.schedule.weekly_on:
            pairs.append(("button_summary_day", "sumday"))
        pairs += [("button_pause", "pause"), ("button_off", "off") if prefs else ("button_on", "on"),
                  ("button_done", "done")]
        return Reply(self.texts("settings.menu", summary=self._summary(user.id), next=next_text),
                     self._buttons(MENU, pairs))

    def _summary(self, user_id: int) -> str:
        """"at 07:30 (Europe/Berlin), every day", with a pause if there is one; or "off"."""
        prefs = self.schedule.prefs(user_id)
        if prefs is None:
            return self.texts("settings.summary_off")
        text = self.texts("settings.summary_on", time=prefs.at.strftime("%H:%M"), zone=prefs.zone,
                      days=self._days_text(prefs.days))
        if prefs.paused_until and prefs.paused_until > local_date(self.services.clock.now(), prefs.zone):
            text = self.texts("settings.summary_paused", summary=text,
                          date=describe_day(prefs.paused_until, self.names))
        return text

    def _days_text(self, days: frozenset[int]) -> str:
        code = "".join(str(d) for d in sorted(days))
        key = {EVERY_DAY: "settings.days_every", WEEKDAYS: "settings.days_weekdays",
               WEEKENDS: "settings.days_weekends"}.get(code)
        if key:
            return self.texts(key)
        names = self._names()
        return self.texts("settings.days_list", days=", ".join(names[d] for d in sorted(days)))

    def _names(self) -> list[str]:
        return self.texts("settings.day_names").split()

    def _buttons(self, state: str, pairs: list[tuple[str, str]]) -> tuple[Choice, ...]:
        return tuple(Choice(self.texts(f"settings.{label}"), button("set", arg, tag_for(state)))
                     for label, arg in pairs)

    def _go(self, user: User, state: str) -> list[Reply]:
        self._set_state(user, state)
        return self.prompt(user)

    def _close(self, user: User, replies: list[Reply]) -> list[Reply]:
        self._set_state(user, READY)
        return replies + [self.conversation.menu()]

    def _set_state(self, user: User, state: str) -> None:
        self.services.store.set_state(user.id, state)
        user.state = state


def parse_day_list(text: str, names: list[str]) -> str:
    """"weekdays", "every day", "mon wed fri", "Monday, Thursday" -> "024" style codes; "" when
    nothing in it is a day. `names` are the short day names, Monday first."""
    text = " ".join(text.lower().replace(",", " ").replace(" and ", " ").split())
    if text in _DAY_WORDS:
        return _DAY_WORDS[text]
    prefixes = [n.lower()[:3] for n in names]
    days = set()
    for word in text.split():
        if len(word) < 2:
            return ""
        matches = [i for i, p in enumerate(prefixes) if word.startswith(p) or p.startswith(word)]
        if len(matches) != 1:
            return ""
        days.add(matches[0])
    return "".join(str(d) for d in sorted(days))

