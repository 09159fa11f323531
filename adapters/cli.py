"""The command line: `python bot.py [console|telegram|discord|export|stats|routes|pictures]`.

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
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

from dotenv import load_dotenv

from adapters import _plumbing
from adapters import platforms as platform_list
from adapters.supervisor import Backoff, Supervised
from bot.bootstrap import CONTENT_DIR, App, build_app, pictures_folder
from bot.coach import Coach
from bot.content import load_programme
from bot.data import backup, dbfile, stats
from bot.data.dbfile import DatabaseFileError
from bot.data.store import SCHEMA_VERSION
from bot.data.guard import StorageGuard
from bot.errors import ConfigError, ContentError, StorageLost
from bot.pictures import Pictures, load_poses
from bot.player.service import PlayerService
from bot.player.settings import PlayerSettings, link_secret

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
    common.add_argument("--pictures", type=Path, default=None,
                        help="folder for the exercise pictures, drawn once and kept "
                             "(default: backcoach-pictures beside the database)")
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
    sheet = sub.add_parser("pictures", parents=[common],
                           help="write every exercise stage's picture and an overview, to review")
    sheet.add_argument("--out", type=Path, required=True, help="folder to write them into")
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
    if args.command == "pictures":  # reads content only: no database, no coach
        return contact_sheet(args)
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
        app = build_app(args.db, args.time_scale, args.content, pictures_dir=args.pictures)
    except ContentError as exc:
        print(f"Cannot start: {exc}", file=sys.stderr)
        return 2
    coach = app.coach
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
        return asyncio.run(serve(app, chosen, args))
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


def contact_sheet(args: argparse.Namespace) -> int:
    """Every stage's PNG and GIF, named exercise-stage, plus overview.png, into --out. They are
    drawn into the coach's own picture folder, so a coach started later finds them ready."""
    try:
        poses = load_poses(args.content, load_programme(args.content))
    except ContentError as exc:
        print(f"Cannot start: {exc}", file=sys.stderr)
        return 2
    try:
        overview = Pictures(poses, pictures_folder(args.db, args.pictures)).contact_sheet(args.out)
    except OSError as exc:
        print(f"Cannot write the pictures: {exc}", file=sys.stderr)
        return 2
    print(f"{len(poses.all_stages())} stages drawn into {args.out}; overview: {overview}")
    return 0


def export(coach: Coach) -> int:
    store = coach.services.store
    print(json.dumps([store.export_user(u) for u in store.all_users()], indent=2))
    return 0


async def serve(app: App, modules: list[ModuleType], args: argparse.Namespace,
                backoff: Backoff = Backoff()) -> int:
    """Start the chosen adapters on one loop with one coach and one DB, and the workout player
    where an adapter offers it; run until one finishes by design (the terminal at end of
    input), the process is asked to stop, or every platform has failed for good
    (adapters/supervisor.py starts a failing one again meanwhile, while the others keep
    running). Returns the exit code: 1 when it stopped because of errors."""
    coach = app.coach
    player_settings = PlayerSettings.from_env(os.environ)  # a wrong one stops us before any start

    def fresh(module: ModuleType):
        adapter = module.create(coach, args)
        coach.register(adapter)
        return adapter

    platforms = [Supervised(module.NAME, fresh(module),
                            lambda module=module: fresh(module), backoff) for module in modules]
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    runs: list[asyncio.Task[bool]] = []
    watch: asyncio.Task[None] | None = None  # the database file, and writes waiting for room
    lost: BaseException | None = None
    player: PlayerService | None = None
    try:
        for platform in platforms:  # one that cannot start stops the others in `finally`
            await platform.adapter.start()
        player = await start_player(app, [platform.adapter for platform in platforms],
                                    player_settings, lambda: link_secret(os.environ, args.db))
        await coach.start()
        runs = [asyncio.create_task(platform.run(), name=f"platform-{platform.name}")
                for platform in platforms]
        watch = asyncio.create_task(StorageGuard(coach.services.store, coach.clock).watch(),
                                    name="storage-guard")
        failed = await _until_done(runs, stop, watch)
        lost = watch.exception() if watch.done() and not watch.cancelled() else None
        if lost is not None:  # the database file is gone: nothing written from now on is kept
            log.critical("the coach stops: %s", lost)
    finally:
        if watch is not None:
            watch.cancel()
        for task in runs:
            task.cancel()
        await asyncio.gather(*runs, return_exceptions=True)
        for platform in platforms:
            await platform.stop()
        if player is not None:
            await player.stop()
        await coach.shutdown()
        coach.close()
    if lost is not None:
        return 3 if isinstance(lost, StorageLost) else 1
    if failed:
        log.critical("every platform has failed: stopping")
    return 1 if failed else 0  # stopped by an error: say so to whoever started the process


async def _until_done(runs: list[asyncio.Task[bool]], stop: asyncio.Event,
                      watch: asyncio.Task[None]) -> bool:
    """Wait until a platform finishes by design, the process is asked to stop or the storage
    watch ends (its database file gone) (False), or every platform is given up (True). A bug in
    the supervision itself is raised."""
    waiter = asyncio.create_task(stop.wait())
    pending = set(runs)
    try:
        while pending:
            done, _ = await asyncio.wait([*pending, waiter, watch],
                                         return_when=asyncio.FIRST_COMPLETED)
            if waiter in done or watch in done:
                return False
            for task in done:
                pending.discard(task)
                if task.result():  # finished by design: the process ends with it
                    return False
        return True
    finally:
        waiter.cancel()


async def start_player(app: App, adapters: list, settings: PlayerSettings,
                       secret_for_links: Callable[[], bytes]) -> PlayerService | None:
    """Serve the workout player when an adapter offers it (BACKCOACH_PUBLIC_URL for Telegram
    and Discord, `console --player`); None, and the chat guides every workout, otherwise. The
    key for links is read (or made) only then."""
    entrances = [entrance for adapter in adapters
                 if (entrance := _entrance(adapter, settings)) is not None]
    if not entrances:
        return None
    secret = secret_for_links()
    _plumbing.protect(secret.decode(errors="replace"), "<player-secret>",
                      ("bot", "adapters", "aiohttp", "backcoach"))
    player = PlayerService(app.player, app.services.texts, settings)
    await player.start(entrances, secret)
    for adapter in adapters:  # the terminal waits for the page after opening it
        if hasattr(adapter, "follow_page"):
            adapter.follow_page = app.player.until_off_the_page
    return player


def _entrance(adapter: object, settings: PlayerSettings):
    offer = getattr(adapter, "player_entrance", None)
    return offer(settings) if offer is not None else None
