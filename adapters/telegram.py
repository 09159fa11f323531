"""Telegram: the coach as a bot on python-telegram-bot (long polling, or a webhook).

Set TELEGRAM_TOKEN (from @BotFather) in the environment or in .env and run `python bot.py`.
TELEGRAM_API_BASE_URL points the bot at another Bot API server (the token is appended to it);
TELEGRAM_WEBHOOK_URL (+ TELEGRAM_WEBHOOK_LISTEN, TELEGRAM_WEBHOOK_PORT, TELEGRAM_WEBHOOK_SECRET)
switches from long polling to a webhook. With BACKCOACH_PUBLIC_URL the workout player is offered
as a Mini App (a web_app button, in private chats).

What comes in is untrusted:
- a webhook always has a secret (a random one made at start-up unless TELEGRAM_WEBHOOK_SECRET
  is set), registered with setWebhook; python-telegram-bot's server refuses posts without it
  (403). It listens on 127.0.0.1 unless TELEGRAM_WEBHOOK_LISTEN says otherwise;
- an update from a private chat that is not its sender's own chat is refused before anything
  else sees it (a forged update, or a press on a button sent to someone else);
- an update python-telegram-bot cannot read is logged once, without its content, and skipped,
  so the updates after it still arrive.
Start-up calls are retried on 5xx and network errors, then end in one clear ConfigError.

Every update is confirmed to Telegram only once it has been handled (AckAfterHandled for long
polling, HandleOnPut for a webhook): a bot killed mid-batch gets what it had fetched but not
handled again when it restarts. Each event carries its update_id, so the core's ledger makes a
second delivery harmless (bot/data/turns.py).

This file only translates: an Update becomes a Text, Picked or Command for the coach, and a
Reply becomes messages (inline keyboards, photos, animations, documents, edits of the live
countdown). Pacing, retries and every coaching decision live in the core.

A picture with a key (an exercise's animation) is uploaded once per bot: Telegram's file_id for
it is kept in SQLite (bot/data/platform_files.py, under the bot's public id, as a file_id belongs
to the bot) and later messages send the file_id instead of the bytes. A file_id Telegram no
longer accepts is forgotten and the picture uploaded again.
"""
from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import logging
import os
import re
import secrets
import traceback
import warnings
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlparse

from telegram import (Bot, BotCommand, CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup,
                      Message, ReplyParameters, Update, WebAppInfo)
from telegram.constants import ChatType
from telegram.error import (BadRequest, ChatMigrated, Forbidden, InvalidToken, NetworkError,
                            TelegramError)
from telegram.error import RetryAfter as TelegramRetryAfter
from telegram.ext import (Application, ApplicationBuilder, ApplicationHandlerStop,
                          CallbackQueryHandler, ContextTypes, MessageHandler, TypeHandler, filters)
from telegram.request import BaseRequest
from telegram.warnings import PTBDeprecationWarning

from adapters import _plumbing
from adapters._plumbing import Progress, Resume, redact
from bot.errors import ConfigError, StorageLost
from bot.coach import Coach
from bot.data.platform_files import PlatformFiles
from bot.delivery import Delivery, Rate, RetryAfter, SendBudget, Transient, Unreachable
from bot.events import Command, Event, Picked, Text, UserKey
from bot.delivery import PersonLocks
from bot.player.settings import Entrance, PlayerSettings
from bot.replies import Attachment, Choice, Reply

NAME = PLATFORM = "telegram"
TOKEN_ENV = "TELEGRAM_TOKEN"
BASE_URL_ENV = "TELEGRAM_API_BASE_URL"
DEFAULT_BASE_URL = "https://api.telegram.org/bot"
MASK = "<telegram-token>"  # what the logs show instead of the token
# What @BotFather hands out: the bot's number, a colon, then at least 30 URL-safe characters.
TOKEN_SHAPE = re.compile(r"[0-9]+:[A-Za-z0-9_-]{30,}")
SECRET_MASK = "<webhook-secret>"
# Loggers that may see the token: the client logs its URLs, the token in their path.
LOGGERS = ("httpx", "httpcore", "telegram", "tornado", __name__)
# python-telegram-bot's loggers that log a traceback for failures this adapter handles itself
# (start-up calls it retries, an error page instead of JSON, a bad webhook post): one line each.
HANDLED_HERE = ("telegram.ext", "telegram.ext.Updater", "telegram.request.BaseRequest")
SECRET_FORM = re.compile(r"[A-Za-z0-9_-]{1,256}")  # what setWebhook accepts as secret_token
STARTUP_TRIES = 6  # waiting 1, 2, 4, 8, 16 s (on the core's clock) between them

MAX_TEXT = 4096  # characters in one message (counted in UTF-16 units, as Telegram does)
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64  # bytes
# The "/" menu, in this order; each description is the text commands.<name> in content/.
MENU = ("start", "session", "pain", "progress", "settings", "help", "stop")
UPDATES = ["message", "callback_query"]  # all the coach listens to

log = logging.getLogger(__name__)
T = TypeVar("T")
# PTB 22 warns, from inside its own RetryAfter, that `retry_after` becomes a timedelta one day;
# `_seconds` below reads either.
warnings.filterwarnings("ignore", message=".*retry_after.*", category=PTBDeprecationWarning)


@dataclass(frozen=True)
class Origin:
    """Where an answer goes: the chat the person wrote in (and, in a group, their message)."""

    chat_id: int
    reply_to: int | None = None

    @property
    def private(self) -> bool:
        """A private chat's id is its person's, a positive number; groups' are negative."""
        return self.chat_id > 0


def new_secret() -> str:
    """A webhook secret nobody can guess, in the alphabet setWebhook accepts."""
    return secrets.token_urlsafe(32)


@dataclass(frozen=True)
class Webhook:
    """Receive updates on an HTTP endpoint instead of long polling. Always with a secret:
    Telegram sends it with every post (X-Telegram-Bot-Api-Secret-Token), posts without it are
    refused. Only this machine can reach the listener unless `listen` says otherwise (a reverse
    proxy on the same host is the usual way in)."""

    url: str  # the public https URL Telegram posts to
    listen: str = "127.0.0.1"
    port: int = 8443
    secret: str = field(default_factory=new_secret, repr=False)


class TelegramAdapter:
    """One bot account; every private chat is one person."""

    platform = PLATFORM
    # Telegram allows about one message a second in a chat and thirty a second overall.
    budget = SendBudget(per_chat=Rate(1, 1.0), overall=Rate(30, 1.0))
    can_edit = True

    def __init__(self, coach: Coach, token: str, base_url: str = DEFAULT_BASE_URL,
                 base_file_url: str | None = None, webhook: Webhook | None = None,
                 poll_timeout: float = 10.0, connections: int = 4,
                 request: BaseRequest | None = None) -> None:
        _plumbing.protect(token, MASK, LOGGERS)  # before the client: it logs the token
        if webhook is not None:
            _plumbing.protect(webhook.secret, SECRET_MASK, LOGGERS)  # setWebhook's debug log
        _plumbing.without_tracebacks(HANDLED_HERE)
        skip_unreadable_updates()
        self.coach = coach
        self.webhook = webhook
        self.poll_timeout = poll_timeout
        # Uploaded pictures' file_ids, under the bot's number: the public part of the token.
        self.uploaded = PlatformFiles(coach.services.store, PLATFORM, token.split(":", 1)[0])
        posted = HandleOnPut()
        builder = (
            ApplicationBuilder().token(token)
            .base_url(base_url).base_file_url(base_file_url or _file_url(base_url))
            .job_queue(None)  # the core owns the only scheduler
            .concurrent_updates(True)  # one person's slow answer never holds up another's
            .update_queue(posted))
        if request is None:
            builder = builder.connection_pool_size(connections)
        else:  # another transport (tests answer in-process: tests/standins/in_process.py)
            builder = builder.request(request).get_updates_request(request)
        self.app: Application = builder.build()
        # Updates whose handling found the database file gone: never confirmed to Telegram.
        self._unconfirmed: set[int] = set()
        self.poller = AckAfterHandled(self.app, poll_timeout, self._unconfirmed)
        posted.handle = self._handle_posted
        self.app.add_handler(TypeHandler(Update, self.refuse_forged), group=-1)  # before all
        self.app.add_handler(CallbackQueryHandler(self.on_press))
        self.app.add_handler(MessageHandler(filters.UpdateType.MESSAGE & filters.COMMAND,
                                            self.on_command))
        self.app.add_handler(MessageHandler(
            filters.UpdateType.MESSAGE & filters.TEXT & filters.ChatType.PRIVATE, self.on_text))
        self.app.add_handler(MessageHandler(
            filters.UpdateType.MESSAGE & filters.ChatType.PRIVATE & ~filters.TEXT
            & ~filters.StatusUpdate.ALL, self.on_other))
        self.app.add_error_handler(self.on_error)
        self._slots: dict[tuple[int, str], int] = {}  # (chat, slot) -> message id
        self._resume = Resume(Delivery.MAX_TRIES)  # parts out before a fault
        self._chat_locks: PersonLocks[int] = PersonLocks()  # dropped when idle
        # At most `connections` API calls in flight; more would queue inside httpx's connection
        # pool, which rescans its whole queue on every change (slow under load). Four calls at
        # Telegram's usual 20-100 ms round trip still carry more than the 30 messages/s budget.
        self._calls = asyncio.Semaphore(connections)
        self._stopped = asyncio.Event()

    # -- lifecycle (the app starts and stops every adapter the same way) -----------------------

    async def start(self) -> None:
        """Log in, set the "/" menu, then receive updates by long polling or webhook. Each
        call to the Bot API is retried on 5xx and network errors; one that keeps failing, or
        a refusal, ends in a ConfigError that says what to check."""
        menu = [BotCommand(name, self.coach.texts(f"commands.{name}")) for name in MENU]
        try:
            await self._at_startup("getMe", self.app.initialize)
            await self._at_startup("setMyCommands", lambda: self.app.bot.set_my_commands(menu))
            await self.app.start()
            if self.webhook is None:
                await self._at_startup("deleteWebhook", self.app.bot.delete_webhook)
                self.poller.start()
            else:
                await self._at_startup("setWebhook", self._start_webhook)
        except BaseException:
            await self.stop()
            raise
        log.info("Telegram bot @%s is up (%s)", self.app.bot.username,
                 "webhook" if self.webhook else "long polling")

    async def _start_webhook(self) -> None:
        """The listener (python-telegram-bot's, which checks the secret), then setWebhook."""
        hook = self.webhook
        try:
            await self.app.updater.start_webhook(
                listen=hook.listen, port=hook.port,
                url_path=urlparse(hook.url).path.lstrip("/"), webhook_url=hook.url,
                secret_token=hook.secret, allowed_updates=UPDATES)
        except OSError as exc:  # the port is taken, or the address is not this machine's
            raise ConfigError(f"cannot listen for the webhook on {hook.listen}:{hook.port} "
                              f"({exc.strerror or exc}); check TELEGRAM_WEBHOOK_LISTEN and "
                              "TELEGRAM_WEBHOOK_PORT") from None

    async def _at_startup(self, method: str, call: Callable[[], Awaitable[T]]) -> T:
        """`call()`, tried again after a 5xx, a network error or a 429 (waiting 1, 2, 4 ...
        seconds, or as long as Telegram asks, on the core's clock). A refused token or request
        stops at once; so does a failure that outlasts STARTUP_TRIES."""
        for attempt in range(1, STARTUP_TRIES + 1):
            try:
                return await call()
            except InvalidToken:  # its message quotes the token
                raise ConfigError(f"Telegram rejected the bot token in {TOKEN_ENV}: check it "
                                  "with @BotFather") from None
            except TelegramRetryAfter as exc:
                problem, delay = f"asked to wait {_seconds(exc):.0f} s", _seconds(exc)
            except BadRequest as exc:  # our request is wrong: another try will not help
                raise ConfigError(f"the Telegram Bot API refused {method}: "
                                  f"{redact(exc.message)}") from None
            except NetworkError as exc:  # a 5xx, a timeout, no connection
                problem = f"{type(exc).__name__}: {_gist(exc)}"
                delay = 2.0 ** (attempt - 1)
            except TelegramError as exc:  # 403, 409 ...: not something time fixes
                raise ConfigError(f"the Telegram Bot API refused {method} ({type(exc).__name__}:"
                                  f" {_gist(exc)})") from None
            if attempt == STARTUP_TRIES:
                break
            log.warning("Telegram %s failed (%s); trying again in %.0f s", method, problem, delay)
            await self.coach.clock.sleep(delay)
        raise ConfigError(f"the Telegram Bot API kept failing {method} ({problem}) after "
                          f"{STARTUP_TRIES} tries; check the network or {BASE_URL_ENV}")

    def player_entrance(self, settings: PlayerSettings) -> Entrance | None:
        """With a public https address, people open the workout player as a Mini App:
        Telegram signs who they are (launch data, checked with the bot token), so their link
        carries no token of ours."""
        if settings.public_page is None:
            return None
        return Entrance(PLATFORM, settings.public_page, with_token=False,
                        launch_data_key=self.app.bot.token)

    async def finished(self) -> None:
        """A bot runs until the process is asked to stop."""
        await self._stopped.wait()

    async def stop(self) -> None:
        """Stop receiving, finish the updates in hand (confirming them), close the connections."""
        await self.poller.stop()
        self._stopped.set()
        if self.app.updater is not None and self.app.updater.running:
            await self.app.updater.stop()
        if self.app.running:
            await self.app.stop()
        await self.app.shutdown()

    # -- inbound: one callback per kind of update ---------------------------------------------

    async def refuse_forged(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Before any other handler, what Telegram never sends is dropped without a word to
        anyone and logged without its content: a message without a chat, and an update from a
        private chat that is not its sender's own (a private chat's id is its person's id), so
        forged, or a press on a button sent to someone else."""
        if not isinstance(update, Update):
            return
        message = update.message
        if message is not None and message.chat is None:  # python-telegram-bot lets it through
            log.warning("skipped Telegram update %d (message): it has no chat", update.update_id)
            raise ApplicationHandlerStop
        chat, user = update.effective_chat, update.effective_user
        if chat is None or chat.type != ChatType.PRIVATE:
            return
        if user is not None and user.id == chat.id:
            return
        log.warning("refused Telegram update %d: it names a private chat that is not its "
                    "sender's", update.update_id)
        raise ApplicationHandlerStop

    async def on_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/start, /pain 4, /help@ThisBot ... (a command meant for another bot is left alone)."""
        word, *rest = update.effective_message.text.split(maxsplit=1)
        name, _, bot_name = word[1:].partition("@")
        if bot_name and bot_name.lower() != (self.app.bot.username or "").lower():
            return
        args = rest[0] if rest else ""
        await self._hand_over(update, lambda key, private: Command(key, name.lower(), args,
                                                                    private))

    async def on_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Anything typed in a private chat: "start session", "pain 3", "07:30", "Berlin"."""
        text = update.effective_message.text
        await self._hand_over(update, lambda key, private: Text(key, text, private))

    async def on_other(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A sticker, photo or voice note: the coach hears its caption (or nothing) and says
        what it understands."""
        caption = update.effective_message.caption or ""
        await self._hand_over(update, lambda key, private: Text(key, caption, private))

    async def on_press(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A button: answered at once so it stops spinning, then its payload goes to the coach
        (which recognises a button from a question that has passed)."""
        query = update.callback_query
        answering = asyncio.create_task(self._answer(query))
        if update.effective_chat is None:  # an old message Telegram no longer shows us
            await answering
            return
        action = query.data or ""
        await self._hand_over(update, lambda key, private: Picked(key, action, private),
                              before=answering)

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Whatever escaped a callback: one line (the update's id, not its content, and no
        token), never fatal; the updates after it are handled as usual."""
        error = context.error
        which = f" {update.update_id}" if isinstance(update, Update) else ""
        log.error("error while handling Telegram update%s: %s", which, _described(error))

    async def _answer(self, query: CallbackQuery) -> None:
        """Stop the button's spinner (no text: the coach's answer follows as a message)."""
        try:
            async with self._calls:
                await query.answer()
        except TelegramError as exc:  # too old, or the network: the press still counts
            log.info("could not answer a button press: %s", redact(str(exc)))

    async def _hand_over(self, update: Update, event_for: Callable[[UserKey, bool], Event],
                         before: asyncio.Task | None = None) -> None:
        """Give the event to the coach with where to answer. One chat's updates are handed
        over in the order they came, even when a button's answer is still on its way."""
        user, chat = update.effective_user, update.effective_chat
        if user is None or chat is None or user.is_bot:
            if before is not None:
                await before
            return
        private = chat.type == ChatType.PRIVATE
        key = UserKey(PLATFORM, str(user.id))
        if private:  # the person's own chat (refuse_forged made sure it is this one)
            origin = Origin(user.id)
        else:  # a group hears only "let's talk in private", as a reply to the person
            origin = Origin(chat.id, update.message.message_id if update.message else None)
        event = dataclasses.replace(event_for(key, private), update=str(update.update_id))
        async with self._chat_locks[chat.id]:
            if before is not None:
                await before
            try:
                await self.coach.handle(event, origin, user.first_name or "")
            except StorageLost:
                self._unconfirmed.add(update.update_id)  # Telegram must deliver it again
                raise

    async def _handle_posted(self, update: Update) -> None:
        """A webhook post: handled before python-telegram-bot's server answers Telegram; one
        whose handling found the database gone is answered 503, so Telegram posts it again."""
        await self.app.update_processor.process_update(update, self.app.process_update(update))
        if update.update_id in self._unconfirmed:
            from tornado.web import HTTPError  # python-telegram-bot's webhook server is tornado
            raise HTTPError(503)

    # -- outbound -----------------------------------------------------------------------------

    async def send(self, user: UserKey, reply: Reply, context: object | None) -> None:
        """Deliver one Reply: new messages, or an edit of the message in its slot. Telegram's
        answers become the core's Unreachable / RetryAfter / Transient."""
        origin = context if isinstance(context, Origin) else Origin(int(user.id))
        with self._resume.sending(user, reply) as progress:
            await self._send(user, reply, origin, progress)

    async def _send(self, user: UserKey, reply: Reply, origin: Origin,
                    progress: Progress) -> None:
        if self._stopped.is_set():
            raise Transient("the Telegram adapter is stopped")
        try:
            if reply.edit and reply.slot and await self._edit(origin, reply):
                return
            if reply.kind != "countdown":  # a countdown only ever edits its cue
                await self._send_new(user, origin, reply, progress)
        except Forbidden as exc:
            raise Unreachable(redact(exc.message)) from None
        except TelegramRetryAfter as exc:
            raise RetryAfter(_seconds(exc)) from None
        except (BadRequest, ChatMigrated) as exc:
            if "chat not found" in exc.message.lower():
                raise Unreachable(redact(exc.message)) from None
            log.error("Telegram refused a message to %s: %s", user, redact(exc.message))
        except TelegramError as exc:  # NetworkError, TimedOut, a 5xx: worth another try
            raise Transient(f"{type(exc).__name__}: {redact(exc.message)}") from None

    async def _edit(self, origin: Origin, reply: Reply) -> bool:
        """Edit the slot's message in place, keyboard included (an edit without it would drop
        the buttons); False when there is no message to edit."""
        message_id = self._slots.get((origin.chat_id, reply.slot))
        if message_id is None:
            return False
        try:
            async with self._calls:
                await self.app.bot.edit_message_text(
                    split_text(reply.text)[0], origin.chat_id, message_id,
                    reply_markup=keyboard(reply.choices, origin.private))
        except BadRequest as exc:
            problem = exc.message.lower()
            if "not modified" in problem:
                return True  # it already says this
            if "not found" in problem or "can't be edited" in problem or "no text" in problem:
                del self._slots[(origin.chat_id, reply.slot)]
                return False
            raise
        return True

    async def _send_new(self, user: UserKey, origin: Origin, reply: Reply,
                        progress: Progress) -> None:
        """Picture (with the text as caption when it fits, else its first paragraph when that
        does), text in parts of at most 4,096 characters, then files; buttons go on the last
        message. Each part after the first waits for its own place in the core's budget. The
        core's retry after a fault sends only the parts that did not go out."""
        texts = split_text(reply.text)
        caption = None
        if reply.image is not None:
            caption, texts = _caption_and_rest(reply.text, texts)
        picture = "animation" if reply.image and reply.image.animated else "photo"
        parts = ([(picture, reply.image, caption)] if reply.image else []) \
            + [("text", t, None) for t in texts] + [("document", f, None) for f in reply.files]
        markup = keyboard(reply.choices, origin.private)
        first = progress.done  # a retry starts where the last try stopped, on a place of its own
        for index, (kind, content, caption) in enumerate(parts):
            if index < first:
                continue
            if index > first:
                await self.coach.services.delivery.next_message(user, origin)
            last = index == len(parts) - 1
            async with self._calls:
                message = await self._send_part(origin, kind, content, caption,
                                                 markup if last else None, first=index == 0)
            progress.done = index + 1
            if reply.slot and kind != "document":
                self._slots[(origin.chat_id, reply.slot)] = message.message_id

    async def _send_part(self, origin: Origin, kind: str, content: str | Attachment,
                         caption: str | None, markup: InlineKeyboardMarkup | None,
                         first: bool) -> Message:
        """One API call; in a group the first message replies to the person's own."""
        bot, chat = self.app.bot, origin.chat_id
        replying = ReplyParameters(origin.reply_to, allow_sending_without_reply=True) \
            if first and origin.reply_to else None
        if kind in ("photo", "animation"):
            send = bot.send_animation if kind == "animation" else bot.send_photo
            return await self._send_picture(send, chat, content, caption=caption,
                                            reply_markup=markup, reply_parameters=replying)
        if kind == "document":
            return await bot.send_document(chat, content.data, filename=content.name,
                                           reply_markup=markup, reply_parameters=replying)
        return await bot.send_message(chat, content, reply_markup=markup,
                                      reply_parameters=replying)

    async def _send_picture(self, send: Callable[..., Awaitable[Message]], chat: int,
                            picture: Attachment, **options: Any) -> Message:
        """A photo or animation: by the file_id of its first upload when there is one, else
        uploaded, keeping the file_id Telegram answers with when the picture has a key."""
        known = self.uploaded.find(picture.key) if picture.key else None
        if known is not None:
            try:
                return await send(chat, known, **options)
            except BadRequest as exc:
                if not _file_id_refused(exc):
                    raise
                log.info("Telegram refused a kept file_id (%s); uploading the picture again",
                         redact(exc.message))
                self.uploaded.forget(picture.key)
        message = await send(chat, picture.data, filename=picture.name, **options)
        file_id = _file_id_of(message)
        if picture.key and file_id:
            self.uploaded.keep(picture.key, file_id)
        return message

    def chat_of(self, user: UserKey, context: object | None) -> str:
        """The chat a reply goes to, for the core's per-chat budget: a group is one chat."""
        origin = context if isinstance(context, Origin) else Origin(int(user.id))
        return str(origin.chat_id)


# -- receiving: an update is confirmed only once it is handled -----------------------------------

class AckAfterHandled:
    """Long polling that confirms an update to Telegram only once it has been handled.

    getUpdates confirms every update below its `offset`. python-telegram-bot's Updater asks for
    the next batch (offset = last id + 1) as soon as a batch is queued, before any of it is
    handled, so a bot killed mid-batch lost those updates for good. Here the offset never
    passes an update still being handled: Telegram keeps it, and hands it out again to the next
    poll, or to the bot after a crash. Within this process an update is handled once (ids
    already seen are skipped); across a crash the core's ledger makes a second delivery
    harmless. Updates are handled concurrently, as python-telegram-bot would; while some are
    still in hand, the next poll waits until all of them are done, or PATIENCE seconds, so new
    updates still come in without asking Telegram for the same ones again and again."""

    PATIENCE = 0.5  # real seconds
    STOP_PATIENCE = 10.0  # real seconds to finish the updates in hand when stopping
    LONGEST_PAUSE = 30.0  # real seconds between tries while getUpdates fails

    def __init__(self, app: Application, timeout: float, unconfirmed: set[int]) -> None:
        self.app = app
        self.timeout = timeout
        self.unconfirmed = unconfirmed  # never confirmed (see TelegramAdapter)
        self.in_hand: dict[int, asyncio.Task] = {}
        self.highest: int | None = None  # the newest update id taken in hand
        self._all_done = asyncio.Event()
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._poll(), name="telegram-polling")

    @property
    def offset(self) -> int | None:
        """What getUpdates confirms: everything before the oldest update not yet handled."""
        waiting = set(self.in_hand) | self.unconfirmed
        if waiting:
            return min(waiting)
        return self.highest + 1 if self.highest is not None else None

    async def _poll(self) -> None:
        failures = 0
        while True:
            try:
                updates = await self.app.bot.get_updates(
                    offset=self.offset, timeout=0 if self.in_hand else self.timeout,
                    allowed_updates=UPDATES)
                failures = 0
            except Exception as exc:  # polling must outlive anything a poll can raise
                if isinstance(exc, TelegramError):
                    _polling_failed(exc)
                else:
                    log.error("fetching Telegram updates failed: %s", _described(exc))
                failures += 1
                await asyncio.sleep(min(self.LONGEST_PAUSE, 2.0 ** (failures - 1)))
                continue
            new = [u for u in updates if self.highest is None or u.update_id > self.highest]
            for update in new:
                self.highest = update.update_id
                self.in_hand[update.update_id] = asyncio.create_task(
                    self._handle(update), name=f"telegram-update-{update.update_id}")
            if self.in_hand or (self.unconfirmed and not new):
                self._all_done.clear()
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._all_done.wait(), self.PATIENCE)

    async def _handle(self, update: Update) -> None:
        try:
            await self.app.update_processor.process_update(update,
                                                           self.app.process_update(update))
        except Exception as exc:  # python-telegram-bot reports handlers' errors itself
            log.error("Telegram update %d was not handled: %s", update.update_id,
                      _described(exc))
        finally:
            del self.in_hand[update.update_id]
            if not self.in_hand:
                self._all_done.set()

    async def stop(self) -> None:
        """Stop polling, let the updates in hand finish, and confirm those that did."""
        if self._task is None:
            return
        task, self._task = self._task, None
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        if self.in_hand:
            await asyncio.wait(list(self.in_hand.values()), timeout=self.STOP_PATIENCE)
        offset = self.offset  # before the unfinished leave `in_hand`: they are not confirmed
        unfinished = list(self.in_hand.values())
        for task in unfinished:  # Telegram gives them again after the restart
            task.cancel()
        await asyncio.gather(*unfinished, return_exceptions=True)
        if offset is not None:
            try:
                await self.app.bot.get_updates(offset=offset, timeout=0, allowed_updates=UPDATES)
            except TelegramError as exc:  # they come again next time: harmless
                log.info("could not confirm the last updates to Telegram: %s", _gist(exc))


class HandleOnPut(asyncio.Queue):
    """The update queue python-telegram-bot's webhook server puts each posted update into.
    Here `put` handles the update before it returns, so the server answers Telegram only once
    the update has been handled, and Telegram posts again whatever a crash interrupted.
    (Anything else, python-telegram-bot's own stop signal, is queued as usual.)"""

    def __init__(self) -> None:
        super().__init__()
        self.handle: Callable[[Update], Awaitable[None]] | None = None

    async def put(self, item: object) -> None:
        if isinstance(item, Update) and self.handle is not None:
            await self.handle(item)
            return
        await super().put(item)


# -- buttons ------------------------------------------------------------------------------------

@functools.lru_cache(maxsize=4096)
def keyboard(choices: tuple[Choice, ...], private: bool = True) -> InlineKeyboardMarkup | None:
    """Choices as an inline keyboard; a payload Telegram would refuse (over 64 bytes) is left
    out with a warning, never sent. The same few keyboards recur (menu, pain 0-10, timer
    controls) and python-telegram-bot's objects are immutable, so each is built once.
    A link opens as a Mini App (web_app) in a private chat, the only place Telegram allows
    one; elsewhere it is a plain URL button."""
    buttons = []
    for choice in choices:
        if choice.is_link:
            buttons.append(link_button(choice, private))
            continue
        size = len(choice.action.encode())
        if not 1 <= size <= MAX_CALLBACK_DATA:
            log.warning("button %r left out: its payload is %d bytes", choice.label, size)
            continue
        buttons.append(InlineKeyboardButton(choice.label, callback_data=choice.action))
    if not buttons:
        return None
    return InlineKeyboardMarkup(rows(buttons))


def link_button(choice: Choice, private: bool) -> InlineKeyboardButton:
    if choice.web_app and private:
        return InlineKeyboardButton(choice.label, web_app=WebAppInfo(choice.url))
    return InlineKeyboardButton(choice.label, url=choice.url)


def rows(buttons: list[InlineKeyboardButton]) -> list[list[InlineKeyboardButton]]:
    """Even rows that fit a phone: numbers (pain 0-10) up to 6 a row (6 + 5); other buttons
    3 a row up to 14 characters, 2 up to 24, else 1."""
    return _plumbing.even_rows(buttons, [button.text for button in buttons],
                               numbers=6, short=14, medium=24)


# -- uploaded files -----------------------------------------------------------------------------

def _file_id_of(message: Message) -> str | None:
    """The id that sends this message's picture again: the animation's, or the largest photo's."""
    if message.animation is not None:
        return message.animation.file_id
    if message.photo:
        return message.photo[-1].file_id
    return message.document.file_id if message.document is not None else None


def _file_id_refused(exc: BadRequest) -> bool:
    """Telegram does not (or no longer) accept the file_id: a new upload will do."""
    problem = exc.message.lower()
    return "file identifier" in problem or "can't use file" in problem \
        or "file reference" in problem


# -- text ---------------------------------------------------------------------------------------

def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Parts of at most `limit` UTF-16 units (as Telegram counts), cut at a paragraph, line or
    word when possible."""
    return _plumbing.split_text(text, limit, _u16)


def _u16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _caption_and_rest(text: str, parts: list[str]) -> tuple[str | None, list[str]]:
    """What goes under a picture: the whole text when it fits a caption, else its first
    paragraph, else its first line, when that fits (an exercise card's heading, its
    instructions after it)."""
    if len(parts) == 1 and _u16(parts[0]) <= MAX_CAPTION:
        return parts[0], []
    for separator in ("\n\n", "\n"):
        first, _, rest = text.partition(separator)
        if rest.strip() and 0 < _u16(first.strip()) <= MAX_CAPTION:
            return first.strip(), split_text(rest.strip())
    return None, parts


# -- updates python-telegram-bot cannot read ----------------------------------------------------

def skip_unreadable_updates() -> None:
    """Make an update python-telegram-bot cannot parse (a poll in an older shape, a date that is
    not a number) an empty Update with the same id, which no handler takes, logged once without
    its content. Left as it is, the parse error stops the whole batch: polling never moves its
    offset past it and fetches it again forever, and a webhook answers 400, so Telegram resends
    it. Wrapping Update.de_json covers both (Bot.get_updates reads each item with it, and so
    does the webhook server); installed once per process."""
    if getattr(Update.de_json, "skips_unreadable", False):
        return
    read = Update.de_json

    def de_json(cls: type[Update], data: Any, bot: Bot | None = None) -> Update:
        try:
            return read(data, bot)
        except Exception as exc:
            update_id = data.get("update_id") if isinstance(data, dict) else None
            if not isinstance(update_id, int):  # nothing to acknowledge it by
                raise
            kinds = ", ".join(sorted(k for k in data if k != "update_id"
                                     and re.fullmatch(r"[a-z_]{1,40}", str(k)))[:4])
            log.warning("skipped Telegram update %d (%s): python-telegram-bot cannot read it "
                        "(%s)", update_id, kinds or "empty", type(exc).__name__)
            return Update(update_id)

    de_json.skips_unreadable = True  # type: ignore[attr-defined]
    Update.de_json = classmethod(de_json)  # type: ignore[method-assign, assignment]


# -- errors -------------------------------------------------------------------------------------

def _polling_failed(exc: TelegramError) -> None:
    """getUpdates failed (python-telegram-bot tries again, waiting longer each time): one line
    instead of its traceback."""
    log.warning("fetching Telegram updates failed: %s: %s", type(exc).__name__, _gist(exc))


def _described(error: BaseException | None) -> str:
    """An error for the log without what people wrote: the Bot API's own words for a
    TelegramError; for anything else its type and where it was raised (its text may quote a
    message)."""
    if isinstance(error, TelegramError):
        return f"{type(error).__name__}: {_gist(error)}"
    where = traceback.extract_tb(error.__traceback__)[-1:] if error is not None else []
    place = f" at {Path(where[0].filename).name}:{where[0].lineno} in {where[0].name}" \
        if where else ""
    return f"{type(error).__name__}{place}"


def _gist(exc: TelegramError) -> str:
    """What went wrong, without the error page python-telegram-bot quotes when the answer was
    not JSON (it logs that page itself)."""
    return _first_line(exc.message.split(". Parsing the server response")[0])


def _first_line(text: str) -> str:
    """An error's text for one log line: masked, first line only, not overlong (an error page
    can come back as the text)."""
    line = redact(text).strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= 300 else line[:300] + "..."


def _seconds(exc: TelegramRetryAfter) -> float:
    with warnings.catch_warnings():  # PTB 22 flags the int -> timedelta change to come
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


# -- configuration ------------------------------------------------------------------------------

def _file_url(base_url: str) -> str:
    """https://api.telegram.org/bot -> https://api.telegram.org/file/bot (the same pattern for
    any Bot API server)."""
    root = base_url[:-len("/bot")] if base_url.endswith("/bot") else base_url.rstrip("/")
    return f"{root}/file/bot"


def webhook_from_env(env: dict[str, str]) -> Webhook | None:
    """The webhook settings, or None for long polling. Without TELEGRAM_WEBHOOK_SECRET a new
    random secret is made (and registered at start-up): there is never a webhook without one."""
    url = env.get("TELEGRAM_WEBHOOK_URL")
    if not url:
        return None
    try:
        port = int(env.get("TELEGRAM_WEBHOOK_PORT", "8443"))
    except ValueError:
        raise ConfigError("TELEGRAM_WEBHOOK_PORT must be a port number") from None
    secret = env.get("TELEGRAM_WEBHOOK_SECRET", "").strip() or new_secret()
    if not SECRET_FORM.fullmatch(secret):
        raise ConfigError("TELEGRAM_WEBHOOK_SECRET may hold only letters, digits, _ and -, "
                          "at most 256 of them")
    return Webhook(url, env.get("TELEGRAM_WEBHOOK_LISTEN", "").strip() or "127.0.0.1", port,
                   secret)


def create(coach: Coach, args) -> TelegramAdapter:
    token = os.environ.get(TOKEN_ENV, "").strip()
    if not token:
        raise ConfigError(f"{TOKEN_ENV} is not set. Create a bot with @BotFather in Telegram and "
                          f"put its token in the environment or in a .env file: "
                          f"{TOKEN_ENV}=123456:ABC...")
    if not TOKEN_SHAPE.fullmatch(token):  # caught here, before any request carries it
        raise ConfigError(f"{TOKEN_ENV} cannot be a Telegram bot token: those are the bot's "
                          "number, a colon and 30 or more letters, digits, '-' or '_' "
                          "(123456789:AA...). Copy it again from @BotFather")
    return TelegramAdapter(coach, token, os.environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL,
                           webhook=webhook_from_env(dict(os.environ)))
