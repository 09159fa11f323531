"""The Telegram stand-in works with the REAL python-telegram-bot client (all over 127.0.0.1)."""
from __future__ import annotations

import asyncio
import logging
import struct
import time
import zlib
from collections.abc import AsyncIterator

import aiohttp
import pytest
import telegram
from telegram import BotCommand, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, Forbidden, InvalidToken
from telegram.request import HTTPXRequest
from telegram.ext import (AIORateLimiter, Application, ApplicationBuilder, CallbackQueryHandler,
                          CommandHandler, ContextTypes, MessageHandler, filters)

try:  # tests/ is on sys.path (no tests/__init__.py, pytest's default "prepend" import mode)
    from standins.telegram_api import FakeTelegram
except ImportError:  # tests is a package
    from tests.standins.telegram_api import FakeTelegram

# httpx logs every request URL (which holds the token) at INFO.
logging.getLogger("httpx").setLevel(logging.WARNING)

# AIORateLimiter reads RetryAfter.retry_after, which PTB 22.2+ flags as changing type later.
pytestmark = pytest.mark.filterwarnings(
    "ignore:.*retry_after.*:telegram.warnings.PTBDeprecationWarning")

USER = 4242
STEP = 5.0  # generous per-wait timeout; every wait is bounded


def _png(width: int = 2, height: int = 3) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


PNG = _png()
COMMANDS = [BotCommand("start", "Begin"), BotCommand("photo", "A chart")]


class Harness:
    def __init__(self, fake: FakeTelegram, app: Application) -> None:
        self.fake = fake
        self.app = app
        self.handler_errors: list[Exception] = []  # errors a handler caught from the API
        self.app_errors: list[BaseException] = []  # errors that escaped handlers


def _build_app(fake: FakeTelegram, h_errors: list, app_errors: list) -> Application:
    app = (ApplicationBuilder().token(fake.token)
           .base_url(fake.base_url).base_file_url(fake.base_file_url)
           .job_queue(None)
           .rate_limiter(AIORateLimiter(max_retries=2))
           .connect_timeout(2).read_timeout(5).write_timeout(5).pool_timeout(2)
           .get_updates_connect_timeout(2).get_updates_read_timeout(5)
           .build())

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Go", callback_data="go"),
                                          InlineKeyboardButton("Later", callback_data="later")]])
        await update.effective_message.reply_text("Welcome! Ready?", reply_markup=keyboard)

    async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        await query.answer("Let's go")
        await query.edit_message_text(f"You chose {query.data}")

    async def photo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await update.effective_chat.send_chat_action("upload_photo")
        await update.effective_message.reply_photo(PNG, caption="Your week", filename="chart.png")

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        try:
            await update.effective_message.reply_text(f"echo: {update.effective_message.text}")
        except telegram.error.TelegramError as exc:
            h_errors.append(exc)

    async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        app_errors.append(context.error)

    app.add_handler(CommandHandler("start", start))
    app.add_handler(CommandHandler("photo", photo))
    app.add_handler(CallbackQueryHandler(pressed))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    app.add_error_handler(on_error)
    return app


@pytest.fixture
async def harness() -> AsyncIterator[Harness]:
    async with FakeTelegram() as fake:
        h_errors: list = []
        app_errors: list = []
        app = _build_app(fake, h_errors, app_errors)
        await asyncio.wait_for(app.initialize(), STEP)
        await app.bot.set_my_commands(COMMANDS)
        await asyncio.wait_for(app.start(), STEP)
        await asyncio.wait_for(app.updater.start_polling(poll_interval=0, timeout=1), STEP)
        h = Harness(fake, app)
        h.handler_errors, h.app_errors = h_errors, app_errors
        try:
            yield h
        finally:
            await asyncio.wait_for(app.updater.stop(), STEP)
            await asyncio.wait_for(app.stop(), STEP)
            await asyncio.wait_for(app.shutdown(), STEP)
        assert fake.unknown == [], f"client used methods the stand-in does not know: {fake.unknown}"
        assert app_errors == [], app_errors
        assert fake.unauthorized == 0


async def test_startup_calls(harness: Harness) -> None:
    fake = harness.fake
    # start_polling returned, so its deleteWebhook is answered; getUpdates is long-polling now
    methods = [c.method for c in fake.calls]
    assert methods[:3] == ["getMe", "setMyCommands", "deleteWebhook"]
    assert fake.calls[0].result["username"] == "standin_bot"
    assert harness.app.bot.username == "standin_bot"
    assert [c["command"] for c in fake.calls[1].params["commands"]] == ["start", "photo"]
    assert await harness.app.bot.get_my_commands() == tuple(COMMANDS)


async def test_start_keyboard_press_answer_and_edit(harness: Harness) -> None:
    fake = harness.fake
    fake.user_text(USER, "/start")
    reply = await fake.wait_for_text(USER, "Welcome", timeout=STEP)
    assert reply.method == "sendMessage"
    assert reply.params["reply_markup"] == {"inline_keyboard": [
        [{"text": "Go", "callback_data": "go"}, {"text": "Later", "callback_data": "later"}]]}
    assert reply.message["from"]["is_bot"] and reply.message["chat"]["id"] == USER
    assert reply.message_id == 2  # the user's /start was message 1 in this chat
    assert fake.keyboard(USER) == [[("Go", "go"), ("Later", "later")]]

    cq_id = fake.user_press(USER, reply.message_id, "go")
    edit = await fake.wait_for_text(USER, "You chose go", timeout=STEP)
    assert edit.method == "editMessageText" and edit.message_id == reply.message_id
    assert fake.answered(cq_id)
    assert fake.callback_answers[cq_id]["text"] == "Let's go"
    # an edit without reply_markup drops the keyboard, as on the real API
    assert fake.keyboard(USER) == [] and "reply_markup" not in edit.message
    assert fake.texts(USER) == ["Welcome! Ready?", "You chose go"]
    with pytest.raises(ValueError):
        fake.user_press(USER, reply.message_id, "later")  # that button is gone


async def test_echo_and_photo_upload(harness: Harness) -> None:
    fake = harness.fake
    fake.user_text(USER, "hello there")
    await fake.wait_for_text(USER, "echo: hello there", timeout=STEP)

    fake.user_text(USER, "/photo")
    call = await fake.wait_for_call("sendPhoto", USER, ok=True, timeout=STEP)
    upload = call.params["photo"]
    assert upload.data == PNG and upload.filename == "chart.png"
    assert call.text == "Your week"
    sizes = call.message["photo"]
    assert (sizes[-1]["width"], sizes[-1]["height"]) == (2, 3)
    assert fake.calls_of("sendChatAction", USER)[0].params["action"] == "upload_photo"
    # what the client got back parses as a PTB Message with a photo
    msg = telegram.Message.de_json(call.message, None)
    assert msg.photo[-1].file_id and msg.caption == "Your week"


async def test_429_is_retried_by_the_rate_limiter(harness: Harness) -> None:
    fake = harness.fake
    fake.fail_next("sendMessage", 429, retry_after=1)
    fake.user_text(USER, "ping")
    ok = await fake.wait_for_text(USER, "echo: ping", timeout=STEP)
    attempts = fake.calls_of("sendMessage", USER)
    assert [c.status for c in attempts] == [429, 200]
    assert attempts[0].response == {"ok": False, "error_code": 429,
                                    "description": "Too Many Requests: retry after 1",
                                    "parameters": {"retry_after": 1}}
    assert ok.time - attempts[0].time >= 1.0
    assert harness.handler_errors == []


async def test_403_surfaces_as_forbidden(harness: Harness) -> None:
    fake = harness.fake
    fake.user_text(USER, "first")
    await fake.wait_for_text(USER, "echo: first", timeout=STEP)
    fake.block(USER)
    fake.user_text(USER, "second")
    failed = await fake.wait_for_call("sendMessage", USER, ok=False, timeout=STEP)
    assert failed.status == 403
    await fake.wait_until(lambda: harness.handler_errors, timeout=STEP)
    (err,) = harness.handler_errors
    assert isinstance(err, Forbidden) and err.message == "Forbidden: bot was blocked by the user"
    assert fake.texts(USER) == ["echo: first"]


async def test_rate_recording(harness: Harness) -> None:
    fake, bot = harness.fake, harness.app.bot
    fake.add_chat(7)
    fake.add_chat(8)
    for _ in range(3):
        await bot.send_message(7, "tick")
    await bot.send_message(8, "tock")
    assert fake.max_rate(7) == 3
    assert fake.max_rate(8) == 1
    assert fake.max_rate() == 4
    assert fake.max_rate_by_chat() == {7: 3, 8: 1}


async def test_real_api_errors(harness: Harness) -> None:
    fake, bot = harness.fake, harness.app.bot
    with pytest.raises(BadRequest, match="(?i)chat not found"):
        await bot.send_message(99, "nobody wrote from here")
    fake.user_text(USER, "/start")
    reply = await fake.wait_for_text(USER, "Welcome", timeout=STEP)
    with pytest.raises(BadRequest, match="(?i)message is not modified"):
        await bot.edit_message_text("Welcome! Ready?", USER, reply.message_id,
                                    reply_markup=InlineKeyboardMarkup.de_json(reply.message["reply_markup"], None))
    with pytest.raises(BadRequest, match="(?i)message to edit not found"):
        await bot.edit_message_text("x", USER, 999)
    with pytest.raises(BadRequest, match="(?i)can't parse entities"):
        await bot.send_message(USER, "<b>unclosed", parse_mode="HTML")
    sent = await bot.send_message(USER, "  <b>bold</b> &amp; plain  ", parse_mode="HTML")
    assert sent.text == "bold & plain" and sent.entities[0].type == "bold"
    fake.fail_next("sendMessage", 400, description="Bad Request: message text is empty")
    with pytest.raises(BadRequest, match="(?i)text is empty"):
        await bot.send_message(USER, "x")
    fake.fail_next("sendMessage", 403, chat_id=USER)
    with pytest.raises(Forbidden, match="blocked by the user"):
        await bot.send_message(USER, "x")
    await bot.send_message(USER, "fine again")  # a fault is used up after `times` calls


async def test_document_and_group(harness: Harness) -> None:
    fake, bot = harness.fake, harness.app.bot
    upd = fake.group_text(USER, "/start@standin_bot")
    chat_id = upd.message.chat.id
    reply = await fake.wait_for_text(chat_id, "Welcome", timeout=STEP)
    assert reply.message["chat"]["type"] == "group"
    msg = await bot.send_document(chat_id, b'{"a": 1}', filename="export.json", caption="data")
    assert msg.document.file_name == "export.json" and msg.document.mime_type == "application/json"
    call = fake.calls_of("sendDocument", chat_id)[0]
    assert call.params["document"].data == b'{"a": 1}'
    f = await bot.get_file(msg.document.file_id)
    assert bytes(await f.download_as_bytearray()) == b'{"a": 1}'


def _gif() -> bytes:
    """A two-frame GIF, 3x2 pixels."""
    import io

    from PIL import Image
    frames = [Image.new("P", (3, 2), color) for color in (1, 2)]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], loop=0)
    return out.getvalue()


async def test_animation_upload_then_by_file_id(harness: Harness) -> None:
    fake, bot = harness.fake, harness.app.bot
    fake.add_chat(USER)
    gif = _gif()
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("How?", callback_data="how")]])
    first = await bot.send_animation(USER, gif, caption="Squat", filename="squat.gif",
                                     reply_markup=keyboard)
    assert first.animation.file_id and (first.animation.width, first.animation.height) == (3, 2)
    assert first.caption == "Squat" and first.document.file_id == first.animation.file_id
    upload = fake.calls_of("sendAnimation", USER)[0].params["animation"]
    assert upload.data == gif and upload.filename == "squat.gif"
    again = await bot.send_animation(USER, first.animation.file_id, caption="Squat again")
    assert again.animation.file_id == first.animation.file_id
    assert fake.calls_of("sendAnimation", USER)[1].params["animation"] == first.animation.file_id
    assert fake.texts(USER) == ["Squat", "Squat again"]
    assert fake.keyboard(USER, first.message_id) == [[("How?", "how")]]
    f = await bot.get_file(first.animation.file_id)
    assert bytes(await f.download_as_bytearray()) == gif
    # What the real API refuses: an unknown id, a photo's id, bytes that are no animation.
    photo = await bot.send_photo(USER, PNG)
    for wrong, refusal in (("NoSuchFileId", "wrong file identifier"),
                           (photo.photo[-1].file_id, "can't use file of type Photo"),
                           (PNG, "wrong type of the web page content")):
        with pytest.raises(BadRequest, match=f"(?i){refusal}"):
            await bot.send_animation(USER, wrong)


async def test_long_polling_offset_and_auth() -> None:
    async with FakeTelegram() as fake, aiohttp.ClientSession() as http:
        url = f"{fake.base_url}{fake.token}/getUpdates"
        t0 = time.monotonic()
        async with http.post(url, json={"timeout": 0.3}) as resp:
            assert resp.content_type == "application/json"
            assert await resp.json() == {"ok": True, "result": []}
        assert 0.25 <= time.monotonic() - t0 < 2

        async def poll() -> dict:
            async with http.post(url, data={"timeout": "5"}) as resp:
                return await resp.json()
        t0 = time.monotonic()
        task = asyncio.create_task(poll())
        await asyncio.sleep(0.1)
        upd = fake.user_text(USER, "hi")
        body = await asyncio.wait_for(task, STEP)
        assert time.monotonic() - t0 < 2  # returned early
        assert [u["update_id"] for u in body["result"]] == [upd.update_id]
        assert Update.de_json(body["result"][0], None).message.text == "hi"
        assert fake.pending_updates == 1  # delivered, not yet confirmed
        async with http.post(url, json={"offset": upd.update_id + 1, "timeout": 0}) as resp:
            assert (await resp.json())["result"] == []
        assert fake.pending_updates == 0

        async with http.post(f"{fake.base_url}123:wrong/getMe") as resp:
            assert resp.status == 401
            assert await resp.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}
        async with http.post(f"{fake.base_url}{fake.token}/sendSticker", data={"chat_id": "1"}) as resp:
            assert resp.status == 404 and (await resp.json())["ok"] is False
        assert fake.unknown == ["sendSticker"]

    async with FakeTelegram() as fake:
        request = HTTPXRequest()
        bot = telegram.Bot("123:wrong", base_url=fake.base_url, request=request)
        with pytest.raises(InvalidToken):
            await asyncio.wait_for(bot.get_me(), STEP)
        await request.shutdown()  # bot.shutdown() is a no-op on a bot that never initialized


async def test_stop_releases_a_pending_long_poll() -> None:
    fake = await FakeTelegram().start()
    async with aiohttp.ClientSession() as http:
        task = asyncio.create_task(http.post(f"{fake.base_url}{fake.token}/getUpdates", json={"timeout": 30}))
        await asyncio.sleep(0.1)
        t0 = time.monotonic()
        await asyncio.wait_for(fake.stop(), STEP)
        assert time.monotonic() - t0 < 2
        resp = await asyncio.wait_for(task, STEP)
        resp.release()
