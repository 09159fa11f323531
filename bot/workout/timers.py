"""Guided interval timers: a stage's timer plan becomes phases, run on deadlines.

Every phase ends at `previous deadline + its length`, never at `now + length`, so a cue delivered a
little late does not push the rest of the workout later. Pausing moves the remaining schedule;
"+10 s" and "skip rest" move it by exactly that much.
"""
from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from bot.clock import Clock
from bot.content import Rules, TimerPlan

WORK, REST, SWITCH, SET_REST, GET_READY, PACED = "work", "rest", "switch", "set_rest", "ready", "paced"
RESTING_KINDS = frozenset({REST, SWITCH, SET_REST, GET_READY})


@dataclass(frozen=True)
class Phase:
    """One stretch of the timer: hold, rest, switch sides, or a set at the person's own pace."""

    kind: str
    seconds: int
    mode: str = "hold"
    rep: int = 0
    reps: int = 0
    set: int = 0
    sets: int = 0
    side: int = 0  # 0 = no side, 1 = first, 2 = second


def phases_for(plan: TimerPlan, rules: Rules) -> tuple[Phase, ...]:
    """The whole exercise as phases, starting with a short get-ready pause."""
    phases: list[Phase] = [Phase(GET_READY, rules.get_ready_s, plan.mode)]
    sides = (1, 2) if plan.sides == "each" else (0,)
    for set_no in range(1, plan.sets + 1):
        if set_no > 1 and plan.set_rest_s and plan.mode != "paced":
            phases.append(Phase(SET_REST, plan.set_rest_s, plan.mode, set=set_no, sets=plan.sets))
        for side in sides:
            if side == 2:
                phases.append(Phase(SWITCH, rules.switch_s, plan.mode, set=set_no, sets=plan.sets,
                                    side=2))
            phases.extend(_set_phases(plan, set_no, side))
        if plan.mode == "paced" and set_no < plan.sets and plan.set_rest_s:
            phases.append(Phase(SET_REST, plan.set_rest_s, plan.mode, set=set_no + 1,
                                sets=plan.sets))
    return tuple(phases)


def _set_phases(plan: TimerPlan, set_no: int, side: int) -> list[Phase]:
    if plan.mode == "paced":
        return [Phase(PACED, 0, plan.mode, reps=plan.reps, set=set_no, sets=plan.sets, side=side)]
    out: list[Phase] = []
    for rep in range(1, plan.reps + 1):
        rep_side = side
        if plan.sides == "alternate":
            rep_side = 1 if rep % 2 else 2
        if rep > 1 and plan.rest_s:
            out.append(Phase(REST, plan.rest_s, plan.mode, rep=rep, reps=plan.reps, set=set_no,
                             sets=plan.sets, side=rep_side))
        out.append(Phase(WORK, plan.work_s, plan.mode, rep=rep, reps=plan.reps, set=set_no,
                         sets=plan.sets, side=rep_side))
    return out


def planned_seconds(phases: Sequence[Phase]) -> int:
    """Clock time the phases take when nobody pauses (paced sets count as zero)."""
    return sum(p.seconds for p in phases)


# What the runner reports back: the phase index, the phase, and the deadline it was planned for.
OnPhase = Callable[[int, Phase, float], Awaitable[None]]
# Countdown: the phase, whole seconds left, and the next cue's deadline (to leave budget for it).
OnTick = Callable[[Phase, int, float], Awaitable[None]]

DONE, SKIPPED, STOPPED = "done", "skipped", "stopped"
HURT = "hurt"  # stopped at once because it hurt: not done, not skipped


class PhaseRunner:
    """Runs one exercise's phases on deadlines and takes the person's controls while it runs."""

    def __init__(self, clock: Clock, phases: Sequence[Phase], on_phase: OnPhase,
                 on_tick: OnTick | None = None, start_index: int = 0) -> None:
        self.clock = clock
        self.phases = phases
        self.on_phase = on_phase
        self.on_tick = on_tick
        self.index = start_index
        self.deadline = 0.0
        self.paused = False
        self._remaining_when_paused: float | None = 0.0
        self._outcome: str | None = None
        self._done_pressed = False
        self._changed = asyncio.Event()
        self._running = False

    @property
    def current(self) -> Phase | None:
        return self.phases[self.index] if self.index < len(self.phases) else None

    @property
    def waiting_for_person(self) -> bool:
        """True while nothing is timed: a paced set waiting for "done", or a pause."""
        phase = self.current
        if self._outcome is not None:
            return False
        return self.paused or (phase is not None and phase.kind == PACED and not self._done_pressed)

    async def run(self, start: float | None = None) -> str:
        """Run from `self.index`; returns DONE, SKIPPED, STOPPED or HURT."""
        self.deadline = self.clock.monotonic() if start is None else start
        while self.index < len(self.phases) and self._outcome is None:
            phase = self.phases[self.index]
            planned_start = self.deadline
            if phase.kind != PACED:
                self.deadline = planned_start + phase.seconds
                if self.paused and self._remaining_when_paused is None:  # paused before start
                    self._remaining_when_paused = float(phase.seconds)
            self._running = True
            await self.on_phase(self.index, phase, planned_start)
            if phase.kind == PACED:
                await self._wait_for_done()
                # The person set the pace: the schedule continues from the moment they said done.
                self.deadline = self.clock.monotonic()
            else:
                await self._wait_until_deadline(phase)
            if self._outcome is None:
                self.index += 1
        return self._outcome or DONE

    # -- controls (called by the coach while `run` is waiting) --------------------------------

    def pause(self) -> bool:
        phase = self.current
        if self.paused or self._outcome or (phase is not None and phase.kind == PACED):
            return False
        self._remaining_when_paused = (max(0.0, self.deadline - self.clock.monotonic())
                                       if self._running else None)
        self.paused = True
        self._changed.set()
        return True

    def resume(self) -> bool:
        if not self.paused:
            return False
        self.deadline = self.clock.monotonic() + (self._remaining_when_paused or 0.0)
        self.paused = False
        self._changed.set()
        return True

    def add_time(self, seconds: int) -> bool:
        phase = self.current
        if phase is None or phase.kind == PACED or self._outcome:
            return False
        if self.paused:
            self._remaining_when_paused = (self._remaining_when_paused or 0.0) + seconds
        else:
            self.deadline += seconds
        self._changed.set()
        return True

    def skip_rest(self) -> bool:
        phase = self.current
        if phase is None or phase.kind not in RESTING_KINDS or self._outcome:
            return False
        self._remaining_when_paused = 0.0
        self.paused = False
        self.deadline = self.clock.monotonic()
        self._changed.set()
        return True

    def done(self) -> bool:
        phase = self.current
        if phase is None or phase.kind != PACED or self._outcome:
            return False
        self._done_pressed = True
        self._changed.set()
        return True

    @property
    def resting(self) -> bool:
        """A rest, a side switch or the get-ready pause is running (what "skip" skips there)."""
        phase = self.current
        return phase is not None and phase.kind in RESTING_KINDS and self._outcome is None

    def skip(self) -> None:
        self._finish(SKIPPED)

    def hurt(self) -> None:
        self._finish(HURT)

    def stop(self) -> None:
        self._finish(STOPPED)

    def _finish(self, outcome: str) -> None:
        if self._outcome is None:
            self._outcome = outcome
            self._changed.set()

    # -- waiting ------------------------------------------------------------------------------

    async def _wait_for_done(self) -> None:
        while not self._done_pressed and self._outcome is None:
            await self.clock.wait_event(self._changed, None)
            self._changed.clear()
        self._done_pressed = False

    async def _wait_until_deadline(self, phase: Phase) -> None:
        while self._outcome is None:
            if self.paused:
                await self.clock.wait_event(self._changed, None)
                self._changed.clear()
                continue
            now = self.clock.monotonic()
            if now >= self.deadline:
                return
            wake = self._next_tick(now)
            if await self.clock.wait_event(self._changed, wake):
                self._changed.clear()
                continue
            if self.on_tick is not None and wake < self.deadline and not self.paused:
                left = math.ceil(self.deadline - self.clock.monotonic() - 1e-6)
                if left > 0:
                    await self.on_tick(phase, left, self.deadline)

    def _next_tick(self, now: float) -> float:
        """Wake at the deadline, or at the next whole second left when a countdown is shown."""
        if self.on_tick is None:
            return self.deadline
        left = self.deadline - now
        step = left - math.floor(left - 1e-9) if left > 1 else left
        return min(self.deadline, now + max(step, 1e-3))
