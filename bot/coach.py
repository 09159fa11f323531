"""The conversation engine: every event is routed by the person's saved state to a reply.

Messages from one person are handled one at a time, in order (a lock per person); different
people never wait for each other. Any input in any state gets a helpful answer: unknown text
gets a hint and the choices that make sense now, and a bug answers with an apology, not silence.
"""
from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from typing import Any

from . import progress
from .events import Command, Event, UserKey
from .intents import Intent, button, parse
from .locks import KeyLock, PersonLocks
from .onboarding import RED_FLAG_PREFIX, READY, Onboarding, is_onboarding, pain_buttons, tag_for
from .pain import clinician_advice
from .progression import Session, after_workout
from .replies import Choice, Reply
from .services import Services
from .store import User
from .content import Stage
from .timers import STOPPED, phases_for
from .workout import Position, WorkoutSession, estimated_minutes, todays_plan

log = logging.getLogger(__name__)

WORKOUT, PAIN_AFTER, INTERRUPTED = "workout", "pain_after", "interrupted"
WORKOUT_CONTROLS = frozenset({"pause", "resume", "skip_rest", "add_time", "skip", "stop", "done"})

# Extra routes later features plug in (settings, export, ...): verb -> handler(user, intent).
Route = Callable[[User, Intent], Awaitable[list[Reply]]]


class Coach:
    """Routes events to the step the person is at, and owns the running workouts."""

    def __init__(self, services: Services) -> None:
        self.s = services
        self.t = services.texts
        self.onboarding = Onboarding(services)
        self.workouts: dict[UserKey, WorkoutSession] = {}
        self.routes: dict[str, Route] = {}
        # Features plug in here without editing the routing below:
        #   routes:      verb -> handler, tried before the state's own handling
        #   states:      state prefix -> (handler, prompt) for conversations they own
        #   hold_up:     whether step-ups are held for a person (next-morning rule)
        self.states: dict[str, tuple[Route, Callable[[User], list[Reply]]]] = {}
        self.hold_up: Callable[[User], bool] = lambda user: False
        self.reminders: Any = None  # the reminder service, once installed (bot/reminders.py)
        self.on_start: list[Callable[[], Awaitable[None]]] = []
        self.on_stop: list[Callable[[], Awaitable[None]]] = []
        # Called with the person's key after they erased their data (drop in-memory state).
        self.on_delete: list[Callable[[UserKey], Awaitable[None]]] = []
        self._locks: PersonLocks[UserKey] = PersonLocks()  # dropped when idle

    # -- entry points -------------------------------------------------------------------------

    async def handle(self, event: Event, context: object | None = None, name: str = "") -> None:
        """Answer one event from a person; replies go out before the next event is handled."""
        async with self._lock(event.user):
            try:
                replies = await self._route(event, name)
            except Exception:
                log.exception("error handling an event from %s", event.user)
                replies = [Reply(self.t("menu.error"))]
            for reply in replies:
                await self.s.delivery.send(event.user, reply, context)
            session = self.workouts.get(event.user)
            if session is not None and session.task is None:
                session.start()  # only after the replies above, so cues never overtake them

    async def greet(self, user: UserKey, name: str = "") -> None:
        """A person opened the chat (the terminal at launch): start, or pick up where they were.
        Someone whose workout was cut off has just been asked by `recover`, so is not asked twice."""
        known = self.s.store.find_user(user)
        if known is not None and known.state == INTERRUPTED:
            return
        await self.handle(Command(user, "start"), name=name)

    async def settled(self, user: UserKey) -> None:
        """Return once the coach waits for this person: no timer running, all replies out."""
        while True:
            session = self.workouts.get(user)
            if session is None or session.waiting_for_person:
                async with self._lock(user):
                    return
            session.changed.clear()
            await session.changed.wait()

    async def start(self) -> None:
        """Once the adapters are up: recover interrupted workouts, then start the services
        (reminders, summaries) that plugged themselves in."""
        await self.recover()
        for hook in self.on_start:
            await hook()

    async def recover(self) -> None:
        """After a restart: offer everyone whose workout was cut off to resume or finish."""
        for row in self.s.store.workouts_with_status("running"):
            self.s.store.set_workout_status(row["id"], "interrupted")
        newest: dict[int, dict] = {}
        for row in self.s.store.workouts_with_status("interrupted"):  # oldest first
            if row["user_id"] in newest:  # an older cut-off workout nobody came back to
                self.s.store.set_workout_status(newest[row["user_id"]]["id"], "abandoned")
            newest[row["user_id"]] = row
        for row in newest.values():
            user = self.s.store.user_by_id(row["user_id"])
            if user.state in (WORKOUT, INTERRUPTED):
                self.s.store.set_state(user.id, INTERRUPTED)
                user.state = INTERRUPTED
                for reply in self._interrupted_question(user):
                    await self.s.delivery.send(user.key, reply)

    async def shutdown(self) -> None:
        """Stop timers without touching saved state, so a restart can offer to resume."""
        for hook in self.on_stop:
            await hook()
        for session in list(self.workouts.values()):
            if session.task is not None:
                session.task.cancel()
        await asyncio.gather(*(s.task for s in self.workouts.values() if s.task),
                             return_exceptions=True)

    def lock(self, user: UserKey) -> KeyLock[UserKey]:
        """The per-person lock: hold it to change a person's state from outside an event."""
        return self._lock(user)

    def _lock(self, user: UserKey) -> KeyLock[UserKey]:
        return self._locks[user]

    # -- routing ------------------------------------------------------------------------------

    async def _route(self, event: Event, name: str) -> list[Reply]:
        intent = parse(event)
        if not event.private:  # before any lookup: a bystander in a group leaves no trace
            return [Reply(self.t("menu.private_only"))]
        user = self.s.store.user(event.user, self.s.clock.now(), name)
        if intent.tag is not None and intent.tag != self._tag(user):
            return [Reply(self.t("menu.stale_button"))] + self.prompt(user)
        if intent.verb in self.routes:
            return await self.routes[intent.verb](user, intent)
        if user.state == "new":
            return self.onboarding.begin(user)
        if is_onboarding(user.state):
            return self._onboarding(user, intent)
        if intent.verb == "help":
            return self._help(user)
        if intent.verb == "start" and user.state != READY:
            name = f", {user.name}" if user.name else ""
            return [Reply(self.t("menu.welcome_back", name=name))] + self.prompt(user)
        if intent.verb == "rescreen":
            return self._rescreen(user)
        if user.state.startswith(RED_FLAG_PREFIX):
            return [Reply(self.t("screen.blocked_reminder"),
                          (Choice(self.t("buttons.rescreen"), button("rescreen")),))]
        if intent.verb == "progress":
            return await progress.answer(self.s, user)
        if intent.verb == "why":
            return progress.why(self.s, user, intent.arg)
        for prefix, (state_handler, _) in self.states.items():
            if user.state.startswith(prefix):
                return await state_handler(user, intent)
        handler = {WORKOUT: self._in_workout, PAIN_AFTER: self._in_pain_after,
                   INTERRUPTED: self._in_interrupted}.get(user.state, self.in_ready)
        return await handler(user, intent)

    def _tag(self, user: User) -> str:
        if user.state == WORKOUT and user.key in self.workouts:
            return self.workouts[user.key].tag
        return {PAIN_AFTER: "after", INTERRUPTED: "int"}.get(user.state, tag_for(user.state))

    def prompt(self, user: User) -> list[Reply]:
        """The question or choices that fit the person's state right now."""
        if user.state == "new" or is_onboarding(user.state):
            return self.onboarding.question(user)
        if user.state.startswith(RED_FLAG_PREFIX):
            return [Reply(self.t("hints.blocked"),
                          (Choice(self.t("buttons.rescreen"), button("rescreen")),))]
        if user.state == PAIN_AFTER:
            return [Reply(self.t("pain.ask_after"), pain_buttons("after"))]
        if user.state == INTERRUPTED:
            return self._interrupted_question(user)
        if user.state == WORKOUT:
            return [Reply(self.t("hints.workout"))]
        for prefix, (_, prompt) in self.states.items():
            if user.state.startswith(prefix):
                return prompt(user)
        return [self.menu()]

    def menu(self, key: str = "menu.ready") -> Reply:
        return Reply(self.t(key), (Choice(self.t("buttons.start_session"), button("session")),
                                   Choice(self.t("buttons.progress"), button("progress")),
                                   Choice(self.t("buttons.help"), button("help"))))

    def _help(self, user: User) -> list[Reply]:
        """The help text; between workouts it carries the menu's buttons in the same message."""
        if user.state == READY:
            return [Reply(self.t("menu.help"), self.menu().choices)]
        return [Reply(self.t("menu.help"))] + self.prompt(user)

    def _unknown(self, user: User, hint_key: str) -> list[Reply]:
        return [Reply(self.t("menu.unknown", hint=self.t(hint_key)))] + self.prompt(user)

    # -- onboarding and screening -------------------------------------------------------------

    def _onboarding(self, user: User, intent: Intent) -> list[Reply]:
        replies = self.onboarding.answer(user, intent)
        if replies is not None:
            return replies
        if intent.verb == "help":
            return [Reply(self.t("menu.help"))] + self.onboarding.question(user)
        if intent.verb == "start":
            return [Reply(self.t("onboarding.intro_again"))] + self.onboarding.question(user)
        if intent.verb == "rescreen":
            return self.onboarding.restart_screen(user)
        return self._unknown(user, "hints.onboarding")

    def _rescreen(self, user: User) -> list[Reply]:
        """Not while a workout runs or waits for its pain answer: that answer would be lost."""
        if user.state in (WORKOUT, PAIN_AFTER, INTERRUPTED):
            return [Reply(self.t("menu.not_now", hint=self.t("hints.rescreen_later")))] + \
                self.prompt(user)
        return self.onboarding.restart_screen(user)

    # -- ready: between workouts --------------------------------------------------------------

    async def in_ready(self, user: User, intent: Intent) -> list[Reply]:
        verb = intent.verb
        if verb == "session":
            return self._start_workout(user)
        if verb in ("pain", "number"):
            return self._adhoc_pain(user, int(intent.arg))
        if verb in ("pain_invalid", "number_invalid"):
            return [Reply(self.t("pain.out_of_range"))]
        if verb == "start":
            name = f", {user.name}" if user.name else ""
            return [Reply(self.t("menu.welcome_back", name=name)), self.menu()]
        if verb in WORKOUT_CONTROLS:
            return [Reply(self.t("workout.nothing_running")), self.menu()]
        return self._unknown(user, "hints.ready")

    def _adhoc_pain(self, user: User, score: int) -> list[Reply]:
        self.s.store.add_pain(user.id, score, "adhoc", self.s.clock.now())
        return [Reply(self.t("pain.noted_any", score=score))] + clinician_advice(self.s, score)

    def _start_workout(self, user: User) -> list[Reply]:
        if user.state != READY:
            return [Reply(self.t("workout.not_ready", hint=self.t("hints.ready")))]
        latest = self.s.store.latest_pain(user.id)
        before = latest.score if latest else user.baseline_pain
        position = Position()
        workout_id = self.s.store.start_workout(user.id, self.s.clock.now(), before,
                                                asdict(position))
        self.s.store.set_state(user.id, WORKOUT)
        self._begin_session(user, workout_id, position)
        plan = todays_plan(self.s, user)
        return [Reply(self.t("workout.start", count=len(plan),
                             minutes=estimated_minutes(self.s, plan)))]

    def _begin_session(self, user: User, workout_id: int, position: Position) -> None:
        """Create the running workout; `handle` starts its timer once the replies are out."""
        self.workouts[user.key] = WorkoutSession(self.s, user, workout_id, position,
                                                 self._workout_finished)

    # -- during a workout ---------------------------------------------------------------------

    async def _in_workout(self, user: User, intent: Intent) -> list[Reply]:
        session = self.workouts.get(user.key)
        if session is None:  # saved state says workout, but nothing runs: treat as interrupted
            self.s.store.set_state(user.id, INTERRUPTED)
            user.state = INTERRUPTED
            return self._interrupted_question(user)
        verb = intent.verb
        if verb in WORKOUT_CONTROLS:
            key = session.control(verb)
            return [Reply(self.t(key, seconds=10))] if key else []
        if verb == "session":
            return [Reply(self.t("workout.already"))]
        if verb in ("pain", "number"):
            return self._adhoc_pain(user, int(intent.arg))
        hint = "hints.paced" if session.waiting_for_person else "hints.workout"
        return [Reply(self.t("menu.unknown", hint=self.t(hint)))]

    async def _workout_finished(self, session: WorkoutSession, outcome: str) -> None:
        """The timer ended (all done, or stopped): save it and ask about pain."""
        user = session.user
        async with self._lock(user.key):
            if self.workouts.get(user.key) is session:
                del self.workouts[user.key]
            if self.s.store.find_user(user.key) is None:
                return  # the person deleted their data meanwhile
            status = "stopped" if outcome == STOPPED else "done"
            self.s.store.set_workout_status(session.workout_id, status, self.s.clock.now())
            self.s.store.set_state(user.id, PAIN_AFTER)
            key = "workout.stopped" if outcome == STOPPED else "workout.finished"
            await self.s.delivery.send(user.key, Reply(self.t(key)))
            await self.s.delivery.send(user.key, Reply(self.t("pain.ask_after"),
                                                       pain_buttons("after")))

    # -- after a workout ----------------------------------------------------------------------

    async def _in_pain_after(self, user: User, intent: Intent) -> list[Reply]:
        if intent.verb in ("pain", "number"):
            return self._record_pain_after(user, int(intent.arg))
        if intent.verb in ("pain_invalid", "number_invalid"):
            return [Reply(self.t("pain.out_of_range"), pain_buttons("after"))]
        return [Reply(self.t("pain.reask"), pain_buttons("after"))]

    def _record_pain_after(self, user: User, score: int) -> list[Reply]:
        store, now = self.s.store, self.s.clock.now()
        workout = store.awaiting_pain_workout(user.id)
        replies = [Reply(self.t("pain.noted", score=score))]
        if workout is not None:
            store.add_pain(user.id, score, "after", now, workout["id"])
            store.set_workout_pain(workout["id"], score)
            replies += self._apply_progression(user, workout, score)
        else:
            store.add_pain(user.id, score, "adhoc", now)
        replies += clinician_advice(self.s, score)
        store.set_state(user.id, READY)
        user.state = READY
        return replies + [self.menu()]

    def _apply_progression(self, user: User, workout: dict, score: int) -> list[Reply]:
        store, programme = self.s.store, self.s.programme
        done = [r["exercise_id"] for r in store.workout_exercises(workout["id"])
                if r["outcome"] == "done"]
        if not done:
            return []
        stages = store.stages(user.id)
        history = {e: [Session(st, pain, before) for st, pain, before in
                       store.exercise_history(user.id, e)] for e in done}
        held_by_morning = self.hold_up(user)
        verdict = after_workout(programme.rules, score, history, stages,
                                {e.id: len(e.stages) for e in programme.exercises},
                                hold_up=held_by_morning)
        replies = []
        for move in verdict.moves:
            exercise = programme.exercise(move.exercise_id)
            store.change_stage(user.id, move.exercise_id, move.from_index, move.to_index,
                               move.reason, move.detail, self.s.clock.now(), workout["id"])
            stage = exercise.stages[move.to_index].name
            if move.reason == "up":
                replies.append(Reply(self.t("progression.up", name=exercise.name, stage=stage,
                                            count=move.detail["count"],
                                            scores=", ".join(map(str, move.detail["scores"])))))
            else:
                replies.append(Reply(self.t("progression.down", name=exercise.name, stage=stage,
                                            score=score, limit=programme.rules.down_above_pain)))
        if not verdict.moves:
            key = "progression.none"
            if score <= self.s.programme.rules.up_max_pain:
                key = "progression.held_by_morning" if held_by_morning else "progression.building"
            elif verdict.held:
                key = "progression.hold"
            rules = programme.rules
            replies.append(Reply(self.t(key, score=score, count=rules.up_needs_good_workouts,
                                        pain=rules.up_max_pain)))
        return replies

    # -- after a restart ----------------------------------------------------------------------

    def _interrupted_question(self, user: User) -> list[Reply]:
        row = self.s.store.running_workout(user.id)
        if row is None:
            self.s.store.set_state(user.id, READY)
            return [self.menu()]
        position = Position.from_dict(json.loads(row["position"] or "{}"))
        plan = todays_plan(self.s, user)
        index = min(position.exercise, len(plan) - 1)
        exercise, stage = plan[index]
        where = self._where(stage, position.phase)
        text = self.t("workout.interrupted", exercise=exercise.name, where=where,
                      done=len(position.done), total=len(plan))
        return [Reply(text, (
            Choice(self.t("buttons.resume_workout", exercise=exercise.name),
                   button("resume_workout", tag="int")),
            Choice(self.t("buttons.finish_now"), button("finish_now", tag="int"))))]

    def _where(self, stage: Stage, phase_index: int) -> str:
        """"rep 4/10" or "set 2/2" for the message after a restart."""
        phases = phases_for(stage.plan, self.s.programme.rules)
        phase = phases[min(phase_index, len(phases) - 1)]
        if phase_index == 0:
            return self.t("workout.interrupted_where_start")
        if phase.reps > 1 and phase.rep:
            return self.t("workout.interrupted_where_rep", rep=phase.rep, reps=phase.reps)
        if phase.sets > 1:
            return self.t("workout.interrupted_where_set", set=phase.set, sets=phase.sets)
        return self.t("workout.interrupted_where_start")

    async def _in_interrupted(self, user: User, intent: Intent) -> list[Reply]:
        row = self.s.store.running_workout(user.id)
        if row is None:
            self.s.store.set_state(user.id, READY)
            return [self.menu()]
        if intent.verb in ("resume_workout", "resume", "session", "yes"):
            position = Position.from_dict(json.loads(row["position"] or "{}"))
            position.phase = 0  # the exercise starts again from its beginning
            self.s.store.set_workout_status(row["id"], "running")
            self.s.store.set_state(user.id, WORKOUT)
            self._begin_session(user, row["id"], position)
            return [Reply(self.t("workout.resumed"))]
        if intent.verb in ("finish_now", "stop", "no", "done"):
            self.s.store.set_workout_status(row["id"], "stopped", self.s.clock.now())
            self.s.store.set_state(user.id, PAIN_AFTER)
            return [Reply(self.t("workout.stopped")),
                    Reply(self.t("pain.ask_after"), pain_buttons("after"))]
        return self._unknown(user, "hints.onboarding")
