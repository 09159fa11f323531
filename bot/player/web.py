"""The player's web server: the page, and a small JSON API the page reports to.

Routes (under /player/): the page and its two assets, GET api/plan, GET api/picture/<key> (an
exercise's animation, fetched by the page with its credential), POST api/pain {workout_id,
score} (the pain right now, asked on the page before the workout begins), POST api/exercise
{workout_id, index, outcome}, POST api/end {workout_id, outcome}. Every API request carries a
credential in its Authorization header ("tma <launch data>" from Telegram, or "Bearer <token>"),
never in the URL, and the access log holds method, path and status only, so no secret is logged.
Refusals are JSON {"error": code, "message": words from content/texts.toml}.
"""
from __future__ import annotations

import asyncio
import html
import json
import logging
import time
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from bot.events import UserKey
from bot.texts import Texts
from bot.workout.timers import DONE, STOPPED
from bot.player.auth import AuthError, telegram_person, token_person
from bot.player.backend import PageRefused, PlayerBackend
from bot.player.limits import RateLimiter
from bot.player.plan import EXERCISE_OUTCOMES, PlanDTO

log = logging.getLogger(__name__)
PREFIX = "/player"
STATIC = Path(__file__).resolve().parent / "static"
ASSETS = {"player.js": "text/javascript", "player.css": "text/css"}
END_OUTCOMES = (DONE, STOPPED)
MIN_SECRET_BYTES = 16
MAX_PAIN = 10
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class PlayerConfig:
    """How the player checks and limits requests; the coach builds it from its settings."""

    token_secret: bytes
    telegram_bot_token: str | None = None  # None: Telegram launch data is refused
    telegram_max_age_s: float = 2 * 3600  # launch data older than this is stale
    max_body_bytes: int = 1024
    burst: int = 30  # requests one person may make at once ...
    refill_per_second: float = 1.0  # ... and then per second
    frame_ancestors: tuple[str, ...] = ("'self'", "https://web.telegram.org")
    picture_sources: tuple[str, ...] = ("'self'",)

    def __post_init__(self) -> None:
        if len(self.token_secret) < MIN_SECRET_BYTES:
            raise ValueError(f"the player's token secret needs at least {MIN_SECRET_BYTES} bytes")


class Refusal(Exception):
    """A request the API turns down: HTTP status plus the code of a player.error_* text."""

    def __init__(self, status: int, code: str) -> None:
        super().__init__(code)
        self.status = status
        self.code = code


@dataclass
class PlayerApi:
    """The handlers, with what they share: the backend, the texts and per-person state."""

    backend: PlayerBackend
    texts: Texts
    config: PlayerConfig
    wall_time: Callable[[], float] = time.time
    limiter: RateLimiter = field(default_factory=RateLimiter)
    _locks: weakref.WeakValueDictionary[UserKey, asyncio.Lock] = field(
        default_factory=weakref.WeakValueDictionary)

    # -- the page -----------------------------------------------------------------------------

    async def page(self, request: web.Request) -> web.Response:
        words = {name: html.escape(self.texts(f"player.{name}"))
                 for name in ("language", "title", "loading", "no_script")}
        page = (STATIC / "index.html").read_text(encoding="utf-8")
        for name, value in words.items():
            page = page.replace("{{" + name + "}}", value)
        return web.Response(text=page, content_type="text/html",
                            headers={"Content-Security-Policy": self._page_policy(),
                                     "Cache-Control": "no-cache"})

    async def asset(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        return web.Response(body=(STATIC / name).read_bytes(), content_type=ASSETS[name],
                            charset="utf-8", headers={"Cache-Control": "no-cache"})

    def _page_policy(self) -> str:
        return "; ".join((
            "default-src 'none'", "script-src 'self'", "style-src 'self'",
            f"img-src {' '.join(self.config.picture_sources)} blob: data:",
            "connect-src 'self'",
            "base-uri 'none'", "form-action 'none'",
            f"frame-ancestors {' '.join(self.config.frame_ancestors)}",
            "require-trusted-types-for 'script'", "trusted-types 'none'"))

    # -- the API ------------------------------------------------------------------------------

    async def plan(self, request: web.Request) -> web.Response:
        person = self._person(request)
        async with self._one_at_a_time(person):
            plan = await self.backend.opened(person)
        if plan is None:
            raise Refusal(404, "no_workout")
        return web.json_response(plan.as_json())

    async def picture(self, request: web.Request) -> web.Response:
        """An exercise's animation, for the signed-in page (fetched with its credential)."""
        self._person(request)
        data = await self.backend.picture(request.match_info["key"])
        if data is None:
            raise Refusal(404, "invalid")
        return web.Response(body=data, content_type="image/gif",
                            headers={"Cache-Control": "private, max-age=86400"})

    async def pain(self, request: web.Request) -> web.Response:
        """The pain right now, before the workout begins: kept once, as the chat keeps it."""
        person = self._person(request)
        body = await self._body(request, ("workout_id", "score"))
        if not 0 <= body["score"] <= MAX_PAIN:
            raise Refusal(400, "invalid")
        async with self._one_at_a_time(person):
            await self._open_workout(person, body["workout_id"])
            noted = await self.backend.pain_before(person, body["workout_id"], body["score"])
        return web.json_response({"recorded": noted.recorded, "message": noted.message,
                                  "go_on": noted.go_on})

    async def exercise(self, request: web.Request) -> web.Response:
        """Record one exercise's outcome once; the same report again changes nothing."""
        person = self._person(request)
        body = await self._body(request, ("workout_id", "index", "outcome"))
        index, outcome = body["index"], body["outcome"]
        if outcome not in EXERCISE_OUTCOMES:
            raise Refusal(400, "invalid")
        async with self._one_at_a_time(person):
            plan = await self._open_workout(person, body["workout_id"])
            if not 0 <= index < len(plan.exercises):
                raise Refusal(400, "invalid")
            earlier = plan.exercises[index].outcome
            if earlier is not None:  # a repeat (or a late second opinion): the first one stands
                return web.json_response({"recorded": False, "outcome": earlier})
            if index != plan.next_index() or plan.pain_before is None:  # the pain comes first
                raise Refusal(409, "order")
            await self.backend.exercise_reported(person, plan.workout_id, index, outcome)
        return web.json_response({"recorded": True, "outcome": outcome})

    async def end(self, request: web.Request) -> web.Response:
        """End the open workout once; ending one that is already over changes nothing."""
        person = self._person(request)
        body = await self._body(request, ("workout_id", "outcome"))
        if body["outcome"] not in END_OUTCOMES:
            raise Refusal(400, "invalid")
        async with self._one_at_a_time(person):
            plan = await self.backend.plan_for(person)
            if plan is None:
                return web.json_response({"recorded": False})
            if plan.workout_id != body["workout_id"]:
                raise Refusal(409, "stale")
            if body["outcome"] == DONE and plan.next_index() is not None:
                raise Refusal(409, "order")
            await self.backend.ended(person, plan.workout_id, body["outcome"])
        return web.json_response({"recorded": True})

    # -- checks -------------------------------------------------------------------------------

    def _person(self, request: web.Request) -> UserKey:
        """The authenticated person, within their request budget; Refusal otherwise."""
        scheme, _, credential = request.headers.get("Authorization", "").partition(" ")
        try:
            if scheme == "tma" and self.config.telegram_bot_token:
                person = telegram_person(credential, self.config.telegram_bot_token,
                                         self.wall_time(), self.config.telegram_max_age_s)
            elif scheme == "Bearer":
                person = token_person(self.config.token_secret, credential, self.wall_time())
            else:
                raise AuthError("missing")
        except AuthError as refused:
            log.info("player: refused a credential (%s)", refused.reason)
            raise Refusal(401, "auth") from None
        if not self.limiter.allow(str(person)):
            raise Refusal(429, "limit")
        return person

    async def _body(self, request: web.Request, names: tuple[str, ...]) -> dict[str, Any]:
        """A small JSON object with exactly these fields; `outcome` text, the others whole numbers."""
        if request.content_type != "application/json":
            raise Refusal(415, "invalid")
        if (request.content_length or 0) > self.config.max_body_bytes:
            raise Refusal(413, "too_large")
        try:
            data = json.loads(await request.read())
        except web.HTTPRequestEntityTooLarge:
            raise Refusal(413, "too_large") from None
        except (ValueError, UnicodeDecodeError):
            raise Refusal(400, "invalid") from None
        if not isinstance(data, dict) or set(data) != set(names):
            raise Refusal(400, "invalid")
        for name in names:
            wanted = str if name == "outcome" else int
            value = data[name]
            if not isinstance(value, wanted) or isinstance(value, bool):
                raise Refusal(400, "invalid")
        return data

    async def _open_workout(self, person: UserKey, workout_id: int) -> PlanDTO:
        plan = await self.backend.plan_for(person)
        if plan is None:
            raise Refusal(409, "no_workout")
        if plan.workout_id != workout_id:
            raise Refusal(409, "stale")
        return plan

    def _one_at_a_time(self, person: UserKey) -> asyncio.Lock:
        """One report at a time per person, so a repeated request cannot be recorded twice."""
        lock = self._locks.get(person)
        if lock is None:
            lock = self._locks[person] = asyncio.Lock()
        return lock

    # -- every response -----------------------------------------------------------------------

    @web.middleware
    async def refusals(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Refusals become JSON with the person's words; a bug becomes a 500, never a traceback."""
        try:
            return await handler(request)
        except PageRefused as refused:  # the workout moved on without this page
            return self._refusal(Refusal(409, refused.code))
        except Refusal as refusal:
            return self._refusal(refusal)
        except web.HTTPException:
            raise
        except Exception:
            log.exception("player: %s %s failed", request.method, request.path)
            return web.json_response(
                {"error": "server", "message": self.texts("player.error_server")}, status=500)

    def _refusal(self, refusal: Refusal) -> web.Response:
        headers = {"Retry-After": "5"} if refusal.status == 429 else None
        return web.json_response(
            {"error": refusal.code, "message": self.texts(f"player.error_{refusal.code}")},
            status=refusal.status, headers=headers)


async def _security_headers(request: web.Request, response: web.StreamResponse) -> None:
    response.headers.setdefault("Content-Security-Policy", "default-src 'none'; "
                                "frame-ancestors 'none'")
    response.headers.setdefault("Cache-Control", "no-store")
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"


def make_app(backend: PlayerBackend, texts: Texts, config: PlayerConfig,
             wall_time: Callable[[], float] = time.time,
             limiter: RateLimiter | None = None) -> web.Application:
    """The player as an aiohttp application; serve it with `start_player` (127.0.0.1 by default)."""
    api = PlayerApi(backend, texts, config, wall_time, limiter or RateLimiter(
        config.burst, config.refill_per_second))
    app = web.Application(middlewares=[api.refusals], client_max_size=config.max_body_bytes)
    app.on_response_prepare.append(_security_headers)
    app.router.add_get(PREFIX, _to_page)
    app.router.add_get(f"{PREFIX}/", api.page)
    app.router.add_get(PREFIX + "/{name:player\\.(?:js|css)}", api.asset)
    app.router.add_get(f"{PREFIX}/api/plan", api.plan)
    app.router.add_get(PREFIX + "/api/picture/{key:[0-9a-f]{24}}", api.picture)
    app.router.add_post(f"{PREFIX}/api/pain", api.pain)
    app.router.add_post(f"{PREFIX}/api/exercise", api.exercise)
    app.router.add_post(f"{PREFIX}/api/end", api.end)
    return app


async def _to_page(request: web.Request) -> web.Response:
    raise web.HTTPPermanentRedirect(f"{PREFIX}/")


class PlayerAccessLogger(AbstractAccessLogger):
    """Method, path and status only: never the query string or headers, where secrets could be."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        self.logger.info("%s %s %s %.0f ms", request.method, request.path, response.status,
                         time * 1000)


@dataclass
class PlayerServer:
    """A running player; `url` is the page's address on this machine."""

    runner: web.AppRunner
    url: str

    async def close(self) -> None:
        await self.runner.cleanup()


async def start_player(app: web.Application, host: str = "127.0.0.1",
                       port: int = 0) -> PlayerServer:
    """Serve the player on host:port (0 = a free port); loopback unless told otherwise."""
    runner = web.AppRunner(app, access_log_class=PlayerAccessLogger, handle_signals=False)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    bound_host, bound_port = runner.addresses[0][:2]
    shown_host = f"[{bound_host}]" if ":" in bound_host else bound_host
    return PlayerServer(runner, f"http://{shown_host}:{bound_port}{PREFIX}/")


def page_link(base_url: str, token: str) -> str:
    """The page's address with a token in the fragment, which browsers never send to a server."""
    return f"{base_url.rstrip('/')}{PREFIX}/#token={token}"
