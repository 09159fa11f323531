"""Today's workout: each exercise at the person's stage, its instructions, then its guided timer.

The position (exercise, phase, what is finished) is written to SQLite as the workout goes, so a
restart can offer to pick up where the person was, and finished exercises are kept exactly once.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from bot.content import Exercise, Stage, TimerPlan
from bot.intents import button
from bot.workout.plan_words import plan_line
from bot.replies import Choice, Reply
from bot.services import Services
from bot.data.store import User
from bot.workout.timers import (DONE, PACED, GET_READY, REST, RESTING_KINDS, SET_REST, SKIPPED, STOPPED, SWITCH,
                     WORK, Phase, PhaseRunner, phases_for, planned_seconds)

log = logging.getLogger(__name__)
PACED_REP_SECONDS = 4  # a guess for "about N minutes" when reps go at the person's own pace
SLOT = "timer"


@dataclass
class Position:
    """Where a workout is: saved on every phase so a restart knows what happened."""

    exercise: int = 0
    phase: int = 0
    done: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Position:
        data = data or {}
        return cls(int(data.get("exercise", 0)), int(data.get("phase", 0)),
                   list(data.get("done", [])), list(data.get("skipped", [])))


def todays_plan(services: Services, user: User) -> list[tuple[Exercise, Stage]]:
    """Every exercise in programme order, at the person's current stage."""
    stages = services.store.stages(user.id)
    plan = []
    for exercise in services.programme.exercises:
        plan.append((exercise, exercise.stage_at(stages.get(exercise.id, 0))))
    return plan


def estimated_minutes(services: Services, plan: list[tuple[Exercise, Stage]]) -> int:
    seconds = 0
    for _, stage in plan:
        seconds += planned_seconds(phases_for(stage.plan, services.programme.rules))
        if stage.plan.mode == "paced":
            seconds += stage.plan.reps * stage.plan.sets * PACED_REP_SECONDS
        seconds += 30  # reading the instructions and getting into position
    return max(1, round(seconds / 60))


def keep_outcome(services: Services, workout_id: int, position: Position, exercise: Exercise,
                 stage: Stage, result: str) -> None:
    """Keep a finished (DONE) or skipped (SKIPPED) exercise, then move the saved position on,
    so nothing counts twice. The chat's timer and the player page both record through here."""
    stage_index = exercise.stages.index(stage)
    services.store.record_exercise(workout_id, exercise.id, stage_index, result,
                                   services.clock.now())
    (position.done if result == DONE else position.skipped).append(exercise.id)
    position.exercise += 1
    position.phase = 0
    services.store.save_position(workout_id, asdict(position))


class WorkoutSession:
    """One running workout for one person; the coach forwards their controls to it."""

    def __init__(self, services: Services, user: User, workout_id: int, position: Position,
                 on_finish: Callable[[WorkoutSession, str], Awaitable[None]]) -> None:
        self.services = services
        self.texts = services.texts
        self.user = user
        self.workout_id = workout_id
        self.position = position
        self.on_finish = on_finish
        self.plan = todays_plan(services, user)
        self.runner: PhaseRunner | None = None
        self.stopping = False
        self.task: asyncio.Task[None] | None = None
        self.changed = asyncio.Event()  # set whenever the person may be waited for
        # Controls said between two exercises' timers, applied to the next one.
        self._pending_pause = False
        self._pending_skip = False
        self.tag = f"w{workout_id}"
        # Exercises chain on deadlines too: the next one starts where the last one was planned
        # to end, so sending an exercise card does not push the rest of the workout later.
        self.next_start: float | None = None
        # Optional instrumentation (the timer benchmark): called after every cue is delivered
        # with (planned deadline, delivered at), both on the monotonic clock.
        self.on_cue: Callable[[float, float], None] | None = None

    # -- running ------------------------------------------------------------------------------

    def start(self) -> None:
        self.task = asyncio.create_task(self.run(), name=f"workout-{self.user.key}")

    async def run(self) -> None:
        outcome = DONE
        try:
            while self.position.exercise < len(self.plan) and not self.stopping:
                result = await self._run_exercise(*self.plan[self.position.exercise])
                if result == STOPPED:
                    outcome = STOPPED
                    break
            if self.stopping:
                outcome = STOPPED
        except asyncio.CancelledError:
            raise
        except Exception:  # a bug must not leave the person in a dead workout
            log.exception("workout %s failed", self.workout_id)
            outcome = STOPPED
        self.runner = None
        self.changed.set()
        await self.on_finish(self, outcome)

    async def _run_exercise(self, exercise: Exercise, stage: Stage) -> str:
        number = self.position.exercise + 1
        if self.position.phase == 0:
            await self._say(self._exercise_card(number, exercise, stage))
        if self.stopping:  # "stop" said while the card was on its way
            return STOPPED
        phases = phases_for(stage.plan, self.services.programme.rules)
        runner = PhaseRunner(
            self.services.clock, phases,
            on_phase=lambda i, p, planned: self._on_phase(exercise, stage, i, p, planned),
            on_tick=self._on_tick if self.services.delivery.can_edit(self.user.key) else None,
            start_index=min(self.position.phase, len(phases) - 1))
        if self._pending_skip:
            runner.skip()
        if self._pending_pause:
            runner.pause()
        self._pending_skip = self._pending_pause = False
        self.runner = runner
        try:
            result = await runner.run(self.next_start)
        finally:
            self.runner = None  # between exercises, controls are queued for the next timer
        self.next_start = runner.deadline if result == DONE else None
        if self.stopping:
            result = STOPPED
        await self._record(exercise, stage, result)
        return result

    async def _record(self, exercise: Exercise, stage: Stage, result: str) -> None:
        """Keep the outcome and move the saved position on, then say so."""
        if result in (DONE, SKIPPED):
            keep_outcome(self.services, self.workout_id, self.position, exercise, stage, result)
            key = "workout.exercise_done" if result == DONE else "workout.exercise_skipped"
            await self._say(Reply(self.texts(key, name=exercise.name)))

    async def _on_phase(self, exercise: Exercise, stage: Stage, index: int, phase: Phase,
                        planned: float) -> None:
        self.position.phase = index
        self.services.store.save_position(self.workout_id, asdict(self.position))
        self.changed.set()
        await self._say(Reply(self._cue_text(exercise, stage.plan, phase),
                              self._controls(phase), slot=SLOT, kind="cue"))
        if self.on_cue is not None:
            self.on_cue(planned, self.services.clock.monotonic())

    async def _on_tick(self, phase: Phase, seconds_left: int, next_cue: float) -> None:
        label = {WORK: "workout.countdown_move" if phase.mode == "move"
                 else "workout.countdown_hold"}.get(phase.kind, "workout.countdown_rest")
        reply = Reply(self.texts("workout.countdown", label=self.texts(label), seconds=seconds_left),
                      self._controls(phase), slot=SLOT, edit=True, kind="countdown")
        await self.services.delivery.try_send(self.user.key, reply, not_after=next_cue)

    async def _say(self, reply: Reply) -> None:
        await self.services.delivery.send(self.user.key, reply)

    # -- the person's controls ----------------------------------------------------------------

    def control(self, verb: str) -> str:
        """Apply pause/resume/skip_rest/add_time/skip/stop/done; returns the text key to answer."""
        runner = self.runner
        if runner is None:  # between exercises, or the timer has not started yet
            return self._control_between_exercises(verb)
        if verb == "pause":
            if runner.current is not None and runner.current.kind == PACED:
                return "workout.paced_no_pause"
            return "workout.paused" if runner.pause() else "workout.already_paused"
        if verb == "resume":
            return "workout.resumed" if runner.resume() else "workout.not_paused"
        if verb == "add_time":
            return "workout.added" if runner.add_time(10) else "workout.not_paced"
        if verb == "skip_rest":
            return "workout.skipped_rest" if runner.skip_rest() else "workout.not_resting"
        if verb == "done":
            return "" if runner.done() else "workout.not_paced"
        if verb == "skip":
            runner.skip()
            return ""
        if verb == "stop":
            self.stopping = True
            runner.stop()
            return ""
        return "workout.nothing_running"

    def _control_between_exercises(self, verb: str) -> str:
        if verb == "stop":
            self.stopping = True
            return ""
        if verb == "pause":
            self._pending_pause = True
            return "workout.paused"
        if verb == "resume":
            was_paused, self._pending_pause = self._pending_pause, False
            return "workout.resumed" if was_paused else "workout.not_paused"
        if verb == "skip":
            self._pending_skip = True
            return ""
        return "hints.workout"

    @property
    def waiting_for_person(self) -> bool:
        return self.runner is not None and self.runner.waiting_for_person

    def stop_quietly(self) -> None:
        """End the workout without saying more (the person left or deleted their data)."""
        self.stopping = True
        if self.runner is not None:
            self.runner.stop()

    def abandon(self) -> None:
        """End it without a word, without saving anything afterwards, and wake anyone waiting
        for it to settle (the person has just erased their data)."""
        self.on_finish = _nothing
        self.stop_quietly()
        if self.task is not None:
            self.task.cancel()
        self.changed.set()

    # -- texts --------------------------------------------------------------------------------

    def _controls(self, phase: Phase) -> tuple[Choice, ...]:
        t, tag = self.texts, self.tag
        if phase.kind == PACED:  # no timer runs during a set at the person's own pace
            keys = [("done", "done"), ("skip", "skip"), ("stop", "stop")]
        else:
            keys = [("pause", "pause"), ("add_10", "add_time")]
            if phase.kind in RESTING_KINDS:
                keys.append(("skip_rest", "skip_rest"))
            keys += [("skip", "skip"), ("stop", "stop")]
        return tuple(Choice(t(f"buttons.{k}"), button(v, tag=tag)) for k, v in keys)

    def _exercise_card(self, number: int, exercise: Exercise, stage: Stage) -> Reply:
        t = self.texts
        text = t("workout.exercise", number=number, total=len(self.plan), name=exercise.name,
                 stage=stage.name, purpose=exercise.purpose,
                 steps="\n".join(f"{i}. {s}" for i, s in enumerate(stage.steps, 1)),
                 stage_how=stage.how, cues=" ".join(stage.cues), avoid=" ".join(stage.avoid))
        text += "\n\n" + t("workout.plan_timed", summary=plan_line(stage.plan, t))
        return Reply(text)

    def _cue_text(self, exercise: Exercise, plan: TimerPlan, phase: Phase) -> str:
        t = self.texts
        side = _side_label(t, plan, phase.side)
        side_part = t("workout.side_suffix", side=side) if side else ""
        set_part = t("workout.set_suffix", set=phase.set, sets=phase.sets) if phase.sets > 1 else ""
        if phase.kind == GET_READY:
            return t("workout.cue_ready", name=exercise.name, seconds=phase.seconds)
        if phase.kind == WORK and phase.mode == "move":
            return t("workout.cue_work_move", seconds=phase.seconds, side=side_part, set=set_part)
        if phase.kind == WORK:
            rep_part = t("workout.rep_suffix", rep=phase.rep, reps=phase.reps) if phase.reps > 1 else ""
            return t("workout.cue_work_hold", seconds=phase.seconds, side=side_part, rep=rep_part,
                     set=set_part)
        if phase.kind == REST:
            return t("workout.cue_rest", seconds=phase.seconds)
        if phase.kind == SWITCH:
            return t("workout.cue_switch", side=side, seconds=phase.seconds)
        if phase.kind == SET_REST:
            return t("workout.cue_set_rest", seconds=phase.seconds, set=phase.set, sets=phase.sets)
        return t("workout.cue_paced", set=phase.set, sets=phase.sets, side=side_part,
                 reps=phase.reps)


def _side_label(t: Any, plan: TimerPlan, side: int) -> str:
    if side == 0:
        return ""
    labels = plan.side_labels or (t("workout.side_first"), t("workout.side_second"))
    return labels[side - 1]



async def _nothing(session: WorkoutSession, outcome: str) -> None:
    """The on_finish of an abandoned workout."""
