"""Telegram throughput: the coach (Telegram adapter + core + SQLite) beside a bare
python-telegram-bot echo bot, in the same run, against the same local stand-in Bot API server.

    python -m bench.telegram [--users 50] [--messages 20] [--rounds 3]
                             [--mix "pain 3,progress,help"]

Load, identical for both bots: `--users` people each send `--messages` texts, taking turns
through `--mix` (none of them starts a timer), all queued at once. An update counts as handled
when its handler returned after every reply it makes was accepted by the server. Figures: updates
handled per second and replies sent per second, from queueing to the last handler returning;
each round runs the bots on fresh servers, and ratios are taken per round (median shown). A
third line, the adapter alone (texts echoed back through the core's Delivery and this adapter,
no coaching), shows what the adapter itself costs.

The echo bot is python-telegram-bot's own example (examples/echobot.py): default Application,
one reply per text. The coach runs as in production (concurrent updates, at most 4 API calls in
flight), except for pacing: it normally keeps to Telegram's limits (1 message/s per chat, 30/s in
all), so it could never exceed 30 replies a second whatever its cost. Those are limits, not costs,
so here the adapter gets no send budget (SendBudget()); the rest of the delivery path (ordering
locks, retries) runs unchanged. People are onboarded (through Telegram, no reminders) before the
clock starts. The stand-in server runs in the same process, so its work is part of both figures.
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from telegram import Update
from telegram.ext import Application, ContextTypes, MessageHandler, filters

from adapters.telegram import TelegramAdapter
from bot.bootstrap import build
from bot.delivery import SendBudget
from bot.replies import Reply
from tests.standins.telegram_api import SEND_METHODS, FakeTelegram

MIX = ("pain 3", "progress", "help")
FIRST_USER = 100_000


@dataclass
class Result:
    updates: int
    replies: int
    seconds: float

    @property
    def updates_per_s(self) -> float:
        return self.updates / self.seconds

    @property
    def replies_per_s(self) -> float:
        return self.replies / self.seconds


async def _drive(fake: FakeTelegram, users: int, messages: int, mix: tuple[str, ...],
                 handled: list[int]) -> Result:
    """Queue every message at once; wait until all were handled."""
    before = sum(1 for c in fake.calls if c.method in SEND_METHODS)
    started = time.perf_counter()
    for n in range(messages):
        for user in range(FIRST_USER, FIRST_USER + users):
            fake.user_text(user, mix[n % len(mix)])
    total = users * messages
    await fake.wait_until(lambda: handled[0] >= total, timeout=600)
    seconds = time.perf_counter() - started
    replies = sum(1 for c in fake.calls if c.method in SEND_METHODS and c.ok) - before
    return Result(total, replies, seconds)


async def run_echo(users: int, messages: int, mix: tuple[str, ...]) -> Result:
    """python-telegram-bot's echo bot, as its example builds it."""
    handled = [0]

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await update.message.reply_text(update.message.text)
        handled[0] += 1

    async with FakeTelegram() as fake:
        app = Application.builder().token(fake.token).base_url(fake.base_url).build()
        app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
        await app.initialize()
        await app.start()
        await app.updater.start_polling(poll_interval=0, timeout=1)
        try:
            return await _drive(fake, users, messages, mix, handled)
        finally:
            await app.updater.stop()
            await app.stop()
            await app.shutdown()


async def run_coach(users: int, messages: int, mix: tuple[str, ...]) -> Result:
    """The coach through its Telegram adapter, on a fresh SQLite file."""
    handled = [0]
    with tempfile.TemporaryDirectory() as tmp:
        async with FakeTelegram() as fake:
            coach = build(Path(tmp) / "bench.db")
            adapter = TelegramAdapter(coach, fake.token, fake.base_url, poll_timeout=1)
            adapter.budget = SendBudget()  # limits, not costs: see the module docstring
            coach.services.delivery.register(adapter)
            await adapter.start()
            await coach.start()
            try:
                await asyncio.gather(*(_onboard(fake, FIRST_USER + n) for n in range(users)))
                handle = coach.handle

                async def counted(*args, **kwargs) -> None:
                    await handle(*args, **kwargs)
                    handled[0] += 1

                coach.handle = counted
                return await _drive(fake, users, messages, mix, handled)
            finally:
                await adapter.stop()
                await coach.shutdown()
                coach.services.store.close()


async def run_adapter(users: int, messages: int, mix: tuple[str, ...]) -> Result:
    """For the breakdown: the adapter and the core's delivery path with no coaching behind it
    (each text is echoed back through Delivery and TelegramAdapter.send)."""
    handled = [0]
    with tempfile.TemporaryDirectory() as tmp:
        async with FakeTelegram() as fake:
            coach = build(Path(tmp) / "bench.db")
            adapter = TelegramAdapter(coach, fake.token, fake.base_url, poll_timeout=1)
            adapter.budget = SendBudget()
            coach.services.delivery.register(adapter)

            async def echo(event, context=None, name: str = "") -> None:
                await coach.services.delivery.send(event.user, Reply(event.text), context)
                handled[0] += 1

            coach.handle = echo
            await adapter.start()
            try:
                return await _drive(fake, users, messages, mix, handled)
            finally:
                await adapter.stop()
                coach.services.store.close()


async def _onboard(fake: FakeTelegram, user: int) -> None:
    """A new person through the whole onboarding, by Telegram, without reminders."""
    steps = [(None, "/start", "not: a doctor"), ("Got it, let's go", None, "question 1 of 11")]
    steps += [("No", None, f"question {n} of 11") for n in range(2, 12)]
    steps += [("No", None, "How much does your back hurt"), ("3", None, "hamstrings"),
              ("Reached it easily", None, "What time"), ("No reminders", None, "You're all set")]
    for button, text, expect in steps:
        since = len(fake.calls)
        if button is None:
            fake.user_text(user, text)
        else:
            fake.press(user, button)
        await fake.wait_for_text(user, expect, timeout=60, since=since)


async def main(users: int, messages: int, rounds: int, mix: tuple[str, ...]) -> dict[str, float]:
    echo, adapter, coach = [], [], []
    for n in range(rounds):
        echo.append(await run_echo(users, messages, mix))
        adapter.append(await run_adapter(users, messages, mix))
        coach.append(await run_coach(users, messages, mix))
        print(f"round {n + 1}: echo {echo[-1].updates_per_s:5.0f} updates/s   adapter echo "
              f"{adapter[-1].updates_per_s:5.0f} updates/s   coach "
              f"{coach[-1].updates_per_s:5.0f} updates/s "
              f"({coach[-1].replies_per_s:5.0f} replies/s)")
    by_adapter = statistics.median(a.updates_per_s / e.updates_per_s for a, e in zip(adapter, echo))
    by_updates = statistics.median(c.updates_per_s / e.updates_per_s for c, e in zip(coach, echo))
    by_replies = statistics.median(c.replies_per_s / e.replies_per_s for c, e in zip(coach, echo))
    replies_each = coach[-1].replies / coach[-1].updates
    print(f"\n{users} people x {messages} messages ({users * messages} updates: "
          f"{' / '.join(mix)}), median of {rounds} rounds")
    print(f"  bare python-telegram-bot echo bot : "
          f"{statistics.median(e.updates_per_s for e in echo):5.0f} updates/s (1 reply each)")
    print(f"  the adapter alone (echo, no core) : "
          f"{statistics.median(a.updates_per_s for a in adapter):5.0f} updates/s "
          f"= {by_adapter:.2f} of the echo bot")
    print(f"  coach (adapter + core + SQLite)   : "
          f"{statistics.median(c.updates_per_s for c in coach):5.0f} updates/s "
          f"({replies_each:.2f} replies each)")
    print(f"  coach / echo, updates per second  : {by_updates:.2f}")
    print(f"  coach / echo, replies per second  : {by_replies:.2f}   (target >= 0.70)")
    return {"adapter": by_adapter, "updates": by_updates, "replies": by_replies}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--messages", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--mix", default=",".join(MIX),
                        help="comma-separated texts each person sends in turn")
    options = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(main(options.users, options.messages, options.rounds,
                     tuple(t.strip() for t in options.mix.split(",") if t.strip())))
