"""Timer benchmark: N concurrent guided workouts with short phases in one process.

Two ways of timing the same workouts take turns, round after round (ours first in odd rounds, the
baseline first in even ones), so a machine that gets busier or quieter meanwhile weighs on both:

- ours: the coach's deadline timers (bot/timers.py), driven by "start session" as a person would;
- the baseline: the same messages and the same SQLite writes, timed by chaining plain
  `asyncio.sleep(duration)` calls.

Three figures per workout, each against the plan (the first cue's planned instant plus the sum of
the phase lengths):

- cue lateness: how late each phase cue reached the recording adapter (what a person feels);
- end drift: how late the end of the timer reached them (the "exercise done" message that follows
  the last cue's deadline);
- wrap-up: when the workout was completely put away (final writes, then "finished" and the
  pain question sent): bookkeeping after the end, shown apart so it cannot hide in the drift.

It prints every round, then the median over rounds of each percentile and ours / baseline.

    python -m bench.timers [--workouts 1000] [--rounds 3] [--exercises 3] [--seconds-per-phase 1]
                           [--spread 1] [--reps 3]
"""
from __future__ import annotations

import argparse
import asyncio
import dataclasses
import random
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from bot.bootstrap import build
from bot.coach import Coach
from bot.states import PAIN_AFTER, PAIN_BEFORE, WORKOUT, tag_for
from bot.content import Programme, TimerPlan
from bot.delivery import SendBudget
from bot.events import Text, UserKey
from bot.intents import pain_buttons
from bot.states import READY
from bot.replies import Reply
from bot.workout import cards
from bot.workout.timers import phases_for
from bot.workout.session import todays_plan

# Targets, as ratios against the baseline measured in the same run.
TARGET_LATENESS_RATIO, TARGET_END_RATIO = 0.5, 1.0


class RecordingAdapter:
    """Notes when each person's timer end reached them: the first message after their last
    phase cue. The coach sends "exercise done" as a cue too (it ends the live message), so
    those texts, `done_texts`, count as the end, not as a phase cue."""

    platform = "bench"
    can_edit = False  # cues only: lateness of phase changes is the figure that matters
    budget = SendBudget()

    def __init__(self, clock_monotonic: Callable[[], float],
                 done_texts: frozenset[str] = frozenset()) -> None:
        self.monotonic = clock_monotonic
        self.done_texts = done_texts
        self.delivered = 0
        self.after_last_cue: dict[UserKey, float | None] = {}

    async def send(self, user: UserKey, reply: Reply, context: object | None) -> None:
        self.delivered += 1
        if reply.kind == "cue" and reply.text not in self.done_texts:
            self.after_last_cue[user] = None
        elif user in self.after_last_cue and self.after_last_cue[user] is None:
            self.after_last_cue[user] = self.monotonic()


@dataclasses.dataclass
class Figures:
    """One run's raw measurements, in seconds."""

    lateness: list[float] = dataclasses.field(default_factory=list)
    ends: list[float] = dataclasses.field(default_factory=list)
    wrap_ups: list[float] = dataclasses.field(default_factory=list)


def short_programme(programme: Programme, exercises: int, seconds: int,
                    reps: int = 3) -> Programme:
    """The real programme cut to a few exercises with short holds and rests."""
    plan = TimerPlan(mode="hold", work_s=seconds, reps=reps, rest_s=seconds, sets=1,
                     set_rest_s=0, sides="none", side_labels=None)
    short = tuple(dataclasses.replace(e, stages=(dataclasses.replace(e.stages[0], plan=plan),))
                  for e in programme.exercises[:exercises])
    # No warm-up, and each card starts its exercise at once, on the deadline chain: the figures
    # are about the timers, not about people pressing "Ready".
    rules = dataclasses.replace(programme.rules, get_ready_s=seconds, switch_s=seconds,
                                ready_wait_s=0)
    warmup = dataclasses.replace(programme.warmup, moves=())
    return dataclasses.replace(programme, exercises=short, rules=rules, warmup=warmup)


def seed_people(coach: Coach, count: int) -> list[UserKey]:
    """People who finished onboarding, straight into the DB."""
    store, now = coach.services.store, coach.services.clock.now()
    keys = []
    for n in range(count):
        key = UserKey("bench", str(n))
        user = store.user(key, now)
        store.update_user(user.id, state=READY, baseline_pain=3)
        store.init_stages(user.id, [e.id for e in coach.services.programme.exercises], now)
        keys.append(key)
    return keys


def everyone_ready(coach: Coach) -> None:
    """Between runs: nobody is still waiting to be asked about pain."""
    coach.services.store.db.conn.execute("update users set state = ? where platform = 'bench'", (READY,))


async def run_coach(coach: Coach, adapter: RecordingAdapter, keys: list[UserKey],
                    spread: float) -> Figures:
    """Start every workout at a random moment within `spread` seconds, as a person would."""
    clock = coach.services.clock
    figures = Figures()
    total = sum(sum(p.seconds for p in phases_for(stage.plan, coach.services.programme.rules))
                for _, stage in todays_plan(coach.services, coach.services.store.find_user(keys[0])))

    async def one(key: UserKey) -> None:
        await asyncio.sleep(random.uniform(0, spread))
        await coach.handle(Text(key, "start session"))
        await coach.handle(Text(key, "3"))  # the pain right now, asked before every session
        session = coach.running(key)
        first: list[float] = []

        def on_cue(planned: float, delivered: float) -> None:
            if not first:
                first.append(planned)
            figures.lateness.append(delivered - planned)
        session.on_cue = on_cue
        assert session.task is not None
        await session.task
        planned_end = first[0] + total
        end = adapter.after_last_cue.pop(key)
        assert end is not None, "no message after the last cue"
        figures.ends.append(end - planned_end)
        figures.wrap_ups.append(clock.monotonic() - planned_end)

    await asyncio.gather(*(one(k) for k in keys))
    return figures


async def run_baseline(coach: Coach, adapter: RecordingAdapter, keys: list[UserKey],
                       spread: float) -> Figures:
    """The same messages and writes as ours, each phase timed by asyncio.sleep(its length)."""
    clock, store, delivery, t = coach.services.clock, coach.services.store, coach.services.delivery, coach.texts
    figures = Figures()

    async def one(key: UserKey) -> None:
        await asyncio.sleep(random.uniform(0, spread))
        user = store.find_user(key)
        assert user is not None
        # The pain right now, asked before every session, as ours asks it.
        await delivery.send(key, Reply(t("pain_check.ask"), pain_buttons(tag_for(PAIN_BEFORE))))
        store.add_pain(user.id, 3, "before", clock.now())
        await delivery.send(key, Reply(t("pain_check.noted", score=3)))
        workout_id = store.start_workout(user.id, clock.now(), 3, {})
        store.set_state(user.id, WORKOUT)
        await delivery.send(key, Reply(t("workout.start", count=3, minutes=1)))
        planned: float | None = None
        plan = todays_plan(coach.services, user)
        for number, (exercise, stage) in enumerate(plan):
            await delivery.send(key, Reply(f"{number + 1}. {exercise.name}\n{exercise.purpose}"))
            planned = clock.monotonic() if planned is None else planned
            for index, phase in enumerate(phases_for(stage.plan, coach.services.programme.rules)):
                store.save_position(workout_id, {"exercise": number, "phase": index})
                await delivery.send(key, Reply(f"phase {index}", kind="cue"))
                figures.lateness.append(clock.monotonic() - planned)
                await asyncio.sleep(phase.seconds)  # the naive way: sleep for the duration
                planned += phase.seconds
            store.record_exercise(workout_id, exercise.id, 0, "done", clock.now())
            await delivery.send(key, Reply(t("workout.exercise_done", name=exercise.name)))
        assert planned is not None
        figures.ends.append(adapter.after_last_cue.pop(key) - planned)  # type: ignore[operator]
        store.set_workout_status(workout_id, "done", clock.now())
        store.set_state(user.id, PAIN_AFTER)
        # What ours sends at the end: the summary and the pain question, in one message.
        done = cards.summary(t, len(plan), [exercise.name for exercise, _ in plan], [], [], False)
        await delivery.send(key, Reply(done + "\n\n" + t("pain.ask_after"),
                                       pain_buttons(tag_for(PAIN_AFTER))))
        figures.wrap_ups.append(clock.monotonic() - planned)

    await asyncio.gather(*(one(k) for k in keys))
    return figures


def percentiles(values: list[float]) -> tuple[float, float, float]:
    """p50, p99 and max in milliseconds (of the absolute values: early is off-plan too)."""
    ms = sorted(abs(v) * 1000 for v in values)
    p = statistics.quantiles(ms, n=100, method="inclusive")
    return p[49], p[98], ms[-1]


def summary(figures: Figures) -> dict[str, tuple[float, float, float]]:
    return {"lateness": percentiles(figures.lateness), "end": percentiles(figures.ends),
            "wrap_up": percentiles(figures.wrap_ups)}


def line(name: str, figures: dict[str, tuple[float, float, float]]) -> str:
    def part(label: str, values: tuple[float, float, float]) -> str:
        return f"{label} {values[0]:6.1f} /{values[1]:6.1f} /{values[2]:6.1f}"
    return (f"{name:<26} {part('cue lateness', figures['lateness'])}  |  "
            f"{part('end drift', figures['end'])}  |  {part('wrap-up', figures['wrap_up'])}")


def median_of(rounds: list[dict[str, tuple[float, float, float]]]
              ) -> dict[str, tuple[float, float, float]]:
    return {name: tuple(statistics.median(r[name][i] for r in rounds) for i in range(3))
            for name in rounds[0]}  # type: ignore[misc]


async def main_async(args: argparse.Namespace) -> bool:
    with tempfile.TemporaryDirectory() as tmp:
        coach = build(Path(tmp) / "bench.db", time_scale=1.0)
        coach.services.programme = short_programme(coach.services.programme, args.exercises,
                                                   args.seconds_per_phase, args.reps)
        done_texts = frozenset(coach.texts("workout.exercise_done", name=exercise.name)
                               for exercise in coach.services.programme.exercises)
        adapter = RecordingAdapter(coach.services.clock.monotonic, done_texts)
        coach.services.delivery.register(adapter)
        keys = seed_people(coach, args.workouts)
        phases = len(phases_for(coach.services.programme.exercises[0].stages[0].plan,
                                coach.services.programme.rules))
        print(f"{args.workouts} concurrent workouts, {args.exercises} exercises x {phases} phases "
              f"of {args.seconds_per_phase} s, starts spread over {args.spread} s; "
              f"{args.rounds} rounds of each, alternating")
        print(f"{'ms: p50 / p99 / max':<26} (wrap-up = final writes done and pain question sent)")
        runs: dict[str, tuple[Callable[..., Awaitable[Figures]], list]] = {
            "deadline timers (ours)": (run_coach, []), "chained asyncio.sleep": (run_baseline, [])}
        for number in range(args.rounds):
            order = list(runs) if number % 2 == 0 else list(reversed(runs))
            for name in order:
                runner, results = runs[name]
                everyone_ready(coach)
                started = time.perf_counter()
                figures = summary(await runner(coach, adapter, keys, args.spread))
                results.append(figures)
                print(line(f"{name}, round {number + 1}", figures) +
                      f"  ({time.perf_counter() - started:.1f} s)")
        ours, base = (median_of(runs[name][1]) for name in runs)
        print(f"medians of {args.rounds} rounds")
        print(line("deadline timers (ours)", ours))
        print(line("chained asyncio.sleep", base))
        lateness_ratio = ours["lateness"][1] / base["lateness"][1]
        end_ratio = ours["end"][1] / base["end"][1]
        print(f"ours / baseline, p99: cue lateness {lateness_ratio:.2f} "
              f"(target <= {TARGET_LATENESS_RATIO:.2f}), end drift {end_ratio:.2f} "
              f"(target <= {TARGET_END_RATIO:.2f}), wrap-up "
              f"{ours['wrap_up'][1] / base['wrap_up'][1]:.2f}")
        met = lateness_ratio <= TARGET_LATENESS_RATIO and end_ratio <= TARGET_END_RATIO
        print(f"targets {'met' if met else 'MISSED'}; delivered {adapter.delivered:,} messages")
        coach.services.store.close()
        return met


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workouts", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3, help="rounds of each, alternating")
    parser.add_argument("--exercises", type=int, default=3)
    parser.add_argument("--seconds-per-phase", type=int, default=1)
    parser.add_argument("--spread", type=float, default=1.0,
                        help="start times are spread uniformly over this many seconds")
    parser.add_argument("--reps", type=int, default=3, help="holds in each exercise")
    args = parser.parse_args()
    if args.rounds < 1 or args.reps < 1:
        parser.error("--rounds and --reps must be at least 1")
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
