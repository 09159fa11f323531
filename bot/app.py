"""Wiring: content + store + clock + coach + the chosen adapters, and the command line.

`python bot.py` with no platform tokens opens the terminal coach on ./backcoach.db. Every
subcommand takes the same --db and --time-scale.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import json
import logging
import os
import pkgutil
import signal
import sys
from pathlib import Path
from types import ModuleType

from dotenv import load_dotenv

from . import mydata, stats, summary
from .clock import Clock
from .coach import Coach
from .content import ContentError, load_programme
from .delivery import Delivery
from .events import UserKey
from .reminders import Reminders
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
    mydata.install(coach)  # export and delete my data
    delivery.on_unreachable = lambda user, reason: _reminders_off(store, user, reason)
    reminders = Reminders.install(coach)  # morning reminders, settings, next-morning check
    reminders.weekly = lambda user: summary.weekly_summary_async(services, user, clock.now())
    return coach


async def _reminders_off(store: Store, user: UserKey, reason: str) -> None:
    """A platform refused delivery: stop reminding this person, and keep why."""
    row = store.find_user(user)
    if row is not None:
        store.update_user(row.id, reminders_on=0, unreachable_reason=reason[:200])


def platform_modules() -> dict[str, ModuleType]:
    """Every adapter file in adapters/ that declares NAME: a new platform is one new file."""
    import adapters

    found = {}
    for info in pkgutil.iter_modules(adapters.__path__):
        try:
            module = importlib.import_module(f"adapters.{info.name}")
        except ImportError as exc:  # one broken platform must not stop the others
            log.warning("platform %s is unavailable: %s", info.name, exc)
            continue
        if hasattr(module, "NAME") and hasattr(module, "create"):
            found[module.NAME] = module
    return found


def parse_args(argv: list[str], platforms: dict[str, ModuleType]) -> argparse.Namespace:
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
    for name, module in sorted(platforms.items()):
        cmd = sub.add_parser(name, parents=[common], help=(module.__doc__ or "").split("\n")[0])
        if hasattr(module, "add_arguments"):
            module.add_arguments(cmd)
    sub.add_parser("export", parents=[common], help="print every user's data as JSON")
    sub.add_parser("stats", parents=[common], help="print aggregate, anonymous figures")
    args = parser.parse_args(argv)
    if args.time_scale <= 0:
        parser.error("--time-scale must be positive")
    return args


def main(argv: list[str] | None = None) -> int:
    load_dotenv()  # tokens may live in a .env file beside the bot
    platforms = platform_modules()
    args = parse_args(sys.argv[1:] if argv is None else argv, platforms)
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "WARNING"),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    quiet_noisy_loggers()
    try:
        coach = build(args.db, args.time_scale, args.content)
    except ContentError as exc:
        print(f"Cannot start: {exc}", file=sys.stderr)
        return 2
    if args.command == "export":
        return export(coach)
    if args.command == "stats":
        return stats.print_stats(coach.s.store, coach.s.clock.now())
    if args.command in platforms:
        chosen = [platforms[args.command]]
    else:  # no subcommand: every platform whose token is set, else the terminal
        chosen = [m for m in platforms.values() if getattr(m, "TOKEN_ENV", None)
                  and os.environ.get(m.TOKEN_ENV)] or [platforms["console"]]
    try:
        return asyncio.run(serve(coach, chosen, args))
    except KeyboardInterrupt:
        return 0
    except ConfigError as exc:
        print(f"Cannot start: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # a bug: one line, through the log, where secrets are masked
        log.critical("stopped by an unexpected %s: %s", type(exc).__name__, exc)
        log.debug("where it happened", exc_info=True)  # the traceback, with LOG_LEVEL=DEBUG
        return 1
    finally:
        _quiet_closed_stdout()


def _quiet_closed_stdout() -> None:
    """`python bot.py | head`: the reader left; exit without a broken-pipe complaint."""
    try:
        sys.stdout.flush()
    except (BrokenPipeError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


def quiet_noisy_loggers() -> None:
    """httpx logs every request URL at INFO, and a Telegram URL holds the bot token."""
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)


def export(coach: Coach) -> int:
    store = coach.s.store
    print(json.dumps([store.export_user(u) for u in store.all_users()], indent=2))
    return 0


async def serve(coach: Coach, modules: list[ModuleType], args: argparse.Namespace) -> int:
    """Start the chosen adapters on one loop with one coach and one DB; run until they finish
    (the terminal at end of input) or the process is asked to stop."""
    adapters = [module.create(coach, args) for module in modules]
    for adapter in adapters:
        coach.s.delivery.register(adapter)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    try:
        for adapter in adapters:  # one that cannot start stops the others in `finally`
            await adapter.start()
        await coach.start()
        finished = [asyncio.create_task(a.finished()) for a in adapters]
        waiter = asyncio.create_task(stop.wait())
        done, _ = await asyncio.wait([*finished, waiter], return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            if task is not waiter and task.exception() is not None:
                log.error("a platform stopped: %r", task.exception())
        waiter.cancel()
    finally:
        for adapter in adapters:
            with contextlib.suppress(Exception):
                await adapter.stop()
        await coach.shutdown()
        coach.s.store.close()
    return 0


class ConfigError(Exception):
    """A platform is chosen but not configured (no token): told plainly, no traceback."""
