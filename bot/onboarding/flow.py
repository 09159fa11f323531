"""Onboarding, one question at a time: what the coach is, the safety screen, baseline pain,
the hamstring test, and the morning reminder time and zone. Each answer is saved as it comes,
so someone who leaves midway picks up at the same question.
"""
from __future__ import annotations

import json
from bot import localtime, understanding
from bot.intents import Intent, button, pain_buttons
from bot.workout.pain import clinician_advice
from bot.replies import Choice, Reply
from bot.onboarding.screening import CLEAR, URGENT, verdict
from bot.services import Services
from bot.data.store import User
from bot.workout.session import estimated_minutes, todays_plan
from bot.states import (BASELINE, HAMSTRING, INTRO, READY, RED_FLAG_PREFIX, REMIND_TIME,
                        REMIND_ZONE, SCREEN_PREFIX, tag_for)

PRESET_TIMES = ("07:00", "07:30", "08:00")



class Onboarding:
    """The onboarding steps; each returns the replies and saves the person's answer first."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.texts = services.texts

    def begin(self, user: User) -> list[Reply]:
        name = f", {user.name}" if user.name else ""
        self._set(user, INTRO)
        return [Reply(self.texts("onboarding.intro", name=name), self._buttons(
            INTRO, [("understood", "ok")]))]

    def restart_screen(self, user: User) -> list[Reply]:
        self.services.store.update_user(user.id, screen_answers="{}", screen_result=None)
        return [Reply(self.texts("screen.restart"))] + self._ask_screen(user, 0)

    def question(self, user: User) -> list[Reply]:
        """Repeat the current question (after an unknown answer or on return)."""
        state = user.state
        if state == "new":
            return self.begin(user)
        if state == INTRO:  # the whole introduction was shown once: now only its gist
            return [Reply(self.texts("first_words.intro_question"), self._buttons(
                INTRO, [("understood", "ok")]))]
        if state.startswith(SCREEN_PREFIX):
            return self._ask_screen(user, int(state[len(SCREEN_PREFIX):]))
        if state == BASELINE:
            return [Reply(self.texts("onboarding.baseline"), self._pain_buttons(BASELINE))]
        if state == HAMSTRING:
            return [Reply(self.texts("onboarding.hamstring"), self._buttons(HAMSTRING, [
                ("ham_ok", "ham:ok"), ("ham_tight", "ham:tight"), ("ham_nerve", "ham:nerve")]))]
        if state == REMIND_TIME:
            presets = tuple(Choice(p, button("rt", p.replace(":", ""), tag_for(REMIND_TIME)))
                            for p in PRESET_TIMES)
            return [Reply(self.texts("onboarding.remind_time"), presets + self._buttons(
                REMIND_TIME, [("no_reminders", "rt:none")]))]
        return [Reply(self.texts("onboarding.remind_zone"))]

    def answer(self, user: User, intent: Intent) -> list[Reply] | None:
        """Handle an answer to the current step; None when the input does not answer it."""
        state = user.state
        if state in ("new", INTRO):
            return self._ask_screen(user, 0) if intent.verb in ("ok", "yes") else None
        if state.startswith(SCREEN_PREFIX):
            return self._screen_answer(user, int(state[len(SCREEN_PREFIX):]), intent)
        if state == BASELINE:
            return self._baseline(user, intent)
        if state == HAMSTRING:
            return self._hamstring(user, intent)
        if state == REMIND_TIME:
            return self._remind_time(user, intent)
        if state == REMIND_ZONE:
            return self._remind_zone(user, intent)
        return None

    # -- steps --------------------------------------------------------------------------------

    def _ask_screen(self, user: User, index: int) -> list[Reply]:
        questions = self.services.questions
        self._set(user, f"{SCREEN_PREFIX}{index}")
        header = self.texts("onboarding.screen_header", number=index + 1, total=len(questions))
        return [Reply(f"{header}\n\n{questions[index].text}",
                      self._buttons(user.state, [("yes", "yes"), ("no", "no")]))]

    def _screen_answer(self, user: User, index: int, intent: Intent) -> list[Reply] | None:
        if intent.verb not in ("yes", "no"):
            return None
        answers = self._answers(user)
        answers[self.services.questions[index].id] = intent.verb == "yes"
        self.services.store.update_user(user.id, screen_answers=json.dumps(answers))
        result = verdict(self.services.questions, answers)
        if result is None:
            return self._ask_screen(user, index + 1)
        self.services.store.update_user(user.id, screen_result=result)
        if result == CLEAR:
            if self.services.store.stages(user.id):  # a re-check by someone already on the programme
                self._set(user, READY)
                return [Reply(self.texts("screen.clear_again"), (
                    Choice(self.texts("buttons.start_session"), button("session")),
                    Choice(self.texts("buttons.help"), button("help"))))]
            self._set(user, BASELINE)
            return self.question(user)
        self._set(user, RED_FLAG_PREFIX + result)
        key = "screen.red_urgent" if result == URGENT else "screen.red_practitioner"
        return [Reply(self.texts(key), (Choice(self.texts("buttons.rescreen"), button("rescreen")),))]

    def _baseline(self, user: User, intent: Intent) -> list[Reply] | None:
        if intent.verb not in ("number", "pain"):
            return None
        score = int(intent.arg)
        self.services.store.update_user(user.id, baseline_pain=score)
        self._set(user, HAMSTRING)
        return ([Reply(self.texts("pain.baseline_noted", score=score))]
                + clinician_advice(self.services, score) + self.question(user))

    def _hamstring(self, user: User, intent: Intent) -> list[Reply] | None:
        if intent.verb != "ham" or intent.arg not in ("ok", "tight", "nerve"):
            return None
        self.services.store.update_user(user.id, hamstring=intent.arg)
        self._set(user, REMIND_TIME)
        return [Reply(self.texts(f"onboarding.ham_{intent.arg}"))] + self.question(user)

    def _remind_time(self, user: User, intent: Intent) -> list[Reply] | None:
        if intent.verb == "rt" and intent.arg == "none" or intent.verb == "no" or \
                intent.verb == "settings" and intent.arg == "reminders off":
            self.services.store.update_user(user.id, reminders_on=0, reminder_time=None)
            return [Reply(self.texts("onboarding.no_reminders"))] + self._finish(user)
        text = intent.arg if intent.verb in ("rt", "text") else intent.raw
        if intent.verb == "rt" and len(text) == 4:
            text = f"{text[:2]}:{text[2:]}"
        if intent.verb == "settings":  # "remind me at 7:30am", read as "time 07:30"
            text = intent.arg.removeprefix("time ") if intent.arg.startswith("time ") else ""
        at = localtime.parse_time_of_day(text) if text else None
        if at is None and intent.verb == "text":  # "7:30 please"
            found = understanding.find_time(intent.raw)
            at = localtime.parse_time_of_day(found) if found else None
        if at is None:
            if intent.verb in ("text", "number", "number_invalid", "rt") or \
                    intent.verb == "settings" and text:  # "remind me at 7": am or pm?
                return [Reply(self.texts("onboarding.remind_time_again"))] + self.question(user)
            return None
        self.services.store.update_user(user.id, reminder_time=at.strftime("%H:%M"))
        self._set(user, REMIND_ZONE)
        return self.question(user)

    def _remind_zone(self, user: User, intent: Intent) -> list[Reply] | None:
        if intent.verb == "settings" and intent.arg.startswith("zone "):  # "I'm in Berlin"
            zone = localtime.parse_timezone(intent.arg.removeprefix("zone "))
        elif intent.verb in ("text", "unknown"):  # "Berlin", "berlin please"
            zone = localtime.parse_timezone(intent.raw) or understanding.find_place(intent.raw)
        else:
            return None
        if zone is None:
            return [Reply(self.texts("onboarding.remind_zone_again"))]
        self.services.store.update_user(user.id, timezone=zone, reminders_on=1)
        return self._finish(self.services.store.user_by_id(user.id))

    def _finish(self, user: User) -> list[Reply]:

        self.services.store.init_stages(user.id, [e.id for e in self.services.programme.exercises],
                                 self.services.clock.now())
        self._set(user, READY)
        user = self.services.store.user_by_id(user.id)
        if user.reminders_on and user.reminder_time and user.timezone:
            reminder = self.texts("onboarding.reminder_summary", time=user.reminder_time,
                              zone=user.timezone)
        else:
            reminder = self.texts("onboarding.reminders_off")
        minutes = estimated_minutes(self.services, todays_plan(self.services, user))
        return [Reply(self.texts("onboarding.done", reminder=reminder, minutes=minutes),
                      (Choice(self.texts("buttons.start_session"), button("session")),
                       Choice(self.texts("buttons.help"), button("help"))))]

    # -- helpers ------------------------------------------------------------------------------

    def _set(self, user: User, state: str) -> None:
        self.services.store.set_state(user.id, state)
        user.state = state

    def _answers(self, user: User) -> dict[str, bool]:
        row = self.services.store.db["users"].get(user.id)
        try:
            data = json.loads(row["screen_answers"] or "{}")
        except ValueError:
            data = {}
        return data if isinstance(data, dict) else {}

    def _buttons(self, state: str, pairs: list[tuple[str, str]]) -> tuple[Choice, ...]:
        tag = tag_for(state)
        out = []
        for label_key, action in pairs:
            verb, _, arg = action.partition(":")
            out.append(Choice(self.texts(f"buttons.{label_key}"), button(verb, arg, tag)))
        return tuple(out)

    def _pain_buttons(self, state: str) -> tuple[Choice, ...]:
        return pain_buttons(tag_for(state))
