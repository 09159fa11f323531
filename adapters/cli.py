"""The command line: `python bot.py [console|telegram|discord|export|stats|routes]`.

`python bot.py` with no platform tokens opens the terminal coach on ./backcoach.db. Every
subcommand takes the same --db and --time-scale. The coach is built by bot/bootstrap.py; this
module only chooses and starts the platforms (adapters/platforms.py lists them).
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
from pathlib import Path
from types import ModuleType

from dotenv import load_dotenv

from adapters import platforms as platform_list
from bot.bootstrap import CONTENT_DIR, build
from bot.coach import Coach
from bot.data import backup, dbfile, stats
from bot.data.dbfile import DatabaseFileError
from bot.data.store import SCHEMA_VERSION
from bot.data.guard import StorageGuard
from bot.errors import ConfigError, ContentError, StorageLost

DEFAULT_DB = "backcoach.db"
log = logging.getLogger("backcoach")


def platform_modules() -> dict[str, ModuleType]:
    """Every platform in adapters/platforms.py that could be imported."""
    return platform_list.load()


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
    sub.add_parser("routes", parents=[common], help="print where every verb and state goes")
    backup.add_arguments(sub.add_parser("backup", parents=[common],
                                        help="copy the database safely, even while the coach runs"))
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
    if args.command == "backup":
        return backup.command(args.db, args.to)
    read_only = args.command in ("export", "stats", "routes")  # these run beside a coach
    try:
        with contextlib.nullcontext() if read_only else dbfile.one_coach(args.db, SCHEMA_VERSION):
            return run(args, platforms)
    except DatabaseFileError as exc:
        print(f"Cannot start: {exc}", file=sys.stderr)
        return 2


def run(args: argparse.Namespace, platforms: dict[str, ModuleType]) -> int:
    """The chosen command on a database this process may use."""
    try:
        coach = build(args.db, args.time_scale, args.content)
    except ContentError as exc:
        print(f"Cannot start: {exc}", file=sys.stderr)
        return 2
    if args.command == "export":
        return export(coach)
    if args.command == "stats":
        return stats.print_stats(coach.services.store, coach.clock.now())
    if args.command == "routes":
        print("\n".join(coach.table.describe()))
        return 0
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
    store = coach.services.store
    print(json.dumps([store.export_user(u) for u in store.all_users()], indent=2))
    return 0


async def serve(coach: Coach, modules: list[ModuleType], args: argparse.Namespace) -> int:
    """Start the chosen adapters on one loop with one coach and one DB; run until they finish
    (the terminal at end of input) or the process is asked to stop."""
    adapters = [module.create(coach, args) for module in modules]
    for adapter in adapters:
        coach.register(adapter)
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
        watch = asyncio.create_task(StorageGuard(coach.services.store, coach.clock).watch())
        done, _ = await asyncio.wait([*finished, waiter, watch],
                                     return_when=asyncio.FIRST_COMPLETED)
        failed = [task.exception() for task in done
                  if task not in (waiter, watch) and task.exception() is not None]
        for error in failed:
            log.error("a platform stopped: %r", error)
        lost = watch.exception() if watch in done else None
        if lost is not None:  # the database file is gone: nothing written from now on is kept
            log.critical("the coach stops: %s", lost)
        waiter.cancel()
        watch.cancel()
    finally:
        for adapter in adapters:
            with contextlib.suppress(Exception):
                await adapter.stop()
        await coach.shutdown()
        coach.close()
    if lost is not None:
        return 3 if isinstance(lost, StorageLost) else 1
    return 1 if failed else 0  # stopped by an error: say so to whoever started the process
