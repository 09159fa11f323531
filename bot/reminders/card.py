"""How a reminder (and the morning check) ends: today's session length and its buttons."""
from __future__ import annotations

import datetime as dt

from bot.data.store import User
from bot.intents import button
from bot.replies import Choice
from bot.services import Services
from bot.workout.session import estimated_minutes


class ReadyCard:
    """The end of a reminder and of the morning check: how long today's session takes, and
    the buttons to start, snooze or skip it."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.texts = services.texts
        self._minutes: dict[tuple[int, ...], int] = {}

    def ready_text(self, user: User, stages: dict[str, int] | None = None) -> str:
        """"A session takes about N minutes": cached per combination of stages, because
        planning a session's timers costs ~0.3 ms and thousands of people share stages."""
        if stages is None:
            stages = self.services.store.stages(user.id)
        key = tuple(stages.get(e.id, 0) for e in self.services.programme.exercises)
        minutes = self._minutes.get(key)
        if minutes is None:
            plan = [(e, e.stage_at(i)) for e, i in zip(self.services.programme.exercises, key)]
            minutes = self._minutes[key] = estimated_minutes(self.services, plan)
        return self.texts("reminders.ready", minutes=minutes)

    def buttons(self, day: dt.date) -> tuple[Choice, ...]:
        key = day.strftime("%Y%m%d")
        t = self.texts
        return (Choice(t("buttons.start_session"), button("session")),
                Choice(t("reminders.button_snooze_15"), button("snooze", f"15-{key}")),
                Choice(t("reminders.button_snooze_60"), button("snooze", f"60-{key}")),
                Choice(t("reminders.button_tonight"), button("snooze", f"tn-{key}")),
                Choice(t("reminders.button_skip_today"), button("skip_today", key)))
