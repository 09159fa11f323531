"""Onboarding, one question at a time: what the coach is, the safety screen, baseline pain,
the hamstring test, and the morning reminder time and zone. Each answer is saved as it comes,
so someone who leaves midway picks up at the same question.

The safety screen says "answer as best you can" once, offers "Not sure" on every question
(a possible yes), and asks for one more tap before an urgent "yes" stops everything, repeating
its urgent advice whenever it asks again. A slip ("oops, I meant no") goes back to that
question, not to the start. Someone a clinician has checked says so: the date is kept, their
lifelong history (an old injury, a past cancer) is not asked again, and the other questions
are asked about new or changed symptoms since then.
"""
from __future__ import annotations

import json
from datetime import date
from typing import Any

from bot import localtime, understanding
from bot.content import Question
from bot.intents import Intent, button, pain_buttons
from bot.workout.pain import clinician_advice, vague
from bot.workout.pain_limits import blocks_workout_today
from bot.replies import Choice, Reply
from bot.onboarding.screening import CLEAR, NOT_SURE, PRACTITIONER, URGENT, flagged, verdict
from bot.services import Services
from bot.data.store import User
from bot.workout.session import estimated_minutes, todays_plan
from bot.states import (BASELINE, HAMSTRING, INTRO, READY, RED_FLAG_PREFIX, REMIND_TIME,
                        REMIND_ZONE, SCREEN_PREFIX, SURE_SUFFIX, tag_for)

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
        return [Reply(self.texts("screen.restart"))] + self._ask_screen(user, self._asked(user)[0])

    def question(self, user: User) -> list[Reply]:
        """Repeat the current question (after an unknown answer or on return)."""
        state = user.state
        if state == "new":
            return self.begin(user)
        if state == INTRO:  # the whole introduction was shown once: now only its gist
            return [Reply(self.texts("first_words.intro_question"), self._buttons(
                INTRO, [("understood", "ok")]))]
        if state.startswith(SCREEN_PREFIX):
            index, sure = _screen_step(state)
            return self._confirm(user, index) if sure else self._ask_screen(user, index)
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
            index, sure = _screen_step(state)
            if intent.verb == "cleared":
                return self.cleared(user)
            if sure:
                return self._sure_answer(user, index, intent)
            return self._screen_answer(user, index, intent)
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
        """Question `index` of the screen; the first one asked also says "answer as best you
        can", once."""
        asked = self._asked(user)
        index = index if index in asked else asked[0]
        self._set(user, f"{SCREEN_PREFIX}{index}")
        position = asked.index(index)
        key = "safety.header_cleared" if user.cleared_at else "onboarding.screen_header"
        header = self.texts(key, number=position + 1, total=len(asked))
        if position == 0:
            header += " " + self.texts("safety.honest")
        question = self._text(user, self.services.questions[index])
        tag = tag_for(user.state)
        buttons = (Choice(self.texts("buttons.yes"), button("yes", tag=tag)),
                   Choice(self.texts("buttons.no"), button("no", tag=tag)),
                   Choice(self.texts("safety.button_not_sure"), button("not_sure", tag=tag)))
        return [Reply(f"{header}\n\n{question}", buttons)]

    def _screen_answer(self, user: User, index: int, intent: Intent) -> list[Reply] | None:
        if intent.verb not in ("yes", "no", NOT_SURE):
            return None
        question = self.services.questions[index]
        answer: bool | str = NOT_SURE if intent.verb == NOT_SURE else intent.verb == "yes"
        self._save_answer(user, question.id, answer)
        if answer is not False and question.severity == URGENT:
            return self._confirm(user, index)  # one more tap before the urgent verdict
        return self._next(user, index)

    def _confirm(self, user: User, index: int) -> list[Reply]:
        """"You answered yes to ...": the urgent advice, every time this is asked."""
        question = self.services.questions[index]
        self._set(user, f"{SCREEN_PREFIX}{index}{SURE_SUFFIX}")
        unsure = self._answers(user).get(question.id) == NOT_SURE
        key = "safety.confirm_not_sure" if unsure else "safety.confirm_yes"
        tag = tag_for(user.state)
        return [Reply(self.texts(key, question=self._text(user, question)),
                      (Choice(self.texts("safety.button_sure_yes"), button("yes", tag=tag)),
                       Choice(self.texts("safety.button_sure_no"), button("no", tag=tag))))]

    def _sure_answer(self, user: User, index: int, intent: Intent) -> list[Reply]:
        question = self.services.questions[index]
        if intent.verb == "no":
            self._save_answer(user, question.id, False)
            return [Reply(self.texts("safety.meant_no"))] + self._next(user, index)
        if intent.verb in ("yes", NOT_SURE):
            return self._next(user, index)
        return self._confirm(user, index)  # anything else: the same question, urgency and all

    def _next(self, user: User, index: int) -> list[Reply]:
        """The verdict once one is due, else the next question."""
        asked = [self.services.questions[i] for i in self._asked(user)]
        answers = self._answers(user)
        result = verdict(tuple(asked), answers)
        if result is None:  # the next question not answered yet, after this one if possible
            waiting = [i for i in self._asked(user) if self.services.questions[i].id not in answers]
            return self._ask_screen(user, min(waiting, key=lambda i: (i < index, i)))
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
        key = ("screen.red_urgent" if result == URGENT else
               "safety.red_since_cleared" if user.cleared_at else "screen.red_practitioner")
        text = self.texts(key)
        if any(answers.get(q.id) == NOT_SURE for q in flagged(tuple(asked), answers)):
            text = self.texts("safety.not_sure_noted") + "\n" + text
        return [Reply(text, self._blocked_buttons())]

    # -- stopped by the screen ------------------------------------------------------------------

    def blocked(self, user: User, intent: Intent) -> list[Reply]:
        """Someone the screen stopped: the clinician's go-ahead, a slip put right ("I meant
        no", for a sign that was not confirmed already: an urgent one was), or a reminder that
        the programme waits for a practitioner."""
        if intent.verb == "cleared":
            return self.cleared(user)
        if intent.verb == "no" and user.state == RED_FLAG_PREFIX + PRACTITIONER:
            return self._take_back(user)
        return [Reply(self.texts("screen.blocked_reminder"), self._blocked_buttons())]

    def blocked_prompt(self, user: User) -> list[Reply]:
        return [Reply(self.texts("hints.blocked"), self._blocked_buttons())]

    def cleared(self, user: User) -> list[Reply]:
        """"A clinician has checked me": keep the date, and screen again for what is new."""
        now = self.services.clock.now()
        self.services.store.update_user(user.id, cleared_at=now.isoformat(), screen_answers="{}",
                                        screen_result=None)
        user.cleared_at = now.isoformat()
        return [Reply(self.texts("safety.cleared", date=self._cleared_day(user)))] + \
            self._ask_screen(user, self._asked(user)[0])

    def _take_back(self, user: User) -> list[Reply]:
        """"Oops, I meant no": ask again from the first flagged question on, keeping the
        answers given before it."""
        asked = self._asked(user)
        answers = self._answers(user)
        questions = self.services.questions
        flags = [i for i in asked if answers.get(questions[i].id) not in (None, False)]
        if not flags:
            return [Reply(self.texts("safety.redo_none"))]
        first = flags[0]
        kept = {q.id: answers[q.id] for i, q in enumerate(questions)
                if i in asked and i < first and q.id in answers}
        self.services.store.update_user(user.id, screen_answers=json.dumps(kept),
                                        screen_result=None)
        return [Reply(self.texts("safety.redo"))] + self._ask_screen(user, first)

    def _blocked_buttons(self) -> tuple[Choice, ...]:
        return (Choice(self.texts("safety.button_cleared"), button("cleared")),
                Choice(self.texts("buttons.rescreen"), button("rescreen")))

    # -- the screen's questions ---------------------------------------------------------------

    def _asked(self, user: User) -> list[int]:
        """The questions this person is asked, by index: all of them, or after a clinician's
        go-ahead all but the lifelong ones."""
        return [index for index, question in enumerate(self.services.questions)
                if not (user.cleared_at and question.lifelong)]

    def _text(self, user: User, question: Question) -> str:
        """The question as this person hears it: about new or changed symptoms once cleared."""
        if user.cleared_at and question.since_cleared:
            return question.since_cleared.format(date=self._cleared_day(user))
        return question.text

    def _cleared_day(self, user: User) -> str:
        day = localtime.aware(user.cleared_at or "").astimezone(
            localtime.zone_or_utc(user.timezone)).date()
        return localtime.day_month(day, localtime.CalendarNames.from_texts(self.texts))

    def _save_answer(self, user: User, question_id: str, answer: bool | str) -> None:
        answers = self._answers(user)
        answers[question_id] = answer
        self.services.store.update_user(user.id, screen_answers=json.dumps(answers))

    def _baseline(self, user: User, intent: Intent) -> list[Reply] | None:
        if intent.verb == "pain_vague":
            return [vague(self.texts, intent.arg, tag_for(BASELINE))]
        if intent.verb == "not_sure":
            return [Reply(self.texts("pain_check.not_sure"), self._pain_buttons(BASELINE))]
        if intent.verb not in ("number", "pain"):
            return None
        score = int(intent.arg)
        self.services.store.update_user(user.id, baseline_pain=score,
                                        baseline_at=self.services.clock.now().isoformat())
        self._set(user, HAMSTRING)
        return ([Reply(self.texts("pain.baseline_noted", score=score))]
                + clinician_advice(self.services, score) + self.question(user))

    def _hamstring(self, user: User, intent: Intent) -> list[Reply] | None:
        """"Almost" (not quite at 70 degrees) is the "couldn't reach it" answer: tight."""
        found = "tight" if intent.verb == "almost" else intent.arg
        if intent.verb not in ("ham", "almost") or found not in ("ok", "tight", "nerve"):
            return None
        self.services.store.update_user(user.id, hamstring=found)
        self._set(user, REMIND_TIME)
        return [Reply(self.texts(f"onboarding.ham_{found}"))] + self.question(user)

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
        if self._starts_too_sore(user):  # a starting pain of 8-10: no workout today
            return [Reply(self.texts("pain_check.all_set", reminder=reminder)),
                    Reply(self.texts("pain.not_today", score=user.baseline_pain),
                          (Choice(self.texts("buttons.progress"), button("progress")),
                           Choice(self.texts("buttons.help"), button("help"))))]
        minutes = estimated_minutes(self.services, todays_plan(self.services, user))
        return [Reply(self.texts("onboarding.done", reminder=reminder, minutes=minutes),
                      (Choice(self.texts("buttons.start_session"), button("session")),
                       Choice(self.texts("buttons.help"), button("help"))))]

    def _starts_too_sore(self, user: User) -> bool:
        """The starting pain, given today, is too high for a workout today."""
        if user.baseline_pain is None or not user.baseline_at:
            return False
        zone = localtime.zone_or_utc(user.timezone)
        given: date = localtime.aware(user.baseline_at).astimezone(zone).date()
        today = self.services.clock.now().astimezone(zone).date()
        return given == today and blocks_workout_today(self.services.programme.rules,
                                                        user.baseline_pain)

    # -- helpers ------------------------------------------------------------------------------

    def _set(self, user: User, state: str) -> None:
        self.services.store.set_state(user.id, state)
        user.state = state

    def _answers(self, user: User) -> dict[str, Any]:
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


def _screen_step(state: str) -> tuple[int, bool]:
    """"screen:3" -> (3, False); "screen:3:sure" (an urgent answer to confirm) -> (3, True)."""
    step = state[len(SCREEN_PREFIX):]
    sure = step.endswith(SURE_SUFFIX)
    digits = step.removesuffix(SURE_SUFFIX)
    return (int(digits) if digits.isdigit() else 0), sure

