"""The stand-ins without a socket: the real client libraries' requests answered in-process by
the same stand-in code that answers them over 127.0.0.1.

For tests that push thousands of updates through an adapter (tests/test_fuzz_adapters.py),
where a loopback round trip per request would take minutes:

- `TelegramRequest`: python-telegram-bot's transport (a `BaseRequest`), answering every Bot
  API call with `FakeTelegram.answer`, so PTB parses the stand-in's answers as usual;
- `DiscordSession`: what discord.py's HTTP client and its interaction webhooks call
  (`session.request(...)`), answering with `FakeDiscord.answer`;
- `DiscordGateway`: a `FakeDiscord` whose gateway events go straight to the client's own
  parsers (`ConnectionState.parsers`), as discord.py's websocket would hand them over; awaiting
  a user action returns once the handlers it started have finished.
"""
from __future__ import annotations

import asyncio
import contextlib
import copy
import json
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import aiohttp
import discord
from multidict import CIMultiDict
from telegram.request import BaseRequest, RequestData

from .discord_api import FakeDiscord
from .discord_api import UploadedFile as DiscordFile
from .telegram_api import FakeTelegram
from .telegram_api import UploadedFile as TelegramFile

IN_PROCESS = "http://in-process.invalid"  # never resolved: nothing here opens a socket


# -- Telegram -----------------------------------------------------------------------------------

class TelegramRequest(BaseRequest):
    """python-telegram-bot's requests, answered by a FakeTelegram in this process."""

    def __init__(self, fake: FakeTelegram) -> None:
        self.fake = fake

    @property
    def read_timeout(self) -> float | None:
        return None

    async def initialize(self) -> None:
        """Nothing to open."""

    async def shutdown(self) -> None:
        """Nothing to close."""

    async def do_request(self, url: str, method: str, request_data: RequestData | None = None,
                         read_timeout: Any = None, write_timeout: Any = None,
                         connect_timeout: Any = None, pool_timeout: Any = None,
                         ) -> tuple[int, bytes]:
        api_method = url.rstrip("/").rsplit("/", 1)[-1]
        params: dict[str, Any] = {}
        files: dict[str, TelegramFile] = {}
        if request_data is not None:
            params = {name: self.fake.decode(name, value)
                      for name, value in request_data.json_parameters.items()}
            for name, (filename, content, mime) in request_data.multipart_data.items():
                data = content if isinstance(content, bytes) else content.read()
                files[name] = TelegramFile(name, filename, data, mime)
        for name, value in list(params.items()):
            if isinstance(value, str) and value.startswith("attach://") and value[9:] in files:
                params[name] = files.pop(value[9:])
        params.update(files)
        status, body, _ = await self.fake.answer(api_method, params, method)
        return status, json.dumps(body).encode()


# -- Discord: REST and interaction webhooks -----------------------------------------------------

class _Response:
    """Enough of aiohttp's ClientResponse for discord.py: status, headers, text."""

    def __init__(self, method: str, url: str, status: int, data: Any,
                 headers: dict | None) -> None:
        self.status = status
        self.reason = "OK" if status < 400 else "Error"
        self.method = method
        self.url = url
        self._text = "" if data is None else json.dumps(data)
        self.headers = CIMultiDict(headers or {})  # case-insensitive, as aiohttp's
        if data is not None:
            self.headers["Content-Type"] = "application/json"

    async def text(self, encoding: str = "utf-8") -> str:
        return self._text

    async def json(self) -> Any:
        return json.loads(self._text) if self._text else None

    async def read(self) -> bytes:
        return self._text.encode()


class DiscordSession:
    """Stands in for the aiohttp session discord.py's HTTPClient and its webhooks use."""

    closed = False

    def __init__(self, fake: FakeDiscord) -> None:
        self.fake = fake

    @contextlib.asynccontextmanager
    async def request(self, method: str, url: str, *, data: Any = None,
                      headers: dict | None = None, params: dict | None = None,
                      **_: Any) -> AsyncIterator[_Response]:
        parts = urlsplit(str(url))
        query = dict(parse_qsl(parts.query))
        query.update({key: str(value) for key, value in (params or {}).items()})
        body, files = _body(data)
        status, answer, extra = await self.fake.answer(
            method, parts.path, query, body, files, (headers or {}).get("Authorization"))
        yield _Response(method, str(url), status, answer, extra)

    async def close(self) -> None:
        self.closed = True


def _body(data: Any) -> tuple[Any, list]:
    """A request body as the stand-in's server reads it: JSON, or a multipart form's
    payload_json and files."""
    if data is None:
        return None, []
    if isinstance(data, (str, bytes)):
        return json.loads(data), []
    assert isinstance(data, aiohttp.FormData), type(data)
    payload, files = None, []
    for options, headers, value in data._fields:  # aiohttp keeps the parts it was given
        name = options.get("name", "")
        content = value.read() if hasattr(value, "read") else value
        if name == "payload_json":
            payload = json.loads(content)
        else:
            raw = content.encode() if isinstance(content, str) else bytes(content)
            files.append(DiscordFile(name, options.get("filename") or name, raw,
                                     headers.get("Content-Type")))
    return payload, files


async def log_in(client: discord.Client, fake: FakeDiscord) -> None:
    """`client.login` against the stand-in, in-process: the HTTP client's session is swapped
    for a DiscordSession the moment discord.py makes it, before its first request."""
    discord.http.Route.BASE = IN_PROCESS + "/api/v10"
    real = aiohttp.ClientSession
    aiohttp.ClientSession = lambda *args, **kwargs: DiscordSession(fake)  # type: ignore
    try:
        await client.login(fake.token)
    finally:
        aiohttp.ClientSession = real  # type: ignore[misc]


# -- Discord: gateway events --------------------------------------------------------------------

class DiscordGateway(FakeDiscord):
    """A FakeDiscord whose gateway events go straight to a client's parsers, in-process."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.client: discord.Client | None = None
        self.pending: list[asyncio.Task] = []

    def attach(self, client: discord.Client) -> None:
        """Deliver events to this (logged-in, never connected) client, with its intents."""
        self.client = client
        self.intents = client.intents.value

    @property
    def base_url(self) -> str:  # attachment URLs name it; nothing is served there
        return IN_PROCESS

    @property
    def message_content_intent(self) -> bool:
        return bool((self.intents or 0) & discord.Intents(message_content=True).value)

    async def _dispatch(self, event: str, data: dict, timeout: float = 5.0) -> None:
        assert self.client is not None, "attach a client first"
        before = asyncio.all_tasks()
        self.client._connection.parsers[event](copy.deepcopy(data))
        started = [task for task in asyncio.all_tasks() - before if not task.done()]
        await asyncio.gather(*started)

    async def dispatch_event(self, event: str, data: dict) -> None:
        await self._dispatch(event, data)
