"""The conversation engine: every event is routed by the person's saved state to a reply.

Messages from one person are handled one at a time, in order (a lock per person); different
people never wait for each other. Any input in any state gets a helpful answer: unknown text
gets a hint and the choices that make sense now, and a bug answers with an apology, not silence.
"""
from __future__ import annotations

import asyncio
import json
import logging
from datetime import datetime, timedelta
from dataclasses import asdict

from bot.progress import report as progress
from bot.events import Command, Event, UserKey
from bot.intents import Intent, button, parse
from bot.routing import Feature, Handler, RoutingTable, StateRoute, Tier, verbs
from bot.intents import pain_buttons
from bot.onboarding import first_words
from bot.onboarding.flow import Onboarding
from bot.states import (FORM_CHECK, INTERRUPTED, NEW, PAIN_AFTER, PAIN_BEFORE, PLAYER, READY,
                        RED_FLAG_PREFIX, WORKOUT, tag_for)
from bot.workout.pain import vague
from bot.workout.pain_after import AfterWorkout
from bot.workout.pain_check import PainCheck
from bot.workout import card_picture, cards, nerve_care
from bot.replies import Choice, Reply, in_one
from bot.services import Services
from bot.clock import Clock
from bot.delivery import KeyLock, Outbound, PersonLocks
from bot.data.store import User
from bot.data.turns import Turns
from bot.localtime import aware, zone_or_utc
from bot.content import Stage
from bot.workout.timers import STOPPED, phases_for
from bot.workout.session import Position, WorkoutSession, estimated_minutes, todays_plan

log = logging.getLogger(__name__)

WORKOUT_CONTROLS = frozenset({"pause", "resume", "skip_rest", "add_time", "skip", "stop", "done",
                              "ready"})
ONBOARDING_STATES = ("intro", "baseline", "hamstring", "remind_time", "remind_zone", "screen:")
SMALL_TALK = frozenset({"hello", "thanks", "bye"})
# The reminders' shortcuts mean nothing before the setup ends: onboarding answers them itself
# ("remind me at 7:30am" at its time question; a short "later" line elsewhere).
ONBOARDING_ANSWERS_FIRST = frozenset({"settings", "snooze", "skip_today"})
UNREACHABLE_DAYS = 2  # separate local days of refused deliveries before reminders stop
PAGE_WORKOUT_LASTS = timedelta(hours=3)  # a page workout begun longer ago was left, not trained


class Coach:
    """Routes events to the step the person is at, and owns the running workouts."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.texts = services.texts
        self.onboarding = Onboarding(services)
        self.table = RoutingTable()
        self.pain_check = PainCheck(services, self.menu)
        self.after_workout = AfterWorkout(services, self.pain_check, self.table.holds_step_ups)
        self._workouts: dict[UserKey, WorkoutSession] = {}
        self._locks: PersonLocks[UserKey] = PersonLocks()  # dropped when idle
        self._leaving: set[UserKey] = set()  # said "quit": the terminal ends its session
        self.turns = Turns(services)  # one transaction per event, each update handled once
        self.table.add(self._core_feature())

    def use(self, *features: Feature) -> None:
        """Add the features (reminders, settings, my data, ...) to the one routing table."""
        for feature in features:
            self.table.add(feature)

    def _core_feature(self) -> Feature:
        """The coach's own verbs and states, declared like any feature's."""
        onboarding = tuple(StateRoute(state, self._onboarding, self.onboarding.question,
                                      opens=Tier.SOCIAL, first=ONBOARDING_ANSWERS_FIRST,
                                      reasks=True) for state in ONBOARDING_STATES)
        return Feature(
            name="coach",
            verbs=verbs(Tier.SOCIAL, {verb: self._small_talk for verb in (*SMALL_TALK, "quit")})
            + verbs(Tier.AFTER_ONBOARDING, {"help": self._help, "start": self._welcome_back,
                                                "rescreen": self._rescreen,
                                                "cleared": self._cleared})
            + verbs(Tier.IN_PROGRAMME, {"progress": self._progress, "why": self._why,
                                        "zinging_gone": self._zinging_gone}),
            states=(StateRoute(NEW, self._begin, self.onboarding.question, opens=None,
                               first=ONBOARDING_ANSWERS_FIRST, reasks=True),
                    *onboarding,
                    StateRoute(RED_FLAG_PREFIX, self._blocked, self.onboarding.blocked_prompt,
                               opens=Tier.AFTER_ONBOARDING),
                    StateRoute(READY, self.in_ready, self.pain_check.ready_prompt),
                    StateRoute(PAIN_BEFORE, self._in_pain_before, self.pain_check.question),
                    StateRoute(FORM_CHECK, self.after_workout.form_answer,
                               self.after_workout.form_question),
                    StateRoute(WORKOUT, self._in_workout,
                               lambda user: [Reply(self.texts("hints.workout"))]),
                    StateRoute(PAIN_AFTER, self.after_workout.answer,
                               lambda user: [self.after_workout.question()]),
                    StateRoute(INTERRUPTED, self._in_interrupted, self._interrupted_question)))

    # -- entry points -------------------------------------------------------------------------

    async def handle(self, event: Event, context: object | None = None, name: str = "") -> bool:
        """Answer one event from a person; replies go out before the next event is handled.
        An update the platform delivers again has no second effect (bot/data/turns.py).
        True when the person asked to leave ("quit"): a terminal ends there."""
        async with self._lock(event.user):
            self._leaving.discard(event.user)
            await self.turns.run(event, lambda: self._route(event, name), context)
            session = self._workouts.get(event.user)
            if session is not None and session.task is None:
                session.start()  # only after the replies above, so cues never overtake them
            return event.user in self._leaving

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

    def awaits(self, user: UserKey) -> bool:
        """It is the person's turn: nothing runs for them, or their workout waits for them (a
        card to start, a set at their own pace, a question). A terminal shows its prompt."""
        session = self._workouts.get(user)
        return session is None or session.awaits_person

    async def leave(self, user: UserKey) -> None:
        """The person has gone (end of input): a running workout is kept for later, to pick
        up at their next start (the interrupted-workout offer)."""
        async with self._lock(user):
            if user in self._workouts:
                for reply in self._keep_for_later(user):
                    await self.services.delivery.send(user, reply)

    async def start(self) -> None:
        """Once the adapters are up: recover interrupted workouts, then start the services
        (reminders, summaries) that plugged themselves in."""
        self.services.delivery.refused_before(self.services.store.users_with_delivery_failures())
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

    async def unreachable(self, user: UserKey, reason: str, lasting: bool = True) -> None:
        """A platform refused to deliver to this person. Blocked (`lasting`): stop reminding
        them at once. A refusal that may pass (Discord's closed DMs): keep the reminders until
        deliveries have failed on UNREACHABLE_DAYS separate days of theirs, so one evening with
        DMs closed does not end them. Either way keep why, and let features forget what they
        had due once the reminders are off."""
        store = self.services.store
        row = store.find_user(user)
        if row is None:
            return
        if not lasting:
            now = self.services.clock.now()
            day = now.astimezone(zone_or_utc(row.timezone)).date().isoformat()
            days = store.record_delivery_failure(row.id, day, reason, now)
            if days < UNREACHABLE_DAYS:
                log.info("%s unreachable on %d day(s); reminders stay on", user, days)
                return
        if row.reminders_on:
            log.warning("cannot reach %s; their reminders are turned off", user)
        store.update_user(row.id, reminders_on=0, unreachable_reason=reason[:200])
        for hook in self.table.hooks("on_unreachable"):
            await hook(user, reason)

    async def reachable(self, user: UserKey) -> None:
        """A message reached someone refused before: failures so far no longer count."""
        row = self.services.store.find_user(user)
        if row is not None:
            self.services.store.clear_delivery_failures(row.id)

    def close(self) -> None:
        """After shutdown: close the database."""
        self.services.store.close()

    def running(self, user: UserKey) -> WorkoutSession | None:
        """The person's running workout, to look at (tests, the timer benchmark)."""
        return self._workouts.get(user)

    def workout_running(self, user: UserKey) -> bool:
        """A timer is running (or waiting for "done") for this person right now."""
        return user in self._workouts

    def training(self, user: User) -> bool:
        """Training right now: a chat timer runs, or the player page began a workout within
        the last few hours (an offer never taken up, or a page left long ago, is not training:
        reminders carry on)."""
        if user.state == WORKOUT:
            return self.workout_running(user.key)
        if user.state != PLAYER:
            return False
        row = self.services.store.running_workout(user.id)
        if row is None or row["pain_before"] is None:
            return False
        began = aware(datetime.fromisoformat(row["started_at"]))
        return self.services.clock.now() - began < PAGE_WORKOUT_LASTS

    def end_workout_quietly(self, user: UserKey) -> None:
        """End a running workout without a word and without saving anything afterwards (the
        person has just erased their data)."""
        session = self._workouts.pop(user, None)
        if session is not None:
            session.abandon()

    def lock(self, user: UserKey) -> asyncio.Lock:
        """The per-person lock: hold it to change a person's state from outside an event."""
        return self._lock(user)

    def _lock(self, user: UserKey) -> KeyLock[UserKey]:
        return self._locks[user]

    # -- routing ------------------------------------------------------------------------------

    async def _route(self, event: Event, name: str) -> list[Reply]:
        """Read the routing table in its order of precedence (bot/routing.py)."""
        intent = parse(event)
        if not event.private:  # before any lookup: a bystander in a group leaves no trace
            return [Reply(self.texts("menu.private_only"))]
        user = self.services.store.user(event.user, self.services.clock.now(), name)
        if intent.tag is not None and intent.tag != self._tag(user):
            return [Reply(self.texts("menu.stale_button"))] + self.prompt(user)
        state = self._state_route(user)
        if intent.verb in state.first:
            return await state.answer(user, intent)
        anywhere = self.table.verb(intent.verb, Tier.ANYWHERE)
        if anywhere is not None:
            return await self._anywhere(anywhere, user, intent, state)
        for tier in (Tier.SOCIAL, Tier.AFTER_ONBOARDING, Tier.IN_PROGRAMME):
            handler = self.table.verb(intent.verb, tier)
            if handler is not None and state.opens is not None and tier <= state.opens:
                return await handler(user, intent)
        return await state.answer(user, intent)

    async def _anywhere(self, handler: Handler, user: User, intent: Intent,
                        state: StateRoute) -> list[Reply]:
        """An ANYWHERE verb; a question it left open (mid-onboarding) is asked again after it."""
        before = user.state
        replies = await handler(user, intent)
        if not state.reasks:
            return replies
        now = self.services.store.find_user(user.key)
        if now is None or now.state != before:
            return replies
        return replies + self.prompt(now)

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

    async def _zinging_gone(self, user: User, intent: Intent) -> list[Reply]:
        """The calf zinging has gone: the hamstring stretch may leave its gentlest stage."""
        if nerve_care.has_signs(user.hamstring):
            self.services.store.update_user(user.id, hamstring=nerve_care.NERVE_GONE)
        return [Reply(self.texts("nerve.gone"))]

    async def _begin(self, user: User, intent: Intent) -> list[Reply]:
        """A brand-new person gets the introduction once, whatever their first words; words
        asking for the programme get a short line first ("start session": glad to)."""
        return first_words.welcome(self.services, intent) + self.onboarding.begin(user)

    async def _blocked(self, user: User, intent: Intent) -> list[Reply]:
        return self.onboarding.blocked(user, intent)

    async def _help(self, user: User, intent: Intent) -> list[Reply]:
        """The help text; between workouts it carries the menu's buttons in the same message."""
        if user.state == READY:
            return [Reply(self.texts("menu.help"), self.pain_check.ready_prompt(user)[-1].choices)]
        return [Reply(self.texts("menu.help"))] + self.prompt(user)

    async def _small_talk(self, user: User, intent: Intent) -> list[Reply]:
        """Hello, thanks and bye get one kind line; a question still open is asked again, and
        a hello between workouts comes with the menu. "quit" leaves: a running workout is kept
        for later (the terminal ends there), and nothing is asked after the goodbye."""
        verb = intent.verb
        name = f", {user.name}" if user.name else ""
        if verb == "quit":
            self._leaving.add(user.key)
            if user.state == WORKOUT:
                return self._keep_for_later(user.key)
            if user.state == INTERRUPTED:
                return [Reply(self.texts("answers.quit_kept"))]
            return [Reply(self.texts("chat.bye", name=name))]
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
        if intent.verb == "start":
            return [Reply(self.texts("onboarding.intro_again"))] + self.onboarding.question(user)
        if intent.verb == "rescreen":
            return self.onboarding.restart_screen(user)
        early = first_words.answer(self.services, user.state, intent)
        if early is not None:  # "start session", "help", "pain 4"...: what comes first
            return early + self.onboarding.question(user)
        return self._unknown(user, "hints.onboarding")

    async def _rescreen(self, user: User, intent: Intent) -> list[Reply]:
        """Not while a workout runs or waits for its pain answer: that answer would be lost."""
        if user.state in (WORKOUT, PLAYER, PAIN_AFTER, INTERRUPTED, FORM_CHECK):
            return [Reply(self.texts("menu.not_now", hint=self.texts("hints.rescreen_later")))] + \
                self.prompt(user)
        return self.onboarding.restart_screen(user)

    async def _cleared(self, user: User, intent: Intent) -> list[Reply]:
        """"A clinician has checked me": as a re-check, without the lifelong questions."""
        if user.state in (WORKOUT, PAIN_AFTER, INTERRUPTED, FORM_CHECK):
            return [Reply(self.texts("menu.not_now", hint=self.texts("hints.rescreen_later")))] + \
                self.prompt(user)
        return self.onboarding.cleared(user)

    # -- ready: between workouts --------------------------------------------------------------

    async def in_ready(self, user: User, intent: Intent) -> list[Reply]:
        verb = intent.verb
        if verb == "session":
            return self._session_asked(user)
        if verb in ("pain", "number"):
            return self._adhoc_pain(user, int(intent.arg))
        if verb in ("pain_invalid", "number_invalid"):
            return [Reply(self.texts("pain.out_of_range"))]
        if verb == "pain_vague":
            return [vague(self.texts, intent.arg, tag_for(READY))]
        if verb in WORKOUT_CONTROLS or verb == "next":
            return [Reply(self.texts("workout.nothing_running")), self.menu()]
        if verb == "show_me":
            return [self._show_between_workouts(user, intent.arg)]
        return [self._missed_in_menu(user)]

    def _missed_in_menu(self, user: User) -> Reply:
        """A miss between workouts: one line naming what is possible, on the menu's buttons
        (not the hint and then the whole menu again)."""
        menu = self.pain_check.ready_prompt(user)[-1]
        hint = menu.text if self.pain_check.rest_reason(user) is not None else \
            self.texts("hints.ready")
        return Reply(self.texts("menu.unknown", hint=hint), menu.choices)

    def _show_between_workouts(self, user: User, named: str) -> Reply:
        """"Show me a picture" between workouts: the exercise named, else the one today's
        session opens with, at the person's stage."""
        plan = todays_plan(self.services, user)
        exercise = progress.find_exercise(self.services.programme, named) if named else None
        exercise, stage = next((pair for pair in plan if pair[0] is exercise), plan[0])
        index = exercise.stages.index(stage)
        return card_picture.show_stage(self.services, exercise, index,
                                       (card_picture.how_exactly(self.services, exercise, index),))

    def _adhoc_pain(self, user: User, score: int) -> list[Reply]:
        return self.pain_check.any_time(user, score)

    def _session_asked(self, user: User) -> list[Reply]:
        """"Start session": the pain right now first. Where the player page is offered, the
        page asks it (the workout opens at once, and the chat is spared two messages)."""
        if self.pain_check.rest_reason(user) is None and self.table.offers_player(user):
            return self._start_workout(user, None)
        return self.pain_check.ask(user)

    async def _in_pain_before(self, user: User, intent: Intent) -> list[Reply]:
        """"Pain right now?": a session starts with the answer, unless the pain says not today."""
        replies, before = self.pain_check.answer(user, intent)
        if before is None:
            if user.state == READY:  # no session now: one the player had opened goes too
                self._discard_unstarted(user)
            return in_one(replies)
        return in_one(replies + self._start_workout(user, before))

    def ask_pain_before(self, user: User) -> list[Reply]:
        """The pain question in the chat for a workout the player opened without it (the
        person chose the chat before the page asked): the answer starts it here."""
        replies = self.pain_check.ask(user)
        if user.state == READY:  # a rest day after all: nothing to start
            self._discard_unstarted(user)
        return replies

    def note_pain_before(self, user: User, score: int) -> tuple[str, bool]:
        """The player page's answer to "pain right now?", kept as the chat's would be."""
        return self.pain_check.note_before(user, score)

    def _start_workout(self, user: User, before: int | None) -> list[Reply]:
        if user.state != READY:
            return [Reply(self.texts("workout.not_ready", hint=self.texts("hints.ready")))]
        store = self.services.store
        position = Position()
        waiting = self._unstarted(user)  # opened for the player, not begun: this one it is
        if waiting is None:
            workout_id = store.start_workout(user.id, self.services.clock.now(), before,
                                             asdict(position))
        else:
            workout_id = waiting["id"]
            store.set_workout_status(workout_id, "running")
            if before is not None:  # the person chose the chat, and answered there
                store.set_workout_pain_before(workout_id, before, self.services.clock.now())
                return self.run_in_chat(user, workout_id, position)
        plan = todays_plan(self.services, user)
        offer = [Reply(self.texts("workout.start", count=len(plan),
                                  minutes=estimated_minutes(self.services, plan)))]
        offered = self.table.offer_player(user, workout_id, offer)  # the page, where there is one
        if offered is not None:
            return offered
        return self.run_in_chat(user, workout_id, position)

    def _unstarted(self, user: User) -> dict | None:
        """An open workout still without its pain answer: opened for the player, not begun."""
        row = self.services.store.running_workout(user.id)
        if row is None or row["pain_before"] is not None:
            return None
        return None if self.services.store.workout_exercises(row["id"]) else row

    def _discard_unstarted(self, user: User) -> None:
        row = self._unstarted(user)
        if row is not None:
            self.services.store.discard_workout(row["id"])

    def run_in_chat(self, user: User, workout_id: int, position: Position) -> list[Reply]:
        """Guide an open workout here in the chat from `position` (at the start, or when the
        person leaves the player page): its opening message (today's plan, from where it is);
        `handle` starts its timer once the replies are out."""
        self.services.store.set_state(user.id, WORKOUT)
        user.state = WORKOUT
        return [self._begin_session(user, workout_id, position).opening()]

    def _begin_session(self, user: User, workout_id: int, position: Position) -> WorkoutSession:
        """Create the running workout; `handle` starts its timer once the replies are out,
        which are to begin with its opening message (today's plan)."""
        session = WorkoutSession(self.services, user, workout_id, position,
                                 self._workout_finished, announced=True)
        self._workouts[user.key] = session
        return session

    def _keep_for_later(self, user: UserKey) -> list[Reply]:
        """Stop the timer without finishing: the workout waits, as after a restart, with its
        position saved (the exercise that ran starts again from its beginning)."""
        session = self._workouts.pop(user, None)
        if session is None:
            return []
        session.abandon()
        self.services.store.set_workout_status(session.workout_id, "interrupted")
        self.services.store.set_state(session.user.id, INTERRUPTED)
        return [Reply(self.texts("answers.quit_kept"))]

    # -- during a workout ---------------------------------------------------------------------

    async def _in_workout(self, user: User, intent: Intent) -> list[Reply]:
        session = self._workouts.get(user.key)
        if session is None:  # saved state says workout, but nothing runs: treat as interrupted
            self.services.store.set_state(user.id, INTERRUPTED)
            user.state = INTERRUPTED
            return self._interrupted_question(user)
        verb = intent.verb
        if verb == "quit":
            return self._keep_for_later(user.key)
        if verb == "session":
            return [Reply(self.texts("workout.already"))]
        named = None
        if verb in ("how_to", "show_me", "what_is") and intent.arg:
            named = progress.find_exercise(self.services.programme, intent.arg)
        replies = session.answer(verb, intent.arg, named)
        if replies is not None:
            return replies
        if verb in ("pain", "number"):
            return self._adhoc_pain(user, int(intent.arg))
        return [Reply(self.texts("menu.unknown", hint=self.texts(session.hint_key())))]

    async def _workout_finished(self, session: WorkoutSession, outcome: str) -> None:
        """The timer ended (all done, or stopped): save it and ask about pain."""
        user = session.user
        async with self._lock(user.key):
            if self._workouts.get(user.key) is session:
                del self._workouts[user.key]
            await self.workout_ended(user, session.workout_id, outcome,
                                     summary=session.summary(outcome))

    def _summary_of(self, user: User, workout_id: int, outcome: str) -> str:
        """The truthful summary of a workout from its saved exercises (as the chat's own)."""
        plan = todays_plan(self.services, user)
        names = {exercise.id: exercise.name for exercise, _ in plan}
        rows = self.services.store.workout_exercises(workout_id)

        def named(kind: str) -> list[str]:
            return [names.get(row["exercise_id"], row["exercise_id"]) for row in rows
                    if row["outcome"] == kind]

        return cards.summary(self.texts, len(plan), named("done"), named("skipped"),
                             named("hurt"), outcome == STOPPED)

    async def workout_ended(self, user: User, workout_id: int, outcome: str,
                            summary: str | None = None) -> None:
        """A workout ended, in the chat or on the player page (the caller holds the person's
        lock): keep its status and ask about pain, in the chat, after what happened."""
        if self.services.store.find_user(user.key) is None:
            return  # the person deleted their data meanwhile
        status = "stopped" if outcome == STOPPED else "done"
        self.services.store.set_workout_status(workout_id, status, self.services.clock.now())
        self.services.store.set_state(user.id, PAIN_AFTER)
        if summary is None:  # the page ran it: what happened, from what it reported
            summary = self._summary_of(user, workout_id, outcome)
        text = summary + "\n\n" + self.texts("pain.ask_after")
        await self.services.delivery.send(user.key, Reply(text, pain_buttons("after")))

    # -- after a workout: the pain answer and the form check are bot/workout/pain_after.py ------

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
        where = self._where(stage, position.phase) if position.warmed_up else \
            self.texts("workout.interrupted_where_warmup")
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
            return [self._begin_session(user, row["id"], position).opening()]
        if intent.verb in ("finish_now", "stop", "no", "done"):
            self.services.store.set_workout_status(row["id"], "stopped", self.services.clock.now())
            self.services.store.set_state(user.id, PAIN_AFTER)
            return [Reply(self.texts("workout.stopped")),
                    Reply(self.texts("pain.ask_after"), pain_buttons("after"))]
        return self._unknown(user, "hints.onboarding")
