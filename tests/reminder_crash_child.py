"""A whole coach process for the SIGKILL test: it seeds N people due at 07:00 (first run
only), starts the bot as adapters/cli.py does (build + start, the real AsyncIOScheduler), and sends
the fan-out through an adapter that appends one line per delivered message to a file, within
an overall rate budget. It exits once nothing is due, unless it is killed first.

    python tests/reminder_crash_child.py DB OUT N START_ISO [--kill-after-sends K]
                                                            [--kill-after-claims K]

--kill-after-sends K: SIGKILL itself right after the K-th message reached the "platform"
(the file), before the service could mark it sent: the worst moment for a double.
--kill-after-claims K: SIGKILL itself right after the K-th claim was committed, before its
send: the one moment at which at-most-once loses a reminder.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.bootstrap import build_app  # noqa: E402
from bot.clock import Clock  # noqa: E402
from bot.delivery import Rate, SendBudget  # noqa: E402
from bot.reminders.times import iso  # noqa: E402


class FileAdapter:
    """The platform: one line per delivered message, written with O_APPEND and no buffering,
    so a line is on disk (in the page cache) the moment send returns."""

    platform = "test"
    can_edit = False
    # 100 a second, small bursts: the random kill lands mid fan-out with a second to spare
    budget = SendBudget(overall=Rate(10, 0.1))

    def __init__(self, out: str, kill_after: int | None) -> None:
        self.fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        self.kill_after = kill_after
        self.count = 0

    async def send(self, user, reply, context) -> None:
        os.write(self.fd, f"{user.id}\n".encode())
        self.count += 1
        if self.kill_after is not None and self.count >= self.kill_after:
            os.kill(os.getpid(), signal.SIGKILL)


def seed(coach, n: int, now: datetime) -> None:
    users = coach.services.store.db["users"]
    if users.count:
        return
    users.insert_all({"platform": "test", "platform_id": f"u{i:04d}", "name": "",
                      "state": "ready", "created_at": now.isoformat(), "reminder_time": "07:00",
                      "timezone": "Europe/Berlin", "reminder_days": "0123456",
                      "reminders_on": 1} for i in range(n))


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("db")
    parser.add_argument("out")
    parser.add_argument("n", type=int)
    parser.add_argument("start")
    parser.add_argument("--kill-after-sends", type=int)
    parser.add_argument("--kill-after-claims", type=int)
    args = parser.parse_args()
    clock = Clock(scale=1.0, start=datetime.fromisoformat(args.start))
    app = build_app(args.db, clock=clock)
    coach = app.coach
    seed(coach, args.n, clock.now())
    coach.services.delivery.register(FileAdapter(args.out, args.kill_after_sends))
    reminders = app.reminders
    if args.kill_after_claims is not None:
        claim, claims = reminders.book.claim, []

        def claim_then_die(*a, **kw):
            claimed = claim(*a, **kw)
            claims.append(claimed)
            if sum(claims) >= args.kill_after_claims:
                os.kill(os.getpid(), signal.SIGKILL)
            return claimed

        reminders.book.claim = claim_then_die
    await coach.start()
    print("ready", flush=True)
    # Done when every 07:00 row has moved on to tomorrow and no fan-out is running.
    seven = datetime.fromisoformat(args.start).replace(hour=7, minute=0, second=0)
    while True:
        await clock.sleep(0.02)
        earliest = reminders.book.earliest()
        if earliest is not None and earliest > iso(seven) and not reminders._running.locked():
            break
    await coach.shutdown()
    coach.services.store.close()
    print("done", flush=True)


if __name__ == "__main__":
    asyncio.run(main())
