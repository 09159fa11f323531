"""Today's workout: a warm-up, then each exercise at the person's stage: a short card that waits
for "Ready" (or starts by itself), then its guided timer in one live message per side or set.

The position (warm-up, exercise, phase, what is finished) is written to SQLite as the workout
goes, so a restart can offer to pick up where the person was, and finished exercises are kept
exactly once. The person's words reach `answer`; anything that ends, skips or stops work is
confirmed first, and "it hurts" stops the exercise at once and asks two questions.

Live messages: on platforms that can edit, a side or set is one message edited in place (reps
counted in it); a new message starts only where the side or set switches. Elsewhere every cue is
its own message, as a terminal prints it.
"""
from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Awaitable, Callable
from dataclasses import replace, asdict, dataclass, field
from typing import Any

from bot.content import Exercise, Stage, TimerPlan, WarmupMove
from bot.data.store import User
from bot.intents import button
from bot.workout.card_picture import exercise_picture, show_stage
from bot.replies import Choice, Reply
from bot.services import Services
from bot.workout import cards, nerve_care
from bot.workout.hurt_check import HurtCheck, lowers_stage
from bot.workout.pain import clinician_advice
from bot.workout.timers import (DONE, HURT, PACED, RESTING_KINDS, SET_REST, SKIPPED, STOPPED,
                                SWITCH, Phase, PhaseRunner, phases_for, planned_seconds)

log = logging.getLogger(__name__)
PACED_REP_SECONDS = 4  # a guess for "about N minutes" when reps go at the person's own pace
CARD_SECONDS = 30  # a guess for reading a card and getting into position
ADD_SECONDS = 10  # what "+10 s" (and "add time" without a number) adds
SLOT = "timer"
# How a card's wait ended.
GO, AUTO = "go", "auto"
SKIP, STOP = "skip", "stop"  # what a confirmation is about
HURT_ANSWERS = frozenset({"pain", "number", "pain_vague", "yes", "no", "ok", "travels", "nerve"})
ASIDES = frozenset({"stop", "how_long", "whats_next", "how_to", "show_me", "what_is"})


@dataclass
class Position:
    """Where a workout is: saved on every phase so a restart knows what happened."""

    exercise: int = 0
    phase: int = 0
    done: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    hurt: list[str] = field(default_factory=list)
    warmed_up: bool = False  # the warm-up is behind (done or skipped)

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Position:
        data = data or {}
        return cls(int(data.get("exercise", 0)), int(data.get("phase", 0)),
                   list(data.get("done", [])), list(data.get("skipped", [])),
                   list(data.get("hurt", [])), bool(data.get("warmed_up", False)))


def todays_plan(services: Services, user: User) -> list[tuple[Exercise, Stage]]:
    """Every exercise in programme order, at the person's current stage (the gentlest one for
    an exercise nerve signs hold there)."""
    stages = services.store.stages(user.id)
    nerve_signs = nerve_care.has_signs(user.hamstring)
    return [(exercise, exercise.stages[nerve_care.stage_index(
                exercise, stages.get(exercise.id, 0), nerve_signs)])
            for exercise in services.programme.exercises]


def warmup_seconds(services: Services) -> int:
    rules = services.programme.rules
    return sum(planned_seconds(phases_for(move.plan, rules))
               for move in services.programme.warmup.moves)


def exercise_seconds(services: Services, stage: Stage) -> int:
    """About how long one exercise takes, its card included."""
    seconds = planned_seconds(phases_for(stage.plan, services.programme.rules)) + CARD_SECONDS
    if stage.plan.mode == "paced":
        seconds += stage.plan.reps * stage.plan.sets * PACED_REP_SECONDS \
            * (2 if stage.plan.sides == "each" else 1)
    return seconds


def estimated_minutes(services: Services, plan: list[tuple[Exercise, Stage]],
                      warmup: bool = True) -> int:
    """A whole session, warm-up included: for "a session takes about N minutes"."""
    seconds = sum(exercise_seconds(services, stage) for _, stage in plan)
    if warmup:
        seconds += warmup_seconds(services)
    return max(1, round(seconds / 60))


def keep_outcome(services: Services, workout_id: int, position: Position, exercise: Exercise,
                 stage: Stage, result: str) -> None:
    """Keep a finished (DONE), skipped (SKIPPED) or painful (HURT) exercise, then move the saved
    position on, so nothing counts twice. The chat's timer and the player page both record
    through here."""
    stage_index = exercise.stages.index(stage)
    outcome = {DONE: "done", SKIPPED: "skipped", HURT: "hurt"}[result]
    services.store.record_exercise(workout_id, exercise.id, stage_index, outcome,
                                   services.clock.now())
    {DONE: position.done, SKIPPED: position.skipped, HURT: position.hurt}[result].append(
        exercise.id)
    position.exercise += 1
    position.phase = 0
    services.store.save_position(workout_id, asdict(position))


@dataclass
class _CardWait:
    """A card waiting for "Ready": it starts by itself at `auto_at` (None: it waits)."""

    auto_at: float | None
    decision: str | None = None
    warmup: bool = False


@dataclass
class _Live:
    """The live message of what runs now: a side or a set, edited in place where possible."""

    name: str
    plan: TimerPlan
    header: str = ""  # a warm-up move's name and how, kept on top of its message
    warmup: bool = False
    previous: Phase | None = None

    def starts_message(self, phase: Phase) -> bool:
        """A new message at the start, at a side switch, and for the set after a set rest."""
        previous, self.previous = self.previous, phase
        return previous is None or phase.kind == SWITCH or previous.kind == SET_REST


class WorkoutSession:
    """One running workout for one person; the coach forwards what they say to `answer`."""

    def __init__(self, services: Services, user: User, workout_id: int, position: Position,
                 on_finish: Callable[[WorkoutSession, str], Awaitable[None]],
                 announced: bool = False) -> None:
        self.services = services
        self.texts = services.texts
        self.rules = services.programme.rules
        self.user = user
        self.workout_id = workout_id
        self.position = position
        self.on_finish = on_finish
        self.plan = todays_plan(services, user)
        self.nerve_signs = nerve_care.has_signs(user.hamstring)
        self.runner: PhaseRunner | None = None
        self.stopping = False
        self.task: asyncio.Task[None] | None = None
        self.changed = asyncio.Event()  # set whenever the person may be waited for
        self.tag = f"w{workout_id}"
        self.card: _CardWait | None = None
        self.confirming: tuple[str, int] | None = None  # (skip or stop, exercise index)
        self.hurt: HurtCheck | None = None
        self.in_warmup = False
        self.move: WarmupMove | None = None  # the warm-up move running now
        self._held_runner = False  # paused by a confirmation question, resumed after a "no"
        self._pending_pause = False  # said between two timers: applied to the next one
        self._pending_skip: int | None = None  # an exercise confirmed skipped before its card
        self._skip_warmup = False
        self._after_hurt = False  # the next card waits for "ready" without starting by itself
        self._wake = asyncio.Event()  # the person answered something the run loop waits for
        self._halfway_said = False
        # The opening message explains "ready" when it asks to start the warm-up.
        self._told_how_to_start = announced and self._warmup_due()
        # Exercises chain on deadlines too: the next one starts where the last one was planned
        # to end, so sending an exercise card does not push the rest of the workout later.
        self.next_start: float | None = None
        # Optional instrumentation (the timer benchmark): called after every cue is delivered
        # with (planned deadline, delivered at), both on the monotonic clock.
        self.on_cue: Callable[[float, float], None] | None = None
        if announced and self._warmup_due():  # the opening message asked "ready?" already
            self.card = _CardWait(self._auto_start_at(), warmup=True)

    # -- what the person sees first -----------------------------------------------------------

    def opening(self) -> Reply:
        """Today's plan in one message; it asks to start the warm-up when one is due."""
        first = self.position.exercise
        rest = self.plan[first:]
        warmup = self._warmup_due()
        minutes = estimated_minutes(self.services, rest, warmup)
        warmup_minutes = max(1, round(warmup_seconds(self.services) / 60)) if warmup else None
        choices = self._warmup_choices() if warmup else ()
        return cards.todays_plan(self.texts, self.plan, first, minutes, warmup_minutes,
                                 self.rules.ready_wait_s, choices)

    # -- running ------------------------------------------------------------------------------

    def start(self) -> None:
        self.task = asyncio.create_task(self.run(), name=f"workout-{self.user.key}")

    async def run(self) -> None:
        outcome = DONE
        try:
            if self._warmup_due():
                await self._warm_up()
            while self.position.exercise < len(self.plan) and not self.stopping:
                await self._run_exercise(*self.plan[self.position.exercise])
            if self.stopping:
                outcome = STOPPED
        except asyncio.CancelledError:
            raise
        except Exception:  # a bug must not leave the person in a dead workout
            log.exception("workout %s failed", self.workout_id)
            outcome = STOPPED
        self.runner = None
        self.card = None
        self.changed.set()
        await self.on_finish(self, outcome)

    async def _warm_up(self) -> None:
        """The moves of the warm-up one after another, after a "ready" (or by themselves)."""
        warmup = self.services.programme.warmup
        if self.card is None:  # a resumed workout: ask now
            self._open_card(warmup=True)
            await self._say(self.opening())
            self._told_how_to_start = True
        decision = await self._card_decision()
        if decision in (GO, AUTO):
            self.in_warmup = True
            start = self._auto_start_at_or_now(decision)
            for number, move in enumerate(warmup.moves, 1):
                if self._skip_warmup or self.stopping:
                    break
                self.move = move
                live = _Live(move.name, move.plan, warmup=True,
                             header=cards.warmup_header(self.texts, number, len(warmup.moves),
                                                        move))
                result = await self._run_timer(move.plan, live, start)
                start = self.next_start
                if result == HURT:
                    await self._until_answered()
                    break
                if result != DONE:
                    break
            else:
                await self._say(Reply(self.texts("warmup.done"), slot=SLOT, edit=True, kind="cue"))
            self.in_warmup = False
            self.move = None
        elif decision == HURT:
            await self._until_answered()
        self.position.warmed_up = True
        self._save()

    async def _run_exercise(self, exercise: Exercise, stage: Stage) -> None:
        index = self.position.exercise
        if self._pending_skip == index:  # confirmed before its card came
            await self._record(exercise, stage, SKIPPED)
            return
        self._open_card()
        await self._say(self._card(exercise, stage))
        self.services.store.meet_stage(self.user.id, exercise.id, exercise.stages.index(stage),
                                       self.services.clock.now())
        decision = await self._card_decision()
        if decision == HURT:
            await self._until_answered()
            await self._record(exercise, stage, HURT)
            return
        if decision in (SKIPPED, STOPPED):
            await self._record(exercise, stage, decision)
            return
        self.position.phase = 0
        result = await self._run_timer(stage.plan, _Live(exercise.name, stage.plan),
                                       self._auto_start_at_or_now(decision))
        if result == HURT:
            await self._until_answered()
        await self._record(exercise, stage, result)

    async def _run_timer(self, plan: TimerPlan, live: _Live, start: float | None) -> str:
        if self.hurt is not None:  # "it hurts" said just before it began
            return HURT
        phases = phases_for(plan, self.rules)
        runner = PhaseRunner(
            self.services.clock, phases,
            on_phase=lambda i, p, planned: self._on_phase(live, i, p, planned),
            on_tick=(lambda p, left, cue: self._on_tick(live, p, left, cue))
            if self.services.delivery.can_edit(self.user.key) else None,
            start_index=0 if live.warmup else min(self.position.phase, len(phases) - 1))
        if self._pending_pause:
            runner.pause()
        self._pending_pause = False
        self.runner = runner
        try:
            result = await runner.run(start)
        finally:
            self.runner = None  # between timers, controls wait for the next one
        self.next_start = runner.deadline if result == DONE else None
        return STOPPED if self.stopping else result

    async def _record(self, exercise: Exercise, stage: Stage, result: str) -> None:
        """Keep the outcome, then move the saved position on, so nothing counts twice."""
        if result == STOPPED:
            return
        keep_outcome(self.services, self.workout_id, self.position, exercise, stage, result)
        if result == DONE:
            await self._say(Reply(self.texts("workout.exercise_done", name=exercise.name),
                                  slot=SLOT, edit=True, kind="cue"))

    async def _on_phase(self, live: _Live, index: int, phase: Phase, planned: float) -> None:
        if not live.warmup:
            self.position.phase = index
            self._save()
        self.changed.set()
        new = live.starts_message(phase)
        line = cards.cue_text(self.texts, live.plan, phase)
        if live.header and (new or self.services.delivery.can_edit(self.user.key)):
            line = f"{live.header}\n{line}"
        await self._say(Reply(line, self._controls(phase), slot=SLOT, edit=not new, kind="cue"))
        if self.on_cue is not None:
            self.on_cue(planned, self.services.clock.monotonic())

    async def _on_tick(self, live: _Live, phase: Phase, seconds_left: int,
                       next_cue: float) -> None:
        text = cards.countdown_text(self.texts, live.plan, phase, seconds_left)
        if live.header:
            text = f"{live.header}\n{text}"
        reply = Reply(text, self._controls(phase), slot=SLOT, edit=True, kind="countdown")
        await self.services.delivery.try_send(self.user.key, reply, not_after=next_cue)

    async def _say(self, reply: Reply) -> None:
        await self.services.delivery.send(self.user.key, reply)

    def _save(self) -> None:
        self.services.store.save_position(self.workout_id, asdict(self.position))

    # -- waiting for the person ---------------------------------------------------------------

    def _warmup_due(self) -> bool:
        return not self.position.warmed_up and bool(self.services.programme.warmup.moves)

    def _auto_start_at(self) -> float | None:
        if self._after_hurt:
            return None
        start = self.next_start if self.next_start is not None else self.services.clock.monotonic()
        return start + self.rules.ready_wait_s

    def _auto_start_at_or_now(self, decision: str) -> float | None:
        """A card that started by itself keeps the schedule; "ready" starts it now."""
        return self.next_start if decision == AUTO else None

    def _open_card(self, warmup: bool = False) -> None:
        """The card waits; a "pause" said just before it keeps it waiting for "ready"."""
        held, self._pending_pause = self._pending_pause, False
        self.card = _CardWait(None if held else self._auto_start_at(), warmup=warmup)
        self.changed.set()

    async def _card_decision(self) -> str:
        """Wait at the card for "ready", a skip or stop, "it hurts", or its own start time."""
        card = self.card
        assert card is not None
        while card.decision is None and not self.stopping:
            if self.hurt is not None:  # said between two exercises: it stops this one
                card.decision = HURT
                break
            if await self.services.clock.wait_event(self._wake, card.auto_at):
                self._wake.clear()
                continue
            if card.auto_at is not None and self.services.clock.monotonic() >= card.auto_at:
                card.decision = AUTO
                self.next_start = card.auto_at
        self.card = None
        self._after_hurt = False
        return STOPPED if self.stopping else card.decision or STOPPED

    async def _until_answered(self) -> None:
        """Wait until the questions after "it hurts" are answered (or the workout stops)."""
        while self.hurt is not None and not self.stopping:
            await self._wake.wait()
            self._wake.clear()
        self.hurt = None

    def _poke(self) -> None:
        self._wake.set()
        self.changed.set()

    @property
    def waiting_for_person(self) -> bool:
        """Nothing happens until the person acts: a question is open, a card waits without
        starting by itself, a set at their own pace, or a pause."""
        if self.hurt is not None or self.confirming is not None:
            return True
        if self.card is not None:
            return self.card.auto_at is None
        return self.runner is not None and self.runner.waiting_for_person

    @property
    def awaits_person(self) -> bool:
        """It is the person's turn (a card waiting for "ready" included): the terminal shows
        its prompt."""
        return self.waiting_for_person or self.card is not None

    # -- what the person says -----------------------------------------------------------------

    def answer(self, verb: str, arg: str = "", named: Exercise | None = None
               ) -> list[Reply] | None:
        """The reply to a word or button during the workout; None when it is not about the
        workout (the coach answers it). A reply that lets the workout move on is one message,
        so it is out before the next cue."""
        if self.confirming is not None:
            replies = self._answer_confirmation(verb, arg)
            if replies is not None:
                return replies
        if self.hurt is not None:
            replies = self._answer_hurt(verb, arg)
            if replies is not None:
                return replies
        if verb == "yes" and arg in (SKIP, STOP):  # an older "Yes, skip it": asked afresh
            return self._ask(arg)
        handler = {
            "ready": self._ready, "ok": self._ready, "yes": self._ready,
            "resume": self._resume, "pause": self._pause, "add_time": self._add_time,
            "skip_rest": self._skip_rest, "skip": self._skip, "next": self._next,
            "done": self._done, "stop": self._ask_stop, "hurts": self._it_hurts,
            "nerve": self._it_hurts, "how_long": self._how_long, "whats_next": self._whats_next,
            "how_to": self._how_to, "show_me": self._show_me, "what_is": self._what_is,
            "negated": self._carry_on, "almost": self._almost,
        }.get(verb)
        if handler is None:
            return None
        return handler(verb, arg, named)

    def hint_key(self) -> str:
        if self.hurt is not None:
            return "hints.hurt"
        if self.card is not None:
            return "hints.card"
        runner = self.runner
        if runner is not None and runner.current is not None and runner.current.kind == PACED:
            return "hints.paced"
        return "hints.workout"

    def _ready(self, verb: str, arg: str, named: Exercise | None) -> list[Reply] | None:
        if self.card is not None:
            self.card.decision = GO
            self._poke()
            return []
        if verb == "ready":  # a "Ready" pressed again once it runs: nothing to say
            return []
        if verb == "yes":
            return None
        return [Reply(self.texts("session.already_going"))]

    def _resume(self, verb: str, arg: str, named: Exercise | None) -> list[Reply]:
        if self.card is not None:
            return self._ready(verb, arg, named) or []
        if self.runner is None:
            was_paused, self._pending_pause = self._pending_pause, False
            return self._say_key("workout.resumed" if was_paused else "workout.not_paused")
        return self._say_key("workout.resumed" if self.runner.resume() else "workout.not_paused")

    def _pause(self, verb: str, arg: str, named: Exercise | None) -> list[Reply]:
        runner = self.runner
        if self.card is not None:
            self._hold_card()
            return self._say_key("workout.paused")
        if runner is None:
            self._pending_pause = True
            return self._say_key("workout.paused")
        if runner.current is not None and runner.current.kind == PACED:
            return self._say_key("workout.paced_no_pause")
        return self._say_key("workout.paused" if runner.pause() else "workout.already_paused")

    def _add_time(self, verb: str, arg: str, named: Exercise | None) -> list[Reply]:
        seconds = min(int(arg), self.rules.add_time_max_s) if arg.isdigit() and int(arg) else \
            ADD_SECONDS
        if self.card is not None:
            self._hold_card()
            return self._say_key("session.add_at_card")
        runner = self.runner
        if runner is not None and runner.current is not None and runner.current.kind == PACED:
            return self._say_key("workout.paced_no_pause")
        if runner is None or not runner.add_time(seconds):
            return self._say_key("workout.nothing_running")
        return [Reply(self.texts("workout.added", seconds=seconds))]

    def _skip_rest(self, verb: str, arg: str, named: Exercise | None) -> list[Reply]:
        if self.runner is not None and self.runner.skip_rest():
            return []  # the next cue says what comes now
        return self._say_key("workout.not_resting")

    def _skip(self, verb: str, arg: str, named: Exercise | None) -> list[Reply]:
        """The warm-up is skipped at once; in a rest, a bare "skip" skips the rest; an
        exercise is skipped after a one-tap confirmation."""
        if self._warmup_now():
            return self._skip_the_warmup()
        if arg != "exercise" and self.runner is not None and self.runner.resting:
            return self._skip_rest(verb, arg, named)
        return self._ask(SKIP)

    def _next(self, verb: str, arg: str, named: Exercise | None) -> list[Reply]:
        runner = self.runner
        if runner is not None and runner.current is not None and runner.current.kind == PACED:
            return self._done(verb, arg, named)
        return self._skip(verb, "", named)

    def _done(self, verb: str, arg: str, named: Exercise | None) -> list[Reply]:
        """"done" ends a set at one's own pace (never the exercise)."""
        runner = self.runner
        if runner is not None and runner.done():
            return []
        return self._say_key("hints.card" if self.card is not None else "workout.not_paced")

    def _almost(self, verb: str, arg: str, named: Exercise | None) -> list[Reply] | None:
        runner = self.runner
        if runner is not None and runner.current is not None and runner.current.kind == PACED:
            return self._say_key("workout.paced_no_pause")
        return None

    def _carry_on(self, verb: str, arg: str, named: Exercise | None) -> list[Reply]:
        return self._say_key("answers.negated")

    # -- skip and stop, confirmed -------------------------------------------------------------

    def _ask_stop(self, verb: str, arg: str, named: Exercise | None) -> list[Reply]:
        return self._ask(STOP)

    def _ask(self, what: str) -> list[Reply]:
        """Hold everything and ask once; the timer goes on only after "no"."""
        runner = self.runner
        self.confirming = (what, self.position.exercise)
        if runner is not None and not runner.paused and runner.pause():
            self._held_runner = True
        if self.card is not None:
            self._hold_card()
        self.changed.set()
        if what == SKIP:
            text = self.texts("session.confirm_skip", name=self._current_name())
            yes = Choice(self.texts("session.button_skip_yes"), button("yes", SKIP, self.tag))
        else:
            text = self.texts("session.confirm_stop", done=len(self.position.done),
                              total=len(self.plan))
            yes = Choice(self.texts("session.button_stop_yes"), button("yes", STOP, self.tag))
        no = Choice(self.texts("session.button_carry_on"), button("no", tag=self.tag))
        return [Reply(text, (yes, no))]

    def _answer_confirmation(self, verb: str, arg: str) -> list[Reply] | None:
        assert self.confirming is not None
        what, index = self.confirming
        if verb in ("yes", what) or (verb == "next" and what == SKIP):
            self.confirming = None
            if index != self.position.exercise and what == SKIP:  # that exercise is over
                return self._carry_on_after_no()
            return self._skip_now() if what == SKIP else self._stop_now()
        if verb in ("no", "negated", "resume", "ready"):
            self.confirming = None
            return self._carry_on_after_no()
        return None

    def _carry_on_after_no(self) -> list[Reply]:
        """Nothing changes: a timer held for the question goes on, an open question stays."""
        if self._held_runner and self.runner is not None:
            self.runner.resume()
        self._held_runner = False
        replies = self._say_key("answers.negated")
        if self.hurt is not None:
            replies.append(self.hurt.question(self.texts, self.tag))
        return replies

    def _skip_now(self) -> list[Reply]:
        name = self._current_name()
        self._held_runner = False
        if self.runner is not None:
            self.runner.skip()
        elif self.card is not None:
            self.card.decision = SKIPPED
        else:
            self._pending_skip = self.position.exercise
        self._poke()
        return [Reply(self.texts("workout.exercise_skipped", name=name))]

    def _stop_now(self) -> list[Reply]:
        self.stopping = True
        self._held_runner = False
        if self.runner is not None:
            self.runner.stop()
        self.hurt = None
        self._poke()
        return []  # the summary says the rest

    # -- "it hurts" ---------------------------------------------------------------------------

    def _it_hurts(self, verb: str, arg: str, named: Exercise | None) -> list[Reply]:
        """Stop what runs at once, then ask how bad it is and whether it travels."""
        self.confirming = None
        self._held_runner = False
        if self._warmup_now():
            check = HurtCheck(self.services.programme.warmup.name, None)
        else:
            exercise, _ = self.plan[min(self.position.exercise, len(self.plan) - 1)]
            check = HurtCheck(exercise.name, exercise)
        check.nerve = verb == "nerve"
        if self.runner is not None:
            self.runner.hurt()
        elif self.card is not None:
            self.card.decision = HURT
        self.hurt = check
        self.changed.set()
        return [check.first_question(self.texts, self.tag)]

    def _answer_hurt(self, verb: str, arg: str) -> list[Reply] | None:
        check = self.hurt
        assert check is not None
        if verb in ASIDES:
            return None
        if verb not in HURT_ANSWERS:
            return [Reply(self.texts("hints.hurt")), check.question(self.texts, self.tag)]
        question = check.take(verb, arg, self.texts, self.tag)
        if question is not None:
            return [question]
        reply = self._act_on_hurt(check)
        self.hurt = None
        self._after_hurt = True
        self._poke()
        return [reply]

    def _act_on_hurt(self, check: HurtCheck) -> Reply:
        """Save the score, lower the exercise if the rules say so (with the reason kept), and
        say it all in one message."""
        store, now, t = self.services.store, self.services.clock.now(), self.texts
        score = check.score if check.score is not None else 0
        store.add_pain(self.user.id, score, "during", now, self.workout_id)
        parts = []
        exercise = check.exercise
        if exercise is not None:
            stored = store.stages(self.user.id).get(exercise.id, 0)
            if lowers_stage(self.rules, score, stored):
                store.change_stage(self.user.id, exercise.id, stored, stored - 1, "hurt",
                                   {"score": score, "travels": check.nerve}, now,
                                   self.workout_id)
                parts.append(t("hurts.lowered", name=exercise.name,
                               stage=exercise.stage_at(stored - 1).name, score=score,
                               limit=self.rules.down_above_pain))
            elif stored == 0:
                parts.append(t("hurts.stays_gentlest", name=exercise.name,
                               stage=exercise.stage_at(0).name))
            else:
                parts.append(t("hurts.stays", name=exercise.name,
                               stage=exercise.stage_at(stored).name))
        else:
            parts.append(t("hurts.warmup"))
        if check.nerve:
            parts.append(t("nerve.advice"))
        parts += [reply.text for reply in clinician_advice(self.services, score)]
        last = exercise is not None and self.position.exercise >= len(self.plan) - 1
        parts.append(t("hurts.carry_on_last" if last else "hurts.carry_on"))
        return Reply("\n\n".join(parts))

    # -- questions asked mid-workout ----------------------------------------------------------

    def _how_long(self, verb: str, arg: str, named: Exercise | None) -> list[Reply]:
        minutes = max(1, math.ceil(self._seconds_left() / 60))
        if self._warmup_now():
            return [Reply(self.texts("session.how_long_warmup", total=len(self.plan),
                                     minutes=minutes))]
        number = min(self.position.exercise + 1, len(self.plan))
        return [Reply(self.texts("answers.how_long", number=number, total=len(self.plan),
                                 minutes=minutes))]

    def _whats_next(self, verb: str, arg: str, named: Exercise | None) -> list[Reply]:
        following = 0 if self._warmup_now() else self.position.exercise + 1
        if following >= len(self.plan):
            return self._say_key("answers.whats_next_last")
        exercise, stage = self.plan[following]
        return [Reply(self.texts("answers.whats_next", name=exercise.name, stage=stage.name))]

    def _how_to(self, verb: str, arg: str, named: Exercise | None) -> list[Reply]:
        """Every step, cue and thing to avoid: asked for, so never cut short."""
        self._hold_card()
        return [Reply(self._instructions(named))]

    def _show_me(self, verb: str, arg: str, named: Exercise | None) -> list[Reply]:
        """The stage's animation when it is drawn; else, and for a warm-up move (which has no
        picture), the steps in words."""
        self._hold_card()
        if named is None and self._warmup_now():
            return [Reply(self.texts("answers.show_me_none") + "\n\n" + self._instructions(None))]
        exercise, stage = next((pair for pair in self.plan if pair[0] is named),
                               self.plan[min(self.position.exercise, len(self.plan) - 1)])
        return [show_stage(self.services, exercise, exercise.stages.index(stage))]

    def _what_is(self, verb: str, arg: str, named: Exercise | None) -> list[Reply]:
        self._hold_card()
        if named is None and self._warmup_now():
            warmup = self.services.programme.warmup
            return [Reply(self.texts("answers.what_is", name=warmup.name, purpose=warmup.purpose))]
        exercise = named or self.plan[min(self.position.exercise, len(self.plan) - 1)][0]
        return [Reply(self.texts("answers.what_is", name=exercise.name,
                                 purpose=exercise.purpose))]

    def _instructions(self, named: Exercise | None) -> str:
        if named is None and self._warmup_now():
            move = self.move or self.services.programme.warmup.moves[0]
            return cards.warmup_instructions(self.texts, move)
        for exercise, stage in self.plan:
            if exercise is named:
                return cards.instructions(self.texts, exercise, stage)
        exercise, stage = self.plan[min(self.position.exercise, len(self.plan) - 1)]
        return cards.instructions(self.texts, exercise, stage)

    def _seconds_left(self) -> float:
        """What is left of the timer that runs now, plus every exercise still to come."""
        services, rules = self.services, self.rules
        seconds = 0.0
        first = self.position.exercise
        runner = self.runner
        if runner is not None and not self.in_warmup:
            seconds += max(0.0, runner.deadline - services.clock.monotonic()) + sum(
                phase.seconds for phase in runner.phases[runner.index + 1:])
            first += 1
        if self._warmup_now():
            moves = services.programme.warmup.moves
            start = moves.index(self.move) if self.move in moves else 0
            seconds += sum(planned_seconds(phases_for(move.plan, rules))
                           for move in moves[start:])
        seconds += sum(exercise_seconds(services, stage) for _, stage in self.plan[first:])
        return seconds

    # -- helpers ------------------------------------------------------------------------------

    def _warmup_now(self) -> bool:
        return self.in_warmup or (self.card is not None and self.card.warmup)

    def _skip_the_warmup(self) -> list[Reply]:
        self._skip_warmup = True
        if self.card is not None:
            self.card.decision = SKIPPED
        if self.runner is not None:
            self.runner.skip()
        self._poke()
        return self._say_key("warmup.skipped")

    def _hold_card(self) -> None:
        """The person is talking at the card: it waits for "ready" rather than starting."""
        if self.card is not None and self.card.auto_at is not None:
            self.card.auto_at = None
            self._poke()

    def _current_name(self) -> str:
        if self._warmup_now():
            return self.services.programme.warmup.name
        return self.plan[min(self.position.exercise, len(self.plan) - 1)][0].name

    def _say_key(self, key: str) -> list[Reply]:
        return [Reply(self.texts(key, seconds=ADD_SECONDS))]

    def stop_quietly(self) -> None:
        """End the workout without saying more (the person left or deleted their data)."""
        self.stopping = True
        if self.runner is not None:
            self.runner.stop()
        self._poke()

    def abandon(self) -> None:
        """End it without a word, without saving anything afterwards, and wake anyone waiting
        for it to settle (the person has just erased their data, or left for later)."""
        self.on_finish = _nothing
        self.stop_quietly()
        if self.task is not None:
            self.task.cancel()
        self.changed.set()

    # -- texts --------------------------------------------------------------------------------

    def summary(self, outcome: str) -> str:
        """What happened, truthfully ("5 of 7 done, Squat and Hip hinge skipped")."""
        names = {exercise.id: exercise.name for exercise, _ in self.plan}
        position = self.position
        return cards.summary(self.texts, len(self.plan),
                             [names.get(e, e) for e in position.done],
                             [names.get(e, e) for e in position.skipped],
                             [names.get(e, e) for e in position.hurt], outcome == STOPPED)

    def _card(self, exercise: Exercise, stage: Stage) -> Reply:
        number = self.position.exercise + 1
        total = len(self.plan)
        stage_index = exercise.stages.index(stage)
        full = not self.services.store.has_met_stage(self.user.id, exercise.id, stage_index)
        halfway = number == total // 2 + 1 and not self._halfway_said
        self._halfway_said = self._halfway_said or halfway
        explain, self._told_how_to_start = not self._told_how_to_start, True
        auto_at = self.card.auto_at if self.card is not None else None
        notes: list[str] = []
        if nerve_care.reminds(exercise, self.nerve_signs):
            notes.append(self.texts("nerve.stretch_reminder"))
            stored = self.services.store.stages(self.user.id).get(exercise.id, 0)
            if exercise.nerve_hold_gentlest and stored > 0:
                notes.append(self.texts("nerve.hamstring_held", stage=stage.name))
        card = cards.Card(
            number=number, total=total, exercise=exercise, stage=stage,
            minutes_left=max(1, math.ceil(self._seconds_left() / 60)), full=full,
            halfway=halfway, starts_in=None if auto_at is None else self.rules.ready_wait_s,
            say_how_it_starts=explain,
            notes=tuple(notes))
        reply = cards.exercise_card(self.texts, card, self._card_choices(exercise))
        # The stage's animation when it is drawn already; never waited for (card_picture.py).
        picture = exercise_picture(self.services, exercise, stage_index)
        return replace(reply, image=picture) if picture is not None else reply

    def _card_choices(self, exercise: Exercise) -> tuple[Choice, ...]:
        t, tag = self.texts, self.tag
        choices = [Choice(t("session.button_ready"), button("ready", tag=tag)),
                   Choice(t("session.button_how"), button("how_to", tag=tag)),
                   Choice(t("buttons.skip"), button("skip", "exercise", tag)),
                   Choice(t("buttons.stop"), button("stop", tag=tag))]
        if nerve_care.reminds(exercise, self.nerve_signs):
            choices.append(Choice(t("buttons.zinging_gone"), button("zinging_gone")))
        return tuple(choices)

    def _warmup_choices(self) -> tuple[Choice, ...]:
        t, tag = self.texts, self.tag
        return (Choice(t("session.button_ready"), button("ready", tag=tag)),
                Choice(t("buttons.skip_warmup"), button("skip", tag=tag)),
                Choice(t("buttons.stop"), button("stop", tag=tag)))

    def _controls(self, phase: Phase) -> tuple[Choice, ...]:
        t, tag = self.texts, self.tag
        if self.in_warmup:
            keys = [("pause", "pause", ""), ("it_hurts", "hurts", ""),
                    ("skip_warmup", "skip", ""), ("stop", "stop", "")]
        elif phase.kind == PACED:  # no timer runs during a set at the person's own pace
            keys = [("done", "done", ""), ("it_hurts", "hurts", ""),
                    ("skip", "skip", "exercise"), ("stop", "stop", "")]
        else:
            keys = [("pause", "pause", ""), ("add_10", "add_time", "")]
            if phase.kind in RESTING_KINDS:
                keys.append(("skip_rest", "skip_rest", ""))
            keys += [("it_hurts", "hurts", ""), ("skip", "skip", "exercise"),
                     ("stop", "stop", "")]
        return tuple(Choice(t(f"buttons.{key}"), button(verb, arg, tag))
                     for key, verb, arg in keys)


async def _nothing(session: WorkoutSession, outcome: str) -> None:
    """The on_finish of an abandoned workout."""
