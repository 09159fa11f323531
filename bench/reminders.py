"""Reminder benchmark: start-up with 100,000 people, and fan-outs of people due in one minute.

1. Ready: a SQLite file with N people spread over 24 time zones and reminder times is opened
   by a fresh process (`build()` then `coach.start()`, which rebuilds the schedule, a daily
   and a weekly-summary row per person, and arms the one APScheduler job). It reports the
   time from build to ready and the peak RSS (resource.getrusage ru_maxrss), cold start (no
   schedule stored yet: every due time computed) and warm restart (the stored schedule is
   reused) apart. Cold and warm take turns over `--rounds` copies of the file; medians.
2. Fan-out at the platforms' real rates: people in many zones, all due in the same UTC minute,
   sent through a recording adapter with the send budget the Telegram adapter declares (30/s
   overall, 1/s per chat), then the Discord one's (50/s). The real AsyncIOScheduler wakes the
   service. It reports sends per second as a share of the budget (the bucket's first burst,
   which any budget allows at once, left out), duplicates, misses, the lag of the first send
   and the worst event-loop stall meanwhile. The people due are sized for ~15 s of sending.
3. CPU ceiling: the same fan-out with no budget at all: how many sends per second this
   machine's CPU allows, which is what a budget must stay well under.

Each run is its own process, so one's memory does not count against another's.

    python -m bench.reminders [--users 100000] [--rounds 3] [--seconds 15] [--ceiling 10000]
"""
from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

ZONES = ("Europe/Berlin", "Europe/London", "Europe/Madrid", "Europe/Helsinki", "Europe/Moscow",
         "America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles",
         "America/Sao_Paulo", "America/Mexico_City", "America/Toronto", "Asia/Tokyo",
         "Asia/Kolkata", "Asia/Kathmandu", "Asia/Shanghai", "Asia/Singapore", "Asia/Dubai",
         "Australia/Sydney", "Australia/Adelaide", "Pacific/Auckland", "Africa/Lagos",
         "Africa/Johannesburg", "UTC")
DUE = datetime(2026, 3, 10, 6, 0, tzinfo=timezone.utc)  # the fan-out minute
TARGET_WARM_S, TARGET_RSS_MB, TARGET_SHARE = 1.0, 200.0, 0.99
PLATFORMS = ("telegram", "discord")  # whose declared send budgets the fan-out runs at


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


# -- seeding ----------------------------------------------------------------------------------


def seed(db: Path, users: int, fanout: bool) -> None:
    """People ready to train with reminders on. For the fan-out, everyone's local reminder
    time is the same UTC minute (07:00 in Berlin is 06:00 UTC, 01:00 in New York, ...)."""
    from bot.data.store import Store

    store = Store(db)
    rng = random.Random(4)
    now = DUE - timedelta(days=1)

    def person(n: int) -> dict:
        zone = ZONES[n % len(ZONES)]
        if fanout:
            at = DUE.astimezone(ZoneInfo(zone)).strftime("%H:%M")
        else:
            at = f"{rng.randint(5, 9):02d}:{rng.choice((0, 15, 30, 45)):02d}"
        return {"platform": "bench", "platform_id": f"u{n:06d}", "name": "", "state": "ready",
                "created_at": now.isoformat(), "reminder_time": at, "timezone": zone,
                "reminder_days": "01234" if n % 5 == 0 else "0123456", "reminders_on": 1}

    store.db["users"].insert_all((person(n) for n in range(users)), batch_size=5000)
    store.close()


# -- 1. ready ---------------------------------------------------------------------------------


async def ready(db: Path) -> dict:
    t_import = time.perf_counter()
    from bot.bootstrap import build_app
    from bot.clock import Clock

    t0 = time.perf_counter()
    app = build_app(db, clock=Clock(start=DUE - timedelta(hours=8)))
    coach = app.coach
    app.reminders.weekly = lambda user: []  # a weekly summary is scheduled for everyone too
    t1 = time.perf_counter()
    await coach.start()
    assert app.reminders.ready()
    t2 = time.perf_counter()
    rows = coach.services.store.db.execute("SELECT count(*) FROM reminders").fetchone()[0]
    await coach.shutdown()
    coach.services.store.close()
    return {"import_s": t0 - t_import, "build_s": t1 - t0, "start_s": t2 - t1,
            "ready_s": t2 - t0, "rows": rows, "rss_mb": rss_mb()}


# -- 2. fan-out -------------------------------------------------------------------------------


def platform_budget(platform: str):
    """The send budget a platform's adapter declares (no budget at all for "none")."""
    from bot.delivery import SendBudget

    if platform == "none":
        return SendBudget()
    module = importlib.import_module(f"adapters.{platform}")
    adapter = next(getattr(module, name) for name in dir(module)
                   if name.endswith("Adapter") and hasattr(getattr(module, name), "budget"))
    return adapter.budget


async def fan_out(db: Path, people: int, platform: str) -> dict:
    from bot.bootstrap import build
    from bot.clock import Clock

    budget = platform_budget(platform)
    clock = Clock(start=DUE - timedelta(seconds=1))
    coach = build(db, clock=clock)
    done = asyncio.Event()

    class Recording:
        """The platform: keeps who got what, when (clock time)."""

        platform = "bench"
        can_edit = False

        def __init__(self) -> None:
            self.sends: list[tuple[str, float]] = []

        async def send(self, user, reply, context) -> None:
            self.sends.append((user.id, clock.monotonic()))
            if len(self.sends) >= people:
                done.set()

    adapter = Recording()
    adapter.budget = budget
    coach.services.delivery.register(adapter)
    stalls = {"start": 0.0, "fan-out": 0.0}

    async def probe() -> None:  # the rest of the bot: how long can the loop go unserved?
        while not done.is_set():
            before = time.perf_counter()
            await asyncio.sleep(0.005)
            phase = "fan-out" if adapter.sends else "start"
            stalls[phase] = max(stalls[phase], time.perf_counter() - before - 0.005)

    prober = asyncio.create_task(probe())
    await coach.start()
    due_at = clock.wall_to_monotonic(DUE)
    overall = budget.overall
    try:
        await asyncio.wait_for(done.wait(), timeout=people / overall.count * overall.per_seconds
                               * 3 + 30 if overall else 120)
    except TimeoutError:
        pass
    await asyncio.sleep(0.5)  # anything doubled late would show up now
    done.set()
    await prober
    await coach.shutdown()
    coach.services.store.close()
    counts = Counter(user for user, _ in adapter.sends)
    times = sorted(at for _, at in adapter.sends)
    span = times[-1] - times[0] if len(times) > 1 else float("nan")
    # A full bucket lets `count` go at once; from then on, one per interval at most.
    burst = overall.count - 1 if overall else 0
    achieved = (len(times) - 1 - burst) / span if span else float("nan")
    rate = overall.count / overall.per_seconds if overall else float("nan")
    return {"people": people, "rate": rate, "sent": len(times), "achieved_per_s": achieved,
            "share": achieved / rate, "duplicates": sum(c - 1 for c in counts.values()),
            "misses": people - len(counts), "first_lag_ms": (times[0] - due_at) * 1000,
            "span_s": span, "stall_start_ms": stalls["start"] * 1000,
            "stall_fanout_ms": stalls["fan-out"] * 1000, "rss_mb": rss_mb()}


# -- driver -----------------------------------------------------------------------------------


def _child(*args: str) -> dict:
    done = subprocess.run([sys.executable, "-m", "bench.reminders", *args], check=True,
                          capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def _median(runs: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def ready_part(tmp: Path, users: int, rounds: int) -> bool:
    """Cold start and warm restart take turns, each on its own copy of the seeded file."""
    seeded = tmp / "seeded.db"
    _child("--child", "seed", str(seeded), str(users), "spread")
    cold, warm = [], []
    for number in range(rounds):
        db = tmp / f"ready{number}.db"
        shutil.copy(seeded, db)
        cold.append(_child("--child", "ready", str(db)))
        warm.append(_child("--child", "ready", str(db)))
        db.unlink()
    print(f"1. {users:,} people over {len(ZONES)} time zones, build() to scheduler ready "
          f"(medians of {rounds}; each run a fresh process)")
    for name, runs in (("cold start (schedule computed)", cold), ("warm restart", warm)):
        each = ", ".join(f"{r['ready_s']:.2f}" for r in runs)
        print(f"   {name:31} {_median(runs, 'ready_s'):.2f} s [{each}] (build "
              f"{_median(runs, 'build_s'):.2f} s, start {_median(runs, 'start_s'):.2f} s; "
              f"Python imports before that {_median(runs, 'import_s'):.2f} s), peak RSS "
              f"{_median(runs, 'rss_mb'):.0f} MB, {runs[0]['rows']:,} rows")
    met = _median(warm, "ready_s") < TARGET_WARM_S and \
        max(r["rss_mb"] for r in cold + warm) <= TARGET_RSS_MB
    print(f"   target warm restart < {TARGET_WARM_S:.0f} s, RSS <= {TARGET_RSS_MB:.0f} MB: "
          f"{'met' if met else 'MISSED'}")
    return met


def fan_out_line(f: dict) -> str:
    return (f"sent {f['sent']:,} in {f['span_s']:.2f} s: {f['achieved_per_s']:,.1f}/s = "
            f"{f['share']:.1%} of the budget; duplicates {f['duplicates']}, misses "
            f"{f['misses']}; first send {f['first_lag_ms']:.0f} ms after due; worst loop stall "
            f"{f['stall_fanout_ms']:.1f} ms; peak RSS {f['rss_mb']:.0f} MB")


def fan_out_part(tmp: Path, seconds: float) -> bool:
    """At each platform's own budget, with enough people due for about `seconds` of sending."""
    print("2. fan-out at the platforms' budgets: everyone due in the same minute")
    met = True
    for platform in PLATFORMS:
        overall = platform_budget(platform).overall
        rate = overall.count / overall.per_seconds
        people = int(rate * seconds)
        db = tmp / f"fanout-{platform}.db"
        _child("--child", "seed", str(db), str(people), "fanout")
        f = _child("--child", "fanout", str(db), str(people), platform)
        ok = f["share"] >= TARGET_SHARE and f["duplicates"] == 0 and f["misses"] == 0
        met = met and ok
        print(f"   {platform} ({rate:.0f}/s), {people:,} due: {fan_out_line(f)}: "
              f"{'met' if ok else 'MISSED'}")
    print(f"   target >= {TARGET_SHARE:.0%} of the budget, 0 duplicates, 0 misses: "
          f"{'met' if met else 'MISSED'}")
    return met


def ceiling_part(tmp: Path, people: int) -> None:
    db = tmp / "ceiling.db"
    _child("--child", "seed", str(db), str(people), "fanout")
    f = _child("--child", "fanout", str(db), str(people), "none")
    print(f"3. CPU ceiling, no budget: {people:,} due, sent {f['sent']:,} in {f['span_s']:.2f} s "
          f"= {(f['sent'] - 1) / f['span_s']:,.0f} sends/s; duplicates {f['duplicates']}, "
          f"misses {f['misses']}; worst loop stall {f['stall_fanout_ms']:.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3, help="cold/warm start-ups, alternating")
    parser.add_argument("--seconds", type=float, default=15.0,
                        help="people due at each platform rate: this many seconds' worth")
    parser.add_argument("--ceiling", type=int, default=10_000,
                        help="people due for the no-budget run")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, db, *rest = args.child
        if kind == "seed":
            seed(Path(db), int(rest[0]), rest[1] == "fanout")
            print(json.dumps({}))
        elif kind == "ready":
            print(json.dumps(asyncio.run(ready(Path(db)))))
        else:
            print(json.dumps(asyncio.run(fan_out(Path(db), int(rest[0]), rest[1]))))
        return
    with tempfile.TemporaryDirectory() as tmp:
        ready_part(Path(tmp), args.users, args.rounds)
        fan_out_part(Path(tmp), args.seconds)
        ceiling_part(Path(tmp), args.ceiling)


if __name__ == "__main__":
    main()
