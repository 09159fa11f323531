"""Wiring: content + store + clock + coach + the chosen adapters, and the command line.

`python bot.py` with no platform tokens opens the terminal coach on ./backcoach.db. Every
subcommand takes the same --db and --time-scale.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from pathlib import Path

from .clock import Clock
from .coach import Coach
from .content import ContentError, load_programme
from .delivery import Delivery
from .events import UserKey
from .screening import load_questions
from .services import Services
from .store import Store
from .texts import Texts

CONTENT_DIR = Path(__file__).resolve().parent.parent / "content"
DEFAULT_DB = "backcoach.db"
log = logging.getLogger("backcoach")


def build(db: str | Path, time_scale: float = 1.0, content_dir: Path = CONTENT_DIR,
          clock: Clock | None = None) -> Coach:
    """Everything the coach needs, validated; raises ContentError on bad content."""
    programme = load_programme(content_dir)
    texts = Texts.load(content_dir)
    questions = load_questions(content_dir)
    clock = clock or Clock(time_scale)
    store = Store(db)
    delivery = Delivery(clock)
    services = Services(programme, texts, questions, store, clock, delivery)
    coach = Coach(services)
    delivery.on_unreachable = lambda user, reason: _reminders_off(store, user, reason)
    return coach


async def _reminders_off(store: Store, user: UserKey, reason: str) -> None:
    """A platform refused delivery: stop reminding this person, and keep why."""
    row = store.find_user(user)
    if row is not None:
        store.update_user(row.id, reminders_on=0, unreachable_reason=reason[:200])


def parse_args(argv: list[str]) -> argparse.Namespace:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", default=os.environ.get("BACKCOACH_DB", DEFAULT_DB),
                        help="SQLite file (default: ./backcoach.db)")
    common.add_argument("--time-scale", type=float, default=1.0,
                        help="run time N times faster (60 = a minute per second)")
    common.add_argument("--content", type=Path,
                        default=Path(os.environ.get("BACKCOACH_CONTENT", CONTENT_DIR)),
                        help=argparse.SUPPRESS)
    parser = argparse.ArgumentParser(prog="bot.py", parents=[common],
                                     description="A back-pain exercise coach that lives in chat.")
    sub = parser.add_subparsers(dest="command")
    console = sub.add_parser("console", parents=[common], help="chat in this terminal")
    console.add_argument("--user", default="me", help="who is talking (one profile per name)")
    sub.add_parser("export", parents=[common], help="print every user's data as JSON")
    args = parser.parse_args(argv)
    if args.time_scale <= 0:
        parser.error("--time-scale must be positive")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "WARNING"),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        coach = build(args.db, args.time_scale, args.content)
    except ContentError as exc:
        print(f"Cannot start: {exc}", file=sys.stderr)
        return 2
    command = args.command or "console"
    if command == "export":
        return export(coach)
    return asyncio.run(run_console(coach, getattr(args, "user", "me")))


def export(coach: Coach) -> int:
    store = coach.s.store
    print(json.dumps([store.export_user(u) for u in store.all_users()], indent=2))
    return 0


async def run_console(coach: Coach, user: str) -> int:
    from adapters.console import ConsoleAdapter

    adapter = ConsoleAdapter(coach, user)
    coach.s.delivery.register(adapter)
    await coach.recover()
    try:
        await adapter.run()
    finally:
        await coach.shutdown()
    return 0
