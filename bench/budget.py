"""Send-budget benchmark: 60 and 200 people each run a workout through the coach at real time,
against a stand-in platform with Telegram's limits (1 message a second in a chat, 30 a second
overall) that answers each request after a random 5-60 ms round trip, as Telegram does.

It prints, for each crowd, what the platform would count (at the moment each request arrives):
same-chat gaps under one second (must be 0), sliding one-second windows holding more than 30
requests (must be 0), the busiest second, and cue lateness under load (when the platform had
answered a phase cue, against the phase's planned start), plus how many countdown edits went
out and how many gave way. Meanwhile thirty other people type /start in one group chat (the
coach answers each there: "let's talk in private"), so a group counts as one chat.

The same load then runs through the delivery as it was before issue 16 (per-person token
buckets, the chat's token taken before waiting for the overall one, kept in this file as the
baseline), in the same run: by default for 60 people only, to keep the run short.

The workout is shortened to keep the whole run to about four minutes: EXERCISES exercise of REPS
holds of 10 s with 3 s rests (the side plank's rhythm) after the 5 s get-ready, about 45 s each
person; starts are spread over SPREAD_S seconds. Each person gets about 20 messages (the pain
right now, today's plan, the exercise card, the cues), so 200 people need about 4,000 sends,
more than 30 a second can carry in a minute: at 200 the overall budget is the bottleneck, and
the cue lateness shows it. `--reps`, `--hold-seconds`, `--spread` and `--in-group`
shorten it further (a quick check that it still runs; its figures then say little: the group's
30 replies alone take 30 s at one a second).

    python -m bench.budget [--people 60,200] [--baseline-for 60]
                           [--reps 3] [--hold-seconds 10] [--spread 10] [--in-group 30]
"""
from __future__ import annotations

import argparse
import asyncio
import bisect
import dataclasses
import random
import statistics
import tempfile
import time
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from bench.timers import seed_people
from bot import bootstrap
from bot.clock import Clock
from bot.content import Programme, TimerPlan
from bot.delivery import Delivery, Rate, SendBudget
from bot.events import Command, Text, UserKey
from bot.replies import Reply

EXERCISES, REPS, HOLD_S, REST_S, SPREAD_S = 1, 3, 10, 3, 10.0
GROUP = "group:-100"
IN_GROUP = 30
TELEGRAM = SendBudget(per_chat=Rate(1, 1.0), overall=Rate(30, 1.0))


@dataclasses.dataclass(frozen=True)
class Arrival:
    chat: str
    at: float  # time.monotonic() when the request reached the platform
    kind: str


class TelegramLike:
    """A platform with Telegram's limits that records when each request arrives."""

    platform = "bench"
    budget = TELEGRAM
    can_edit = True

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.arrivals: list[Arrival] = []

    def chat_of(self, user: UserKey, context: object | None) -> str:
        return GROUP if context == GROUP else f"dm:{user.id}"

    async def send(self, user: UserKey, reply: Reply, context: object | None) -> None:
        up, down = self.rng.uniform(0.002, 0.03), self.rng.uniform(0.003, 0.03)
        await asyncio.sleep(up)
        self.arrivals.append(Arrival(self.chat_of(user, context), time.monotonic(), reply.kind))
        await asyncio.sleep(down)


@dataclasses.dataclass(frozen=True)
class Workload:
    """The shortened workout each person runs, and over how long their starts are spread."""

    reps: int = REPS
    hold_s: int = HOLD_S
    spread_s: float = SPREAD_S
    in_group: int = IN_GROUP  # more people, typing /start in one group chat


def short_programme(programme: Programme, workload: Workload) -> Programme:
    plan = TimerPlan(mode="hold", work_s=workload.hold_s, reps=workload.reps, rest_s=REST_S,
                     sets=1, set_rest_s=0, sides="none", side_labels=None)
    short = tuple(dataclasses.replace(e, stages=(dataclasses.replace(e.stages[0], plan=plan),))
                  for e in programme.exercises[:EXERCISES])
    # No warm-up, and the card starts its exercise at once (as in bench/timers.py): the figures
    # are about sending, not about people pressing "Ready".
    rules = dataclasses.replace(programme.rules, ready_wait_s=0)
    warmup = dataclasses.replace(programme.warmup, moves=())
    return dataclasses.replace(programme, exercises=short, rules=rules, warmup=warmup)


# -- the delivery before issue 16, as the baseline ------------------------------------------------

class TokenBucket:
    """The old bucket: `count` tokens, refilled at `count` per `per_seconds`."""

    def __init__(self, clock: Clock, rate: Rate) -> None:
        self.clock, self.rate = clock, rate
        self.tokens, self.stamp = float(rate.count), clock.monotonic()

    def wait_time(self) -> float:
        now = self.clock.monotonic()
        self.tokens = min(self.rate.count, self.tokens + (now - self.stamp) / self.rate.interval)
        self.stamp = now
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) * self.rate.interval

    def try_take(self) -> bool:
        if self.wait_time() == 0:
            self.tokens -= 1
            return True
        return False


class DeliveryBefore(Delivery):
    """Per-person buckets; a send takes its chat token, then waits for an overall one (the chat's
    spacing is spent while it waits); countdown edits take whatever is free; a further message
    of a reply waits one chat interval; nothing counts how long a request takes to arrive."""

    def __init__(self, clock: Clock, on_unreachable=None) -> None:
        super().__init__(clock, on_unreachable)
        self._buckets: dict[tuple[str, object], TokenBucket] = {}

    def _bucket(self, key: tuple[str, object], rate: Rate | None) -> TokenBucket | None:
        if rate is None:
            return None
        if key not in self._buckets:
            self._buckets[key] = TokenBucket(self.clock, rate)
        return self._buckets[key]

    def _old_buckets(self, user: UserKey) -> list[TokenBucket]:
        budget = self.adapters[user.platform].budget
        return [b for b in (self._bucket(("chat", user), budget.per_chat),
                            self._bucket(("all", user.platform), budget.overall)) if b]

    @asynccontextmanager
    async def _holding_slot(self, user, adapter, context, wait: bool = True
                            ) -> AsyncIterator[None]:
        for bucket in self._old_buckets(user):
            while not bucket.try_take():
                if not wait:
                    break
                await self.clock.sleep(bucket.wait_time())
        yield

    async def try_send(self, user: UserKey, reply: Reply, not_after: float | None = None) -> bool:
        adapter = self.adapters[user.platform]
        if self._locks[user].locked() or any(b.wait_time() for b in self._old_buckets(user)):
            return False
        if not_after is not None and self.clock.monotonic() + 1.0 > not_after:
            return False
        async with self._locks[user]:
            async with self._holding_slot(user, adapter, None, wait=False):
                await adapter.send(user, reply, None)
        return True

    async def next_message(self, user: UserKey, context: object | None = None) -> None:
        await self.clock.sleep(1.0)


# -- one run ----------------------------------------------------------------------------------------

@dataclasses.dataclass
class Figures:
    people: int
    sends: int
    seconds: float
    short_gaps: int
    crowded_seconds: int
    busiest_second: int
    lateness: list[float]
    countdowns_sent: int
    countdowns_dropped: int


async def run(people: int, delivery_class: type[Delivery], seed: int,
              workload: Workload = Workload()) -> Figures:
    rng = random.Random(seed)
    original = bootstrap.Delivery
    bootstrap.Delivery = delivery_class  # type: ignore[misc]
    try:
        with tempfile.TemporaryDirectory() as tmp:
            coach = bootstrap.build(Path(tmp) / "bench.db", time_scale=1.0)
            return await _drive(coach, people, rng, seed, workload)
    finally:
        bootstrap.Delivery = original  # type: ignore[misc]


async def _drive(coach, people: int, rng: random.Random, seed: int,
                 workload: Workload) -> Figures:
    coach.services.programme = short_programme(coach.services.programme, workload)
    adapter = TelegramLike(seed)
    coach.register(adapter)
    keys = seed_people(coach, people)
    delivery, lateness = coach.services.delivery, []
    tries = {"sent": 0, "dropped": 0}
    try_send = delivery.try_send

    async def counted(user, reply, not_after=None) -> bool:
        sent = await try_send(user, reply, not_after)
        tries["sent" if sent else "dropped"] += 1
        return sent
    delivery.try_send = counted  # type: ignore[method-assign]

    async def in_the_group(key: UserKey) -> None:
        await asyncio.sleep(rng.uniform(0, 0.1))
        await coach.handle(Command(key, "start", private=False), GROUP)

    async def one(key: UserKey) -> None:
        await asyncio.sleep(rng.uniform(0, workload.spread_s))
        await coach.handle(Text(key, "start session"))
        await coach.handle(Text(key, "3"))  # the pain right now, asked before every session
        session = coach.running(key)
        session.on_cue = lambda planned, delivered: lateness.append(delivered - planned)
        await session.task
        await coach.handle(Text(key, "2"))  # the pain question after it

    group = [UserKey(adapter.platform, f"group-member-{n}") for n in range(workload.in_group)]
    started = time.monotonic()
    await asyncio.gather(*(in_the_group(k) for k in group), *(one(k) for k in keys))
    seconds = time.monotonic() - started
    await coach.shutdown()
    coach.close()
    short, crowded, busiest = count_violations(adapter.arrivals)
    return Figures(people, len(adapter.arrivals), seconds, short, crowded, busiest, lateness,
                   tries["sent"], tries["dropped"])


def count_violations(arrivals: list[Arrival]) -> tuple[int, int, int]:
    """Same-chat gaps under 1 s; sends that open a 1-s window holding more than 30; the most
    in any 1-s window."""
    by_chat: dict[str, list[float]] = defaultdict(list)
    for arrival in arrivals:
        by_chat[arrival.chat].append(arrival.at)
    short = sum(1 for times in by_chat.values()
                for a, b in zip(sorted(times), sorted(times)[1:]) if b - a < 1.0)
    times = sorted(a.at for a in arrivals)
    in_window = [bisect.bisect_left(times, t + 1.0) - i for i, t in enumerate(times)]
    return short, sum(1 for n in in_window if n > TELEGRAM.overall.count), max(in_window)


def report(name: str, f: Figures) -> None:
    ms = sorted(v * 1000 for v in f.lateness)
    cut = statistics.quantiles(ms, n=100, method="inclusive")
    print(f"{name:<9} {f.people:>4} people  {f.sends:>5} sends in {f.seconds:5.1f} s  "
          f"same-chat gaps < 1 s: {f.short_gaps:>4}  seconds over 30: {f.crowded_seconds:>4} "
          f"(busiest {f.busiest_second:>2})  cue lateness p50 {cut[49]:6.0f} ms  "
          f"p99 {cut[98]:6.0f} ms  max {ms[-1]:6.0f} ms  countdown edits {f.countdowns_sent} "
          f"sent, {f.countdowns_dropped} gave way")


async def main_async(args: argparse.Namespace) -> None:
    workload = Workload(args.reps, args.hold_seconds, args.spread, args.in_group)
    print(f"{EXERCISES} exercise(s) x {workload.reps} holds of {workload.hold_s} s, {REST_S} s "
          f"rests; starts over {workload.spread_s:.0f} s; {workload.in_group} more people type "
          "/start in one group; platform round trip 5-60 ms")
    for people in args.people:
        report("now", await run(people, Delivery, args.seed, workload))
        if people in args.baseline_for:
            report("before", await run(people, DeliveryBefore, args.seed, workload))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--people", type=lambda text: [int(n) for n in text.split(",")],
                        default=[60, 200])
    parser.add_argument("--baseline-for", type=lambda text: [int(n) for n in text.split(",")
                                                             if n], default=[60],
                        help="crowds also run through the old delivery (empty: none)")
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--reps", type=int, default=REPS, help="holds in the one exercise")
    parser.add_argument("--hold-seconds", type=int, default=HOLD_S, help="length of each hold")
    parser.add_argument("--spread", type=float, default=SPREAD_S,
                        help="starts are spread uniformly over this many seconds")
    parser.add_argument("--in-group", type=int, default=IN_GROUP,
                        help="more people who type /start in one group chat meanwhile")
    args = parser.parse_args()
    if args.reps < 1 or args.hold_seconds < 1 or args.spread < 0 or args.in_group < 0:
        parser.error("--reps and --hold-seconds must be at least 1, --spread and --in-group "
                     "not negative")
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
