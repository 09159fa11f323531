"""A local stand-in for the Telegram Bot API, for tests.

`FakeTelegram` is an aiohttp server on 127.0.0.1 that speaks enough of the Bot API for
python-telegram-bot (PTB) to run against it unmodified::

    async with FakeTelegram() as fake:
        app = (ApplicationBuilder().token(fake.token).base_url(fake.base_url)
               .base_file_url(fake.base_file_url).job_queue(None).build())
        ...
        fake.user_text(42, "/start")
        call = await fake.wait_for_text(42, "Welcome")

Everything sent back is built from PTB's own objects (`telegram.Message(...).to_dict()` etc.),
so the client parses it exactly as it would parse the real API's answers. Behaviour follows the
real API where it matters to a bot: per-chat message ids, photos and animations answered with
a file_id that sends them again without their bytes, "chat not found" for chats nobody
opened, "message is not modified" for identical edits, an edit without `reply_markup` drops the
inline keyboard, a Mini App (web_app) button needs an https URL and a private chat, message text
is trimmed and parse_mode markup is turned into entities, 403 for
blocked chats, 429 with `parameters.retry_after`, and long polling on getUpdates with `offset`
confirming earlier updates.

For tests of untrusted input, `raw_update` queues any update exactly as given (forged, or one
PTB cannot read), `deliveries` counts how often getUpdates handed an update out, and
`fail_next(..., page=True)` answers with an HTML error page that echoes the URL, token and all.

Every request is recorded as a `Call` (after it was answered) in `fake.calls`; methods the
stand-in does not know are answered 404 and listed in `fake.unknown` (tests should assert it is
empty, so that a silently ignored API call can't pass as success).
"""
from __future__ import annotations

import asyncio
import copy
import itertools
import json
import mimetypes
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import telegram
from aiohttp import web

DEFAULT_TOKEN = "123456789:AAStandInTokenForTestsOnly_xyz12345"

# Methods whose calls put something in front of a person (what a send budget counts).
SEND_METHODS = frozenset({"sendMessage", "sendPhoto", "sendAnimation", "sendDocument"})
EDIT_METHODS = frozenset({"editMessageText", "editMessageReplyMarkup", "editMessageCaption"})
SEND_OR_EDIT = SEND_METHODS | EDIT_METHODS
# Methods refused with 403 once a chat is blocked.
_CHAT_BOUND = SEND_OR_EDIT | {"sendChatAction", "deleteMessage"}

DESCRIPTIONS = {
    400: "Bad Request: chat not found",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
    500: "Internal Server Error",
    502: "Bad Gateway",
}
BLOCKED_PRIVATE = "Forbidden: bot was blocked by the user"
KICKED_GROUP = "Forbidden: bot was kicked from the group chat"
KICKED_SUPERGROUP = "Forbidden: bot was kicked from the supergroup chat"
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a content and reply markup of the current message"
)
QUERY_TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"

_CHAT_ACTIONS = frozenset({
    "typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice",
    "upload_document", "choose_sticker", "find_location", "record_video_note", "upload_video_note",
})
# Form fields that are plain strings (PTB does not JSON-encode str values); everything else is
# JSON-decoded when it parses.
_STRING_PARAMS = frozenset({
    "text", "caption", "parse_mode", "callback_query_id", "inline_message_id", "url", "action",
    "business_connection_id", "language_code", "message_effect_id", "photo", "document",
    "file_id", "emoji", "title", "description", "name", "short_description", "data", "query",
    "custom_emoji_id", "thumbnail", "secret_token", "ip_address", "sticker", "audio", "video",
    "animation",
})
_INT_PARAMS = frozenset({"chat_id", "from_chat_id", "user_id"})


class _ApiError(Exception):
    def __init__(self, status: int, description: str, parameters: dict | None = None,
                 page: bool = False):
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters
        self.page = page


def _bad(description: str) -> _ApiError:
    return _ApiError(400, f"Bad Request: {description}")


@dataclass
class UploadedFile:
    """A file part of a multipart request."""

    field: str
    filename: str | None
    data: bytes
    content_type: str | None = None

    def __repr__(self) -> str:  # keep failure output short
        return f"UploadedFile({self.field!r}, {self.filename!r}, {len(self.data)} bytes, {self.content_type!r})"


@dataclass
class Call:
    """One answered request. `params` are decoded: ints, dicts (reply_markup, ...), `UploadedFile`."""

    method: str
    params: dict[str, Any]
    time: float  # time.monotonic() when the request arrived
    status: int = 200
    response: dict[str, Any] = field(default_factory=dict)
    http_method: str = "POST"

    @property
    def ok(self) -> bool:
        return self.status == 200 and bool(self.response.get("ok"))

    @property
    def result(self) -> Any:
        return self.response.get("result")

    @property
    def description(self) -> str | None:
        return self.response.get("description")

    @property
    def chat_id(self) -> int | str | None:
        msg = self.message
        if msg is not None:
            return msg["chat"]["id"]
        return self.params.get("chat_id")

    @property
    def message(self) -> dict | None:
        """The Message the API answered with (sends and edits), else None."""
        res = self.result
        return res if isinstance(res, dict) and "message_id" in res else None

    @property
    def message_id(self) -> int | None:
        msg = self.message
        return msg["message_id"] if msg else self.params.get("message_id")

    @property
    def text(self) -> str | None:
        """Visible text (or caption) of the resulting message; for failed calls the sent text."""
        msg = self.message
        if msg is not None:
            return msg.get("text", msg.get("caption"))
        return self.params.get("text", self.params.get("caption"))

    @property
    def keyboard(self) -> list[list[tuple[str, str | None]]]:
        """Inline keyboard of the resulting message as rows of (label, callback_data)."""
        msg = self.message
        markup = msg.get("reply_markup") if msg else self.params.get("reply_markup")
        return _rows(markup)

    @property
    def files(self) -> dict[str, UploadedFile]:
        return {k: v for k, v in self.params.items() if isinstance(v, UploadedFile)}

    def __repr__(self) -> str:
        bits = [self.method, str(self.status)]
        if self.params.get("chat_id") is not None:
            bits.append(f"chat={self.params['chat_id']}")
        if self.text is not None:
            bits.append(repr(self.text[:60]))
        if not self.ok and self.description:
            bits.append(repr(self.description))
        return f"Call({', '.join(bits)})"


@dataclass
class _Fault:
    method: str
    status: int
    description: str
    parameters: dict | None
    times: int
    chat_id: int | None
    page: bool = False  # answer with an HTML error page instead of the API's JSON


@dataclass
class _StoredFile:
    file_id: str
    file_unique_id: str
    data: bytes
    filename: str | None
    mime_type: str | None
    kind: str
    width: int = 0
    height: int = 0
    group: int = 0  # the PhotoSizes of one upload share a group


def _rows(markup: Any) -> list[list[tuple[str, str | None]]]:
    if not isinstance(markup, dict):
        return []
    return [[(b.get("text", ""), b.get("callback_data")) for b in row]
            for row in markup.get("inline_keyboard", [])]


_FALSE_FLAGS = ("channel_chat_created", "delete_chat_photo", "group_chat_created",
                "supergroup_chat_created")


def _clean(obj: Any) -> Any:
    """Plain JSON types (no enums), without the False service flags PTB's Message.to_dict()
    adds but the real API never sends."""
    def strip(o: Any) -> Any:
        if isinstance(o, dict):
            return {k: strip(v) for k, v in o.items() if not (k in _FALSE_FLAGS and v is False)}
        if isinstance(o, list):
            return [strip(v) for v in o]
        return o
    return strip(json.loads(json.dumps(obj)))


def _u16(s: str) -> int:
    return len(s.encode("utf-16-le")) // 2


def _now() -> datetime:
    return datetime.now(timezone.utc)


# --------------------------------------------------------------------------- formatting

class _Builder:
    """Collects visible text and entities (UTF-16 offsets) while a markup parser runs."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.pos = 0
        self.entities: list[dict] = []

    def emit(self, s: str) -> None:
        self.parts.append(s)
        self.pos += _u16(s)

    def entity(self, type_: str, start: int, **extra: Any) -> None:
        if self.pos > start:
            extra = {k: v for k, v in extra.items() if v}
            self.entities.append(
                telegram.MessageEntity(type_, start, self.pos - start, **extra).to_dict())

    def text(self) -> str:
        return "".join(self.parts)


_HTML_TAGS = {
    "b": "bold", "strong": "bold", "i": "italic", "em": "italic", "u": "underline",
    "ins": "underline", "s": "strikethrough", "strike": "strikethrough", "del": "strikethrough",
    "tg-spoiler": "spoiler", "span": "spoiler", "a": "text_link", "code": "code", "pre": "pre",
    "blockquote": "blockquote", "tg-emoji": "custom_emoji",
}
_HTML_ATTR = re.compile(r"""([\w-]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?""")
_HTML_CHARREF = re.compile(r"&(#\d+|#[xX][0-9a-fA-F]+|lt|gt|amp|quot);")


def _parse_html(src: str) -> tuple[str, list[dict]]:
    b = _Builder()
    stack: list[tuple[str, int, dict]] = []
    i, n = 0, len(src)

    def boff(k: int) -> int:
        return len(src[:k].encode())

    while i < n:
        ch = src[i]
        if ch == "<":
            j = src.find(">", i)
            if j < 0:
                raise _bad(f"can't parse entities: Unclosed start tag at byte offset {boff(i)}")
            inner = src[i + 1:j]
            if inner.startswith("/"):
                name = inner[1:].strip().lower()
                if not stack:
                    raise _bad(f"can't parse entities: Unexpected end tag at byte offset {boff(i)}")
                top, start, attrs = stack.pop()
                if name != top:
                    raise _bad(f'can\'t parse entities: Unmatched end tag at byte offset {boff(i)}, '
                               f'expected "</{top}>", found "</{name}>"')
                kind = _HTML_TAGS[top]
                if kind == "text_link":
                    if attrs.get("href"):
                        b.entity("text_link", start, url=attrs["href"])
                elif kind == "code" and stack and stack[-1][0] == "pre":
                    lang = attrs.get("class", "")
                    if lang.startswith("language-"):
                        stack[-1][2]["language"] = lang[len("language-"):]
                elif kind == "pre":
                    b.entity("pre", start, language=attrs.get("language"))
                elif kind == "blockquote":
                    b.entity("expandable_blockquote" if "expandable" in attrs else "blockquote", start)
                elif kind == "custom_emoji":
                    b.entity("custom_emoji", start, custom_emoji_id=attrs.get("emoji-id"))
                else:
                    b.entity(kind, start)
            else:
                m = re.match(r"\s*([A-Za-z][\w-]*)(.*)$", inner, re.S)
                name = m.group(1).lower() if m else inner.strip()
                if not m or name not in _HTML_TAGS:
                    raise _bad(f'can\'t parse entities: Unsupported start tag "{name}" at byte offset {boff(i)}')
                attrs = {a.lower(): (v1 or v2 or v3 or "") for a, v1, v2, v3 in _HTML_ATTR.findall(m.group(2))}
                if name == "span" and attrs.get("class") != "tg-spoiler":
                    raise _bad('can\'t parse entities: Tag "span" must have class "tg-spoiler" '
                               f"at byte offset {boff(i)}")
                stack.append((name, b.pos, attrs))
            i = j + 1
            continue
        if ch == "&":
            m = _HTML_CHARREF.match(src, i)
            if m:
                ref = m.group(1)
                if ref.startswith("#"):
                    b.emit(chr(int(ref[2:], 16) if ref[1] in "xX" else int(ref[1:])))
                else:
                    b.emit({"lt": "<", "gt": ">", "amp": "&", "quot": '"'}[ref])
                i = m.end()
                continue
        b.emit(ch)
        i += 1
    if stack:
        raise _bad(f'can\'t parse entities: Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    return b.text(), b.entities


_MDV2_RESERVED = set("_*[]()~`>#+-=|{}.!")
_MDV2_NAMES = {"bold": "Bold", "italic": "Italic", "underline": "Underline",
               "strikethrough": "Strikethrough", "spoiler": "Spoiler", "code": "Code",
               "pre": "Pre", "text_link": "TextUrl"}


def _parse_markdown_v2(src: str) -> tuple[str, list[dict]]:
    b = _Builder()
    stack: list[tuple[str, int, int, dict]] = []  # type, start16, byte offset, extra
    quote_start: int | None = None
    i, n = 0, len(src)

    def boff(k: int) -> int:
        return len(src[:k].encode())

    def toggle(kind: str, width: int) -> None:
        nonlocal i
        if stack and stack[-1][0] == kind:
            _, start, _, extra = stack.pop()
            b.entity(kind, start, **extra)
        elif any(s[0] == kind for s in stack):
            top = stack[-1]
            raise _bad(f"can't parse entities: Can't find end of {_MDV2_NAMES[top[0]]} entity "
                       f"at byte offset {top[2]}")
        else:
            stack.append((kind, b.pos, boff(i), {}))
        i += width

    while i < n:
        ch = src[i]
        at_line_start = i == 0 or src[i - 1] == "\n"
        top = stack[-1][0] if stack else None
        if top in ("code", "pre"):
            if ch == "\\" and i + 1 < n and src[i + 1] in "`\\":
                b.emit(src[i + 1])
                i += 2
            elif top == "pre" and src.startswith("```", i):
                _, start, _, extra = stack.pop()
                b.entity("pre", start, **extra)
                i += 3
            elif top == "code" and ch == "`":
                _, start, _, _ = stack.pop()
                b.entity("code", start)
                i += 1
            else:
                b.emit(ch)
                i += 1
            continue
        if ch == "\\":
            if i + 1 < n and 1 <= ord(src[i + 1]) <= 126:
                b.emit(src[i + 1])
                i += 2
                continue
            raise _bad("can't parse entities: Character '\\' is reserved and must be escaped with "
                       "the preceding '\\'")
        if at_line_start and ch == ">":
            if quote_start is None:
                quote_start = b.pos
            i += 1
            continue
        if ch == "\n" and quote_start is not None and not src.startswith(">", i + 1):
            b.entity("blockquote", quote_start)
            quote_start = None
        if src.startswith("```", i):
            j = src.find("\n", i + 3)
            lang = src[i + 3:j] if j >= 0 else ""
            if j >= 0 and re.fullmatch(r"[\w+#.-]*", lang):
                stack.append(("pre", b.pos, boff(i), {"language": lang or None}))
                i = j + 1
            else:
                stack.append(("pre", b.pos, boff(i), {}))
                i += 3
            continue
        if ch == "`":
            stack.append(("code", b.pos, boff(i), {}))
            i += 1
            continue
        if ch == "*":
            toggle("bold", 1)
            continue
        if ch == "~":
            toggle("strikethrough", 1)
            continue
        if src.startswith("__", i):
            toggle("underline", 2)
            continue
        if ch == "_":
            toggle("italic", 1)
            continue
        if src.startswith("||", i):
            toggle("spoiler", 2)
            continue
        if ch == "[":
            stack.append(("text_link", b.pos, boff(i), {}))
            i += 1
            continue
        if ch == "]" and stack and stack[-1][0] == "text_link" and src.startswith("(", i + 1):
            j, url = i + 2, []
            while j < n and src[j] != ")":
                if src[j] == "\\" and j + 1 < n:
                    j += 1
                url.append(src[j])
                j += 1
            if j >= n:
                raise _bad(f"can't parse entities: Can't find end of a URL at byte offset {boff(i + 1)}")
            _, start, _, _ = stack.pop()
            b.entity("text_link", start, url="".join(url))
            i = j + 1
            continue
        if ch in _MDV2_RESERVED:
            raise _bad(f"can't parse entities: Character '{ch}' is reserved and must be escaped "
                       "with the preceding '\\'")
        b.emit(ch)
        i += 1
    if stack:
        kind, _, off, _ = stack[-1]
        raise _bad(f"can't parse entities: Can't find end of {_MDV2_NAMES[kind]} entity at byte offset {off}")
    if quote_start is not None:
        b.entity("blockquote", quote_start)
    return b.text(), b.entities


def _parse_markdown(src: str) -> tuple[str, list[dict]]:
    """Legacy Markdown: *bold* _italic_ `code` ```pre``` [text](url), no nesting."""
    b = _Builder()
    i, n = 0, len(src)
    while i < n:
        ch = src[i]
        if ch == "\\" and i + 1 < n and src[i + 1] in "_*`[":
            b.emit(src[i + 1])
            i += 2
            continue
        closer = {"*": "*", "_": "_", "`": "`", "[": "]"}.get(ch)
        if src.startswith("```", i):
            closer = "```"
        if closer is None:
            b.emit(ch)
            i += 1
            continue
        start_byte = len(src[:i].encode())
        j = src.find(closer, i + len(closer))
        if j < 0:
            raise _bad(f"can't parse entities: Can't find end of the entity starting at byte offset {start_byte}")
        body, start = src[i + len(closer):j], b.pos
        if closer == "]":
            m = re.match(r"\(([^)]*)\)", src[j + 1:])
            b.emit(body)
            if m:
                b.entity("text_link", start, url=m.group(1))
                i = j + 1 + m.end()
            else:
                i = j + 1
            continue
        lang = None
        if closer == "```" and "\n" in body:
            first, rest = body.split("\n", 1)
            if re.fullmatch(r"[\w+#.-]+", first):
                lang, body = first, rest
        b.emit(body)
        kind = {"*": "bold", "_": "italic", "`": "code", "```": "pre"}[closer]
        b.entity(kind, start, language=lang)
        i = j + len(closer)
    return b.text(), b.entities


def _format(text: str, parse_mode: str | None, entities: Any, *, what: str) -> tuple[str, list[dict]]:
    """Visible text and entities for `text` as the real API computes them (trimmed)."""
    if entities:
        if isinstance(entities, str):
            entities = json.loads(entities)
        ents = [telegram.MessageEntity.de_json(e, None).to_dict() for e in entities]
        visible = text
    elif parse_mode:
        mode = str(parse_mode).lower()
        if mode == "html":
            visible, ents = _parse_html(text)
        elif mode == "markdownv2":
            visible, ents = _parse_markdown_v2(text)
        elif mode == "markdown":
            visible, ents = _parse_markdown(text)
        else:
            raise _bad("unsupported parse_mode")
    else:
        visible, ents = text, []
    lead = len(visible) - len(visible.lstrip())
    lead16 = _u16(visible[:lead])
    visible = visible.strip()
    total = _u16(visible)
    trimmed = []
    for e in ents:
        start = max(0, e["offset"] - lead16)
        end = min(total, e["offset"] - lead16 + e["length"])
        if end > start:
            trimmed.append({**e, "offset": start, "length": end - start})
    trimmed.sort(key=lambda e: (e["offset"], -e["length"]))
    if what == "text" and not visible:
        raise _bad("message text is empty")
    if what == "text" and total > 4096:
        raise _bad("message is too long")
    if what == "caption" and total > 1024:
        raise _bad("message caption is too long")
    return visible, trimmed


_COMMAND_RE = re.compile(r"(?<![\w/@])/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?![\w/])")


def command_entities(text: str) -> list[telegram.MessageEntity]:
    """bot_command entities the way Telegram's clients mark them (UTF-16 offsets)."""
    return [telegram.MessageEntity(telegram.MessageEntity.BOT_COMMAND, _u16(text[:m.start()]),
                                   _u16(m.group()))
            for m in _COMMAND_RE.finditer(text)]


def _image_size(data: bytes) -> tuple[int, int] | None:
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        return int.from_bytes(data[6:8], "little"), int.from_bytes(data[8:10], "little")
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return 512, 512
    if data[:2] == b"\xff\xd8":
        i = 2
        while i + 9 < len(data):
            if data[i] != 0xFF:
                i += 1
                continue
            marker = data[i + 1]
            if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7 or marker == 0xFF:
                i += 1 if marker == 0xFF else 2
                continue
            seg = int.from_bytes(data[i + 2:i + 4], "big")
            if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
                return int.from_bytes(data[i + 7:i + 9], "big"), int.from_bytes(data[i + 5:i + 7], "big")
            i += 2 + seg
    return None


# --------------------------------------------------------------------------- the server

class FakeTelegram:
    """Stand-in Bot API server. See the module docstring; helpers are documented inline."""

    def __init__(self, token: str = DEFAULT_TOKEN, *, bot_username: str = "standin_bot",
                 bot_name: str = "Stand-in Bot", host: str = "127.0.0.1", port: int = 0,
                 strict_chats: bool = True) -> None:
        self.token = token
        self.host = host
        self.port = port
        # With strict_chats, sending to a chat nobody wrote from (or add_chat'ed) answers
        # 400 "chat not found" like the real API.
        self.strict_chats = strict_chats
        self.bot_user = telegram.User(
            id=int(token.split(":", 1)[0]), first_name=bot_name, is_bot=True,
            username=bot_username, can_join_groups=True, can_read_all_group_messages=False,
            supports_inline_queries=False, can_connect_to_business=False, has_main_web_app=False)
        # Messages carry the short form of the bot user, as on the real API.
        self._sender = telegram.User(id=self.bot_user.id, first_name=bot_name, is_bot=True,
                                     username=bot_username)
        self.calls: list[Call] = []
        self.unknown: list[str] = []
        self.unauthorized: int = 0
        self.commands: dict[tuple[str, str], list[dict]] = {}
        self.callback_answers: dict[str, dict] = {}
        self._callbacks: dict[str, dict] = {}
        self._chats: dict[int, dict] = {}
        self._messages: dict[tuple[int, int], dict] = {}
        self._from_bot: set[tuple[int, int]] = set()
        self._next_mid: dict[int, int] = {}
        self._updates: list[dict] = []
        self._update_ids = itertools.count(1)
        self._last_update_id = 0
        self._max_delivered = 0
        self._callback_ids = itertools.count(int(time.time()) * 1000)
        self._file_ids = itertools.count(1)
        self.files: dict[str, _StoredFile] = {}
        self._file_paths: dict[str, str] = {}
        self._faults: list[_Fault] = []
        self._blocked: dict[int, str] = {}
        self._changed = asyncio.Event()
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._handlers = {
            "getMe": self._get_me, "getUpdates": self._get_updates,
            "deleteWebhook": self._delete_webhook, "getWebhookInfo": self._get_webhook_info,
            "setMyCommands": self._set_my_commands, "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "sendMessage": self._send_message, "sendPhoto": self._send_photo,
            "sendAnimation": self._send_animation,
            "sendDocument": self._send_document, "sendChatAction": self._send_chat_action,
            "editMessageText": self._edit_message_text,
            "editMessageCaption": self._edit_message_caption,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "deleteMessage": self._delete_message, "answerCallbackQuery": self._answer_callback,
            "getFile": self._get_file, "close": self._true, "logOut": self._true,
        }
        self._by_lower = {name.lower(): name for name in self._handlers}

    # ------------------------------------------------------------------ lifecycle

    @property
    def base_url(self) -> str:
        """For `ApplicationBuilder().base_url(...)`: PTB appends the token."""
        return f"http://{self.host}:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://{self.host}:{self.port}/file/bot"

    async def start(self) -> FakeTelegram:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        # access_log=None: aiohttp's access log would print URLs, which hold the token.
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = self._runner.addresses[0][1]
        self._closing = False
        return self

    async def stop(self) -> None:
        self._closing = True
        self._notify()  # long polls return now
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeTelegram:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ------------------------------------------------------------------ driving users

    def add_chat(self, chat_id: int, chat_type: str = "private", *, first_name: str = "Ana",
                 title: str | None = None, username: str | None = None) -> dict:
        """Make a chat known (as if its user had written before); returns the Chat dict."""
        if chat_type == "private":
            chat = telegram.Chat(chat_id, chat_type, first_name=first_name, username=username)
        else:
            chat = telegram.Chat(chat_id, chat_type, title=title or f"Group {chat_id}", username=username)
        self._chats[chat_id] = chat.to_dict()
        return self._chats[chat_id]

    def user_text(self, user_id: int, text: str, chat_id: int | None = None,
                  chat_type: str = "private", first_name: str = "Ana", *,
                  username: str | None = None, title: str | None = None,
                  entities: Iterable[telegram.MessageEntity] | None = None,
                  reply_to_message_id: int | None = None) -> telegram.Update:
        """Queue a text message from a person; "/cmd" words get bot_command entities.

        Returns the queued `telegram.Update` (update_id, message.message_id, ...)."""
        chat_id = user_id if chat_id is None else chat_id
        if chat_type == "private" and chat_id != user_id:
            raise ValueError("a private chat's id is the user's id")
        user = telegram.User(id=user_id, first_name=first_name, is_bot=False,
                             username=username, language_code="en")
        if chat_type == "private":
            chat = self._ensure_chat(chat_id, chat_type, first_name=first_name, username=username)
        else:
            chat = self._ensure_chat(chat_id, chat_type, title=title)
        reply_to = None
        if reply_to_message_id is not None:
            reply_to = telegram.Message.de_json(self._messages[(chat_id, reply_to_message_id)], None)
        ents = list(entities) if entities is not None else command_entities(text)
        msg = telegram.Message(
            message_id=self._new_message_id(chat_id), date=_now(),
            chat=telegram.Chat.de_json(chat, None), from_user=user, text=text,
            entities=ents or None, reply_to_message=reply_to)
        self._store(msg.to_dict(), from_bot=False)
        update = telegram.Update(next(self._update_ids), message=msg)
        self._push(update)
        return update

    def group_text(self, user_id: int, text: str, chat_id: int = -4001234567, *,
                   first_name: str = "Ana", title: str = "Test group",
                   chat_type: str = "group", **kw: Any) -> telegram.Update:
        """`user_text` in a group (negative chat id)."""
        if chat_id >= 0:
            raise ValueError("group chat ids are negative")
        return self.user_text(user_id, text, chat_id=chat_id, chat_type=chat_type,
                              first_name=first_name, title=title, **kw)

    def user_press(self, user_id: int, message_id: int, data: str, chat_id: int | None = None,
                   first_name: str = "Ana", *, strict: bool = True) -> str:
        """Queue a callback_query: `user_id` pressed the button with `data` on a bot message.

        The update carries the message as it is now (after edits). With `strict`, the button
        must be on that message's current inline keyboard. Returns the callback query id."""
        chat_id = user_id if chat_id is None else chat_id
        key = (chat_id, message_id)
        if key not in self._messages or key not in self._from_bot:
            raise ValueError(f"no bot message {message_id} in chat {chat_id}")
        stored = self._messages[key]
        datas = [d for row in _rows(stored.get("reply_markup")) for _, d in row]
        if strict and data not in datas:
            raise ValueError(f"message {message_id} in chat {chat_id} has no button {data!r}; "
                             f"current buttons: {datas}")
        cq_id = str(next(self._callback_ids))
        cq = telegram.CallbackQuery(
            id=cq_id,
            from_user=telegram.User(id=user_id, first_name=first_name, is_bot=False, language_code="en"),
            chat_instance=str(abs(hash((self.bot_user.id, chat_id)))),
            message=telegram.Message.de_json(copy.deepcopy(stored), None), data=data)
        self._callbacks[cq_id] = {"user_id": user_id, "chat_id": chat_id,
                                  "message_id": message_id, "data": data}
        self._push(telegram.Update(next(self._update_ids), callback_query=cq))
        return cq_id

    def press(self, user_id: int, label: str, chat_id: int | None = None,
              message_id: int | None = None) -> str:
        """Press the button labelled `label` on the newest bot message showing it."""
        chat_id = user_id if chat_id is None else chat_id
        for msg in reversed(self.messages(chat_id)):
            if message_id is not None and msg["message_id"] != message_id:
                continue
            for row in _rows(msg.get("reply_markup")):
                for text, data in row:
                    if text == label and data is not None:
                        return self.user_press(user_id, msg["message_id"], data, chat_id)
        raise ValueError(f"no button labelled {label!r} in chat {chat_id}")

    def answered(self, callback_id: str) -> bool:
        return callback_id in self.callback_answers

    def raw_update(self, payload: dict) -> int:
        """Queue an update exactly as given, with the next update_id: what a buggy or newer Bot
        API server, or someone forging updates, might send (a `message` without `chat`, a
        `callback_query` whose chat is not its sender's). Nothing is checked or stored.
        Returns the update_id."""
        update_id = next(self._update_ids)
        self._updates.append({"update_id": update_id, **copy.deepcopy(payload)})
        self._last_update_id = update_id
        self._notify()
        return update_id

    def deliveries(self, update_id: int) -> int:
        """How many getUpdates answers carried this update (1 when it was confirmed at once)."""
        return sum(1 for c in self.calls_of("getUpdates", ok=True)
                   if any(u.get("update_id") == update_id for u in c.result or []))

    # ------------------------------------------------------------------ faults

    def fail_next(self, method: str, status: int = 429, retry_after: int = 2, times: int = 1, *,
                  description: str | None = None, chat_id: int | None = None,
                  page: bool = False) -> None:
        """The next `times` calls of `method` (optionally only to `chat_id`) fail with `status`.

        429 carries `parameters.retry_after`; other statuses use the real API's descriptions
        (403 "Forbidden: bot was blocked by the user", 400 "Bad Request: chat not found", ...)
        unless `description` is given. With `page`, the answer is an HTML error page that echoes
        the request line, token and all, as a misconfigured proxy in front of a Bot API server
        does."""
        params = None
        if status == 429:
            description = description or f"Too Many Requests: retry after {retry_after}"
            params = {"retry_after": retry_after}
        description = description or DESCRIPTIONS.get(status, f"Error {status}")
        self._faults.append(_Fault(self._canonical(method), status, description, params, times,
                                   chat_id, page))

    def block(self, chat_id: int, description: str | None = None) -> None:
        """Every send/edit/chat action to `chat_id` answers 403 from now on."""
        if description is None:
            ctype = self._chats.get(chat_id, {}).get("type", "private")
            description = {"group": KICKED_GROUP, "supergroup": KICKED_SUPERGROUP}.get(ctype, BLOCKED_PRIVATE)
        self._blocked[chat_id] = description

    def unblock(self, chat_id: int) -> None:
        self._blocked.pop(chat_id, None)

    # ------------------------------------------------------------------ inspection

    def calls_of(self, method: str, chat_id: int | None = None, *, ok: bool | None = None) -> list[Call]:
        return [c for c in self.calls if c.method == method
                and (chat_id is None or c.chat_id == chat_id) and (ok is None or c.ok == ok)]

    def sent_to(self, chat_id: int, *, ok_only: bool = True) -> list[Call]:
        """Sends and edits to `chat_id` in arrival order (successful ones unless ok_only=False)."""
        return sorted((c for c in self.calls if c.method in SEND_OR_EDIT and c.chat_id == chat_id
                       and (c.ok or not ok_only)), key=lambda c: c.time)

    def texts(self, chat_id: int) -> list[str]:
        """Visible text/caption after each successful send or text/caption edit to `chat_id`,
        in order (keyboard-only edits are left out)."""
        return [c.text for c in self.sent_to(chat_id)
                if c.text is not None and c.method != "editMessageReplyMarkup"]

    def messages(self, chat_id: int) -> list[dict]:
        """Current state (after edits, without deleted ones) of the bot's messages in a chat."""
        return [copy.deepcopy(m) for (cid, mid), m in sorted(self._messages.items())
                if cid == chat_id and (cid, mid) in self._from_bot]

    def message(self, chat_id: int, message_id: int) -> dict | None:
        m = self._messages.get((chat_id, message_id))
        return copy.deepcopy(m) if m else None

    def last_message(self, chat_id: int) -> dict | None:
        msgs = self.messages(chat_id)
        return msgs[-1] if msgs else None

    def keyboard(self, chat_id: int, message_id: int | None = None) -> list[list[tuple[str, str | None]]]:
        """Current inline keyboard (rows of (label, callback_data)) of a bot message (default: newest)."""
        m = self.message(chat_id, message_id) if message_id is not None else self.last_message(chat_id)
        return _rows(m.get("reply_markup")) if m else []

    def max_rate(self, chat_id: int | None = None, window: float = 1.0, *,
                 methods: Iterable[str] = SEND_OR_EDIT, ok_only: bool = False) -> int:
        """Most send-or-edit calls that arrived within any `window` seconds, for one chat or
        (chat_id=None) over all chats. Counts attempts, failed ones too, unless ok_only."""
        methods = set(methods)
        times = sorted(c.time for c in self.calls if c.method in methods
                       and (chat_id is None or c.chat_id == chat_id) and (c.ok or not ok_only))
        best, lo = 0, 0
        for hi, t in enumerate(times):
            while t - times[lo] >= window:
                lo += 1
            best = max(best, hi - lo + 1)
        return best

    def max_rate_by_chat(self, window: float = 1.0, **kw: Any) -> dict[Any, int]:
        chats = {c.chat_id for c in self.calls if c.method in SEND_OR_EDIT}
        return {cid: self.max_rate(cid, window, **kw) for cid in chats}

    @property
    def pending_updates(self) -> int:
        """Updates queued and not yet confirmed by a later getUpdates offset."""
        return len(self._updates)

    # ------------------------------------------------------------------ waiting

    async def wait_until(self, condition: Callable[[], Any], timeout: float = 10.0) -> Any:
        """Wait until condition() is truthy; returns its value. Re-checked on every answered
        call or queued update, and every 50 ms for conditions outside the stand-in (e.g. a list
        a handler appends to after the response). Raises TimeoutError listing the latest calls."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            event = self._changed
            value = condition()
            if value:
                return value
            remaining = deadline - loop.time()
            if remaining <= 0:
                recent = "\n  ".join(repr(c) for c in self.calls[-12:])
                raise TimeoutError(f"condition not met within {timeout}s; latest calls:\n  {recent}")
            try:
                await asyncio.wait_for(event.wait(), min(remaining, 0.05))
            except (TimeoutError, asyncio.TimeoutError):
                pass

    async def wait_for(self, predicate: Callable[[Call], bool], timeout: float = 10.0, *,
                       since: int = 0) -> Call:
        """First recorded call (from index `since`) matching predicate; waits for it if needed."""
        return await self.wait_until(
            lambda: next((c for c in self.calls[since:] if predicate(c)), None), timeout)

    async def wait_for_call(self, method: str, chat_id: int | None = None, *, ok: bool | None = None,
                            timeout: float = 10.0, since: int = 0) -> Call:
        return await self.wait_for(
            lambda c: c.method == method and (chat_id is None or c.chat_id == chat_id)
            and (ok is None or c.ok == ok), timeout, since=since)

    async def wait_for_text(self, chat_id: int, contains: str, timeout: float = 10.0, *,
                            since: int = 0) -> Call:
        """Wait until a successful send/edit whose visible text contains `contains` reached chat."""
        return await self.wait_for(
            lambda c: c.ok and c.method in SEND_OR_EDIT and c.chat_id == chat_id
            and contains in (c.text or ""), timeout, since=since)

    async def wait_confirmed(self, timeout: float = 10.0) -> None:
        """Wait until the client confirmed (via getUpdates offset) every queued update."""
        await self.wait_until(lambda: not self._updates, timeout)

    # ------------------------------------------------------------------ internals

    def _notify(self) -> None:
        event, self._changed = self._changed, asyncio.Event()
        event.set()

    def _push(self, update: telegram.Update) -> None:
        self._updates.append(_clean(update.to_dict()))
        self._last_update_id = update.update_id
        self._notify()

    def _canonical(self, method: str) -> str:
        return self._by_lower.get(method.lower(), method)

    def _ensure_chat(self, chat_id: int, chat_type: str, **kw: Any) -> dict:
        if chat_id not in self._chats:
            self.add_chat(chat_id, chat_type, **{k: v for k, v in kw.items() if v is not None})
        return self._chats[chat_id]

    def _new_message_id(self, chat_id: int) -> int:
        mid = self._next_mid.get(chat_id, 1)
        self._next_mid[chat_id] = mid + 1
        return mid

    def _store(self, msg: dict, *, from_bot: bool) -> dict:
        """Keep a message's current state; returns a copy of what was stored."""
        msg = _clean(msg)
        key = (msg["chat"]["id"], msg["message_id"])
        self._messages[key] = msg
        if from_bot:
            self._from_bot.add(key)
        return copy.deepcopy(msg)

    @staticmethod
    def _decode(name: str, value: str) -> Any:
        if name in _INT_PARAMS:
            try:
                return int(value)
            except ValueError:
                return value
        if name in _STRING_PARAMS:
            return value
        try:
            return json.loads(value)
        except ValueError:
            return value

    async def _read_params(self, request: web.Request) -> dict[str, Any]:
        params: dict[str, Any] = {k: self._decode(k, v) for k, v in request.query.items()}
        files: dict[str, UploadedFile] = {}
        if request.content_type == "application/json":
            body = await request.read()
            if body:
                data = json.loads(body)
                if isinstance(data, dict):
                    params.update({k: (int(v) if k in _INT_PARAMS and isinstance(v, str)
                                       and v.lstrip("-").isdigit() else v) for k, v in data.items()})
        elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            form = await request.post()
            for k, v in form.items():
                if isinstance(v, web.FileField):
                    files[k] = UploadedFile(k, v.filename, v.file.read(), v.content_type)
                else:
                    params[k] = self._decode(k, v)
        for k, v in list(params.items()):
            if isinstance(v, str) and v.startswith("attach://") and v[9:] in files:
                params[k] = files.pop(v[9:])
        params.update(files)
        return params

    @staticmethod
    def _json(status: int, body: dict) -> web.Response:
        return web.json_response(body, status=status)

    async def _handle(self, request: web.Request) -> web.Response:
        arrived = time.monotonic()
        raw_method = request.match_info["method"]
        if request.match_info["token"] != self.token:
            self.unauthorized += 1
            return self._json(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
        method = self._canonical(raw_method)
        try:
            params = await self._read_params(request)
        except Exception as exc:  # malformed body
            params, status = {}, 400
            body = {"ok": False, "error_code": 400, "description": f"Bad Request: {exc}"}
            page = False
            self.calls.append(Call(method, params, arrived, status, body, request.method))
            self._notify()
        else:
            status, body, page = await self.answer(method, params, request.method, arrived)
        if page:
            return web.Response(status=status, content_type="text/html", text=(
                f"<html><head><title>{status} {body['description']}</title></head><body>"
                f"<h1>{body['description']}</h1><p>{request.method} {request.path}</p>"
                "</body></html>"))
        return self._json(status, body)

    async def answer(self, method: str, params: dict, http_method: str = "POST",
                     arrived: float | None = None) -> tuple[int, dict, bool]:
        """One Bot API call, its parameters already decoded: recorded as a Call and answered as
        (status, JSON body, whether to send it as an HTML error page). The HTTP server uses
        it, and so can an in-process transport (tests that feed thousands of updates)."""
        arrived = time.monotonic() if arrived is None else arrived
        status, body = await self._dispatch(self._canonical(method), params)
        page = body.pop("page", False)
        body = _clean(body)  # record exactly what goes over the wire (or the page's gist)
        self.calls.append(Call(self._canonical(method), params, arrived, status, body,
                               http_method))
        self._notify()
        return status, body, page

    def decode(self, name: str, value: Any) -> Any:
        """A form field as the server reads it (numbers, JSON objects, plain strings)."""
        return self._decode(name, value) if isinstance(value, str) else value

    async def _dispatch(self, method: str, params: dict) -> tuple[int, dict]:
        handler = self._handlers.get(method)
        if handler is None:
            self.unknown.append(method)
            return 404, {"ok": False, "error_code": 404, "description": "Not Found"}
        try:
            chat = params.get("chat_id")
            for fault in self._faults:
                if fault.method == method and fault.times > 0 and fault.chat_id in (None, chat):
                    fault.times -= 1
                    raise _ApiError(fault.status, fault.description, fault.parameters,
                                    fault.page)
            self._faults = [f for f in self._faults if f.times > 0]
            if method in _CHAT_BOUND and chat in self._blocked:
                raise _ApiError(403, self._blocked[chat])
            result = await handler(params)
        except _ApiError as err:
            self._faults = [f for f in self._faults if f.times > 0]
            body = {"ok": False, "error_code": err.status, "description": err.description}
            if err.parameters:
                body["parameters"] = err.parameters
            if err.page:
                body["page"] = True  # _handle sends an HTML page instead
            return err.status, body
        return 200, {"ok": True, "result": result}

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return self._json(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
        file_id = self._file_paths.get(request.match_info["path"])
        if file_id is None:
            return self._json(404, {"ok": False, "error_code": 404, "description": "Not Found"})
        f = self.files[file_id]
        return web.Response(body=f.data, content_type=f.mime_type or "application/octet-stream")

    # ------------------------------------------------------------------ validation helpers

    def _chat(self, params: dict) -> dict:
        chat_id = params.get("chat_id")
        if chat_id is None or chat_id == "":
            raise _bad("chat_id is empty")
        if isinstance(chat_id, str):
            for chat in self._chats.values():
                if chat.get("username") and "@" + chat["username"] == chat_id:
                    return chat
            raise _bad("chat not found")
        if chat_id not in self._chats:
            if self.strict_chats:
                raise _bad("chat not found")
            self.add_chat(chat_id, "private" if chat_id > 0 else "group")
        return self._chats[chat_id]

    @staticmethod
    def _markup(params: dict) -> dict | None:
        """Validated reply_markup; only inline keyboards are echoed in the returned Message."""
        markup = params.get("reply_markup")
        if markup in (None, ""):
            return None
        if not isinstance(markup, dict):
            raise _bad("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" not in markup:
            return None  # ReplyKeyboardMarkup/Remove/ForceReply: accepted, not echoed
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise _bad("can't parse inline keyboard button: InlineKeyboardButton must be an Object")
        for row in rows:
            for button in row:
                if not isinstance(button, dict) or not button.get("text"):
                    raise _bad("can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard")
                if "callback_data" in button:
                    data = button["callback_data"]
                    if not isinstance(data, str) or not 1 <= len(data.encode()) <= 64:
                        raise _bad("BUTTON_DATA_INVALID")
                elif "web_app" in button:  # a Mini App opens over https only
                    url = (button["web_app"] or {}).get("url", "") \
                        if isinstance(button["web_app"], dict) else ""
                    if not str(url).startswith("https://"):
                        raise _bad(f"inline keyboard button Web App URL '{url}' is invalid: "
                                   "Only HTTPS links are allowed")
                elif not any(k in button for k in ("url", "web_app", "login_url", "switch_inline_query",
                                                   "switch_inline_query_current_chat", "callback_game",
                                                   "pay", "copy_text", "switch_inline_query_chosen_chat")):
                    raise _bad("can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard")
        if not any(rows):
            return None
        return telegram.InlineKeyboardMarkup.de_json(markup, None).to_dict()

    def _reply_to(self, params: dict, chat_id: int) -> telegram.Message | None:
        rp = params.get("reply_parameters")
        mid = rp.get("message_id") if isinstance(rp, dict) else params.get("reply_to_message_id")
        if mid is None:
            return None
        stored = self._messages.get((chat_id, int(mid)))
        if stored is None:
            allow = (rp or {}).get("allow_sending_without_reply") if isinstance(rp, dict) else None
            if allow or params.get("allow_sending_without_reply"):
                return None
            raise _bad("message to be replied not found")
        return telegram.Message.de_json(copy.deepcopy(stored), None)

    def _new_bot_message(self, params: dict, **content: Any) -> dict:
        chat = self._chat(params)
        markup = self._markup(params)
        if markup and chat.get("type") != "private" and any(
                "web_app" in button for row in markup["inline_keyboard"] for button in row):
            raise _bad("BUTTON_TYPE_INVALID")  # Mini App buttons work in private chats only
        reply_to = self._reply_to(params, chat["id"])
        msg = telegram.Message(
            message_id=self._new_message_id(chat["id"]), date=_now(),
            chat=telegram.Chat.de_json(copy.deepcopy(chat), None), from_user=self._sender,
            reply_to_message=reply_to,
            reply_markup=telegram.InlineKeyboardMarkup.de_json(markup, None) if markup else None,
            **content)
        return self._store(msg.to_dict(), from_bot=True)

    def _file_param(self, params: dict, name: str) -> tuple[bytes, str | None, str | None, _StoredFile | None]:
        value = params.get(name)
        if isinstance(value, UploadedFile):
            if not value.data:
                raise _bad("file must be non-empty")
            return value.data, value.filename, value.content_type, None
        if isinstance(value, str) and value:
            if value in self.files:
                return b"", None, None, self.files[value]
            if value.startswith(("http://", "https://")):
                return b"", value.rsplit("/", 1)[-1] or None, None, None
            raise _bad("wrong file identifier/HTTP URL specified")
        raise _bad(f"there is no {name} in the request")

    def _new_file(self, data: bytes, filename: str | None, mime: str | None, kind: str,
                  width: int = 0, height: int = 0, group: int = 0) -> _StoredFile:
        n = next(self._file_ids)
        f = _StoredFile(f"Stand{kind.title()}FileId{n:06d}AAQ", f"AgUniq{n:06d}", data, filename,
                        mime, kind, width, height, group or n)
        self.files[f.file_id] = f
        return f

    def _caption(self, params: dict) -> dict:
        if params.get("caption") in (None, ""):
            return {}
        caption, ents = _format(str(params["caption"]), params.get("parse_mode"),
                                params.get("caption_entities"), what="caption")
        if not caption:
            return {}
        return {"caption": caption,
                "caption_entities": [telegram.MessageEntity.de_json(e, None) for e in ents] or None}

    def _editable(self, params: dict) -> tuple[tuple[int, int], dict]:
        if params.get("inline_message_id"):
            raise _bad("inline messages are not supported by the stand-in")
        chat = self._chat(params)
        mid = params.get("message_id")
        if mid in (None, ""):
            raise _bad("message identifier is not specified")
        key = (chat["id"], int(mid))
        if key not in self._messages:
            raise _bad("message to edit not found")
        if key not in self._from_bot:
            raise _bad("message can't be edited")
        return key, self._messages[key]

    def _commit_edit(self, key: tuple[int, int], new: dict) -> dict:
        new["edit_date"] = int(time.time())
        return self._store(telegram.Message.de_json(new, None).to_dict(), from_bot=True)

    # ------------------------------------------------------------------ methods

    async def _true(self, params: dict) -> bool:
        return True

    async def _get_me(self, params: dict) -> dict:
        return self.bot_user.to_dict()

    async def _get_updates(self, params: dict) -> list[dict]:
        offset = params.get("offset")
        limit = max(1, min(100, int(params.get("limit") or 100)))
        timeout = max(0.0, float(params.get("timeout") or 0))
        if offset is not None:
            offset = int(offset)
            if offset < 0:
                self._updates = self._updates[offset:]
            else:
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
            self._notify()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            event = self._changed
            batch = self._updates[:limit]
            remaining = deadline - loop.time()
            if batch or self._closing or remaining <= 0:
                if batch:
                    self._max_delivered = max(self._max_delivered, batch[-1]["update_id"])
                return copy.deepcopy(batch)
            try:
                await asyncio.wait_for(event.wait(), remaining)
            except (TimeoutError, asyncio.TimeoutError):
                pass

    async def _delete_webhook(self, params: dict) -> bool:
        if params.get("drop_pending_updates"):
            self._updates.clear()
            self._notify()
        return True

    async def _get_webhook_info(self, params: dict) -> dict:
        return telegram.WebhookInfo(url="", has_custom_certificate=False,
                                    pending_update_count=len(self._updates)).to_dict()

    @staticmethod
    def _scope_key(params: dict) -> tuple[str, str]:
        scope = params.get("scope") or {"type": "default"}
        return json.dumps(scope, sort_keys=True), params.get("language_code") or ""

    async def _set_my_commands(self, params: dict) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise _bad("can't parse commands JSON object")
        if len(commands) > 100:
            raise _bad("too many commands")
        for c in commands:
            if not isinstance(c, dict) or not re.fullmatch(r"[a-z0-9_]{1,32}", str(c.get("command", ""))):
                raise _bad("BOT_COMMAND_INVALID")
            if not 1 <= len(str(c.get("description", ""))) <= 256:
                raise _bad("BOT_COMMAND_DESCRIPTION_INVALID")
        self.commands[self._scope_key(params)] = [
            telegram.BotCommand(c["command"], c["description"]).to_dict() for c in commands]
        return True

    async def _get_my_commands(self, params: dict) -> list[dict]:
        return copy.deepcopy(self.commands.get(self._scope_key(params), []))

    async def _delete_my_commands(self, params: dict) -> bool:
        self.commands.pop(self._scope_key(params), None)
        return True

    async def _send_message(self, params: dict) -> dict:
        self._chat(params)
        text, ents = _format(str(params.get("text") or ""), params.get("parse_mode"),
                             params.get("entities"), what="text")
        return self._new_bot_message(
            params, text=text, entities=[telegram.MessageEntity.de_json(e, None) for e in ents] or None)

    async def _send_photo(self, params: dict) -> dict:
        self._chat(params)
        data, filename, mime, known = self._file_param(params, "photo")
        caption = self._caption(params)
        if known is not None:
            sizes_of = [f for f in self.files.values() if f.group == known.group] or [known]
            width, height, data = known.width, known.height, known.data
        elif data:
            dims = _image_size(data)
            if dims is None:
                raise _bad("IMAGE_PROCESS_FAILED")
            width, height = dims
            if width + height > 10000 or max(width, height) > 20 * max(1, min(width, height)):
                raise _bad("PHOTO_INVALID_DIMENSIONS")
            sizes_of = None
        else:
            width, height, sizes_of = 800, 600, None
        if sizes_of is None:
            big = max(width, height, 1)
            sizes_of = []
            group = next(self._file_ids)
            for bound in (90, 320, 800, 1280, 2560):  # Telegram's s/m/x/y/w thumbnails
                scale = min(1.0, bound / big)
                w, h = max(1, round(width * scale)), max(1, round(height * scale))
                if not sizes_of or (w, h) != (sizes_of[-1].width, sizes_of[-1].height):
                    sizes_of.append(self._new_file(data, filename, mime or "image/jpeg", "photo",
                                                   w, h, group=group))
                if bound >= big:
                    break
        photo = [telegram.PhotoSize(f.file_id, f.file_unique_id, f.width, f.height,
                                    file_size=max(1, len(f.data) * f.width * f.height // max(1, width * height)))
                 for f in sizes_of]
        return self._new_bot_message(params, photo=photo, **caption)

    async def _send_animation(self, params: dict) -> dict:
        """A GIF (or MP4) uploaded, or a file_id of an earlier animation. As on the real API
        an uploaded GIF comes back as an MP4 animation (also shown as the message's document),
        and its file_id sends the same animation again without the bytes."""
        self._chat(params)
        data, filename, mime, known = self._file_param(params, "animation")
        caption = self._caption(params)
        if known is None and not data:
            raise _bad("wrong file identifier/HTTP URL specified")  # a URL: not fetched here
        if known is not None and known.kind != "animation":
            raise _bad(f"can't use file of type {known.kind.title()} as Animation")
        if known is None:
            if data[:6] not in (b"GIF87a", b"GIF89a") and data[4:8] != b"ftyp":
                raise _bad("wrong type of the web page content")
            width, height = _image_size(data) or (0, 0)
            name = f"{filename or 'animation.gif'}.mp4" if data[:3] == b"GIF" else filename
            known = self._new_file(data, name, "video/mp4", "animation", width, height)
        animation = telegram.Animation(known.file_id, known.file_unique_id, known.width,
                                       known.height, duration=1, file_name=known.filename,
                                       mime_type=known.mime_type, file_size=len(known.data))
        document = telegram.Document(known.file_id, known.file_unique_id,
                                     file_name=known.filename, mime_type=known.mime_type,
                                     file_size=len(known.data))
        return self._new_bot_message(params, animation=animation, document=document, **caption)

    async def _send_document(self, params: dict) -> dict:
        self._chat(params)
        data, filename, mime, known = self._file_param(params, "document")
        caption = self._caption(params)
        if known is None:
            if filename and (not mime or mime == "application/octet-stream"):
                mime = mimetypes.guess_type(filename)[0] or mime
            known = self._new_file(data, filename, mime or "application/octet-stream", "document")
        doc = telegram.Document(known.file_id, known.file_unique_id, file_name=known.filename,
                                mime_type=known.mime_type, file_size=len(known.data) or None)
        return self._new_bot_message(params, document=doc, **caption)

    async def _send_chat_action(self, params: dict) -> bool:
        self._chat(params)
        if params.get("action") not in _CHAT_ACTIONS:
            raise _bad("wrong parameter action in request")
        return True

    async def _edit_message_text(self, params: dict) -> dict:
        key, current = self._editable(params)
        if "text" not in current:
            raise _bad("there is no text in the message to edit")
        text, ents = _format(str(params.get("text") or ""), params.get("parse_mode"),
                             params.get("entities"), what="text")
        markup = self._markup(params)
        if (text, ents or None, markup) == (current.get("text"), current.get("entities"),
                                            current.get("reply_markup")):
            raise _ApiError(400, NOT_MODIFIED)
        new = copy.deepcopy(current)
        new["text"] = text
        new.pop("entities", None)
        new.pop("reply_markup", None)  # an edit without reply_markup drops the inline keyboard
        if ents:
            new["entities"] = ents
        if markup:
            new["reply_markup"] = markup
        return self._commit_edit(key, new)

    async def _edit_message_caption(self, params: dict) -> dict:
        key, current = self._editable(params)
        if "text" in current:
            raise _bad("there is no caption in the message to edit")
        caption = self._caption(params)
        cap_ents = [e.to_dict() for e in caption.get("caption_entities") or []] or None
        markup = self._markup(params)
        if (caption.get("caption"), cap_ents, markup) == (
                current.get("caption"), current.get("caption_entities"), current.get("reply_markup")):
            raise _ApiError(400, NOT_MODIFIED)
        new = copy.deepcopy(current)
        for k in ("caption", "caption_entities", "reply_markup"):
            new.pop(k, None)
        if caption:
            new["caption"] = caption["caption"]
        if cap_ents:
            new["caption_entities"] = cap_ents
        if markup:
            new["reply_markup"] = markup
        return self._commit_edit(key, new)

    async def _edit_message_reply_markup(self, params: dict) -> dict:
        key, current = self._editable(params)
        markup = self._markup(params)
        if markup == current.get("reply_markup"):
            raise _ApiError(400, NOT_MODIFIED)
        new = copy.deepcopy(current)
        new.pop("reply_markup", None)
        if markup:
            new["reply_markup"] = markup
        return self._commit_edit(key, new)

    async def _delete_message(self, params: dict) -> bool:
        chat = self._chat(params)
        key = (chat["id"], int(params.get("message_id") or 0))
        if key not in self._messages:
            raise _bad("message to delete not found")
        del self._messages[key]
        self._from_bot.discard(key)
        return True

    async def _answer_callback(self, params: dict) -> bool:
        cq_id = str(params.get("callback_query_id") or "")
        if cq_id not in self._callbacks or cq_id in self.callback_answers:
            raise _bad(QUERY_TOO_OLD[len("Bad Request: "):])
        if len(str(params.get("text") or "")) > 200:
            raise _bad("MESSAGE_TOO_LONG")
        self.callback_answers[cq_id] = dict(params)
        return True

    async def _get_file(self, params: dict) -> dict:
        f = self.files.get(str(params.get("file_id") or ""))
        if f is None:
            raise _bad("wrong file_id or the file is temporarily unavailable")
        ext = (mimetypes.guess_extension(f.mime_type or "") or ".bin").lstrip(".")
        path = f"{f.kind}s/file_{f.file_unique_id}.{ext}"
        self._file_paths[path] = f.file_id
        return telegram.File(f.file_id, f.file_unique_id, file_size=len(f.data) or None,
                             file_path=path).to_dict()
