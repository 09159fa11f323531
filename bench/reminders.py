"""Reminder benchmark: start-up with 100,000 people, and a 10,000-person fan-out in one minute.

1. Ready: a SQLite file with N people spread over 24 time zones and reminder times is opened
   by a fresh process (`build()` then `coach.start()`, which rebuilds the schedule, a daily
   and a weekly-summary row per person, and arms the one APScheduler job). It reports the
   time from build to ready and the peak RSS
   (resource.getrusage ru_maxrss), cold (no schedule stored yet: every due time computed) and
   warm (a restart: the stored schedule is reused).
2. Fan-out: M people in many zones, all due in the same UTC minute, sent through a recording
   adapter whose overall budget is R/s (Delivery's token bucket, as for Telegram's 30/s). The
   real AsyncIOScheduler wakes the service. It reports sends per second as a share of R,
   duplicates, misses, the lag of the first send and the worst event-loop stall meanwhile.

Each part runs in its own process, so one's memory does not count against the other.

    python -m bench.reminders [--users 100000] [--fanout 10000] [--rate 2000]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import random
import resource
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
TARGET_READY_S, TARGET_RSS_MB, TARGET_SHARE = 2.0, 200.0, 0.95


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


async def fan_out(db: Path, people: int, rate: int) -> dict:
    from bot.bootstrap import build
    from bot.clock import Clock
    from bot.delivery import Rate, SendBudget

    clock = Clock(start=DUE - timedelta(seconds=1))
    coach = build(db, clock=clock)
    done = asyncio.Event()

    class Recording:
        """The platform: keeps who got what, when (clock time)."""

        platform = "bench"
        can_edit = False
        # Bursts of 1% of a second, so the bucket's start-up burst cannot flatter the rate.
        budget = SendBudget(overall=Rate(max(1, rate // 100), 0.01))

        def __init__(self) -> None:
            self.sends: list[tuple[str, float]] = []

        async def send(self, user, reply, context) -> None:
            self.sends.append((user.id, clock.monotonic()))
            if len(self.sends) >= people:
                done.set()

    adapter = Recording()
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
    try:
        await asyncio.wait_for(done.wait(), timeout=people / rate * 3 + 30)
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
    achieved = (len(times) - 1) / span if span else float("nan")
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--fanout", type=int, default=10_000)
    parser.add_argument("--rate", type=int, default=2000, help="send budget per second")
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
            print(json.dumps(asyncio.run(fan_out(Path(db), int(rest[0]), int(rest[1])))))
        return
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "ready.db"
        _child("--child", "seed", str(db), str(args.users), "spread")
        cold = _child("--child", "ready", str(db))
        warm = _child("--child", "ready", str(db))
        print(f"1. {args.users:,} people over {len(ZONES)} time zones, build() to scheduler ready")
        for name, r in (("cold (schedule computed)", cold), ("warm (restart)", warm)):
            print(f"   {name:26} {r['ready_s']:.2f} s (build {r['build_s']:.2f} s, start "
                  f"{r['start_s']:.2f} s; Python imports before that {r['import_s']:.2f} s), "
                  f"peak RSS {r['rss_mb']:.0f} MB, {r['rows']:,} rows")
        ok1 = max(cold["ready_s"], warm["ready_s"]) <= TARGET_READY_S and \
            max(cold["rss_mb"], warm["rss_mb"]) <= TARGET_RSS_MB
        print(f"   target ready <= {TARGET_READY_S:.0f} s, RSS <= {TARGET_RSS_MB:.0f} MB: "
              f"{'met' if ok1 else 'MISSED'}")
        db = Path(tmp) / "fanout.db"
        _child("--child", "seed", str(db), str(args.fanout), "fanout")
        f = _child("--child", "fanout", str(db), str(args.fanout), str(args.rate))
        print(f"2. {args.fanout:,} people due in the same minute, budget {args.rate:,}/s")
        print(f"   sent {f['sent']:,} in {f['span_s']:.2f} s: {f['achieved_per_s']:,.0f}/s = "
              f"{f['share']:.1%} of the budget; duplicates {f['duplicates']}, misses "
              f"{f['misses']}; first send {f['first_lag_ms']:.0f} ms after due")
        print(f"   worst event-loop stall: {f['stall_fanout_ms']:.1f} ms during the fan-out, "
              f"{f['stall_start_ms']:.1f} ms during start-up; peak RSS {f['rss_mb']:.0f} MB")
        ok2 = f["share"] >= TARGET_SHARE and f["duplicates"] == 0 and f["misses"] == 0
        print(f"   target >= {TARGET_SHARE:.0%} of the budget, 0 duplicates, 0 misses: "
              f"{'met' if ok2 else 'MISSED'}")


if __name__ == "__main__":
    main()
