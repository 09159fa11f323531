"""The coach on Telegram: the real python-telegram-bot client over 127.0.0.1 against the stand-in
Bot API server (tests/standins/telegram_api.py), started the way `python bot.py` starts it."""
from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
import struct
import sys
import warnings
import zlib
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

import adapters.telegram as tg
from adapters.telegram import TelegramAdapter, keyboard, split_text
from adapters.cli import main, platform_modules
from bot.bootstrap import build
from bot.data.platform_files import PlatformFiles
from bot.errors import ConfigError
from bot.coach import Coach
from bot.delivery import Delivery
from bot.events import UserKey
from bot.replies import Attachment, Choice, Reply

import scripts
from harness import running, running_with_player
from player_world import Page, launch_data
from bot.workout.timers import phases_for
from bot.workout.session import todays_plan

try:  # tests/ is on sys.path (no tests/__init__.py, pytest's default "prepend" import mode)
    from standins.telegram_api import Call, FakeTelegram, UploadedFile
except ImportError:  # tests is a package
    from tests.standins.telegram_api import Call, FakeTelegram, UploadedFile

# PTB 22 warns from inside its own RetryAfter that retry_after becomes a timedelta some day.
pytestmark = pytest.mark.filterwarnings(
    "ignore:.*retry_after.*:telegram.warnings.PTBDeprecationWarning")

ROOT = Path(__file__).resolve().parent.parent
ANA, BEN = 4242, 5353
STEP = 10.0  # generous bound on every wait
MENU = ["start", "session", "pain", "progress", "settings", "help", "stop"]


def _png(width: int = 4, height: int = 3) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc
    raw = b"".join(b"\x00" + b"\x00\x80\xff" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw))
            + chunk(b"IEND", b""))


class Telegram:
    """The stand-in server, the coach and its Telegram adapter, running."""

    def __init__(self, fake: FakeTelegram, coach: Coach, adapter: TelegramAdapter) -> None:
        self.fake = fake
        self.coach = coach
        self.adapter = adapter
        self.pressed: list[str] = []  # every callback query id a person made
        self.replies: list[tuple[UserKey, Reply]] = []  # every Reply the core handed over
        send = adapter.send

        async def recorded(user: UserKey, reply: Reply, context: object | None) -> None:
            self.replies.append((user, reply))
            await send(user, reply, context)

        adapter.send = recorded

    def key(self, user_id: int) -> UserKey:
        return UserKey("telegram", str(user_id))

    async def says(self, user_id: int, text: str, expect: str) -> Call:
        """The person types `text`; returns the first message from then on containing `expect`."""
        since = len(self.fake.calls)
        self.fake.user_text(user_id, text)
        return await self.fake.wait_for_text(user_id, expect, timeout=STEP, since=since)

    async def presses(self, user_id: int, label: str, expect: str) -> Call:
        """The person taps the newest button labelled `label`."""
        since = len(self.fake.calls)
        self.pressed.append(self.fake.press(user_id, label))
        return await self.fake.wait_for_text(user_id, expect, timeout=STEP, since=since)

    async def onboards(self, user_id: int) -> None:
        """The shared onboarding script: /start, buttons, a time and a city typed in."""
        for step in scripts.onboarding():
            if step.gesture == "press":
                await self.presses(user_id, step.text, step.expect)
            else:
                await self.says(user_id, step.text, step.expect)

    async def trains(self, user_id: int) -> None:
        """"Start session" and the pain right now (scripts.session), Ready on today's plan and
        on every exercise card, then Done on every paced set (a new message, or its live
        message edited) until the pain question."""
        mark = len(self.fake.calls)
        for step in scripts.session():
            if step.gesture == "press":
                await self.presses(user_id, step.text, step.expect)
            else:
                await self.says(user_id, step.text, step.expect)
        while True:
            call = await self.fake.wait_for(
                lambda c: c.ok and c.chat_id == user_id
                and c.method in ("sendMessage", "editMessageText")
                and (_has(c, "Ready") or 'Say "done"' in c.text
                     or "How is your back now" in c.text),
                timeout=STEP * 3, since=mark)
            mark = self.fake.calls.index(call) + 1
            if "How is your back now" in call.text:
                return
            if _has(call, "Ready"):  # harmless if the card has started by itself
                self.pressed.append(self.fake.user_press(user_id, call.message_id,
                                                         _data(call, "Ready")))
                continue
            await self.coach.settled(self.key(user_id))
            self.pressed.append(self.fake.user_press(user_id, call.message_id,
                                                     _data(call, "Done")))


def _has(call: Call, label: str) -> bool:
    return any(text == label for row in call.keyboard or () for text, _ in row)


def _data(call: Call, label: str) -> str:
    return next(data for row in call.keyboard for text, data in row if text == label)


@contextlib.asynccontextmanager
async def coach_on_telegram(tmp_path: Path, time_scale: float = 600) -> AsyncIterator[Telegram]:
    """What `python bot.py telegram` does, with the stand-in's URL."""
    async with FakeTelegram() as fake:
        make = lambda coach: [TelegramAdapter(coach, fake.token, fake.base_url,  # noqa: E731
                                              poll_timeout=1)]
        async with running(tmp_path, make, time_scale) as (coach, (adapter,)):
            harness = Telegram(fake, coach, adapter)
            yield harness
        assert fake.unknown == [], f"methods the stand-in does not know: {fake.unknown}"
        assert all(fake.answered(cq) for cq in harness.pressed), "a button press was left spinning"


# -- the whole conversation --------------------------------------------------------------------

async def test_new_person_onboards_trains_and_reports_pain_by_buttons(tmp_path):
    async with coach_on_telegram(tmp_path, time_scale=600) as t:
        fake = t.fake
        commands = next(iter(fake.commands.values()))
        assert [c["command"] for c in commands] == MENU
        assert all(c["description"] for c in commands)

        await t.onboards(ANA)
        user = t.coach.services.store.find_user(t.key(ANA))
        assert user.name == "Ana" and user.baseline_pain == 3 and user.timezone == "Europe/Berlin"

        await t.trains(ANA)
        texts = fake.texts(ANA)
        for n in range(1, 8):
            assert any(text.startswith(f"{n}/7 · ") for text in texts), n
        assert any(text.startswith("Hold 10 s · ") and "rep 4/10" in text for text in texts)
        # the live countdown edits its cue in place, buttons kept (identical edits are fine);
        # at the end of an exercise its live message says so, without buttons
        edits = fake.calls_of("editMessageText", ANA)
        assert any(" s left" in c.text for c in edits if c.ok)
        assert all(c.keyboard for c in edits if c.ok and " s left" in c.text)
        assert any(c.text.startswith("✓ Side plank done") and not c.keyboard for c in edits)
        assert all(c.ok or "not modified" in (c.description or "") for c in edits)
        cues = {c.message_id for c in fake.calls_of("sendMessage", ANA)}
        assert all(c.message_id in cues for c in edits)
        # the pain question: 0-10 in two rows, 6 + 5
        assert [len(row) for row in fake.keyboard(ANA)] == [6, 5]
        await t.presses(ANA, "2", "Noted: pain 2/10")

        mark = len(t.replies)
        await t.says(ANA, "progress", "Your progress")
        await t.coach.settled(t.key(ANA))
        images = [reply.image.data for _, reply in t.replies[mark:] if reply.image]
        photos = [c.params["photo"].data for c in fake.calls_of("sendPhoto", ANA, ok=True)]
        assert photos == images  # a chart, when the coach draws one, goes as a photo

        user = t.coach.services.store.find_user(t.key(ANA))
        exported = t.coach.services.store.export_user(user)
        assert [w["status"] for w in exported["workouts"]] == ["done"]
        assert [(p["score"], p["kind"]) for p in exported["pain_reports"]] == [(3, "before"),
                                                                             (2, "after")]
        assert not fake.calls_of("sendMessage", ok=False)
    # Once everyone is answered, no per-chat or per-person lock is kept (bot/delivery.py, PersonLocks).
    assert len(t.adapter._chat_locks) == 0 and len(t.coach._locks) == 0
    assert len(t.coach.services.delivery._locks) == 0


# -- the workout player, opened as a Mini App ---------------------------------------------------

PLAYER_ENV = {"BACKCOACH_PUBLIC_URL": "https://coach.example.org", "BACKCOACH_PLAYER_PORT": "0",
              "BACKCOACH_PLAYER_SECRET": "a-secret-for-the-telegram-tests"}


async def test_the_player_opens_as_a_mini_app_and_its_end_brings_the_pain_question(tmp_path):
    """BACKCOACH_PUBLIC_URL set: "start session" offers the player as a web_app button. The page
    (driven through its API with the launch data Telegram signs for Ana) runs the whole workout;
    the chat then asks about pain. Launch data that is not genuine, or not Ana's, is refused."""
    async with FakeTelegram() as fake, aiohttp.ClientSession() as http:
        make = lambda coach: [TelegramAdapter(coach, fake.token, fake.base_url,  # noqa: E731
                                              poll_timeout=1)]
        async with running_with_player(tmp_path, make, PLAYER_ENV) as (app, (adapter,), player):
            t = Telegram(fake, app.coach, adapter)
            await t.onboards(ANA)
            started = len(fake.calls)
            offer = await t.says(ANA, "start session", "Do it in the player")  # the page asks
            assert "Before we start" not in offer.message["text"]  # the pain right now
            buttons = [button for row in offer.message["reply_markup"]["inline_keyboard"]
                       for button in row]
            assert buttons == [
                {"text": "Open the player",
                 "web_app": {"url": "https://coach.example.org/player/"}},
                {"text": "Guide me here in chat", "callback_data": "in_chat"}]
            assert player.url.startswith("http://127.0.0.1:")  # behind the https proxy

            opened_by_telegram = f"tma {launch_data(ANA, bot_token=fake.token)}"
            page = Page(http, player.url, opened_by_telegram)
            mark = len(fake.calls)
            plan = await page.does_the_rest()
            assert [exercise["name"] for exercise in plan["exercises"]][:2] == [
                "Half-kneeling hip flexor stretch", "Hamstring stretch"]
            ended = await fake.wait_for_text(ANA, "How is your back now", timeout=STEP,
                                             since=mark)
            during = [call.method for call in fake.calls[mark:]]
            assert during == ["sendMessage"]  # what was done, and the question, in one message
            assert ended.message["text"].startswith("That's all seven.")
            await t.presses(ANA, "2", "Noted: pain 2/10")
            bot_api = [call.method for call in fake.calls[started:] if call.method != "getUpdates"]
            assert bot_api == ["sendMessage", "sendMessage", "answerCallbackQuery",
                               "sendMessage"]  # the whole workout, its pain answer included
            user = app.services.store.find_user(t.key(ANA))
            [workout] = app.services.store.export_user(user)["workouts"]
            assert workout["status"] == "done" and workout["pain_after"] == 2
            assert len(workout["exercises"]) == 7

            await t.says(ANA, "start session", "Do it in the player")  # the next day's
            for forged in (launch_data(ANA, bot_token="999:another-bot-entirely"),
                           launch_data(BEN, bot_token=fake.token).replace(str(BEN), str(ANA)),
                           launch_data(ANA, bot_token=fake.token, auth_date=1_700_000_000)):
                refused = Page(http, player.url, f"tma {forged}")
                assert await refused.opens() == (401, {
                    "error": "auth", "message": app.services.texts("player.error_auth")})
            assert app.services.store.find_user(t.key(ANA)).state == "player"
        assert fake.unknown == []
        assert not fake.calls_of("sendMessage", ok=False)


def test_a_player_link_outside_a_private_chat_is_a_plain_url_button():
    link = Choice("Open the player", url="https://coach.example.org/player/", web_app=True)
    [[mini_app]] = keyboard((link,), True).inline_keyboard
    [[plain]] = keyboard((link,), False).inline_keyboard
    assert (mini_app.web_app.url, mini_app.url) == ("https://coach.example.org/player/", None)
    assert (plain.url, plain.web_app) == ("https://coach.example.org/player/", None)


# -- replies through the adapter: photos, files, long texts, slots -----------------------------

async def test_a_picture_goes_as_a_photo_and_files_as_documents(tmp_path):
    async with coach_on_telegram(tmp_path) as t:
        fake = t.fake
        fake.add_chat(ANA)
        chart = Attachment("progress.png", _png(), "image/png")
        export = Attachment("my-data.json", b'{"pain": [3, 2]}', "application/json")
        buttons = (Choice("Start session", "session"), Choice("Help", "help"))
        reply = Reply("Your week", buttons, image=chart, files=(export,))
        await t.adapter.send(t.key(ANA), reply, None)
        photo, = fake.calls_of("sendPhoto", ANA, ok=True)
        assert photo.params["photo"].data == chart.data and photo.text == "Your week"
        assert photo.params["photo"].filename == "progress.png"
        assert not photo.keyboard  # the buttons go on the last message
        document, = fake.calls_of("sendDocument", ANA, ok=True)
        assert document.params["document"].data == export.data
        assert document.message["document"]["file_name"] == "my-data.json"
        assert document.keyboard == [[("Start session", "session"), ("Help", "help")]]

        long_text = "A chart needs words. " * 80  # too long for a caption: photo, then text
        await t.adapter.send(t.key(ANA), Reply(long_text, image=chart), None)
        assert fake.calls_of("sendPhoto", ANA, ok=True)[-1].text is None
        assert fake.texts(ANA)[-1] == long_text.strip()


async def test_a_retried_reply_does_not_repeat_the_parts_that_went_out(tmp_path):
    async with coach_on_telegram(tmp_path) as t:
        fake = t.fake
        fake.add_chat(ANA)
        chart = Attachment("progress.png", _png(), "image/png")
        fake.fail_next("sendMessage", 502)  # the photo goes out, the text after it fails once
        reply = Reply("Your week, in words. " * 80, (Choice("OK", "ok"),), image=chart)
        assert await t.coach.services.delivery.send(t.key(ANA), reply)
        assert len(fake.calls_of("sendPhoto", ANA)) == 1
        assert [c.status for c in fake.calls_of("sendMessage", ANA)] == [502, 200]
        assert fake.keyboard(ANA) == [[("OK", "ok")]]


@pytest.mark.parametrize("status, times, why", [
    (400, 1, "refused, so never retried"),
    (502, Delivery.MAX_TRIES, "the core gave up"),
])
async def test_a_send_that_ended_leaves_nothing_behind_for_the_next_one(tmp_path, status, times,
                                                                       why):
    """Parts already out are skipped only by the retries of that one send: once it has ended,
    sending the same Reply object again starts from its first part."""
    async with coach_on_telegram(tmp_path) as t:
        fake, key = t.fake, t.key(ANA)
        fake.add_chat(ANA)
        reply = Reply("Your week, in words. " * 80, image=Attachment("w.png", _png(), "image/png"))
        fake.fail_next("sendMessage", status, times=times,
                       description="Bad Request: message is too long" if status == 400 else None)
        await t.coach.services.delivery.send(key, reply)  # the photo goes out, the text does not
        assert len(fake.calls_of("sendPhoto", ANA, ok=True)) == 1
        assert not fake.calls_of("sendMessage", ANA, ok=True)
        assert await t.coach.services.delivery.send(key, reply), why
        assert len(fake.calls_of("sendPhoto", ANA, ok=True)) == 2, why
        assert fake.texts(ANA)[-1] == reply.text.strip()
        assert not t.adapter._resume.open, "a finished send left its progress behind"


async def test_long_texts_are_split_with_the_keyboard_on_the_last_part(tmp_path):
    async with coach_on_telegram(tmp_path) as t:
        fake = t.fake
        fake.add_chat(ANA)
        paragraphs = [f"Paragraph {n}: " + ("steady breathing, long spine. " * 20).strip()
                  for n in range(12)]
        text = "\n\n".join(paragraphs)
        assert len(text) > 4096
        await t.adapter.send(t.key(ANA), Reply(text, (Choice("OK", "ok"),)), None)
        sent = fake.calls_of("sendMessage", ANA, ok=True)
        assert len(sent) == 2 and all(len(c.text) <= 4096 for c in sent)
        assert "\n\n".join(c.text for c in sent) == text
        assert not sent[0].keyboard and sent[1].keyboard == [[("OK", "ok")]]


# -- the exercises' animations ------------------------------------------------------------------

async def test_each_exercise_comes_as_one_animation_uploaded_once_then_sent_by_file_id(
        tmp_path, drawn_pictures):
    async with coach_on_telegram(tmp_path) as t:
        fake, exercises = t.fake, t.coach.services.programme.exercises
        await t.onboards(ANA)
        mark = len(fake.calls)
        await t.trains(ANA)
        await t.presses(ANA, "2", "Noted: pain 2/10")
        first = [c for c in fake.calls_of("sendAnimation", ANA) if fake.calls.index(c) >= mark]
        assert len(first) == 7 and all(c.ok for c in first)
        assert [c.params["animation"].filename for c in first] == \
            [f"{e.id}-{e.stages[0].id}.gif" for e in exercises]  # uploaded: the bytes went
        assert all(c.params["animation"].data.startswith(b"GIF89a") for c in first)
        for number, call in enumerate(first, 1):  # the short caption under each animation ...
            name = exercises[number - 1].name
            assert call.text.startswith(f"{number}/7 · {name}")
        texts = fake.texts(ANA)  # ... and, new to every stage, all the instructions after it
        assert sum("How:\n" in text for text in texts) == 7
        file_ids = [c.message["animation"]["file_id"] for c in first]

        mark = len(fake.calls)
        await t.trains(ANA)
        second = [c for c in fake.calls_of("sendAnimation", ANA) if fake.calls.index(c) >= mark]
        assert [c.params["animation"] for c in second] == file_ids  # no bytes this time
        assert all(c.ok and c.message["animation"]["file_id"] in file_ids for c in second)
        assert all("How exactly?" in [label for row in c.keyboard for label, _ in row]
                   for c in second)  # the short card: the full text one tap away
        assert not any("How:\n" in text for text in fake.texts(ANA)[
            len(texts):])

    # Kept in the database under the bot's public number: a restart sends by file_id too.
    reopened = build(tmp_path / "coach.db", 600)
    try:
        kept = PlatformFiles(reopened.services.store, "telegram", fake.token.split(":")[0])
        keys = [t.coach.services.pictures.ready(e.id, 0).key for e in exercises]
        assert [kept.find(key) for key in keys] == file_ids
    finally:
        reopened.close()


def _gif() -> bytes:
    import io

    from PIL import Image
    frames = [Image.new("P", (8, 6), color) for color in (1, 2)]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], loop=0)
    return out.getvalue()


async def test_a_file_id_telegram_no_longer_knows_is_forgotten_and_the_file_uploaded_again(
        tmp_path):
    async with coach_on_telegram(tmp_path) as t:
        fake = t.fake
        fake.add_chat(ANA)
        picture = Attachment("squat-bodyweight.gif", _gif(), "image/gif", key="a1" * 12,
                             animated=True)
        for _ in range(2):
            await t.adapter.send(t.key(ANA), Reply("2/7 · Squat", image=picture), None)
        upload, again = fake.calls_of("sendAnimation", ANA)
        assert isinstance(upload.params["animation"], UploadedFile)
        assert again.params["animation"] == upload.message["animation"]["file_id"]
        fake.files.clear()  # Telegram has forgotten it (or another bot's id was kept)
        await t.adapter.send(t.key(ANA), Reply("2/7 · Squat", image=picture), None)
        refused, uploaded = fake.calls_of("sendAnimation", ANA)[2:]
        assert not refused.ok and "wrong file identifier" in refused.description
        assert uploaded.ok and isinstance(uploaded.params["animation"], UploadedFile)
        assert uploaded.text == "2/7 · Squat"
        assert t.adapter.uploaded.find(picture.key) == uploaded.message["animation"]["file_id"]
        assert fake.texts(ANA) == ["2/7 · Squat"] * 3  # the person saw each once, nothing more


def test_split_text_respects_the_limit_in_utf16_units():
    emoji = "🙂" * 3000  # 2 UTF-16 units each
    parts = split_text(emoji)
    assert [len(p.encode("utf-16-le")) // 2 for p in parts] == [4096, 1904]
    assert "".join(parts) == emoji
    assert split_text("short") == ["short"] and split_text("  ") == []


async def test_slot_edits_and_identical_edits_are_fine(tmp_path):
    async with coach_on_telegram(tmp_path) as t:
        fake, key = t.fake, t.key(ANA)
        fake.add_chat(ANA)
        controls = (Choice("Pause", "pause@w1"), Choice("Stop", "stop@w1"))
        await t.adapter.send(key, Reply("Hold 10 s", controls, slot="timer", kind="cue"), None)
        tick = Reply("Hold · 9 s left", controls, slot="timer", edit=True, kind="countdown")
        await t.adapter.send(key, tick, None)
        await t.adapter.send(key, tick, None)  # "message is not modified": not an error
        edit = fake.calls_of("editMessageText", ANA, ok=True)[0]
        assert edit.message_id == fake.calls_of("sendMessage", ANA)[0].message_id
        assert fake.keyboard(ANA) == [[("Pause", "pause@w1"), ("Stop", "stop@w1")]]
        assert fake.texts(ANA) == ["Hold 10 s", "Hold · 9 s left"]
        # a countdown with no cue to edit is dropped, not sent as a new message
        orphan = Reply("Rest · 2 s left", slot="other", edit=True, kind="countdown")
        await t.adapter.send(key, orphan, None)
        assert len(fake.calls_of("sendMessage", ANA)) == 1


def test_keyboards_fit_a_phone_and_never_carry_long_payloads(caplog):
    pain = keyboard(tuple(Choice(str(n), f"pain:{n}@after") for n in range(11)))
    assert [len(row) for row in pain.inline_keyboard] == [6, 5]
    controls = keyboard(tuple(Choice(label, label.lower()) for label in
                              ("Pause", "+10 s", "Skip rest", "Skip exercise", "Stop")))
    assert [len(row) for row in controls.inline_keyboard] == [3, 2]
    long_labels = keyboard((Choice("Resume from Hamstring stretch", "a"),
                            Choice("Finish and report pain", "b")))
    assert [len(row) for row in long_labels.inline_keyboard] == [1, 1]
    yes_no = keyboard((Choice("Yes", "yes@s0"), Choice("No", "no@s0")))
    assert [len(row) for row in yes_no.inline_keyboard] == [2]
    with caplog.at_level(logging.WARNING, logger="adapters.telegram"):
        kept = keyboard((Choice("Fine", "ok"), Choice("Too long", "x" * 65)))
    assert [[b.callback_data for b in row] for row in kept.inline_keyboard] == [["ok"]]
    assert "65 bytes" in caplog.text
    assert keyboard(()) is None


# -- faults ------------------------------------------------------------------------------------

async def test_a_429_is_waited_out_then_the_message_arrives(tmp_path):
    async with coach_on_telegram(tmp_path, time_scale=1) as t:
        fake = t.fake
        fake.fail_next("sendMessage", 429, retry_after=1)
        reply = await t.says(ANA, "/start", "not: a doctor")
        refused, delivered = fake.calls_of("sendMessage", ANA)
        assert refused.status == 429 and delivered is reply
        assert reply.time - refused.time >= 1.0
        assert fake.texts(ANA) == [reply.text]  # once, not twice


async def test_a_blocked_person_gets_nothing_more_and_their_reminders_stop(tmp_path):
    async with coach_on_telegram(tmp_path) as t:
        fake, store = t.fake, t.coach.services.store
        await t.onboards(ANA)
        assert store.find_user(t.key(ANA)).reminders_on == 1
        delivered = len(fake.sent_to(ANA))
        fake.block(ANA)
        fake.user_text(ANA, "progress")
        await fake.wait_for_call("sendMessage", ANA, ok=False, timeout=STEP)
        await fake.wait_until(lambda: store.find_user(t.key(ANA)).reminders_on == 0, timeout=STEP)
        row = store.db.execute("SELECT unreachable_reason FROM users WHERE id = ?",
                               [store.find_user(t.key(ANA)).id]).fetchone()
        assert "blocked" in row[0]
        assert await t.coach.services.delivery.send(t.key(ANA), Reply("Time to train!")) is False
        assert len(fake.sent_to(ANA)) == delivered
        assert all(c.status == 403 for c in fake.calls[-2:] if c.method == "sendMessage")


async def test_a_stale_button_is_answered_and_the_current_question_shown(tmp_path):
    async with coach_on_telegram(tmp_path) as t:
        fake = t.fake
        await t.says(ANA, "/start", "not: a doctor")
        first = await t.presses(ANA, "Got it, let's go", "question 1 of 11")
        await t.presses(ANA, "No", "question 2 of 11")
        since = len(fake.calls)
        stale = fake.user_press(ANA, first.message_id, _data(first, "No"))
        t.pressed.append(stale)
        note = await fake.wait_for_text(ANA, "That question has passed", timeout=STEP, since=since)
        answer = next(c for c in fake.calls[since:] if c.method == "answerCallbackQuery")
        assert answer.params["callback_query_id"] == stale and answer.ok
        assert fake.calls.index(answer) < fake.calls.index(note)  # answered before the coach spoke
        current = await fake.wait_for_text(ANA, "question 2 of 11", timeout=STEP, since=since)
        assert current.keyboard == [[("Yes", "yes@s1"), ("No", "no@s1"),
                                     ("Not sure", "not_sure@s1")]]
        assert not any("question 3 of 11" in text for text in fake.texts(ANA))


async def test_in_a_group_the_coach_asks_for_a_private_chat(tmp_path):
    async with coach_on_telegram(tmp_path) as t:
        fake = t.fake
        for command in ("/start@standin_bot", "/session@standin_bot", "/pain@standin_bot 6"):
            since = len(fake.calls)
            update = fake.group_text(BEN, command)
            group = update.message.chat.id
            note = await fake.wait_for_text(group, "private chat", timeout=STEP, since=since)
            assert note.message["reply_to_message"]["message_id"] == update.message.message_id
        fake.group_text(BEN, "/start@some_other_bot")
        fake.user_text(ANA, "/start")  # a private chat goes on meanwhile
        await fake.wait_for_text(ANA, "not: a doctor", timeout=STEP)
        assert len(fake.texts(group)) == 3 and not fake.sent_to(BEN)
        assert not t.coach.workout_running(t.key(BEN))
        ben = t.coach.services.store.find_user(t.key(BEN))
        assert ben is None or (ben.state == "new" and not t.coach.services.store.pain_reports(ben.id))


async def test_in_a_group_only_what_is_addressed_to_the_bot_reaches_the_core_not_private(
        tmp_path):
    """Bystanders' talk in a group never reaches the core (no profile, no trace); a command for
    this bot, or a press of its button, does, marked not private."""
    async with coach_on_telegram(tmp_path) as t:
        fake, store = t.fake, t.coach.services.store
        events = []
        handle = t.coach.handle

        async def recorded(event, context=None, name=""):
            events.append(event)
            await handle(event, context, name)

        t.coach.handle = recorded
        group = -4001234567
        for text in ("my back hurts, pain 7", "@standin_bot my back hurts", "/start@other_bot",
                     "start session"):
            fake.group_text(BEN, text, group)
        fake.add_chat(group, "group")
        await t.adapter.send(t.key(BEN), Reply("Buttons", (Choice("Help", "help"),)),
                             tg.Origin(group))
        since = len(fake.calls)
        fake.group_text(BEN, "/pain@standin_bot 6", group)
        await fake.wait_for_text(group, "private chat", timeout=STEP, since=since)
        since = len(fake.calls)
        t.pressed.append(fake.press(BEN, "Help", group))
        await fake.wait_for_text(group, "private chat", timeout=STEP, since=since)
        assert [(type(e).__name__, e.private) for e in events] == [("Command", False),
                                                                  ("Picked", False)]
        assert store.find_user(t.key(BEN)) is None


async def test_the_token_never_reaches_the_logs(tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    for name in ("adapters.telegram", "httpx", "httpcore", "telegram"):
        caplog.set_level(logging.DEBUG, logger=name)
    async with coach_on_telegram(tmp_path) as t:
        token = t.fake.token
        await t.says(ANA, "/start", "not: a doctor")
        await t.presses(ANA, "Got it, let's go", "question 1 of 11")
        t.fake.fail_next("sendMessage", 500)
        await t.presses(ANA, "No", "question 2 of 11")  # a 5xx, retried: logged with its reason
    records = [r for r in caplog.records
               if r.name.startswith(("httpx", "telegram", "adapters", "bot"))]
    assert any(r.name == "httpx" and "HTTP Request" in r.getMessage() for r in records)
    assert any("<telegram-token>" in r.getMessage() for r in records)  # redacted, not dropped
    assert any("try 1" in r.getMessage() for r in records)
    assert token not in caplog.text
    assert all(token not in r.getMessage() for r in caplog.records)


async def test_a_wrong_token_is_a_plain_config_error_without_the_token(tmp_path):
    async with FakeTelegram() as fake:
        coach = build(tmp_path / "coach.db")
        wrong = "987654321:ThisIsNotTheRightTokenAtAll"
        adapter = TelegramAdapter(coach, wrong, fake.base_url)
        with pytest.raises(ConfigError) as raised:
            await adapter.start()
        assert wrong not in str(raised.value) and "TELEGRAM_TOKEN" in str(raised.value)
        coach.services.store.close()


def test_missing_token_is_a_config_error_and_the_subcommand_exists(monkeypatch, tmp_path):
    assert platform_modules()["telegram"] is tg
    monkeypatch.delenv("TELEGRAM_TOKEN", raising=False)
    coach = build(tmp_path / "coach.db")
    with pytest.raises(ConfigError, match="TELEGRAM_TOKEN is not set.*BotFather"):
        tg.create(coach, None)
    token = "1:" + "abc" * 10  # the shortest a token can be
    monkeypatch.setenv("TELEGRAM_TOKEN", token)
    monkeypatch.setenv("TELEGRAM_API_BASE_URL", "http://127.0.0.1:9/bot")
    adapter = tg.create(coach, None)
    assert adapter.app.bot.base_url == f"http://127.0.0.1:9/bot{token}"
    assert adapter.app.bot.base_file_url == f"http://127.0.0.1:9/file/bot{token}"
    with warnings.catch_warnings():  # reading job_queue when there is none warns
        warnings.simplefilter("ignore")
        assert adapter.app.job_queue is None and adapter.webhook is None
    coach.services.store.close()


def test_bot_py_telegram_without_a_token_says_so_plainly(monkeypatch, tmp_path, capsys):
    monkeypatch.delenv("TELEGRAM_TOKEN", raising=False)
    monkeypatch.chdir(tmp_path)  # no .env here
    assert main(["telegram", "--db", str(tmp_path / "coach.db")]) == 2
    err = capsys.readouterr().err
    assert "Cannot start: TELEGRAM_TOKEN is not set" in err and "Traceback" not in err


async def test_bot_py_runs_the_telegram_bot_until_terminated(tmp_path):
    """`python bot.py` with TELEGRAM_TOKEN set and no subcommand: the Telegram bot, here pointed
    at the stand-in; SIGTERM ends it cleanly."""
    async with FakeTelegram() as fake:
        env = {**os.environ, "TELEGRAM_TOKEN": fake.token, "TELEGRAM_API_BASE_URL": fake.base_url,
               "LOG_LEVEL": "INFO"}
        env.pop("DISCORD_TOKEN", None)
        process = await asyncio.create_subprocess_exec(
            sys.executable, "bot.py", "--db", str(tmp_path / "coach.db"), "--time-scale", "600",
            cwd=ROOT, env=env, stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        try:
            await fake.wait_for_call("setMyCommands", timeout=STEP * 3)
            fake.user_text(ANA, "/start")
            await fake.wait_for_text(ANA, "not: a doctor", timeout=STEP)
        finally:
            process.terminate()
            out, err = await asyncio.wait_for(process.communicate(), STEP)
        assert process.returncode == 0, err.decode()
        assert b"Traceback" not in err and fake.token.encode() not in out + err
        assert b"HTTP Request" not in err  # httpx's request lines stay quiet
        assert fake.unknown == []


# -- pacing ------------------------------------------------------------------------------------

# A whole workout (about 1,300 s of clock time with its warm-up) in about 20 s: a clock second
# is 17 ms, far above the loopback jitter in when a request reaches the stand-in.
RATE_SCALE = 60


async def test_a_workout_never_sends_more_than_one_message_a_second_to_a_chat(tmp_path,
                                                                            drawn_pictures):
    """Pictures included: each card is an animation, the first time followed by its text."""
    async with coach_on_telegram(tmp_path, time_scale=RATE_SCALE) as t:
        fake = t.fake
        await t.onboards(ANA)
        start = len(fake.calls)
        user = t.coach.services.store.find_user(t.key(ANA))
        programme = t.coach.services.programme
        plans = [stage.plan for _, stage in todays_plan(t.coach.services, user)] + \
            [move.plan for move in programme.warmup.moves]
        cues = sum(len(phases_for(plan, programme.rules)) for plan in plans)
        await t.trains(ANA)
        workout = [c for c in fake.calls[start:] if c.chat_id == ANA and c.method in
                   ("sendMessage", "editMessageText", "sendAnimation")]
        # every phase's cue arrived: as a new message where a side or set begins, else as an
        # edit of its live message (the countdown edits between them say "... s left")
        sent_cues = [c for c in workout if c.ok and " s left" not in c.text
                     and _has(c, "Stop") and not _has(c, "Ready")]
        assert len(sent_cues) == cues
        # The core spaces sends at least one clock second (1/S s real) apart; when a request
        # lands at the server also depends on loopback latency, which varies by a millisecond or
        # so (measured: gaps down to 0.6 of a window, typically 0.9). So: no two calls within
        # half a second, and no more than N + 1 within any N seconds.
        second = 1 / RATE_SCALE
        assert fake.max_rate(ANA, window=second * 0.5) <= 1
        assert fake.max_rate(ANA, window=second * 10) <= 11
        assert fake.max_rate(ANA, window=second * 60) <= 61
        # the countdown kept being shown (best effort: fewer edits when the machine is busy)
        assert len(workout) > cues + 50


# -- webhook -----------------------------------------------------------------------------------

class WebhookFake(FakeTelegram):
    """The stand-in plus setWebhook (it only speaks what polling bots need)."""

    def __init__(self) -> None:
        super().__init__()
        self.webhooks: list[dict] = []
        self._handlers["setWebhook"] = self._set_webhook
        self._by_lower["setwebhook"] = "setWebhook"

    async def _set_webhook(self, params: dict) -> bool:
        self.webhooks.append(params)
        return True


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_webhook_mode_receives_a_posted_update(tmp_path):
    async with WebhookFake() as fake:
        coach = build(tmp_path / "coach.db", 600)
        port = _free_port()
        hook = tg.Webhook(f"https://coach.example.org/tg-hook", "127.0.0.1", port, "s3cret")
        adapter = TelegramAdapter(coach, fake.token, fake.base_url, webhook=hook)
        coach.services.delivery.register(adapter)
        await asyncio.wait_for(adapter.start(), STEP)
        try:
            assert fake.webhooks[0]["url"] == hook.url
            assert fake.webhooks[0]["secret_token"] == "s3cret"
            update = fake.user_text(ANA, "/start")  # makes the chat; nobody polls the queue
            body = json.dumps(update.to_dict(), default=str)
            url = f"http://127.0.0.1:{port}/tg-hook"
            async with aiohttp.ClientSession() as http:
                async with http.post(url, data=body, headers={
                        "Content-Type": "application/json"}) as refused:
                    assert refused.status == 403  # no secret: not from Telegram
                async with http.post(url, data=body, headers={
                        "Content-Type": "application/json",
                        "X-Telegram-Bot-Api-Secret-Token": "s3cret"}) as accepted:
                    assert accepted.status == 200
            await fake.wait_for_text(ANA, "not: a doctor", timeout=STEP)
            assert not fake.calls_of("getUpdates")
        finally:
            await asyncio.wait_for(adapter.stop(), STEP)
            await coach.shutdown()
            coach.services.store.close()
        assert fake.unknown == []
