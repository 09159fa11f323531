"""After a workout: the pain answer, what it changes, and the form check before a step up.

The pain answer is recorded and the progression rule (progression.py) says what moves. A step
down happens at once. A step up is only proposed: the stage's form question is asked first,
and only "Yes, every rep" moves it up (form_gate.py); a stage with a weight is asked after
every workout. The questions wait in the store (form_checks) and are asked one at a time, so a
restart between two answers loses nothing. Pain above the hold band brings the stop-for-today
advice; two such workouts within a week pause step-ups and suggest a practitioner. Every change
is told with its reason and kept in the history, naming the pain and the form answer.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from bot.content import Exercise, Stage
from bot.data.store import User
from bot.intents import Intent, button, normalise, pain_buttons
from bot.localtime import aware, zone_or_utc
from bot.replies import Choice, Reply, in_one
from bot.services import Services
from bot.states import FORM_CHECK, PAIN_AFTER, READY, tag_for
from bot.workout import change_words, form_gate, nerve_care
from bot.workout.change_words import Kept, Loaded
from bot.workout.pain import clinician_advice, noted_after, vague
from bot.workout.pain_check import PainCheck
from bot.workout.pain_limits import high_pain_workouts, step_ups_paused, stops_for_today
from bot.workout.progression import DOWN, UP, Move, Session, Verdict, after_workout

AFTER = "after"  # the pain report kind


class AfterWorkout:
    """The pain question after a workout and the form check it may lead to."""

    def __init__(self, services: Services, pain_check: PainCheck,
                 holds_step_ups: Callable[[User], bool]) -> None:
        self.services = services
        self.texts = services.texts
        self.pain_check = pain_check
        self.holds_step_ups = holds_step_ups  # a worse next morning holds step-ups once

    # -- the pain question --------------------------------------------------------------------

    def question(self) -> Reply:
        return Reply(self.texts("pain.ask_after"), pain_buttons(tag_for(PAIN_AFTER)))

    async def answer(self, user: User, intent: Intent) -> list[Reply]:
        """What the person says at "how is your back now?"."""
        buttons = pain_buttons(tag_for(PAIN_AFTER))
        if intent.verb in ("pain", "number"):
            return in_one(self.record(user, int(intent.arg)))
        if intent.verb in ("pain_invalid", "number_invalid"):
            return [Reply(self.texts("pain.out_of_range"), buttons)]
        if intent.verb == "pain_vague":
            return [vague(self.texts, intent.arg, tag_for(PAIN_AFTER))]
        if intent.verb == "not_sure":
            return [Reply(self.texts("pain_check.not_sure"), buttons)]
        return [Reply(self.texts("pain.reask"), buttons)]

    def record(self, user: User, score: int) -> list[Reply]:
        """Keep the answer, step down what must go down, and ask the form questions (or say
        why nothing moves); then the menu, or rest when the pain says so."""
        store, now = self.services.store, self.services.clock.now()
        workout = store.awaiting_pain_workout(user.id)
        if workout is None:  # nothing waits for this answer: it is a pain report like any other
            self._set(user, READY)
            return self.pain_check.any_time(user, score) + self.pain_check.ready_prompt(user)
        store.add_pain(user.id, score, AFTER, now, workout["id"])
        store.set_workout_pain(workout["id"], score)
        replies = [Reply(noted_after(self.texts, workout["pain_before"], score))]
        done = {row["exercise_id"]: row["stage_index"] for row in store.workout_exercises(
            workout["id"]) if row["outcome"] == "done"}
        answers = [(aware(p.at), p.score) for p in store.pain_reports(user.id) if p.kind == AFTER]
        paused, was_paused = self._pause(answers, now)
        verdict = self._verdict(user, score, done, hold=paused or self.holds_step_ups(user))
        downs = [move for move in verdict.moves if move.reason == DOWN]
        ups = [move for move in verdict.moves if move.reason == UP]
        for move in downs:
            store.change_stage(user.id, move.exercise_id, move.from_index, move.to_index,
                               move.reason, move.detail, now, workout["id"])
        replies += change_words.downs(self.texts, self.services.programme, score, downs)
        if done and not verdict.moves:  # nothing finished, nothing to say about stages
            replies.append(self._nothing_moves(user, score, verdict, paused))
        replies += self._pain_advice(score, answers, paused, was_paused, now)
        checks = self._checks(ups, downs, done, score)
        if checks:
            store.add_form_checks(user.id, workout["id"], checks, now)
            self._set(user, FORM_CHECK)
            return replies + self.form_question(user)
        self._set(user, READY)
        return replies + self.pain_check.ready_prompt(user)

    def _verdict(self, user: User, score: int, done: dict[str, int], hold: bool) -> Verdict:
        store, programme = self.services.store, self.services.programme
        zone = zone_or_utc(user.timezone)
        history = {exercise_id: [Session(stage, after, before,
                                         aware(started).astimezone(zone).date())
                                 for stage, after, before, started
                                 in store.exercise_sessions(user.id, exercise_id)]
                   for exercise_id in done}
        nerve_signs = user.hamstring == "nerve"
        kept = {e.id for e in programme.exercises if not nerve_care.may_move_up(e, nerve_signs)}
        return after_workout(programme.rules, score, history, store.stages(user.id),
                             {e.id: len(e.stages) for e in programme.exercises},
                             hold_up=hold, kept=kept)

    def _pause(self, answers: list[tuple[datetime, int]], now: datetime) -> tuple[bool, bool]:
        """Whether step-ups are paused now, and whether they were at the answer before this one
        (`answers`: every after-workout answer, this one last)."""
        rules = self.services.programme.rules
        paused = step_ups_paused(rules, answers, now)
        earlier = answers[:-1]
        was_paused = bool(earlier) and step_ups_paused(rules, earlier, earlier[-1][0])
        return paused, was_paused

    def _nothing_moves(self, user: User, score: int, verdict: Verdict, paused: bool) -> Reply:
        rules, t = self.services.programme.rules, self.texts
        if score <= rules.up_max_pain:
            if paused:
                return Reply(t("changes.paused", days=rules.pause_window_days))
            if self.holds_step_ups(user):
                return Reply(t("progression.held_by_morning"))
            return Reply(t("progression.building", count=rules.up_needs_good_workouts,
                           pain=rules.up_max_pain))
        if verdict.held:
            return Reply(t("progression.hold", score=score))
        return Reply(t("progression.none"))

    def _pain_advice(self, score: int, answers: list[tuple[datetime, int]], paused: bool,
                     was_paused: bool, now: datetime) -> list[Reply]:
        """Stop for today above the hold band; the pause and the practitioner when it is the
        second such workout in the window; the pause lifted; a clinician at the highest scores."""
        rules, t = self.services.programme.rules, self.texts
        replies = []
        if stops_for_today(rules, score):
            replies.append(Reply(t("pain.high")))
            if paused:
                replies.append(Reply(t("pain.step_ups_paused",
                                       count=high_pain_workouts(rules, answers, now),
                                       days=rules.pause_window_days,
                                       limit=rules.stop_for_today_above)))
        elif was_paused and not paused:
            replies.append(Reply(t("pain.step_ups_resumed")))
        return replies + clinician_advice(self.services, score)

    def _checks(self, ups: list[Move], downs: list[Move], done: dict[str, int],
                score: int) -> list[dict[str, Any]]:
        """The form questions to ask: every step up due, and every stage with a weight that
        was trained and is not going down."""
        checks = [{"exercise_id": move.exercise_id, "stage_index": move.from_index, "due_up": True,
                   "pain": score, "detail": move.detail} for move in ups]
        moving = {move.exercise_id for move in ups + downs}
        for exercise_id, stage_index in done.items():
            stage = self.services.programme.exercise(exercise_id).stage_at(stage_index)
            if exercise_id not in moving and form_gate.asks_form(stage, due_to_move_up=False):
                checks.append({"exercise_id": exercise_id, "stage_index": stage_index,
                               "due_up": False, "pain": score})
        return checks

    # -- the form check -----------------------------------------------------------------------

    def form_question(self, user: User) -> list[Reply]:
        """The next unanswered form question, with its three buttons."""
        open_checks = self._open(user)
        if not open_checks:
            self._set(user, READY)
            return self.pain_check.ready_prompt(user)
        current = open_checks[0]
        every = self.services.store.form_checks(user.id, current["workout_id"])
        number = [check["id"] for check in every].index(current["id"]) + 1
        exercise, stage = self._stage(current)
        t = self.texts
        if len(every) == 1:
            key = "form.ask_one" if current["due_up"] else "form.ask_loaded"
            text = t(key, name=exercise.name, question=stage.form.question)
        else:
            text = t("form_check.item", number=number, total=len(every), name=exercise.name,
                     stage=stage.name, question=stage.form.question)
            if number == 1:
                text = t("form_check.several", count=t.plural("plural.exercises", len(every))) \
                    + "\n\n" + text
        buttons = tuple(Choice(t(form_gate.BUTTON_KEYS[answer]),
                               button("form", f"{answer}.{current['id']}", tag_for(FORM_CHECK)))
                        for answer in form_gate.ANSWERS)
        return [Reply(text, buttons)]

    async def form_answer(self, user: User, intent: Intent) -> list[Reply]:
        """One answer to the current form question; after the last, what it all changes."""
        open_checks = self._open(user)
        if not open_checks:
            self._set(user, READY)
            return self.pain_check.ready_prompt(user)
        current = open_checks[0]
        if intent.verb == "form":
            answer, _, check_id = intent.arg.partition(".")
            if check_id != str(current["id"]) or answer not in form_gate.ANSWERS:
                return [Reply(self.texts("menu.stale_button"))] + self.form_question(user)
        else:
            answer = self._typed_answer(intent)
        if answer is None:
            key = "form_check.first" if intent.verb == "session" else "form_check.reask"
            return [Reply(self.texts(key))] + self.form_question(user)
        self.services.store.answer_form_check(current["id"], answer, self.services.clock.now())
        advice = [] if form_gate.allows_step_up(answer) else [change_words.kept_advice(
            self.texts, self.services.programme, current["exercise_id"], current["stage_index"],
            answer)]
        if len(open_checks) > 1:  # what to work on, then the next question, in one message
            [question] = self.form_question(user)
            return [Reply("\n\n".join([*advice, question.text]), question.choices)]
        return [Reply(text) for text in advice] + self._finish(user, current["workout_id"])

    def _typed_answer(self, intent: Intent) -> str | None:
        """"yes" / "mostly" / "not yet" in words; "not sure" is not a yes."""
        said = normalise(intent.raw)
        for answer in form_gate.ANSWERS:
            if said == normalise(self.texts(form_gate.BUTTON_KEYS[answer])):
                return answer
        if said.startswith("not yet") or intent.verb == "no":
            return form_gate.NOT_YET
        if intent.verb in ("almost", "not_sure") or said.startswith("mostly"):
            return form_gate.MOSTLY
        if intent.verb == "yes":
            return form_gate.YES
        return None

    def _finish(self, user: User, workout_id: int) -> list[Reply]:
        """Every question answered: move up what may, keep the rest with its reason, say it."""
        store, now = self.services.store, self.services.clock.now()
        stages = store.stages(user.id)
        ups: list[Move] = []
        kept: list[Kept] = []
        loaded: list[Loaded] = []
        for check in store.form_checks(user.id, workout_id):
            exercise_id, index, answer = check["exercise_id"], check["stage_index"], check["answer"]
            if answer not in form_gate.ANSWERS:
                continue  # closed unanswered
            if not check["due_up"]:
                loaded.append(Loaded(exercise_id, index, answer))
                continue
            if stages.get(exercise_id) != index:
                continue  # the stage changed meanwhile (a next-morning check): nothing to decide
            detail = {**check["detail"], "form": answer}
            if form_gate.allows_step_up(answer):
                move = Move(exercise_id, index, index + 1, UP, detail)
                ups.append(move)
            else:
                move = Move(exercise_id, index, index, form_gate.KEPT_REASON, detail)
                kept.append(Kept(move, answer))
            store.change_stage(user.id, exercise_id, move.from_index, move.to_index, move.reason,
                               detail, now, workout_id)
        self._set(user, READY)
        return (change_words.form_results(self.texts, self.services.programme, ups, kept, loaded)
                + self.pain_check.ready_prompt(user))

    # -- helpers ------------------------------------------------------------------------------

    def _open(self, user: User) -> list[dict[str, Any]]:
        return self.services.store.form_checks(user.id, unanswered=True)

    def _stage(self, check: dict[str, Any]) -> tuple[Exercise, Stage]:
        exercise = self.services.programme.exercise(check["exercise_id"])
        return exercise, exercise.stage_at(check["stage_index"])

    def _set(self, user: User, state: str) -> None:
        self.services.store.set_state(user.id, state)
        user.state = state
