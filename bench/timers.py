"""Timer benchmark: N concurrent guided workouts with short phases in one process.

For every phase cue it records how late the cue reached a recording adapter compared with its
planned deadline, and for every workout how far its end drifted from the plan. The same workouts
are then run by a baseline that chains plain `asyncio.sleep(duration)` calls with the same work
per cue, in the same run, so the figures are ratios on the same machine at the same moment.

    python -m bench.timers [--workouts 1000] [--exercises 3] [--seconds-per-phase 1]
"""
from __future__ import annotations

import argparse
import asyncio
import dataclasses
import random
import statistics
import tempfile
import time
from pathlib import Path

from bot.bootstrap import build
from bot.coach import Coach
from bot.content import Programme, TimerPlan
from bot.delivery import SendBudget
from bot.events import Text, UserKey
from bot.replies import Reply
from bot.workout.timers import phases_for
from bot.workout.session import todays_plan


class RecordingAdapter:
    """Counts deliveries; the work a real adapter does is not what is measured here."""

    platform = "bench"
    can_edit = False  # cues only: lateness of phase changes is the figure that matters
    budget = SendBudget()

    def __init__(self) -> None:
        self.delivered = 0

    async def send(self, user: UserKey, reply: Reply, context: object | None) -> None:
        self.delivered += 1


def short_programme(programme: Programme, exercises: int, seconds: int) -> Programme:
    """The real programme cut to a few exercises with short holds and rests."""
    plan = TimerPlan(mode="hold", work_s=seconds, reps=3, rest_s=seconds, sets=1, set_rest_s=0,
                     sides="none", side_labels=None)
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
        store.update_user(user.id, state="ready", baseline_pain=3)
        store.init_stages(user.id, [e.id for e in coach.services.programme.exercises], now)
        keys.append(key)
    return keys


async def run_coach(coach: Coach, keys: list[UserKey], spread: float) -> tuple[list[float],
                                                                              list[float]]:
    """Start every workout at a random moment within `spread` seconds; collect lateness."""
    clock = coach.services.clock
    lateness: list[float] = []
    drifts: list[float] = []
    total = sum(sum(p.seconds for p in phases_for(stage.plan, coach.services.programme.rules))
                for _, stage in todays_plan(coach.services, coach.services.store.find_user(keys[0])))

    async def one(key: UserKey) -> None:
        await clock.sleep(random.uniform(0, spread))
        await coach.handle(Text(key, "start session"))
        session = coach.running(key)
        first: list[float] = []

        def on_cue(planned: float, delivered: float) -> None:
            if not first:
                first.append(planned)
            lateness.append(delivered - planned)
        session.on_cue = on_cue
        await session.task
        drifts.append(clock.monotonic() - (first[0] + total))

    await asyncio.gather(*(one(k) for k in keys))
    return lateness, drifts


async def run_baseline(coach: Coach, keys: list[UserKey], spread: float) -> tuple[list[float],
                                                                                 list[float]]:
    """The same cues and per-cue work, timed by chaining asyncio.sleep(duration)."""
    clock, store, delivery = coach.services.clock, coach.services.store, coach.services.delivery
    lateness: list[float] = []
    drifts: list[float] = []

    async def one(key: UserKey) -> None:
        await asyncio.sleep(random.uniform(0, spread))
        user = store.find_user(key)
        workout_id = store.start_workout(user.id, clock.now(), 3, {})
        start = planned = clock.monotonic()
        for _, stage in todays_plan(coach.services, user):
            for index, phase in enumerate(phases_for(stage.plan, coach.services.programme.rules)):
                store.save_position(workout_id, {"phase": index})
                await delivery.send(key, Reply(f"phase {index}", kind="cue"))
                lateness.append(clock.monotonic() - planned)
                await asyncio.sleep(phase.seconds)  # the naive way: sleep for the duration
                planned += phase.seconds
        drifts.append(clock.monotonic() - planned)
        del start

    await asyncio.gather(*(one(k) for k in keys))
    return lateness, drifts


def percentiles(values: list[float]) -> tuple[float, float, float]:
    ms = sorted(v * 1000 for v in values)
    p = statistics.quantiles(ms, n=100, method="inclusive")
    return p[49], p[98], ms[-1]


def report(name: str, lateness: list[float], drifts: list[float]) -> None:
    p50, p99, worst = percentiles(lateness)
    d50, d99, dmax = percentiles([abs(d) for d in drifts])
    print(f"{name:<22} cues={len(lateness):>6}  lateness p50={p50:7.2f} ms  p99={p99:7.2f} ms  "
          f"max={worst:7.2f} ms  |  end drift p50={d50:7.2f} ms  p99={d99:7.2f} ms  "
          f"max={dmax:7.2f} ms")


async def main_async(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        coach = build(Path(tmp) / "bench.db", time_scale=1.0)
        coach.services.programme = short_programme(coach.services.programme, args.exercises,
                                            args.seconds_per_phase)
        adapter = RecordingAdapter()
        coach.services.delivery.register(adapter)
        keys = seed_people(coach, args.workouts)
        phases = len(phases_for(coach.services.programme.exercises[0].stages[0].plan,
                                coach.services.programme.rules)) * args.exercises
        print(f"{args.workouts} concurrent workouts, {args.exercises} exercises x {phases // args.exercises} "
              f"phases of {args.seconds_per_phase} s, starts spread over {args.spread} s")
        t0 = time.perf_counter()
        coach_figures = await run_coach(coach, keys, args.spread)
        t1 = time.perf_counter()
        base_figures = await run_baseline(coach, keys, args.spread)
        t2 = time.perf_counter()
        report("deadline timers (ours)", *coach_figures)
        report("chained asyncio.sleep", *base_figures)
        print(f"wall time: ours {t1 - t0:.1f} s, baseline {t2 - t1:.1f} s; "
              f"delivered {adapter.delivered} messages")
        coach.services.store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workouts", type=int, default=1000)
    parser.add_argument("--exercises", type=int, default=3)
    parser.add_argument("--seconds-per-phase", type=int, default=1)
    parser.add_argument("--spread", type=float, default=1.0,
                        help="start times are spread uniformly over this many seconds")
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
