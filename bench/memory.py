"""Memory benchmark: many distinct people each send one message through the coach.

Nothing the coach keeps in memory for a person should outlive their conversation: their lock,
their send budget, their workout. This sends "hello" from N distinct people (a new person each
time, so the coach stores a users row and answers with its introduction) through the whole coach
and a recording adapter that keeps only a count, `--concurrency` people at a time, and reads the
process's resident memory (VmRSS, not the peak) after a warm-up and then every so often.

The warm-up lets what is allocated once settle first: imports, content, SQLite's page cache
(bounded by its cache_size, 2 MB by default), Python's allocator pools for this concurrency.

    python -m bench.memory [--people 100000] [--warmup 5000] [--concurrency 200]
"""
from __future__ import annotations

import argparse
import asyncio
import gc
import tempfile
import time
from pathlib import Path

from bot.bootstrap import build
from bot.coach import Coach
from bot.delivery import Rate, SendBudget
from bot.events import Text, UserKey
from bot.replies import Reply

TARGET_GROWTH_MB = 50.0


class CountingAdapter:
    """The platform: counts replies and keeps nothing, so any growth is the coach's own.
    Telegram's per-chat budget (1 message/s), so the coach keeps a send budget per chat too."""

    platform = "bench"
    can_edit = False
    budget = SendBudget(per_chat=Rate(1, 1.0))

    def __init__(self) -> None:
        self.replies = 0

    async def send(self, user: UserKey, reply: Reply, context: object | None) -> None:
        self.replies += 1


def rss_mb() -> float:
    """Resident memory now (the peak, ru_maxrss, would hide memory given back)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


async def say_hello(coach: Coach, first: int, count: int, concurrency: int) -> None:
    """People first .. first+count-1 each send one message, `concurrency` at a time."""
    for start in range(first, first + count, concurrency):
        people = range(start, min(start + concurrency, first + count))
        await asyncio.gather(*(coach.handle(Text(UserKey("bench", f"p{n}"), "hello"))
                               for n in people))


def per_person_state(coach: Coach) -> dict[str, int]:
    """What the coach holds per person in memory. Locks and workouts go back to zero; send
    budgets (a sliding window per chat) are kept for chats sent to in the last second (a window
    of 1 s) and the idle ones are forgotten each time their number doubles, so they stay
    bounded."""
    delivery = coach.services.delivery
    return {"coach locks": len(coach._locks), "delivery locks": len(delivery._locks),
            "workouts": len(coach._workouts), "send budgets": len(delivery._chats)}


async def main_async(args: argparse.Namespace) -> bool:
    with tempfile.TemporaryDirectory() as tmp:
        coach = build(Path(tmp) / "memory.db")
        adapter = CountingAdapter()
        coach.services.delivery.register(adapter)
        await coach.start()
        cache_kib = coach.services.store.db.execute("PRAGMA cache_size").fetchone()[0]
        print(f"{args.people:,} distinct people send one message each, {args.concurrency} at a "
              f"time; warm-up {args.warmup:,} people first")
        print(f"SQLite page cache limit: {abs(cache_kib) / 1024:.1f} MB" if cache_kib < 0 else
              f"SQLite page cache limit: {cache_kib} pages")
        await say_hello(coach, 0, args.warmup, args.concurrency)
        gc.collect()
        before = rss_mb()
        print(f"after the warm-up: RSS {before:.1f} MB")
        started = time.perf_counter()
        step = max(1, args.people // 5)
        for first in range(args.warmup, args.warmup + args.people, step):
            count = min(step, args.warmup + args.people - first)
            await say_hello(coach, first, count, args.concurrency)
            gc.collect()
            done = first + count - args.warmup
            print(f"  {done:>8,} people: RSS {rss_mb():7.1f} MB "
                  f"({rss_mb() - before:+.1f} MB), {done / (time.perf_counter() - started):,.0f} "
                  f"people/s")
        after = rss_mb()
        rows = coach.services.store.db.execute(
            "SELECT count(*) FROM users WHERE platform = 'bench' AND state != 'new'").fetchone()[0]
        state = per_person_state(coach)
        await coach.shutdown()
        coach.services.store.close()
    growth = after - before
    print(f"RSS before {before:.1f} MB, after {after:.1f} MB: {growth:+.1f} MB "
          f"for {args.people:,} people")
    print(f"stored: {rows:,} people answered and saved (warm-up included); replies sent "
          f"{adapter.replies:,}")
    print("kept in memory per person: " + ", ".join(f"{k} {v}" for k, v in state.items()))
    bounded = state["send budgets"] <= max(coach.services.delivery.KEEP_CHATS,
                                           (args.warmup + args.people) // 10)
    met = growth <= TARGET_GROWTH_MB and rows == args.warmup + args.people and bounded \
        and state["coach locks"] == state["delivery locks"] == state["workouts"] == 0
    print(f"target growth <= {TARGET_GROWTH_MB:.0f} MB, every person stored, no lock or workout "
          f"left, send budgets bounded: {'met' if met else 'MISSED'}")
    return met


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--warmup", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=200)
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
