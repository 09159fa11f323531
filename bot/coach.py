"""The conversation engine: every event is routed by the person's saved state to a reply.

Messages from one person are handled one at a time, in order (a lock per person); different
people never wait for each other. Any input in any state gets a helpful answer: unknown text
gets a hint and the choices that make sense now, and a bug answers with an apology, not silence.
"""
from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import asdict

from bot.progress import report as progress
from bot.events import Command, Event, Text, UserKey
from bot.intents import Intent, button, parse
from bot.routing import Feature, RoutingTable, StateRoute, Tier, verbs
from bot.intents import pain_buttons
from bot.onboarding.flow import Onboarding
from bot.states import INTERRUPTED, NEW, PAIN_AFTER, READY, RED_FLAG_PREFIX, WORKOUT, tag_for
from bot.workout.pain import clinician_advice
from bot.workout.progression import Session, after_workout
from bot.replies import Choice, Reply
from bot.services import Services
from bot.clock import Clock
from bot.delivery import Outbound
from bot.data.store import User
from bot.data.turns import Turns
from bot.content import Stage
from bot.workout.timers import STOPPED, phases_for
from bot.workout.session import Position, WorkoutSession, estimated_minutes, todays_plan

log = logging.getLogger(__name__)

WORKOUT_CONTROLS = frozenset({"pause", "resume", "skip_rest", "add_time", "skip", "stop", "done"})
ONBOARDING_STATES = ("intro", "baseline", "hamstring", "remind_time", "remind_zone", "screen:")
SMALL_TALK = frozenset({"hello", "thanks", "bye"})


class Coach:
    """Routes events to the step the person is at, and owns the running workouts."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.texts = services.texts
        self.onboarding = Onboarding(services)
        self.table = RoutingTable()
        self._workouts: dict[UserKey, WorkoutSession] = {}
        self._locks: dict[UserKey, asyncio.Lock] = {}
        self.turns = Turns(services)  # one transaction per event, each update handled once
        self.table.add(self._core_feature())

    def use(self, *features: Feature) -> None:
        """Add the features (reminders, settings, my data, ...) to the one routing table."""
        for feature in features:
            self.table.add(feature)

    def _core_feature(self) -> Feature:
        """The coach's own verbs and states, declared like any feature's."""
        onboarding = tuple(StateRoute(state, self._onboarding, self.onboarding.question,
                                      opens=Tier.SOCIAL) for state in ONBOARDING_STATES)
        return Feature(
            name="coach",
            verbs=verbs(Tier.SOCIAL, {verb: self._small_talk for verb in (*SMALL_TALK, "quit")})
            + verbs(Tier.AFTER_ONBOARDING, {"help": self._help, "start": self._welcome_back,
                                                "rescreen": self._rescreen})
            + verbs(Tier.IN_PROGRAMME, {"progress": self._progress, "why": self._why}),
            states=(StateRoute(NEW, self._begin, self.onboarding.question, opens=None),
                    *onboarding,
                    StateRoute(RED_FLAG_PREFIX, self._blocked, self._blocked_prompt,
                               opens=Tier.AFTER_ONBOARDING),
                    StateRoute(READY, self.in_ready, lambda user: [self.menu()]),
                    StateRoute(WORKOUT, self._in_workout,
                               lambda user: [Reply(self.texts("hints.workout"))]),
                    StateRoute(PAIN_AFTER, self._in_pain_after,
                               lambda user: [Reply(self.texts("pain.ask_after"),
                                                   pain_buttons("after"))]),
                    StateRoute(INTERRUPTED, self._in_interrupted, self._interrupted_question)))

    # -- entry points -------------------------------------------------------------------------

    async def handle(self, event: Event, context: object | None = None, name: str = "") -> None:
        """Answer one event from a person; replies go out before the next event is handled.
        An update the platform delivers again has no second effect (bot/data/turns.py)."""
        async with self._lock(event.user):
            await self.turns.run(event, lambda: self._route(event, name), context)
            session = self._workouts.get(event.user)
            if session is not None and session.task is None:
                session.start()  # only after the replies above, so cues never overtake them

    async def greet(self, user: UserKey, name: str = "") -> None:
        """A person opened the chat (the terminal at launch): start, or pick up where they were.
        Someone whose workout was cut off has just been asked by `recover`, so is not asked twice."""
        known = self.services.store.find_user(user)
        if known is not None and known.state == INTERRUPTED:
            return
        await self.handle(Command(user, "start"), name=name)

    async def settled(self, user: UserKey) -> None:
        """Return once the coach waits for this person: no timer running, all replies out."""
        while True:
            session = self._workouts.get(user)
            if session is None or session.waiting_for_person:
                async with self._lock(user):
                    return
            session.changed.clear()
            await session.changed.wait()

    async def let_finish(self, user: UserKey) -> None:
        """The person has gone (end of input): a running timer plays out to its end, and a set
        waiting for their "done" is stopped, so the workout is saved either way."""
        while user in self._workouts:
            await self.settled(user)
            session = self._workouts.get(user)
            if session is not None and session.waiting_for_person:
                await self.handle(Text(user, "stop"))
                if session.task is not None:
                    await session.task

    async def start(self) -> None:
        """Once the adapters are up: recover interrupted workouts, then start the services
        (reminders, summaries) that plugged themselves in."""
        await self.recover()
        for hook in self.table.hooks("on_start"):
            await hook()

    async def recover(self) -> None:
        """After a restart: offer everyone whose workout was cut off to resume or finish."""
        for row in self.services.store.workouts_with_status("running"):
            self.services.store.set_workout_status(row["id"], "interrupted")
        newest: dict[int, dict] = {}
        for row in self.services.store.workouts_with_status("interrupted"):  # oldest first
            if row["user_id"] in newest:  # an older cut-off workout nobody came back to
                self.services.store.set_workout_status(newest[row["user_id"]]["id"], "abandoned")
            newest[row["user_id"]] = row
        for row in newest.values():
            user = self.services.store.user_by_id(row["user_id"])
            if user.state in (WORKOUT, INTERRUPTED):
                self.services.store.set_state(user.id, INTERRUPTED)
                user.state = INTERRUPTED
                for reply in self._interrupted_question(user):
                    await self.services.delivery.send(user.key, reply)

    async def shutdown(self) -> None:
        """Stop timers without touching saved state, so a restart can offer to resume."""
        for hook in self.table.hooks("on_stop"):
            await hook()
        sessions = list(self._workouts.values())
        for session in sessions:
            if session.task is not None:
                session.task.cancel()
        await asyncio.gather(*(session.task for session in sessions if session.task),
                             return_exceptions=True)

    def register(self, adapter: Outbound) -> None:
        """An adapter offers itself as the way out to its platform's people."""
        self.services.delivery.register(adapter)

    async def send(self, user: UserKey, reply: Reply, context: object | None = None) -> bool:
        """Send outside a conversation turn, within the person's budget (adapters' notices)."""
        return await self.services.delivery.send(user, reply, context)

    @property
    def clock(self) -> Clock:
        return self.services.clock

    async def unreachable(self, user: UserKey, reason: str) -> None:
        """No platform can reach this person (blocked, closed DMs): stop reminding them, keep
        why, and let features forget what they had due."""
        row = self.services.store.find_user(user)
        if row is not None:
            self.services.store.update_user(row.id, reminders_on=0,
                                            unreachable_reason=reason[:200])
        for hook in self.table.hooks("on_unreachable"):
            await hook(user, reason)

    def close(self) -> None:
        """After shutdown: close the database."""
        self.services.store.close()

    def running(self, user: UserKey) -> WorkoutSession | None:
        """The person's running workout, to look at (tests, the timer benchmark)."""
        return self._workouts.get(user)

    def workout_running(self, user: UserKey) -> bool:
        """A timer is running (or waiting for "done") for this person right now."""
        return user in self._workouts

    def end_workout_quietly(self, user: UserKey) -> None:
        """End a running workout without a word and without saving anything afterwards (the
        person has just erased their data)."""
        session = self._workouts.pop(user, None)
        if session is not None:
            session.abandon()

    def lock(self, user: UserKey) -> asyncio.Lock:
        """The per-person lock: hold it to change a person's state from outside an event."""
        return self._lock(user)

    def _lock(self, user: UserKey) -> asyncio.Lock:
        lock = self._locks.get(user)
        if lock is None:
            lock = self._locks[user] = asyncio.Lock()
        return lock

    # -- routing ------------------------------------------------------------------------------

    async def _route(self, event: Event, name: str) -> list[Reply]:
        """Read the routing table in its order of precedence (bot/routing.py)."""
        intent = parse(event)
        if not event.private:  # before any lookup: a bystander in a group leaves no trace
            return [Reply(self.texts("menu.private_only"))]
        user = self.services.store.user(event.user, self.services.clock.now(), name)
        if intent.tag is not None and intent.tag != self._tag(user):
            return [Reply(self.texts("menu.stale_button"))] + self.prompt(user)
        anywhere = self.table.verb(intent.verb, Tier.ANYWHERE)
        if anywhere is not None:
            return await anywhere(user, intent)
        state = self._state_route(user)
        for tier in (Tier.SOCIAL, Tier.AFTER_ONBOARDING, Tier.IN_PROGRAMME):
            handler = self.table.verb(intent.verb, tier)
            if handler is not None and state.opens is not None and tier <= state.opens:
                return await handler(user, intent)
        return await state.answer(user, intent)

    def _state_route(self, user: User) -> StateRoute:
        """The conversation the person is in; an unknown saved state is treated as ready."""
        return self.table.state(user.state) or self.table.state(READY)  # type: ignore[return-value]

    def _tag(self, user: User) -> str:
        if user.state == WORKOUT and user.key in self._workouts:
            return self._workouts[user.key].tag
        return tag_for(user.state)

    def prompt(self, user: User) -> list[Reply]:
        """The question or choices that fit the person's state right now."""
        return self._state_route(user).prompt(user)

    def menu(self, key: str = "menu.ready") -> Reply:
        return Reply(self.texts(key), (Choice(self.texts("buttons.start_session"), button("session")),
                                   Choice(self.texts("buttons.progress"), button("progress")),
                                   Choice(self.texts("buttons.help"), button("help"))))

    async def _welcome_back(self, user: User, intent: Intent) -> list[Reply]:
        name = f", {user.name}" if user.name else ""
        return [Reply(self.texts("menu.welcome_back", name=name))] + self.prompt(user)

    async def _progress(self, user: User, intent: Intent) -> list[Reply]:
        return await progress.answer(self.services, user)

    async def _why(self, user: User, intent: Intent) -> list[Reply]:
        return progress.why(self.services, user, intent.arg)

    async def _begin(self, user: User, intent: Intent) -> list[Reply]:
        return self.onboarding.begin(user)

    async def _blocked(self, user: User, intent: Intent) -> list[Reply]:
        return [Reply(self.texts("screen.blocked_reminder"),
                      (Choice(self.texts("buttons.rescreen"), button("rescreen")),))]

    def _blocked_prompt(self, user: User) -> list[Reply]:
        return [Reply(self.texts("hints.blocked"),
                      (Choice(self.texts("buttons.rescreen"), button("rescreen")),))]

    async def _help(self, user: User, intent: Intent) -> list[Reply]:
        """The help text; between workouts it carries the menu's buttons in the same message."""
        if user.state == READY:
            return [Reply(self.texts("menu.help"), self.menu().choices)]
        return [Reply(self.texts("menu.help"))] + self.prompt(user)

    async def _small_talk(self, user: User, intent: Intent) -> list[Reply]:
        """Hello, thanks and bye get one kind line; a question still open is asked again, and
        a hello between workouts comes with the menu. "quit" during a workout, or at the
        question after one was cut off, stops it, as "stop" does."""
        verb = intent.verb
        if verb == "quit" and user.state in (WORKOUT, INTERRUPTED):
            return await self._state_route(user).answer(user, intent)
        name = f", {user.name}" if user.name else ""
        key = {"hello": "chat.hello", "thanks": "chat.thanks"}.get(verb, "chat.bye")
        if user.state == WORKOUT:
            key = "chat.bye_workout" if key == "chat.bye" else key
            return [Reply(self.texts(key, name=name))]
        if user.state == READY and verb != "hello":
            return [Reply(self.texts(key, name=name))]
        return [Reply(self.texts(key, name=name))] + self.prompt(user)

    def _unknown(self, user: User, hint_key: str) -> list[Reply]:
        return [Reply(self.texts("menu.unknown", hint=self.texts(hint_key)))] + self.prompt(user)

    # -- onboarding and screening -------------------------------------------------------------

    async def _onboarding(self, user: User, intent: Intent) -> list[Reply]:
        replies = self.onboarding.answer(user, intent)
        if replies is not None:
            return replies
        if intent.verb == "help":
            return [Reply(self.texts("menu.help"))] + self.onboarding.question(user)
        if intent.verb == "start":
            return [Reply(self.texts("onboarding.intro_again"))] + self.onboarding.question(user)
        if intent.verb == "rescreen":
            return self.onboarding.restart_screen(user)
        return self._unknown(user, "hints.onboarding")

    async def _rescreen(self, user: User, intent: Intent) -> list[Reply]:
        """Not while a workout runs or waits for its pain answer: that answer would be lost."""
        if user.state in (WORKOUT, PAIN_AFTER, INTERRUPTED):
            return [Reply(self.texts("menu.not_now", hint=self.texts("hints.rescreen_later")))] + \
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
            return [Reply(self.texts("pain.out_of_range"))]
        if verb in WORKOUT_CONTROLS or verb == "next":
            return [Reply(self.texts("workout.nothing_running")), self.menu()]
        return self._unknown(user, "hints.ready")

    def _adhoc_pain(self, user: User, score: int) -> list[Reply]:
        self.services.store.add_pain(user.id, score, "adhoc", self.services.clock.now())
        return [Reply(self.texts("pain.noted_any", score=score))] + clinician_advice(self.services, score)

    def _start_workout(self, user: User) -> list[Reply]:
        if user.state != READY:
            return [Reply(self.texts("workout.not_ready", hint=self.texts("hints.ready")))]
        latest = self.services.store.latest_pain(user.id)
        before = latest.score if latest else user.baseline_pain
        position = Position()
        workout_id = self.services.store.start_workout(user.id, self.services.clock.now(), before,
                                                asdict(position))
        self.services.store.set_state(user.id, WORKOUT)
        self._begin_session(user, workout_id, position)
        plan = todays_plan(self.services, user)
        return [Reply(self.texts("workout.start", count=len(plan),
                             minutes=estimated_minutes(self.services, plan)))]

    def _begin_session(self, user: User, workout_id: int, position: Position) -> None:
        """Create the running workout; `handle` starts its timer once the replies are out."""
        self._workouts[user.key] = WorkoutSession(self.services, user, workout_id, position,
                                                 self._workout_finished)

    # -- during a workout ---------------------------------------------------------------------

    async def _in_workout(self, user: User, intent: Intent) -> list[Reply]:
        session = self._workouts.get(user.key)
        if session is None:  # saved state says workout, but nothing runs: treat as interrupted
            self.services.store.set_state(user.id, INTERRUPTED)
            user.state = INTERRUPTED
            return self._interrupted_question(user)
        verb = intent.verb
        if verb == "next":  # a set at one's own pace ends; otherwise, as before, the exercise
            verb = "done" if session.waiting_for_person else "skip"
        if verb == "quit":  # as before "quit" became its own verb; the terminal may keep it
            verb = "stop"
        if verb == "negated":  # "don't stop", "I'm not done yet": nothing changes
            return [Reply(self.texts("answers.negated"))]
        if verb in WORKOUT_CONTROLS:
            key = session.control(verb)
            return [Reply(self.texts(key, seconds=10))] if key else []
        if verb == "session":
            return [Reply(self.texts("workout.already"))]
        if verb in ("pain", "number"):
            return self._adhoc_pain(user, int(intent.arg))
        hint = "hints.paced" if session.waiting_for_person else "hints.workout"
        return [Reply(self.texts("menu.unknown", hint=self.texts(hint)))]

    async def _workout_finished(self, session: WorkoutSession, outcome: str) -> None:
        """The timer ended (all done, or stopped): save it and ask about pain."""
        user = session.user
        async with self._lock(user.key):
            if self._workouts.get(user.key) is session:
                del self._workouts[user.key]
            if self.services.store.find_user(user.key) is None:
                return  # the person deleted their data meanwhile
            status = "stopped" if outcome == STOPPED else "done"
            self.services.store.set_workout_status(session.workout_id, status, self.services.clock.now())
            self.services.store.set_state(user.id, PAIN_AFTER)
            key = "workout.stopped" if outcome == STOPPED else "workout.finished"
            await self.services.delivery.send(user.key, Reply(self.texts(key)))
            await self.services.delivery.send(user.key, Reply(self.texts("pain.ask_after"),
                                                       pain_buttons("after")))

    # -- after a workout ----------------------------------------------------------------------

    async def _in_pain_after(self, user: User, intent: Intent) -> list[Reply]:
        if intent.verb in ("pain", "number"):
            return self._record_pain_after(user, int(intent.arg))
        if intent.verb in ("pain_invalid", "number_invalid"):
            return [Reply(self.texts("pain.out_of_range"), pain_buttons("after"))]
        return [Reply(self.texts("pain.reask"), pain_buttons("after"))]

    def _record_pain_after(self, user: User, score: int) -> list[Reply]:
        store, now = self.services.store, self.services.clock.now()
        workout = store.awaiting_pain_workout(user.id)
        replies = [Reply(self.texts("pain.noted", score=score))]
        if workout is not None:
            store.add_pain(user.id, score, "after", now, workout["id"])
            store.set_workout_pain(workout["id"], score)
            replies += self._apply_progression(user, workout, score)
        else:
            store.add_pain(user.id, score, "adhoc", now)
        replies += clinician_advice(self.services, score)
        store.set_state(user.id, READY)
        user.state = READY
        return replies + [self.menu()]

    def _apply_progression(self, user: User, workout: dict, score: int) -> list[Reply]:
        store, programme = self.services.store, self.services.programme
        done = [r["exercise_id"] for r in store.workout_exercises(workout["id"])
                if r["outcome"] == "done"]
        if not done:
            return []
        stages = store.stages(user.id)
        history = {e: [Session(st, pain, before) for st, pain, before in
                       store.exercise_history(user.id, e)] for e in done}
        held_by_morning = self.table.holds_step_ups(user)
        verdict = after_workout(programme.rules, score, history, stages,
                                {e.id: len(e.stages) for e in programme.exercises},
                                hold_up=held_by_morning)
        replies = []
        for move in verdict.moves:
            exercise = programme.exercise(move.exercise_id)
            store.change_stage(user.id, move.exercise_id, move.from_index, move.to_index,
                               move.reason, move.detail, self.services.clock.now(), workout["id"])
            stage = exercise.stages[move.to_index].name
            if move.reason == "up":
                replies.append(Reply(self.texts("progression.up", name=exercise.name, stage=stage,
                                            count=move.detail["count"],
                                            scores=", ".join(map(str, move.detail["scores"])))))
            else:
                replies.append(Reply(self.texts("progression.down", name=exercise.name, stage=stage,
                                            score=score, limit=programme.rules.down_above_pain)))
        if not verdict.moves:
            key = "progression.none"
            if score <= self.services.programme.rules.up_max_pain:
                key = "progression.held_by_morning" if held_by_morning else "progression.building"
            elif verdict.held:
                key = "progression.hold"
            rules = programme.rules
            replies.append(Reply(self.texts(key, score=score, count=rules.up_needs_good_workouts,
                                        pain=rules.up_max_pain)))
        return replies

    # -- after a restart ----------------------------------------------------------------------

    def _interrupted_question(self, user: User) -> list[Reply]:
        row = self.services.store.running_workout(user.id)
        if row is None:
            self.services.store.set_state(user.id, READY)
            return [self.menu()]
        position = Position.from_dict(json.loads(row["position"] or "{}"))
        plan = todays_plan(self.services, user)
        index = min(position.exercise, len(plan) - 1)
        exercise, stage = plan[index]
        where = self._where(stage, position.phase)
        text = self.texts("workout.interrupted", exercise=exercise.name, where=where,
                      done=len(position.done), total=len(plan))
        return [Reply(text, (
            Choice(self.texts("buttons.resume_workout", exercise=exercise.name),
                   button("resume_workout", tag="int")),
            Choice(self.texts("buttons.finish_now"), button("finish_now", tag="int"))))]

    def _where(self, stage: Stage, phase_index: int) -> str:
        """"rep 4/10" or "set 2/2" for the message after a restart."""
        phases = phases_for(stage.plan, self.services.programme.rules)
        phase = phases[min(phase_index, len(phases) - 1)]
        if phase_index == 0:
            return self.texts("workout.interrupted_where_start")
        if phase.reps > 1 and phase.rep:
            return self.texts("workout.interrupted_where_rep", rep=phase.rep, reps=phase.reps)
        if phase.sets > 1:
            return self.texts("workout.interrupted_where_set", set=phase.set, sets=phase.sets)
        return self.texts("workout.interrupted_where_start")

    async def _in_interrupted(self, user: User, intent: Intent) -> list[Reply]:
        row = self.services.store.running_workout(user.id)
        if row is None:
            self.services.store.set_state(user.id, READY)
            return [self.menu()]
        if intent.verb in ("resume_workout", "resume", "session", "yes"):
            position = Position.from_dict(json.loads(row["position"] or "{}"))
            position.phase = 0  # the exercise starts again from its beginning
            self.services.store.set_workout_status(row["id"], "running")
            self.services.store.set_state(user.id, WORKOUT)
            self._begin_session(user, row["id"], position)
            return [Reply(self.texts("workout.resumed"))]
        if intent.verb in ("finish_now", "stop", "quit", "no", "done"):
            self.services.store.set_workout_status(row["id"], "stopped", self.services.clock.now())
            self.services.store.set_state(user.id, PAIN_AFTER)
            return [Reply(self.texts("workout.stopped")),
                    Reply(self.texts("pain.ask_after"), pain_buttons("after"))]
        return self._unknown(user, "hints.onboarding")
