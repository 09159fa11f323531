"""A local stand-in for Discord (REST API v10 + gateway websocket) for tests.

Runs an aiohttp server on 127.0.0.1 (random port).  The *real* discord.py
client talks to it once pointed at it::

    async with FakeDiscord() as fake, point_discord_at(fake):
        client = MyClient(intents=..., guild_ready_timeout=0.05)
        await client.login(fake.token)
        task = asyncio.create_task(client.connect())
        await asyncio.wait_for(client.wait_until_ready(), 5)
        iid = await fake.slash(fake.add_user(), "ping")
        resp = await fake.wait_for_response(iid)
        ...
        fake.assert_clean()          # no unknown routes, nothing rejected

Shapes were taken from discord.py 2.7 (http.py, gateway.py, state.py,
interactions.py, webhook/async_.py) and Discord's API docs.  Where real
Discord behaviour is well documented the stand-in mimics it, because that is
what catches adapter bugs:

* JSON replies carry ``Content-Type: application/json`` exactly (discord.py
  compares the header verbatim), 429s carry ``Via`` (else discord.py assumes
  a Cloudflare ban and does not retry).
* Gateway frames are uncompressed JSON *text* frames.  discord.py asks for
  ``compress=zlib-stream``/``zstd-stream`` in the query string but only runs
  its decompressor on *binary* frames, so text frames are accepted as-is.
* Without the MESSAGE_CONTENT intent, guild MESSAGE_CREATEs arrive with
  empty content/embeds/attachments/components, except when the bot is
  mentioned.  DMs keep their content (Discord's documented exception
  "Content in DMs with the app"); pass ``dm_content_requires_intent=True``
  for the stricter, non-Discord behaviour.
* Without GUILD_MESSAGES / DIRECT_MESSAGES intents the corresponding
  MESSAGE_CREATE events are not sent at all (recorded in ``dropped_events``).
* Requesting a privileged intent that is not "enabled in the portal"
  (``enabled_privileged_intents``) closes the gateway with 4014.
* Interaction callbacks later than ``interaction_timeout`` (3 s) answer
  404 "Unknown interaction" (10062); a second callback answers 400 (40060).
* The first follow-up after a type-5 defer edits the loading message instead
  of creating a new one (documented backwards-compat behaviour).
* Message payloads are validated (empty message 50006, content > 2000,
  embed / component limits -> 400 50035).

Requests for routes the stand-in does not implement are recorded in
``.unknown`` and answered 404 with a Discord-shaped error; requests Discord
itself would reject are recorded in ``.rejected``.  Both matter because
discord.py swallows exceptions raised inside interaction handlers: assert
``fake.unknown == []`` and ``fake.rejected == []`` (or ``fake.assert_clean()``).
Deliberately injected faults (``fail_next``, ``close_dms``) are *not* counted
as rejected; they are listed in ``.faults_hit``.
"""
from __future__ import annotations

import asyncio
import copy
import itertools
import json
import math
import re
import secrets
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Awaitable, Callable, Iterable, Optional

import yarl
from aiohttp import WSMsgType, web

__all__ = [
    "FakeDiscord",
    "FakeGuild",
    "Call",
    "UploadedFile",
    "InteractionRecord",
    "InteractionResponse",
    "point_discord_at",
    "INTENT_GUILDS",
    "INTENT_GUILD_MEMBERS",
    "INTENT_GUILD_PRESENCES",
    "INTENT_GUILD_MESSAGES",
    "INTENT_DIRECT_MESSAGES",
    "INTENT_MESSAGE_CONTENT",
    "PRIVILEGED_INTENTS",
    "EPHEMERAL",
    "LOADING",
    "IS_COMPONENTS_V2",
]

API_PREFIX = "/api/v10"
DISCORD_EPOCH_MS = 1420070400000

INTENT_GUILDS = 1 << 0
INTENT_GUILD_MEMBERS = 1 << 1
INTENT_GUILD_PRESENCES = 1 << 8
INTENT_GUILD_MESSAGES = 1 << 9
INTENT_DIRECT_MESSAGES = 1 << 12
INTENT_MESSAGE_CONTENT = 1 << 15
PRIVILEGED_INTENTS = INTENT_GUILD_MEMBERS | INTENT_GUILD_PRESENCES | INTENT_MESSAGE_CONTENT

# message flags
EPHEMERAL = 1 << 6
LOADING = 1 << 7
IS_COMPONENTS_V2 = 1 << 15

# interaction types
_PING, _APP_COMMAND, _COMPONENT, _AUTOCOMPLETE, _MODAL_SUBMIT = 1, 2, 3, 4, 5

_ALL_PERMISSIONS = str((1 << 51) - 1)
_MEMBER_PERMISSIONS = str(0x0000_0006_3FFF_FE41 & ((1 << 51) - 1))
_ATTACHMENT_SIZE_LIMIT = 10 * 1024 * 1024
_OPTION_TYPES = {"subcommand": 1, "group": 2, "string": 3, "integer": 4, "boolean": 5, "number": 10}


# --------------------------------------------------------------------------- records


@dataclass
class UploadedFile:
    """One file part of a multipart request (``files[n]``)."""

    field: str
    filename: str
    data: bytes
    content_type: Optional[str] = None


@dataclass
class Call:
    """One HTTP request the stand-in received.

    ``path`` is relative to ``/api/v10`` (e.g. ``/channels/1/messages``);
    ``json`` is the JSON body, or the parsed ``payload_json`` of a multipart
    body; ``status``/``response`` are what the stand-in answered.
    Gateway oddities are recorded with ``method == "GATEWAY"``.
    """

    method: str
    path: str
    query: dict
    json: Any
    files: list
    time: float
    status: int = 0
    response: Any = None

    def __repr__(self) -> str:  # compact, for assertion messages
        body = json.dumps(self.json)[:200] if self.json is not None else ""
        return f"<Call {self.method} {self.path} -> {self.status} {body}>"


@dataclass
class InteractionResponse:
    """Something the bot did in answer to an interaction.

    kind: ``"callback"`` (POST /interactions/.../callback), ``"followup"``
    (POST /webhooks/app/token), ``"edit_original"``, ``"edit_followup"``,
    ``"get_original"``, ``"delete_original"``, ``"delete_followup"``.
    ``type`` is the callback type (4 reply, 5 defer, 6 deferred update,
    7 update message, 8 autocomplete, 9 modal) for callbacks, else None.
    ``flags`` are the resulting message's flags (``ephemeral`` = flags & 64).
    ``elapsed`` = seconds since INTERACTION_CREATE was dispatched.
    """

    kind: str
    type: Optional[int]
    data: dict
    files: list
    message_id: Optional[int]
    flags: int
    elapsed: float

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & EPHEMERAL)

    @property
    def content(self) -> Optional[str]:
        return self.data.get("content")


@dataclass
class InteractionRecord:
    id: int
    token: str
    type: int
    user_id: int
    channel_id: int
    guild_id: Optional[int]
    payload: dict
    dispatched_at: float
    message_id: Optional[int] = None  # component message (type 3) / modal origin
    acked_at: Optional[float] = None
    response_type: Optional[int] = None
    original_message_id: Optional[int] = None
    followup_ids: list = field(default_factory=list)
    responses: list = field(default_factory=list)
    modal: Optional[dict] = None
    autocomplete_choices: Optional[list] = None
    late_callback: bool = False

    @property
    def ack_latency(self) -> Optional[float]:
        """Seconds between INTERACTION_CREATE dispatch and the (accepted) callback."""
        return None if self.acked_at is None else self.acked_at - self.dispatched_at


@dataclass
class FakeGuild:
    id: int
    name: str
    owner_id: int
    channels: dict  # name -> channel id
    member_ids: list

    def channel(self, name: str = "general") -> int:
        return self.channels[name]

    @property
    def everyone_role_id(self) -> int:
        return self.id


class _Reject(Exception):
    """Raised by handlers for requests Discord itself would refuse."""

    def __init__(self, status: int, code: int, message: str, errors: Optional[dict] = None):
        super().__init__(message)
        self.status = status
        self.body: dict = {"message": message, "code": code}
        if errors:
            self.body["errors"] = errors


class _Fault(_Reject):
    """A deliberately injected failure (not counted in ``rejected``)."""

    def __init__(self, status: int, body: dict, headers: Optional[dict] = None):
        Exception.__init__(self, body.get("message"))
        self.status = status
        self.body = body
        self.headers = headers or {}


@dataclass
class _FailRule:
    pattern: re.Pattern
    method: Optional[str]
    status: int
    retry_after: float
    times: int
    body: Optional[dict]
    is_global: bool


class _Conn:
    def __init__(self, ws: web.WebSocketResponse, query: dict):
        self.ws = ws
        self.query = query
        self.lock = asyncio.Lock()
        self.identified = False


def _now_iso() -> str:
    return datetime.now(timezone.utc).isoformat()


def _form_error(path: str, code: str, message: str) -> dict:
    """Build Discord's nested ``errors`` object for a dotted path like ``embeds.0.title``."""
    root: dict = {}
    node = root
    parts = path.split(".")
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = {"_errors": [{"code": code, "message": message}]}
    return root


def _invalid(path: str, code: str, message: str) -> _Reject:
    return _Reject(400, 50035, "Invalid Form Body", _form_error(path, code, message))


def _walk_components(components: Iterable[dict]):
    for comp in components or []:
        yield comp
        if "components" in comp:
            yield from _walk_components(comp["components"])
        if "accessory" in comp and isinstance(comp["accessory"], dict):
            yield from _walk_components([comp["accessory"]])
        if "component" in comp and isinstance(comp["component"], dict):
            yield from _walk_components([comp["component"]])


# --------------------------------------------------------------------------- server


class FakeDiscord:
    """Stand-in Discord.  See module docstring.

    Constructor options (all keyword):
      token, application_id, bot_user_id, bot_name
      default_guild: create one guild "Test Guild" with a "general" text channel
      enabled_privileged_intents: bits "toggled on in the developer portal"
      require_registered_commands: slash() refuses commands the bot never synced
      interaction_timeout: seconds the bot has to call back (Discord: 3.0)
      heartbeat_interval_ms: sent in HELLO
      dm_content_requires_intent: blank DM content without MESSAGE_CONTENT
        (stricter than real Discord)
    """

    def __init__(
        self,
        *,
        token: str = "fake-bot-token.Xy.z",
        application_id: int = 1100000000000000001,
        bot_user_id: int = 1100000000000000002,
        bot_name: str = "TestBot",
        default_guild: bool = True,
        enabled_privileged_intents: int = PRIVILEGED_INTENTS,
        require_registered_commands: bool = True,
        interaction_timeout: float = 3.0,
        heartbeat_interval_ms: int = 41250,
        dm_content_requires_intent: bool = False,
    ) -> None:
        self.token = token
        self.application_id = application_id
        self.bot_user_id = bot_user_id
        self.bot_name = bot_name
        self.enabled_privileged_intents = enabled_privileged_intents
        self.require_registered_commands = require_registered_commands
        self.interaction_timeout = interaction_timeout
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.dm_content_requires_intent = dm_content_requires_intent

        self._sf_last = 0
        self._user_counter = itertools.count(1)

        self.bot_user: dict = {
            "id": str(bot_user_id),
            "username": bot_name,
            "discriminator": "0",
            "global_name": None,
            "avatar": None,
            "bot": True,
            "system": False,
            "mfa_enabled": False,
            "verified": True,
            "flags": 0,
            "public_flags": 0,
            "banner": None,
            "accent_color": None,
        }
        self.owner_user: dict = {
            "id": str(self._snowflake()),
            "username": "app-owner",
            "discriminator": "0",
            "global_name": "App Owner",
            "avatar": None,
            "public_flags": 0,
        }
        self.users: dict[int, dict] = {bot_user_id: self.bot_user}

        # records
        self.calls: list[Call] = []
        self.unknown: list[Call] = []
        self.rejected: list[Call] = []
        self.faults_hit: list[Call] = []
        self.dropped_events: list[tuple[str, str]] = []
        self.dispatched: list[tuple[str, dict]] = []
        self.identify_payloads: list[dict] = []
        self.presence_updates: list[dict] = []
        self.reactions: list[tuple[int, int, str]] = []
        self.typing: list[int] = []
        self.gateway_queries: list[dict] = []
        self.gateway_close_codes: list[Optional[int]] = []
        self.heartbeats = 0
        self.resumes = 0
        self.intents: Optional[int] = None

        # state
        self.guilds: dict[int, FakeGuild] = {}
        self.channels: dict[int, dict] = {}
        self.dm_channels: dict[int, int] = {}
        self.messages: dict[int, dict] = {}
        self.channel_messages: dict[int, list[int]] = {}
        self.message_history: dict[int, list[dict]] = {}
        self.file_store: dict[int, UploadedFile] = {}
        self.commands: dict[Optional[int], dict[str, dict]] = {}
        self.interactions: dict[int, InteractionRecord] = {}
        self._by_token: dict[str, InteractionRecord] = {}
        self.closed_dms: set[int] = set()
        self._fail_rules: list[_FailRule] = []
        self._members: dict[int, dict[int, dict]] = {}  # guild -> user -> member
        self._pending_member_adds: list[dict] = []

        # gateway
        self._conn: Optional[_Conn] = None
        self._conns: list[_Conn] = []
        self._session_id: Optional[str] = None
        self._seq = 0
        self._events: list[dict] = []

        # server
        self._runner: Optional[web.AppRunner] = None
        self.port: Optional[int] = None
        self._changed: Optional[asyncio.Event] = None
        self._connected: Optional[asyncio.Event] = None

        self._routes = self._build_routes()

        self.guild: Optional[FakeGuild] = None
        if default_guild:
            self.guild = self.add_guild()

    # ------------------------------------------------------------------ lifecycle

    @property
    def base_url(self) -> str:
        self._require_started()
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_base(self) -> str:
        """Value for ``discord.http.Route.BASE``."""
        return self.base_url + API_PREFIX

    @property
    def gateway_url(self) -> str:
        """Value for ``DiscordWebSocket.DEFAULT_GATEWAY`` (as a yarl.URL)."""
        self._require_started()
        return f"ws://127.0.0.1:{self.port}/gateway"

    def _require_started(self) -> None:
        if self.port is None:
            raise RuntimeError("FakeDiscord is not started; await fake.start() first")

    async def start(self) -> "FakeDiscord":
        self._changed = asyncio.Event()
        self._connected = asyncio.Event()
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_get("/gateway", self._handle_gateway)
        app.router.add_route("*", "/{tail:.*}", self._handle_http)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self

    async def stop(self) -> None:
        for conn in list(self._conns):
            if not conn.ws.closed:
                try:
                    await asyncio.wait_for(conn.ws.close(code=1001, message=b"stand-in stopping"), 2)
                except (asyncio.TimeoutError, ConnectionError):
                    pass
        if self._runner is not None:
            await asyncio.wait_for(self._runner.cleanup(), 10)
            self._runner = None

    async def __aenter__(self) -> "FakeDiscord":
        return await self.start()

    async def __aexit__(self, *exc: Any) -> None:
        await self.stop()

    # ------------------------------------------------------------------ ids, users, guilds

    def _snowflake(self) -> int:
        ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
        sf = ms << 22
        if sf <= self._sf_last:
            sf = self._sf_last + 1
        self._sf_last = sf
        return sf

    def add_user(self, user_id: Optional[int] = None, name: Optional[str] = None, *, member_of: Optional[Iterable[int]] = None) -> int:
        """Register a (human) user; returns its id.  By default the user also
        becomes a member of every configured guild (pass ``member_of=[]`` to
        avoid).  Users referenced by the driving helpers are auto-registered."""
        if user_id is None:
            user_id = self._snowflake()
        if user_id not in self.users:
            n = next(self._user_counter)
            uname = name or f"user{n}"
            self.users[user_id] = {
                "id": str(user_id),
                "username": uname,
                "discriminator": "0",
                "global_name": uname.title(),
                "avatar": None,
                "public_flags": 0,
                "flags": 0,
                "banner": None,
                "accent_color": None,
                "avatar_decoration_data": None,
            }
        elif name:
            self.users[user_id]["username"] = name
        for gid in (self.guilds if member_of is None else member_of):
            self._ensure_member(gid, user_id, announce=False)
        return user_id

    def _user(self, user_id: int) -> dict:
        if user_id not in self.users:
            self.add_user(user_id, member_of=[])
        return self.users[user_id]

    def _ensure_member(self, guild_id: int, user_id: int, *, announce: bool = True) -> dict:
        members = self._members.setdefault(guild_id, {})
        if user_id not in members:
            self._user(user_id)
            members[user_id] = {
                "roles": [],
                "joined_at": _now_iso(),
                "deaf": False,
                "mute": False,
                "flags": 0,
                "pending": False,
                "nick": None,
                "avatar": None,
                "premium_since": None,
                "communication_disabled_until": None,
            }
            g = self.guilds.get(guild_id)
            if g is not None:
                g.member_ids.append(user_id)
            if announce and self._conn is not None and self.intents and self.intents & INTENT_GUILD_MEMBERS:
                # sent ahead of the next dispatch (keeps ordering deterministic)
                self._pending_member_adds.append(dict(self._member_obj(guild_id, user_id), guild_id=str(guild_id)))
        return members[user_id]

    def _member_obj(self, guild_id: int, user_id: int, *, with_user: bool = True) -> dict:
        m = dict(self._members[guild_id][user_id])
        if with_user:
            m["user"] = self._user(user_id)
        return m

    def add_guild(self, name: str = "Test Guild", channels: Iterable[str] = ("general",), guild_id: Optional[int] = None) -> FakeGuild:
        """Configure a guild (with text channels) the bot is in.  If the bot is
        already connected a GUILD_CREATE is dispatched (call ``await
        fake.announce_guild(g)`` yourself in that case)."""
        gid = guild_id or self._snowflake()
        g = FakeGuild(id=gid, name=name, owner_id=int(self.owner_user["id"]), channels={}, member_ids=[])
        self.guilds[gid] = g
        self._members[gid] = {}
        for pos, cname in enumerate(channels):
            cid = self._snowflake()
            g.channels[cname] = cid
            self.channels[cid] = {
                "id": str(cid),
                "type": 0,
                "guild_id": str(gid),
                "name": cname,
                "position": pos,
                "parent_id": None,
                "permission_overwrites": [],
                "nsfw": False,
                "topic": None,
                "rate_limit_per_user": 0,
                "last_message_id": None,
                "flags": 0,
            }
            self.channel_messages[cid] = []
        self._ensure_member(gid, self.bot_user_id, announce=False)
        return g

    async def announce_guild(self, guild: FakeGuild) -> None:
        await self._dispatch("GUILD_CREATE", self._guild_create_payload(guild))

    def _guild_create_payload(self, g: FakeGuild) -> dict:
        members = [self._member_obj(g.id, uid) for uid in self._members[g.id]]
        return {
            "id": str(g.id),
            "name": g.name,
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "owner_id": str(g.owner_id),
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "roles": [
                {
                    "id": str(g.id),
                    "name": "@everyone",
                    "color": 0,
                    "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
                    "hoist": False,
                    "icon": None,
                    "unicode_emoji": None,
                    "position": 0,
                    "permissions": _MEMBER_PERMISSIONS,
                    "managed": False,
                    "mentionable": False,
                    "flags": 0,
                }
            ],
            "emojis": [],
            "stickers": [],
            "features": [],
            "mfa_level": 0,
            "application_id": None,
            "system_channel_id": None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "vanity_url_code": None,
            "description": None,
            "banner": None,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "preferred_locale": "en-US",
            "public_updates_channel_id": None,
            "nsfw_level": 0,
            "premium_progress_bar_enabled": False,
            "safety_alerts_channel_id": None,
            "joined_at": _now_iso(),
            "large": False,
            "unavailable": False,
            "member_count": len(members),
            "voice_states": [],
            "members": members,
            "channels": [dict(self.channels[cid]) for cid in g.channels.values()],
            "threads": [],
            "presences": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
            "lazy": True,
        }

    def dm_channel_of(self, user_id: int) -> int:
        """The stable DM channel id between the bot and ``user_id`` (created on demand)."""
        cid = self.dm_channels.get(user_id)
        if cid is None:
            self._user(user_id)
            cid = self._snowflake()
            self.dm_channels[user_id] = cid
            self.channels[cid] = {
                "id": str(cid),
                "type": 1,
                "last_message_id": None,
                "flags": 0,
                "recipients": [self._user(user_id)],
            }
            self.channel_messages[cid] = []
        return cid

    def _dm_recipient(self, channel_id: int) -> Optional[int]:
        for uid, cid in self.dm_channels.items():
            if cid == channel_id:
                return uid
        return None

    # ------------------------------------------------------------------ faults

    def close_dms(self, user_id: int) -> None:
        """From now on, posting to this user's DM channel answers 403 / 50007."""
        self._user(user_id)
        self.closed_dms.add(user_id)

    def open_dms(self, user_id: int) -> None:
        self.closed_dms.discard(user_id)

    def fail_next(
        self,
        path_regex: str,
        status: int = 429,
        retry_after: float = 1.0,
        *,
        method: Optional[str] = None,
        times: int = 1,
        body: Optional[dict] = None,
        is_global: bool = False,
    ) -> None:
        """Answer the next ``times`` requests whose path (relative to
        ``/api/v10``, e.g. ``/channels/123/messages``) matches ``path_regex``
        (``re.search``) with ``status``.  429s get Discord's headers (Via,
        X-RateLimit-*, Retry-After) and body {message, retry_after, global}."""
        self._fail_rules.append(
            _FailRule(re.compile(path_regex), method.upper() if method else None, status, retry_after, times, body, is_global)
        )

    def _match_fault(self, method: str, path: str) -> Optional[_Fault]:
        for rule in self._fail_rules:
            if rule.times <= 0:
                continue
            if rule.method and rule.method != method:
                continue
            if not rule.pattern.search(path):
                continue
            rule.times -= 1
            if rule.status == 429:
                body = rule.body or {
                    "message": "You are being rate limited.",
                    "retry_after": rule.retry_after,
                    "global": rule.is_global,
                }
                headers = {
                    "Via": "1.1 google",
                    "Retry-After": str(max(1, math.ceil(rule.retry_after))),
                    "X-RateLimit-Limit": "5",
                    "X-RateLimit-Remaining": "0",
                    "X-RateLimit-Reset": f"{time.time() + rule.retry_after:.3f}",
                    "X-RateLimit-Reset-After": f"{rule.retry_after:.3f}",
                    "X-RateLimit-Bucket": "fakebucket" + format(abs(hash(rule.pattern.pattern)) % 10**8, "x"),
                    "X-RateLimit-Scope": "shared" if not rule.is_global else "global",
                }
                if rule.is_global:
                    headers["X-RateLimit-Global"] = "true"
                return _Fault(429, body, headers)
            default_msgs = {400: "Bad Request", 401: "401: Unauthorized", 403: "Missing Access", 404: "404: Not Found", 500: "500: Internal Server Error", 502: "502: Bad Gateway", 503: "503: Service Unavailable"}
            body = rule.body or {"message": default_msgs.get(rule.status, "Error"), "code": 0}
            return _Fault(rule.status, body)
        return None

    # ------------------------------------------------------------------ inspection helpers

    def messages_in(self, channel_id: int, *, from_bot: Optional[bool] = None) -> list[dict]:
        """Messages (Discord message dicts, edits applied, deletions removed)
        in a channel, oldest first.  ``from_bot=True`` -> only the bot's."""
        out = [self.messages[mid] for mid in self.channel_messages.get(channel_id, []) if mid in self.messages]
        if from_bot is not None:
            out = [m for m in out if (m["author"]["id"] == str(self.bot_user_id)) == from_bot]
        return out

    def bot_messages_in(self, channel_id: int) -> list[dict]:
        return self.messages_in(channel_id, from_bot=True)

    def message(self, message_id: int) -> dict:
        return self.messages[int(message_id)]

    def attachment_data(self, attachment: Any) -> bytes:
        """Bytes of an attachment (pass the attachment dict or its id)."""
        aid = int(attachment["id"]) if isinstance(attachment, dict) else int(attachment)
        return self.file_store[aid].data

    def files_in(self, channel_id: int) -> list[tuple[str, bytes]]:
        """(filename, bytes) of every attachment the bot posted in a channel."""
        return [
            (a["filename"], self.file_store[int(a["id"])].data)
            for m in self.messages_in(channel_id, from_bot=True)
            for a in m.get("attachments", [])
            if int(a["id"]) in self.file_store
        ]

    def interaction(self, interaction_id: int) -> InteractionRecord:
        return self.interactions[int(interaction_id)]

    def interaction_responses(self, interaction_id: int) -> list[InteractionResponse]:
        return list(self.interactions[int(interaction_id)].responses)

    def registered_commands(self, guild_id: Optional[int] = None) -> dict[str, dict]:
        """name -> command as last synced (global if guild_id is None)."""
        return dict(self.commands.get(guild_id, {}))

    def calls_to(self, path_regex: str, method: Optional[str] = None) -> list[Call]:
        rx = re.compile(path_regex)
        return [c for c in self.calls if rx.search(c.path) and (method is None or c.method == method.upper())]

    @property
    def message_content_intent(self) -> bool:
        """Whether the last IDENTIFY asked for MESSAGE_CONTENT."""
        return bool(self.intents and self.intents & INTENT_MESSAGE_CONTENT)

    @property
    def connected(self) -> bool:
        return self._conn is not None and not self._conn.ws.closed and self._conn.identified

    def assert_clean(self) -> None:
        """Fail if any request hit an unknown route or was rejected."""
        problems = []
        if self.unknown:
            problems.append(f"unknown requests: {self.unknown}")
        if self.rejected:
            problems.append(f"rejected requests: {[(c, c.response) for c in self.rejected]}")
        if problems:
            raise AssertionError("; ".join(problems))

    # ------------------------------------------------------------------ waiting

    def _notify(self) -> None:
        if self._changed is not None:
            self._changed.set()
            self._changed = asyncio.Event()

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = 10.0, *, poll_interval: float = 0.02) -> Any:
        """Re-evaluate ``predicate()`` after every request / gateway event (and
        every ``poll_interval`` s) until it returns something truthy (which is
        returned).  Raises
        TimeoutError (with recent calls listed) after ``timeout`` seconds."""
        if self._changed is None:
            raise RuntimeError("FakeDiscord is not started")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            result = predicate()
            if result:
                return result
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(
                    f"FakeDiscord.wait_for timed out after {timeout}s; last calls: {self.calls[-8:]}; "
                    f"unknown: {self.unknown}; rejected: {[(c, c.response) for c in self.rejected]}"
                )
            ev = self._changed
            try:
                # wake on any stand-in change; also poll, since predicates may
                # look at bot-side state the stand-in never hears about
                await asyncio.wait_for(ev.wait(), min(remaining, poll_interval))
            except asyncio.TimeoutError:
                pass

    async def wait_for_message(self, channel_id: int, predicate: Optional[Callable[[dict], bool]] = None, *, timeout: float = 10.0, from_bot: bool = True) -> dict:
        """First message in the channel (from the bot by default) matching ``predicate``."""
        def find():
            for m in self.messages_in(channel_id, from_bot=from_bot):
                if predicate is None or predicate(m):
                    return m
            return None

        return await self.wait_for(find, timeout)

    async def wait_for_response(self, interaction_id: int, *, kind: Optional[str] = None, index: int = 0, timeout: float = 10.0) -> InteractionResponse:
        """The ``index``-th response (optionally of one ``kind``) to an interaction."""
        def find():
            rs = [r for r in self.interactions[int(interaction_id)].responses if kind is None or r.kind == kind]
            return rs[index] if len(rs) > index else None

        return await self.wait_for(find, timeout)

    async def wait_until_identified(self, timeout: float = 10.0) -> None:
        await self.wait_for(lambda: self.connected, timeout)

    # ------------------------------------------------------------------ gateway

    async def _handle_gateway(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(max_msg_size=0, autoping=True)
        await ws.prepare(request)
        conn = _Conn(ws, dict(request.query))
        self._conns.append(conn)
        self.gateway_queries.append(conn.query)
        try:
            await self._ws_send(conn, {"op": 10, "d": {"heartbeat_interval": self.heartbeat_interval_ms, "_trace": ["fake-gateway"]}, "s": None, "t": None})
            async for msg in ws:
                if msg.type in (WSMsgType.TEXT, WSMsgType.BINARY):
                    try:
                        payload = json.loads(msg.data)
                    except ValueError:
                        await ws.close(code=4002, message=b"Error while decoding payload.")
                        break
                    await self._on_gateway_message(conn, payload)
                elif msg.type == WSMsgType.ERROR:
                    break
        finally:
            self.gateway_close_codes.append(ws.close_code)
            if self._conn is conn:
                self._conn = None
                if self._connected is not None:
                    self._connected.clear()
            if conn in self._conns:
                self._conns.remove(conn)
            self._notify()
        return ws

    async def _ws_send(self, conn: _Conn, payload: dict) -> None:
        async with conn.lock:
            await conn.ws.send_str(json.dumps(payload))

    async def _on_gateway_message(self, conn: _Conn, payload: dict) -> None:
        op = payload.get("op")
        d = payload.get("d")
        if op == 1:  # heartbeat
            self.heartbeats += 1
            await self._ws_send(conn, {"op": 11, "d": None, "s": None, "t": None})
        elif op == 2:
            await self._on_identify(conn, d or {})
        elif op == 6:
            await self._on_resume(conn, d or {})
        elif op == 3:
            self.presence_updates.append(d)
        elif op == 8:
            await self._on_request_members(conn, d or {})
        else:
            self.unknown.append(Call("GATEWAY", f"op:{op}", {}, payload, [], time.monotonic()))
        self._notify()

    async def _on_identify(self, conn: _Conn, d: dict) -> None:
        self.identify_payloads.append(d)
        if d.get("token") != self.token:
            await conn.ws.close(code=4004, message=b"Authentication failed.")
            return
        intents = d.get("intents")
        if not isinstance(intents, int):
            await conn.ws.close(code=4013, message=b"Invalid intent(s).")
            return
        if intents & PRIVILEGED_INTENTS & ~self.enabled_privileged_intents:
            await conn.ws.close(code=4014, message=b"Disallowed intent(s).")
            return
        self.intents = intents
        self._session_id = secrets.token_hex(16)
        self._seq = 0
        self._events = []
        conn.identified = True
        self._conn = conn
        ready = {
            "v": 10,
            "user_settings": {},
            "user": self.bot_user,
            "session_type": "normal",
            "session_id": self._session_id,
            "resume_gateway_url": self.gateway_url,
            "relationships": [],
            "private_channels": [],
            "presences": [],
            "guilds": [{"id": str(g), "unavailable": True} for g in self.guilds],
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": ["fake"],
            "application": {"id": str(self.application_id), "flags": self._application_flags()},
            "auth": {},
            "_trace": ["fake-gateway"],
        }
        if "shard" in d:
            ready["shard"] = d["shard"]
        await self._send_dispatch(conn, "READY", ready)
        if intents & INTENT_GUILDS:
            for g in self.guilds.values():
                await self._send_dispatch(conn, "GUILD_CREATE", self._guild_create_payload(g))
        else:
            self.dropped_events.append(("GUILD_CREATE", "GUILDS intent not requested"))
        assert self._connected is not None
        self._connected.set()

    async def _on_resume(self, conn: _Conn, d: dict) -> None:
        if d.get("token") != self.token:
            await conn.ws.close(code=4004, message=b"Authentication failed.")
            return
        if d.get("session_id") != self._session_id or self._session_id is None:
            await self._ws_send(conn, {"op": 9, "d": False, "s": None, "t": None})
            return
        self.resumes += 1
        conn.identified = True
        old = self._conn
        self._conn = conn
        if old is not None and old is not conn and not old.ws.closed:
            await old.ws.close(code=4000)
        seq = d.get("seq") or 0
        for ev in [e for e in self._events if e["s"] > seq]:
            await self._ws_send(conn, ev)
        await self._send_dispatch(conn, "RESUMED", {"_trace": ["fake-gateway"]})
        assert self._connected is not None
        self._connected.set()

    async def _on_request_members(self, conn: _Conn, d: dict) -> None:
        gid = int(d.get("guild_id", 0))
        members = self._members.get(gid, {})
        uids = [int(u) for u in (d.get("user_ids") or members.keys())]
        query = (d.get("query") or "").lower()
        found = [
            self._member_obj(gid, u)
            for u in uids
            if u in members and self._user(u)["username"].lower().startswith(query)
        ]
        limit = d.get("limit") or 0
        if limit:
            found = found[:limit]
        await self._send_dispatch(
            conn,
            "GUILD_MEMBERS_CHUNK",
            {"guild_id": str(gid), "members": found, "chunk_index": 0, "chunk_count": 1, "not_found": [], "nonce": d.get("nonce")},
        )

    def _application_flags(self) -> int:
        flags = 0
        if self.enabled_privileged_intents & INTENT_GUILD_PRESENCES:
            flags |= 1 << 13  # GATEWAY_PRESENCE_LIMITED
        if self.enabled_privileged_intents & INTENT_GUILD_MEMBERS:
            flags |= 1 << 15  # GATEWAY_GUILD_MEMBERS_LIMITED
        if self.enabled_privileged_intents & INTENT_MESSAGE_CONTENT:
            flags |= 1 << 19  # GATEWAY_MESSAGE_CONTENT_LIMITED
        flags |= 1 << 23  # APPLICATION_COMMAND_BADGE
        return flags

    async def _send_dispatch(self, conn: _Conn, event: str, data: dict) -> None:
        self._seq += 1
        msg = {"op": 0, "t": event, "s": self._seq, "d": data}
        self._events.append(msg)
        del self._events[:-500]
        self.dispatched.append((event, data))
        await self._ws_send(conn, msg)

    async def _dispatch(self, event: str, data: dict, timeout: float = 5.0) -> None:
        """Send a DISPATCH to the connected bot (waits up to ``timeout`` for a connection)."""
        assert self._connected is not None, "FakeDiscord is not started"
        try:
            await asyncio.wait_for(self._connected.wait(), timeout)
        except asyncio.TimeoutError:
            raise RuntimeError(f"no bot is connected to the fake gateway (wanted to send {event})") from None
        conn = self._conn
        assert conn is not None
        while self._pending_member_adds:
            await self._send_dispatch(conn, "GUILD_MEMBER_ADD", self._pending_member_adds.pop(0))
        await self._send_dispatch(conn, event, data)
        self._notify()

    async def dispatch_event(self, event: str, data: dict) -> None:
        """Send an arbitrary DISPATCH event (escape hatch)."""
        await self._dispatch(event, data)

    async def request_reconnect(self) -> None:
        """Send op 7 RECONNECT; discord.py closes and RESUMEs."""
        assert self._conn is not None, "not connected"
        conn = self._conn
        self._conn = None
        assert self._connected is not None
        self._connected.clear()
        await self._ws_send(conn, {"op": 7, "d": None, "s": None, "t": None})

    async def drop_connection(self, code: int = 4000) -> None:
        """Close the gateway socket from the server side (discord.py should resume)."""
        assert self._conn is not None, "not connected"
        conn = self._conn
        self._conn = None
        assert self._connected is not None
        self._connected.clear()
        await conn.ws.close(code=code)

    # ------------------------------------------------------------------ driving users

    def _user_message(self, user_id: int, channel_id: int, text: str, files: Iterable[tuple[str, bytes]] = ()) -> dict:
        ch = self.channels[channel_id]
        mid = self._snowflake()
        attachments = []
        for fname, data in files:
            aid = self._snowflake()
            self.file_store[aid] = UploadedFile("upload", fname, data, None)
            attachments.append(self._attachment_obj(channel_id, aid, fname, len(data), None))
        mentions = []
        bot_mentioned = f"<@{self.bot_user_id}>" in text or f"<@!{self.bot_user_id}>" in text
        if bot_mentioned:
            mentions.append(self.bot_user)
        msg = {
            "id": str(mid),
            "channel_id": str(channel_id),
            "author": self._user(user_id),
            "content": text,
            "timestamp": _now_iso(),
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": mentions,
            "mention_roles": [],
            "attachments": attachments,
            "embeds": [],
            "pinned": False,
            "type": 0,
            "flags": 0,
            "components": [],
            "nonce": str(mid),
        }
        if "guild_id" in ch:
            gid = int(ch["guild_id"])
            msg["guild_id"] = str(gid)
            self._ensure_member(gid, user_id)
            msg["member"] = self._member_obj(gid, user_id, with_user=False)
        self._store_message(msg)
        return msg

    def _gateway_view_of(self, msg: dict, *, guild: bool, bot_mentioned: bool) -> dict:
        data = copy.deepcopy(msg)
        if self.message_content_intent or bot_mentioned:
            return data
        if guild or self.dm_content_requires_intent:
            data["content"] = ""
            data["embeds"] = []
            data["attachments"] = []
            data["components"] = []
            data.pop("poll", None)
        return data

    async def dm_text(self, user_id: int, text: str, *, files: Iterable[tuple[str, bytes]] = ()) -> int:
        """User sends ``text`` to the bot in DM.  Returns the message id.
        ``files``: (filename, bytes) attachments (downloadable via attachment.read())."""
        cid = self.dm_channel_of(user_id)
        msg = self._user_message(user_id, cid, text, files)
        if not (self.intents or 0) & INTENT_DIRECT_MESSAGES:
            self.dropped_events.append(("MESSAGE_CREATE", "DIRECT_MESSAGES intent not requested"))
            self._notify()
            return int(msg["id"])
        bot_mentioned = bool(msg["mentions"])
        await self._dispatch("MESSAGE_CREATE", self._gateway_view_of(msg, guild=False, bot_mentioned=bot_mentioned))
        return int(msg["id"])

    async def guild_text(self, user_id: int, channel_id: int, text: str, *, files: Iterable[tuple[str, bytes]] = ()) -> int:
        """User posts ``text`` in a guild text channel.  Returns the message id."""
        if channel_id not in self.channels or "guild_id" not in self.channels[channel_id]:
            raise ValueError(f"{channel_id} is not a configured guild channel")
        msg = self._user_message(user_id, channel_id, text, files)
        if not (self.intents or 0) & INTENT_GUILD_MESSAGES:
            self.dropped_events.append(("MESSAGE_CREATE", "GUILD_MESSAGES intent not requested"))
            self._notify()
            return int(msg["id"])
        bot_mentioned = bool(msg["mentions"])
        await self._dispatch("MESSAGE_CREATE", self._gateway_view_of(msg, guild=True, bot_mentioned=bot_mentioned))
        return int(msg["id"])

    def _resolve_channel_arg(self, user_id: int, channel: Any) -> int:
        if channel == "dm" or channel is None:
            return self.dm_channel_of(user_id)
        cid = int(channel)
        if cid not in self.channels:
            raise ValueError(f"unknown channel {cid}")
        return cid

    def _interaction_base(self, itype: int, user_id: int, channel_id: int, data: dict, message: Optional[dict] = None) -> tuple[dict, InteractionRecord]:
        ch = self.channels[channel_id]
        iid = self._snowflake()
        token = "aW50ZXJhY3Rpb246" + secrets.token_urlsafe(48)
        guild_id = int(ch["guild_id"]) if "guild_id" in ch else None
        payload: dict = {
            "id": str(iid),
            "application_id": str(self.application_id),
            "type": itype,
            "data": data,
            "token": token,
            "version": 1,
            "channel_id": str(channel_id),
            "app_permissions": _ALL_PERMISSIONS,
            "locale": "en-US",
            "entitlements": [],
            "entitlement_sku_ids": [],
            "attachment_size_limit": _ATTACHMENT_SIZE_LIMIT,
        }
        if guild_id is not None:
            self._ensure_member(guild_id, user_id)
            payload["guild_id"] = str(guild_id)
            payload["guild"] = {"id": str(guild_id), "locale": "en-US", "features": []}
            payload["guild_locale"] = "en-US"
            payload["member"] = dict(self._member_obj(guild_id, user_id), permissions=_MEMBER_PERMISSIONS)
            payload["channel"] = dict(ch)
            payload["authorizing_integration_owners"] = {"0": str(guild_id)}
            payload["context"] = 0
        else:
            payload["user"] = self._user(user_id)
            payload["channel"] = dict(ch)
            payload["authorizing_integration_owners"] = {"0": "0"}
            payload["context"] = 1
        if message is not None:
            payload["message"] = copy.deepcopy(message)
        rec = InteractionRecord(
            id=iid,
            token=token,
            type=itype,
            user_id=user_id,
            channel_id=channel_id,
            guild_id=guild_id,
            payload=payload,
            dispatched_at=0.0,
            message_id=int(message["id"]) if message is not None else None,
        )
        return payload, rec

    async def _send_interaction(self, payload: dict, rec: InteractionRecord) -> int:
        self.interactions[rec.id] = rec
        self._by_token[rec.token] = rec
        rec.dispatched_at = time.monotonic()  # set before sending: the reply can race the await
        await self._dispatch("INTERACTION_CREATE", payload)
        return rec.id

    def _find_command(self, name: str, guild_id: Optional[int]) -> Optional[dict]:
        if guild_id is not None and name in self.commands.get(guild_id, {}):
            return self.commands[guild_id][name]
        return self.commands.get(None, {}).get(name)

    def _build_options(self, schema: Optional[list], options: Any, path: str) -> list:
        if options is None:
            options = {}
        if isinstance(options, list):  # already Discord-shaped
            return options
        schema_by_name = {o["name"]: o for o in (schema or [])}
        out = []
        for name, value in options.items():
            opt_schema = schema_by_name.get(name)
            if schema is not None and opt_schema is None:
                raise ValueError(f"/{path} has no option {name!r} (registered: {sorted(schema_by_name)})")
            if opt_schema is not None:
                otype = opt_schema["type"]
            elif isinstance(value, bool):
                otype = 5
            elif isinstance(value, int):
                otype = 4
            elif isinstance(value, float):
                otype = 10
            else:
                otype = 3
            out.append({"name": name, "type": otype, "value": value})
        for o in schema or []:
            if o.get("required") and o["name"] not in options:
                raise ValueError(f"/{path}: required option {o['name']!r} missing (the Discord client would not send this)")
        return out

    async def slash(self, user_id: int, name: str, options: Any = None, channel: Any = "dm", *, focused: Optional[str] = None) -> int:
        """User runs ``/name`` (``"group sub"`` for subcommands) with
        ``options`` ({name: value} or Discord-shaped list).  ``channel`` is
        ``"dm"`` or a guild channel id.  Returns the interaction id.
        With ``focused=<option>`` an AUTOCOMPLETE interaction is sent instead."""
        cid = self._resolve_channel_arg(user_id, channel)
        guild_id = int(self.channels[cid]["guild_id"]) if "guild_id" in self.channels[cid] else None
        parts = name.split()
        top = parts[0]
        cmd = self._find_command(top, guild_id)
        if cmd is None and self.require_registered_commands:
            raise ValueError(
                f"/{top} is not registered (global: {sorted(self.commands.get(None, {}))}, "
                f"guild {guild_id}: {sorted(self.commands.get(guild_id, {}))}) - did the bot sync its CommandTree?"
            )
        if cmd is not None and guild_id is None and cmd.get("guild_id"):
            raise ValueError(f"/{top} is a guild command; it cannot be used in DMs")
        if cmd is not None and guild_id is None and cmd.get("contexts") is not None and 1 not in cmd["contexts"]:
            raise ValueError(f"/{top} is not allowed in bot DMs (contexts={cmd['contexts']})")
        if cmd is not None and guild_id is None and cmd.get("dm_permission") is False:
            raise ValueError(f"/{top} has dm_permission=False")
        schema = cmd.get("options") if cmd is not None else None
        # walk subcommands
        sub_chain = []
        for p in parts[1:]:
            sub = next((o for o in (schema or []) if o["name"] == p and o["type"] in (1, 2)), None) if schema is not None else None
            if schema is not None and sub is None:
                raise ValueError(f"/{name}: no subcommand {p!r}")
            sub_chain.append((p, sub["type"] if sub else (1 if p == parts[-1] else 2)))
            schema = sub.get("options", []) if sub else None
        leaf = self._build_options(schema, options, name)
        if focused is not None:
            for o in leaf:
                if o["name"] == focused:
                    o["focused"] = True
        for p, ptype in reversed(sub_chain):
            leaf = [{"name": p, "type": ptype, "options": leaf}]
        data: dict = {"id": cmd["id"] if cmd else str(self._snowflake()), "name": top, "type": 1}
        if leaf:
            data["options"] = leaf
        if cmd is not None and cmd.get("guild_id"):
            data["guild_id"] = cmd["guild_id"]
        itype = _AUTOCOMPLETE if focused is not None else _APP_COMMAND
        payload, rec = self._interaction_base(itype, user_id, cid, data)
        return await self._send_interaction(payload, rec)

    async def autocomplete(self, user_id: int, name: str, options: Any, focused: str, channel: Any = "dm") -> int:
        return await self.slash(user_id, name, options, channel, focused=focused)

    def _find_component(self, msg: dict, custom_id: str) -> Optional[dict]:
        for comp in _walk_components(msg.get("components", [])):
            if comp.get("custom_id") == custom_id:
                return comp
        return None

    async def click(self, user_id: int, message_id: int, custom_id: str) -> int:
        """User clicks the button ``custom_id`` on message ``message_id``.
        Returns the interaction id."""
        msg = self.messages.get(int(message_id))
        if msg is None:
            raise ValueError(f"no message {message_id}")
        comp = self._find_component(msg, custom_id)
        if comp is None:
            ids = [c.get("custom_id") for c in _walk_components(msg.get("components", [])) if c.get("custom_id")]
            raise ValueError(f"message {message_id} has no component {custom_id!r} (has {ids})")
        if comp.get("disabled"):
            raise ValueError(f"component {custom_id!r} is disabled")
        if comp.get("type") != 2:
            raise ValueError(f"component {custom_id!r} is type {comp.get('type')}, use select()")
        payload, rec = self._interaction_base(
            _COMPONENT, user_id, int(msg["channel_id"]), {"custom_id": custom_id, "component_type": 2}, message=msg
        )
        return await self._send_interaction(payload, rec)

    async def forge_click(self, user_id: int, message_id: int, custom_id: str) -> int:
        """What a modified client can send: a button press on message ``message_id`` with any
        ``custom_id``, whether or not the message carries that button. Returns the interaction
        id."""
        msg = self.messages.get(int(message_id))
        if msg is None:
            raise ValueError(f"no message {message_id}")
        payload, rec = self._interaction_base(
            _COMPONENT, user_id, int(msg["channel_id"]), {"custom_id": custom_id, "component_type": 2}, message=msg
        )
        return await self._send_interaction(payload, rec)

    async def select(self, user_id: int, message_id: int, custom_id: str, values: list) -> int:
        """User picks ``values`` in the select menu ``custom_id``."""
        msg = self.messages.get(int(message_id))
        if msg is None:
            raise ValueError(f"no message {message_id}")
        comp = self._find_component(msg, custom_id)
        if comp is None or comp.get("type") not in (3, 5, 6, 7, 8):
            raise ValueError(f"message {message_id} has no select {custom_id!r}")
        if comp.get("type") == 3:
            allowed = {o["value"] for o in comp.get("options", [])}
            bad = [v for v in values if v not in allowed]
            if bad:
                raise ValueError(f"values {bad} not among select options {sorted(allowed)}")
        payload, rec = self._interaction_base(
            _COMPONENT,
            user_id,
            int(msg["channel_id"]),
            {"custom_id": custom_id, "component_type": comp["type"], "values": [str(v) for v in values]},
            message=msg,
        )
        return await self._send_interaction(payload, rec)

    async def submit_modal(self, user_id: int, opened_by: int, values: dict) -> int:
        """User submits the modal that interaction ``opened_by`` answered with
        (callback type 9).  ``values``: custom_id -> str (text inputs) or list
        (selects inside labels).  Returns the new interaction id."""
        origin = self.interactions[int(opened_by)]
        if origin.modal is None:
            raise ValueError(f"interaction {opened_by} did not open a modal")
        modal = origin.modal

        def submit(comp: dict) -> Optional[dict]:
            t = comp.get("type")
            if t == 1:
                return {"type": 1, "components": [c for c in (submit(x) for x in comp.get("components", [])) if c]}
            if t == 18:
                inner = submit(comp["component"])
                return {"type": 18, "component": inner} if inner else None
            cid = comp.get("custom_id")
            if cid is None:
                return None
            out: dict = {"type": t, "custom_id": cid}
            if "id" in comp:
                out["id"] = comp["id"]
            v = values.get(cid, comp.get("value", "") if t == 4 else [])
            if t == 4:
                if comp.get("required", True) and not v:
                    raise ValueError(f"modal text input {cid!r} is required")
                out["value"] = str(v)
            else:
                out["values"] = [str(x) for x in v]
            return out

        unknown = set(values) - {c.get("custom_id") for c in _walk_components(modal.get("components", []))}
        if unknown:
            raise ValueError(f"modal has no inputs {sorted(unknown)}")
        comps = [c for c in (submit(c) for c in modal.get("components", [])) if c]
        msg = self.messages.get(origin.message_id) if origin.message_id else None
        payload, rec = self._interaction_base(
            _MODAL_SUBMIT, user_id, origin.channel_id, {"custom_id": modal["custom_id"], "components": comps}, message=msg
        )
        return await self._send_interaction(payload, rec)

    # ------------------------------------------------------------------ HTTP plumbing

    def _build_routes(self) -> list:
        S = r"(?P<{}>\d+)"
        r = []

        def add(method: str, pattern: str, handler: Callable[..., Awaitable[Any]], auth: bool = True) -> None:
            rx = pattern
            for name in ("app", "guild", "channel", "message", "user", "interaction"):
                rx = rx.replace("{" + name + "}", S.format(name))
            rx = rx.replace("{token}", r"(?P<token>[^/]+)").replace("{emoji}", r"(?P<emoji>[^/]+)")
            r.append((method, re.compile(rx), handler, auth))

        add("GET", "/gateway", self._h_gateway, auth=False)
        add("GET", "/gateway/bot", self._h_gateway_bot)
        add("GET", "/users/@me", self._h_me)
        add("GET", "/users/{user}", self._h_get_user)
        add("GET", "/oauth2/applications/@me", self._h_app_info)
        add("GET", "/applications/@me", self._h_app_info)
        add("PUT", "/applications/{app}/commands", self._h_put_commands)
        add("GET", "/applications/{app}/commands", self._h_get_commands)
        add("PUT", "/applications/{app}/guilds/{guild}/commands", self._h_put_commands)
        add("GET", "/applications/{app}/guilds/{guild}/commands", self._h_get_commands)
        add("POST", "/users/@me/channels", self._h_create_dm)
        add("GET", "/channels/{channel}", self._h_get_channel)
        add("POST", "/channels/{channel}/typing", self._h_typing)
        add("GET", "/channels/{channel}/messages", self._h_history)
        add("POST", "/channels/{channel}/messages", self._h_post_message)
        add("GET", "/channels/{channel}/messages/{message}", self._h_get_message)
        add("PATCH", "/channels/{channel}/messages/{message}", self._h_edit_message)
        add("DELETE", "/channels/{channel}/messages/{message}", self._h_delete_message)
        add("PUT", "/channels/{channel}/messages/{message}/reactions/{emoji}/@me", self._h_react)
        add("DELETE", "/channels/{channel}/messages/{message}/reactions/{emoji}/@me", self._h_unreact)
        add("POST", "/interactions/{interaction}/{token}/callback", self._h_callback, auth=False)
        add("POST", "/webhooks/{app}/{token}", self._h_followup, auth=False)
        add("GET", "/webhooks/{app}/{token}/messages/@original", self._h_get_original, auth=False)
        add("PATCH", "/webhooks/{app}/{token}/messages/@original", self._h_edit_original, auth=False)
        add("DELETE", "/webhooks/{app}/{token}/messages/@original", self._h_delete_original, auth=False)
        add("GET", "/webhooks/{app}/{token}/messages/{message}", self._h_get_followup, auth=False)
        add("PATCH", "/webhooks/{app}/{token}/messages/{message}", self._h_edit_followup, auth=False)
        add("DELETE", "/webhooks/{app}/{token}/messages/{message}", self._h_delete_followup, auth=False)
        return r

    @staticmethod
    def _json(status: int, data: Any, headers: Optional[dict] = None) -> web.Response:
        if status == 204 or data is None:
            return web.Response(status=204 if status < 300 else status, headers=headers)
        h = {"Content-Type": "application/json"}  # exactly; discord.py compares verbatim
        if headers:
            h.update(headers)
        return web.Response(status=status, body=json.dumps(data).encode(), headers=h)

    async def _read_body(self, request: web.Request) -> tuple[Any, list]:
        ctype = request.content_type
        files: list = []
        if ctype.startswith("multipart/"):
            payload = None
            reader = await request.multipart()
            async for part in reader:
                name = part.name or ""
                if name == "payload_json":
                    payload = json.loads(await part.text())
                else:
                    data = await part.read(decode=False)
                    files.append(UploadedFile(name, part.filename or name, bytes(data), part.headers.get("Content-Type")))
            return payload, files
        raw = await request.read()
        if not raw:
            return None, files
        if ctype == "application/json":
            return json.loads(raw), files
        return raw.decode("utf-8", "replace"), files

    async def _handle_http(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        if request.method == "GET" and path.startswith("/attachments/"):
            aid = int(path.split("/")[3])
            f = self.file_store.get(aid)
            if f is None:
                return web.Response(status=404, text="not found")
            return web.Response(body=f.data, content_type=f.content_type or "application/octet-stream")
        body, files = await self._read_body(request)
        status, data, headers = await self.answer(request.method, path, dict(request.query), body,
                                                  files, request.headers.get("Authorization"))
        return self._json(status, data, headers)

    async def answer(self, http_method: str, path: str, query: dict, body: Any, files: list,
                     authorization: Optional[str]) -> tuple[int, Any, Optional[dict]]:
        """One REST request, already read: recorded as a Call and answered as (status, JSON
        body, extra headers). The HTTP server uses it, and so can an in-process transport
        (tests that feed thousands of updates without a socket)."""
        rel = path[len(API_PREFIX):] if path.startswith(API_PREFIX + "/") else path
        call = Call(http_method, rel, query, body, files, time.monotonic())
        self.calls.append(call)
        headers = None
        try:
            if not path.startswith(API_PREFIX + "/"):
                raise LookupError
            fault = self._match_fault(http_method, rel)
            if fault is not None:
                raise fault
            for method, rx, handler, auth in self._routes:
                if method != http_method:
                    continue
                m = rx.fullmatch(rel)
                if m is None:
                    continue
                if auth and authorization != f"Bot {self.token}":
                    raise _Reject(401, 0, "401: Unauthorized")
                status, data = await handler(call, **m.groupdict())
                break
            else:
                raise LookupError
        except _Fault as f:
            status, data, headers = f.status, f.body, f.headers
            self.faults_hit.append(call)
        except _Reject as r:
            status, data = r.status, r.body
            self.rejected.append(call)
        except LookupError:
            status, data = 404, {"message": "404: Not Found", "code": 0}
            self.unknown.append(call)
        call.status = status
        call.response = data
        self._notify()
        return status, data, headers

    # ------------------------------------------------------------------ REST: basics

    async def _h_gateway(self, call: Call) -> tuple:
        return 200, {"url": self.gateway_url}

    async def _h_gateway_bot(self, call: Call) -> tuple:
        return 200, {
            "url": self.gateway_url,
            "shards": 1,
            "session_start_limit": {"total": 1000, "remaining": 999, "reset_after": 14400000, "max_concurrency": 1},
        }

    async def _h_me(self, call: Call) -> tuple:
        return 200, self.bot_user

    async def _h_get_user(self, call: Call, user: str) -> tuple:
        u = self.users.get(int(user))
        if u is None:
            raise _Reject(404, 10013, "Unknown User")
        return 200, u

    async def _h_app_info(self, call: Call) -> tuple:
        return 200, {
            "id": str(self.application_id),
            "name": self.bot_name,
            "icon": None,
            "description": "",
            "summary": "",
            "type": None,
            "bot_public": True,
            "bot_require_code_grant": False,
            "verify_key": "0" * 64,
            "flags": self._application_flags(),
            "owner": self.owner_user,
            "team": None,
            "bot": self.bot_user,
            "rpc_origins": [],
            "redirect_uris": [],
            "tags": [],
            "interactions_endpoint_url": None,
            "role_connections_verification_url": None,
            "install_params": None,
            "integration_types_config": {"0": {}},
            "approximate_guild_count": len(self.guilds),
            "hook": True,
        }

    def _check_app(self, app: str) -> None:
        if int(app) != self.application_id:
            raise _Reject(403, 50001, "Missing Access")

    # ------------------------------------------------------------------ REST: commands

    _NAME_RX = re.compile(r"^[-_\w]{1,32}$")

    async def _h_put_commands(self, call: Call, app: str, guild: Optional[str] = None) -> tuple:
        self._check_app(app)
        gid = int(guild) if guild else None
        if gid is not None and gid not in self.guilds:
            raise _Reject(403, 50001, "Missing Access")
        body = call.json
        if not isinstance(body, list):
            raise _invalid("_root", "BASE_TYPE_ARRAY", "Must be an array.")
        old = self.commands.get(gid, {})
        new: dict[str, dict] = {}
        for i, cmd in enumerate(body):
            name = cmd.get("name", "")
            ctype = cmd.get("type", 1)
            if not self._NAME_RX.match(name) or (ctype == 1 and name != name.lower()):
                raise _invalid(f"{i}.name", "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid")
            if ctype == 1 and not (1 <= len(cmd.get("description", "")) <= 100):
                raise _invalid(f"{i}.description", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")
            if len(cmd.get("options", [])) > 25:
                raise _invalid(f"{i}.options", "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
            if name in new:
                raise _invalid(f"{i}.name", "APPLICATION_COMMANDS_DUPLICATE_NAME", f"Application command names must be unique ({name})")
            prev = old.get(name)
            stored = copy.deepcopy(cmd)
            stored.setdefault("type", 1)
            stored.setdefault("options", [])
            stored.setdefault("nsfw", False)
            stored.setdefault("default_member_permissions", None)
            stored.setdefault("description_localizations", None)
            stored.setdefault("name_localizations", None)
            stored["id"] = prev["id"] if prev else str(self._snowflake())
            stored["application_id"] = str(self.application_id)
            stored["version"] = str(self._snowflake())
            if gid is not None:
                stored["guild_id"] = str(gid)
            else:
                stored.setdefault("contexts", None)
                stored.setdefault("integration_types", [0])
            new[name] = stored
        self.commands[gid] = new
        return 200, list(new.values())

    async def _h_get_commands(self, call: Call, app: str, guild: Optional[str] = None) -> tuple:
        self._check_app(app)
        return 200, list(self.commands.get(int(guild) if guild else None, {}).values())

    # ------------------------------------------------------------------ REST: channels & messages

    async def _h_create_dm(self, call: Call) -> tuple:
        rid = (call.json or {}).get("recipient_id")
        if rid is None:
            raise _invalid("recipient_id", "BASE_TYPE_REQUIRED", "This field is required")
        uid = int(rid)
        if uid not in self.users or uid == self.bot_user_id:
            raise _Reject(400, 50033, "Invalid Recipient(s)")
        cid = self.dm_channel_of(uid)
        return 200, self.channels[cid]

    def _channel(self, channel: str) -> dict:
        ch = self.channels.get(int(channel))
        if ch is None:
            raise _Reject(404, 10003, "Unknown Channel")
        return ch

    async def _h_get_channel(self, call: Call, channel: str) -> tuple:
        return 200, self._channel(channel)

    async def _h_typing(self, call: Call, channel: str) -> tuple:
        self._channel(channel)
        self.typing.append(int(channel))
        return 204, None

    def _msg_in(self, channel: str, message: str) -> dict:
        self._channel(channel)
        msg = self.messages.get(int(message))
        if msg is None or msg["channel_id"] != str(int(channel)):
            raise _Reject(404, 10008, "Unknown Message")
        return msg

    async def _h_history(self, call: Call, channel: str) -> tuple:
        self._channel(channel)
        limit = int(call.query.get("limit", 50))
        msgs = list(reversed(self.messages_in(int(channel))))
        if "before" in call.query:
            msgs = [m for m in msgs if int(m["id"]) < int(call.query["before"])]
        if "after" in call.query:
            msgs = [m for m in msgs if int(m["id"]) > int(call.query["after"])]
        return 200, msgs[:limit]

    async def _h_get_message(self, call: Call, channel: str, message: str) -> tuple:
        return 200, self._msg_in(channel, message)

    async def _h_post_message(self, call: Call, channel: str) -> tuple:
        ch = self._channel(channel)
        cid = int(channel)
        if ch["type"] == 1:
            uid = self._dm_recipient(cid)
            if uid in self.closed_dms:
                raise _Fault(403, {"message": "Cannot send messages to this user", "code": 50007})
        payload = call.json or {}
        msg = self._new_message(cid, payload, call.files)
        return 200, msg

    async def _h_edit_message(self, call: Call, channel: str, message: str) -> tuple:
        msg = self._msg_in(channel, message)
        if msg["author"]["id"] != str(self.bot_user_id):
            raise _Reject(403, 50005, "Cannot edit a message authored by another user")
        self._apply_edit(msg, call.json or {}, call.files)
        return 200, msg

    async def _h_delete_message(self, call: Call, channel: str, message: str) -> tuple:
        msg = self._msg_in(channel, message)
        self._delete(msg)
        return 204, None

    async def _h_react(self, call: Call, channel: str, message: str, emoji: str) -> tuple:
        self._msg_in(channel, message)
        self.reactions.append((int(channel), int(message), emoji))
        return 204, None

    async def _h_unreact(self, call: Call, channel: str, message: str, emoji: str) -> tuple:
        self._msg_in(channel, message)
        try:
            self.reactions.remove((int(channel), int(message), emoji))
        except ValueError:
            pass
        return 204, None

    # ------------------------------------------------------------------ message building

    def _attachment_obj(self, channel_id: int, aid: int, filename: str, size: int, content_type: Optional[str], description: Optional[str] = None) -> dict:
        url = f"{self.base_url}/attachments/{channel_id}/{aid}/{filename}"
        a = {"id": str(aid), "filename": filename, "size": size, "url": url, "proxy_url": url}
        if content_type:
            a["content_type"] = content_type
        if description is not None:
            a["description"] = description
        return a

    def _build_attachments(self, channel_id: int, payload: dict, files: list, existing: Optional[list]) -> list:
        by_index: dict[int, UploadedFile] = {}
        for pos, f in enumerate(files):
            m = re.fullmatch(r"files\[(\d+)\]", f.field)
            by_index[int(m.group(1)) if m else pos] = f
        if len(files) > 10:
            raise _invalid("files", "BASE_TYPE_MAX_LENGTH", "Must be 10 or fewer in length.")

        def new(f: UploadedFile, entry: dict) -> dict:
            if len(f.data) > _ATTACHMENT_SIZE_LIMIT:
                raise _Reject(413, 40005, "Request entity too large")
            aid = self._snowflake()
            fname = entry.get("filename") or f.filename
            self.file_store[aid] = UploadedFile(f.field, fname, f.data, f.content_type)
            return self._attachment_obj(channel_id, aid, fname, len(f.data), _guess_type(fname), entry.get("description"))

        entries = payload.get("attachments")
        used: set[int] = set()
        if entries is None:
            result = list(existing or [])
            for idx, f in sorted(by_index.items()):
                result.append(new(f, {}))
            return result
        result = []
        existing_by_id = {a["id"]: a for a in (existing or [])}
        for i, e in enumerate(entries):
            eid = int(e["id"])
            if eid in by_index and str(eid) not in existing_by_id:
                result.append(new(by_index[eid], e))
                used.add(eid)
            elif str(eid) in existing_by_id:
                result.append(existing_by_id[str(eid)])
            else:
                raise _invalid(f"attachments.{i}.id", "ATTACHMENT_NOT_FOUND", "Attachment data not found")
        for idx, f in sorted(by_index.items()):
            if idx not in used:
                result.append(new(f, {}))
        return result

    def _validate(self, msg: dict) -> None:
        """Validate a message as it would be after create/edit."""
        flags = msg.get("flags", 0) or 0
        content = msg.get("content") or ""
        embeds = msg.get("embeds") or []
        comps = msg.get("components") or []
        if flags & IS_COMPONENTS_V2:
            if content:
                raise _invalid("content", "MESSAGE_CANNOT_USE_LEGACY_FIELDS_WITH_COMPONENTS_V2", "The 'content' field cannot be used when using MessageFlags.IS_COMPONENTS_V2")
            if embeds:
                raise _invalid("embeds", "MESSAGE_CANNOT_USE_LEGACY_FIELDS_WITH_COMPONENTS_V2", "The 'embeds' field cannot be used when using MessageFlags.IS_COMPONENTS_V2")
        if len(content) > 2000:
            raise _invalid("content", "BASE_TYPE_MAX_LENGTH", "Must be 2000 or fewer in length.")
        if len(embeds) > 10:
            raise _invalid("embeds", "BASE_TYPE_MAX_LENGTH", "Must be 10 or fewer in length.")
        total = 0
        for i, e in enumerate(embeds):
            for key, limit in (("title", 256), ("description", 4096)):
                v = e.get(key) or ""
                total += len(v)
                if len(v) > limit:
                    raise _invalid(f"embeds.{i}.{key}", "BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")
            fields = e.get("fields") or []
            if len(fields) > 25:
                raise _invalid(f"embeds.{i}.fields", "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
            for j, f in enumerate(fields):
                if not f.get("name") or not f.get("value"):
                    raise _invalid(f"embeds.{i}.fields.{j}.value", "BASE_TYPE_REQUIRED", "This field is required")
                if len(f["name"]) > 256 or len(f["value"]) > 1024:
                    raise _invalid(f"embeds.{i}.fields.{j}", "BASE_TYPE_MAX_LENGTH", "Field name <= 256, value <= 1024")
                total += len(f["name"]) + len(f["value"])
            footer = (e.get("footer") or {}).get("text") or ""
            author = (e.get("author") or {}).get("name") or ""
            if len(footer) > 2048 or len(author) > 256:
                raise _invalid(f"embeds.{i}", "BASE_TYPE_MAX_LENGTH", "footer.text <= 2048, author.name <= 256")
            total += len(footer) + len(author)
        if total > 6000:
            raise _invalid("embeds", "MAX_EMBED_SIZE_EXCEEDED", "Embed size exceeds maximum size of 6000")
        if not flags & IS_COMPONENTS_V2:
            if len(comps) > 5:
                raise _invalid("components", "BASE_TYPE_MAX_LENGTH", "Must be 5 or fewer in length.")
            for i, row in enumerate(comps):
                if row.get("type") != 1:
                    raise _invalid(f"components.{i}.type", "UNION_TYPE_CHOICES", "Top-level components must be action rows (type 1) without IS_COMPONENTS_V2")
                kids = row.get("components") or []
                if not 1 <= len(kids) <= 5:
                    raise _invalid(f"components.{i}.components", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 5 in length.")
                if any(k.get("type") != 2 for k in kids) and len(kids) > 1:
                    raise _invalid(f"components.{i}.components", "COMPONENT_LAYOUT_WIDTH_EXCEEDED", "A select menu must be alone in its row")
        seen: set[str] = set()
        for comp in _walk_components(comps):
            cid = comp.get("custom_id")
            if cid is not None:
                if len(cid) > 100:
                    raise _invalid("components", "BASE_TYPE_MAX_LENGTH", f"custom_id {cid[:20]!r}... longer than 100")
                if cid in seen:
                    raise _invalid("components", "COMPONENT_CUSTOM_ID_DUPLICATED", f"Component custom id cannot be duplicated ({cid})")
                seen.add(cid)
            if comp.get("type") == 2:
                style = comp.get("style")
                if len(comp.get("label") or "") > 80:
                    raise _invalid("components", "BASE_TYPE_MAX_LENGTH", "Button label must be 80 or fewer in length.")
                if style == 5 and not comp.get("url"):
                    raise _invalid("components", "BASE_TYPE_REQUIRED", "Link buttons need a url")
                if style in (1, 2, 3, 4) and not cid:
                    raise _invalid("components", "BASE_TYPE_REQUIRED", "Non-link buttons need a custom_id")
                if not comp.get("label") and not comp.get("emoji") and style != 6:
                    raise _invalid("components", "BUTTON_COMPONENT_LABEL_OR_EMOJI_REQUIRED", "Button needs a label or an emoji")
            if comp.get("type") == 3 and not 1 <= len(comp.get("options") or []) <= 25:
                raise _invalid("components", "BASE_TYPE_BAD_LENGTH", "Select options must be between 1 and 25 in length.")

    def _ensure_not_empty(self, msg: dict) -> None:
        if not (msg.get("content") or msg.get("embeds") or msg.get("attachments") or msg.get("components") or msg.get("sticker_items") or msg.get("poll")):
            raise _Reject(400, 50006, "Cannot send an empty message")

    @staticmethod
    def _number_components(components: list) -> list:
        comps = copy.deepcopy(components or [])
        used = {c["id"] for c in _walk_components(comps) if isinstance(c.get("id"), int)}
        n = itertools.count(1)
        for c in _walk_components(comps):
            if "id" not in c or c["id"] is None:
                i = next(n)
                while i in used:
                    i = next(n)
                c["id"] = i
        return comps

    def _new_message(
        self,
        channel_id: int,
        payload: dict,
        files: list,
        *,
        interaction: Optional[InteractionRecord] = None,
        extra_flags: int = 0,
        allow_empty: bool = False,
        followup_of: Optional[int] = None,
    ) -> dict:
        ch = self.channels[channel_id]
        mid = self._snowflake()
        flags = (payload.get("flags") or 0) | extra_flags
        if interaction is None:
            flags &= ~EPHEMERAL  # not settable on normal messages
        msg: dict = {
            "id": str(mid),
            "channel_id": str(channel_id),
            "author": self.bot_user,
            "content": payload.get("content") or "",
            "timestamp": _now_iso(),
            "edited_timestamp": None,
            "tts": bool(payload.get("tts", False)),
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": [],
            "embeds": copy.deepcopy(payload.get("embeds") or []),
            "pinned": False,
            "type": 0,
            "flags": flags,
            "components": self._number_components(payload.get("components") or []),
        }
        if "guild_id" in ch:
            msg["guild_id"] = ch["guild_id"]
        if payload.get("poll"):
            msg["poll"] = copy.deepcopy(payload["poll"])
        if payload.get("sticker_ids"):
            msg["sticker_items"] = [{"id": str(s), "name": "sticker", "format_type": 1} for s in payload["sticker_ids"]]
        ref = payload.get("message_reference")
        if ref and interaction is None:
            target = self.messages.get(int(ref.get("message_id", 0)))
            if target is None:
                if ref.get("fail_if_not_exists", True):
                    raise _invalid("message_reference", "MESSAGE_REFERENCE_UNKNOWN_MESSAGE", "Unknown message")
            else:
                msg["type"] = 19
                msg["message_reference"] = {
                    "type": 0,
                    "message_id": target["id"],
                    "channel_id": target["channel_id"],
                    **({"guild_id": target["guild_id"]} if "guild_id" in target else {}),
                }
                referenced = copy.deepcopy(target)
                referenced.pop("referenced_message", None)
                msg["referenced_message"] = referenced
        if interaction is not None:
            msg["webhook_id"] = str(self.application_id)
            msg["application_id"] = str(self.application_id)
            meta = {
                "id": str(interaction.id),
                "type": interaction.type,
                "user": self._user(interaction.user_id),
                "authorizing_integration_owners": interaction.payload.get("authorizing_integration_owners", {}),
            }
            if interaction.type == _APP_COMMAND:
                meta["name"] = interaction.payload["data"]["name"]
                meta["command_type"] = 1
            if interaction.type == _COMPONENT and interaction.message_id:
                meta["interacted_message_id"] = str(interaction.message_id)
            if followup_of is not None:
                meta["original_response_message_id"] = str(followup_of)
            msg["interaction_metadata"] = meta
            if followup_of is None and interaction.type == _APP_COMMAND:
                msg["type"] = 20  # CHAT_INPUT_COMMAND
        msg["attachments"] = self._build_attachments(channel_id, payload, files, None)
        self._validate(msg)
        if not allow_empty:
            self._ensure_not_empty(msg)
        self._store_message(msg)
        return msg

    def _store_message(self, msg: dict) -> None:
        mid = int(msg["id"])
        cid = int(msg["channel_id"])
        self.messages[mid] = msg
        self.channel_messages.setdefault(cid, []).append(mid)
        self.message_history[mid] = [copy.deepcopy(msg)]
        self.channels[cid]["last_message_id"] = msg["id"]

    def _apply_edit(self, msg: dict, payload: dict, files: list, *, clear_loading: bool = True) -> dict:
        new = copy.deepcopy(msg)
        for key in ("content", "embeds", "poll"):
            if key in payload:
                new[key] = payload[key] if payload[key] is not None else ("" if key == "content" else [])
        if "components" in payload:
            new["components"] = self._number_components(payload["components"] or [])
        if "flags" in payload and payload["flags"] is not None:
            keep = new.get("flags", 0) & (EPHEMERAL | LOADING)
            new["flags"] = (payload["flags"] & ~(EPHEMERAL | LOADING)) | keep
        if clear_loading:
            new["flags"] = new.get("flags", 0) & ~LOADING
        if "attachments" in payload or files:
            new["attachments"] = self._build_attachments(int(msg["channel_id"]), payload, files, msg.get("attachments"))
        new["edited_timestamp"] = _now_iso()
        self._validate(new)
        self._ensure_not_empty(new)
        msg.clear()
        msg.update(new)
        self.message_history[int(msg["id"])].append(copy.deepcopy(msg))
        return msg

    def _delete(self, msg: dict) -> None:
        self.messages.pop(int(msg["id"]), None)

    # ------------------------------------------------------------------ REST: interactions

    async def _h_callback(self, call: Call, interaction: str, token: str) -> tuple:
        rec = self.interactions.get(int(interaction))
        if rec is None or rec.token != token:
            raise _Reject(404, 10062, "Unknown interaction")
        now = time.monotonic()
        if rec.acked_at is not None:
            raise _Reject(400, 40060, "Interaction has already been acknowledged.")
        elapsed = now - rec.dispatched_at
        if elapsed > self.interaction_timeout:
            rec.late_callback = True
            raise _Reject(404, 10062, "Unknown interaction")
        body = call.json or {}
        ctype = body.get("type")
        data = body.get("data") or {}
        resource: Optional[dict] = None
        message: Optional[dict] = None
        if ctype == 1:
            if rec.type != _PING:
                raise _invalid("type", "INTERACTION_RESPONSE_TYPE_INVALID", "PONG is only valid for PING")
        elif ctype == 4:
            if rec.type in (_AUTOCOMPLETE, _PING):
                raise _invalid("type", "INTERACTION_RESPONSE_TYPE_INVALID", "Invalid response type")
            message = self._new_message(rec.channel_id, data, call.files, interaction=rec)
            rec.original_message_id = int(message["id"])
        elif ctype == 5:
            if rec.type in (_AUTOCOMPLETE, _PING):
                raise _invalid("type", "INTERACTION_RESPONSE_TYPE_INVALID", "Invalid response type")
            message = self._new_message(
                rec.channel_id, {"flags": (data.get("flags") or 0) & EPHEMERAL}, [], interaction=rec, extra_flags=LOADING, allow_empty=True
            )
            rec.original_message_id = int(message["id"])
        elif ctype in (6, 7):
            if rec.type not in (_COMPONENT, _MODAL_SUBMIT) or rec.message_id is None:
                raise _invalid("type", "INTERACTION_RESPONSE_TYPE_INVALID", "Message update responses need a component interaction")
            target = self.messages.get(rec.message_id)
            if target is None:
                raise _Reject(404, 10008, "Unknown Message")
            if ctype == 7:
                self._apply_edit(target, data, call.files)
            message = target
            rec.original_message_id = rec.message_id
        elif ctype == 8:
            if rec.type != _AUTOCOMPLETE:
                raise _invalid("type", "INTERACTION_RESPONSE_TYPE_INVALID", "Autocomplete result only for autocomplete")
            choices = data.get("choices") or []
            if len(choices) > 25:
                raise _invalid("data.choices", "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
            rec.autocomplete_choices = choices
        elif ctype == 9:
            if rec.type in (_MODAL_SUBMIT, _AUTOCOMPLETE, _PING):
                raise _invalid("type", "INTERACTION_RESPONSE_TYPE_INVALID", "Cannot open a modal here")
            if not data.get("custom_id") or not data.get("title") or len(data["title"]) > 45:
                raise _invalid("data", "BASE_TYPE_BAD_LENGTH", "Modal needs custom_id and a title of 1..45 chars")
            if not 1 <= len(data.get("components") or []) <= 5:
                raise _invalid("data.components", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 5 in length.")
            rec.modal = copy.deepcopy(data)
        else:
            raise _invalid("type", "BASE_TYPE_CHOICES", f"Value must be one of (1, 4, 5, 6, 7, 8, 9); got {ctype!r}")
        rec.acked_at = now
        rec.response_type = ctype
        rec.responses.append(
            InteractionResponse(
                kind="callback",
                type=ctype,
                data=copy.deepcopy(data),
                files=list(call.files),
                message_id=int(message["id"]) if message else None,
                flags=message["flags"] if message else (data.get("flags") or 0),
                elapsed=elapsed,
            )
        )
        if message is not None:
            resource = {"type": ctype, "message": message}
        if call.query.get("with_response") not in ("1", "true", "True"):
            return 204, None
        inter: dict = {"id": str(rec.id), "type": rec.type}
        if message is not None:
            inter["response_message_id"] = message["id"]
            inter["response_message_loading"] = ctype == 5
            inter["response_message_ephemeral"] = bool(message.get("flags", 0) & EPHEMERAL)
        out: dict = {"interaction": inter}
        if resource is not None:
            out["resource"] = resource
        elif ctype in (8, 9):
            out["resource"] = {"type": ctype}
        return 200, out

    def _rec_for_webhook(self, app: str, token: str) -> InteractionRecord:
        rec = self._by_token.get(token)
        if int(app) != self.application_id or rec is None:
            raise _Reject(404, 10015, "Unknown Webhook")
        return rec

    def _log_response(self, rec: InteractionRecord, kind: str, call: Call, msg: Optional[dict]) -> None:
        data = call.json if isinstance(call.json, dict) else {}
        rec.responses.append(
            InteractionResponse(
                kind=kind,
                type=None,
                data=copy.deepcopy(data),
                files=list(call.files),
                message_id=int(msg["id"]) if msg else None,
                flags=(msg or {}).get("flags", 0),
                elapsed=time.monotonic() - rec.dispatched_at,
            )
        )

    async def _h_followup(self, call: Call, app: str, token: str) -> tuple:
        rec = self._rec_for_webhook(app, token)
        if rec.response_type is None:
            raise _Reject(404, 10015, "Unknown Webhook")
        payload = call.json or {}
        original = self.messages.get(rec.original_message_id) if rec.original_message_id else None
        if rec.response_type == 5 and original is not None and original.get("flags", 0) & LOADING:
            # documented: acts as "edit original"; ephemerality of the defer is kept
            p = dict(payload)
            p.pop("flags", None)
            msg = self._apply_edit(original, p, call.files)
        else:
            msg = self._new_message(rec.channel_id, payload, call.files, interaction=rec, followup_of=rec.original_message_id)
            rec.followup_ids.append(int(msg["id"]))
        self._log_response(rec, "followup", call, msg)
        if call.query.get("wait") in ("1", "true", "True"):
            return 200, msg
        return 204, None

    def _original(self, rec: InteractionRecord) -> dict:
        if rec.original_message_id is None or rec.original_message_id not in self.messages:
            raise _Reject(404, 10008, "Unknown Message")
        return self.messages[rec.original_message_id]

    async def _h_get_original(self, call: Call, app: str, token: str) -> tuple:
        rec = self._rec_for_webhook(app, token)
        msg = self._original(rec)
        self._log_response(rec, "get_original", call, msg)
        return 200, msg

    async def _h_edit_original(self, call: Call, app: str, token: str) -> tuple:
        rec = self._rec_for_webhook(app, token)
        msg = self._apply_edit(self._original(rec), call.json or {}, call.files)
        self._log_response(rec, "edit_original", call, msg)
        return 200, msg

    async def _h_delete_original(self, call: Call, app: str, token: str) -> tuple:
        rec = self._rec_for_webhook(app, token)
        msg = self._original(rec)
        self._delete(msg)
        self._log_response(rec, "delete_original", call, msg)
        return 204, None

    def _followup_msg(self, rec: InteractionRecord, message: str) -> dict:
        mid = int(message)
        if (mid not in rec.followup_ids and mid != rec.original_message_id) or mid not in self.messages:
            raise _Reject(404, 10008, "Unknown Message")
        return self.messages[mid]

    async def _h_get_followup(self, call: Call, app: str, token: str, message: str) -> tuple:
        rec = self._rec_for_webhook(app, token)
        return 200, self._followup_msg(rec, message)

    async def _h_edit_followup(self, call: Call, app: str, token: str, message: str) -> tuple:
        rec = self._rec_for_webhook(app, token)
        msg = self._apply_edit(self._followup_msg(rec, message), call.json or {}, call.files)
        self._log_response(rec, "edit_followup", call, msg)
        return 200, msg

    async def _h_delete_followup(self, call: Call, app: str, token: str, message: str) -> tuple:
        rec = self._rec_for_webhook(app, token)
        msg = self._followup_msg(rec, message)
        self._delete(msg)
        self._log_response(rec, "delete_followup", call, msg)
        return 204, None


def _guess_type(filename: str) -> Optional[str]:
    import mimetypes

    return mimetypes.guess_type(filename)[0]


# --------------------------------------------------------------------------- pointing discord.py


class point_discord_at:
    """Patch discord.py to talk to ``fake`` and restore on exit.

    Patches ``discord.http.Route.BASE`` (REST; webhooks/interaction callbacks
    use the same Route class) and ``discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY``.
    Usable as ``with`` or ``async with``.  The fake must be started first.
    """

    def __init__(self, fake: FakeDiscord) -> None:
        self.fake = fake
        self._saved: Optional[tuple] = None

    def __enter__(self) -> FakeDiscord:
        from discord.gateway import DiscordWebSocket
        from discord.http import Route

        self._saved = (Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY)
        Route.BASE = self.fake.api_base
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(self.fake.gateway_url)
        return self.fake

    def __exit__(self, *exc: Any) -> None:
        from discord.gateway import DiscordWebSocket
        from discord.http import Route

        assert self._saved is not None
        Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = self._saved
        self._saved = None

    async def __aenter__(self) -> FakeDiscord:
        return self.__enter__()

    async def __aexit__(self, *exc: Any) -> None:
        self.__exit__(*exc)
