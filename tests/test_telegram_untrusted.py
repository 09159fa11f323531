"""Untrusted input on Telegram: forged updates refused, unreadable or failing updates skipped,
start-up failures told in one line, names kept sane. The real python-telegram-bot client over
127.0.0.1 against the stand-in Bot API server (tests/standins/telegram_api.py).

Ana is the person whose data an attacker is after; Ben is the attacker. Every forged-input test
checks that nothing happened: no answer to anyone, nothing of Ana's sent anywhere, nothing
stored.
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import quote

import aiohttp
import pytest

import adapters.telegram as tg
from adapters.telegram import TelegramAdapter
from adapters.cli import main
from bot.bootstrap import build
from bot.errors import ConfigError
from bot.events import MAX_NAME, clean_name
from bot.replies import Reply
from test_telegram import (ANA, BEN, ROOT, STEP, Telegram, WebhookFake, _data, _free_port,
                           coach_on_telegram)

try:  # tests/ is on sys.path (no tests/__init__.py, pytest's default "prepend" import mode)
    from standins.telegram_api import FakeTelegram
except ImportError:  # tests is a package
    from tests.standins.telegram_api import FakeTelegram

pytestmark = pytest.mark.filterwarnings(
    "ignore:.*retry_after.*:telegram.warnings.PTBDeprecationWarning")

PRIVATE_WORDS = "my back hurts since the fall on Tuesday"  # must never reach the log


def _person(user_id: int, name: str) -> dict:
    return {"id": user_id, "is_bot": False, "first_name": name}


def _private_chat(chat_id: int, name: str) -> dict:
    return {"id": chat_id, "type": "private", "first_name": name}


def _not_answered(fake: FakeTelegram, since: int) -> list[str]:
    """Every call the bot made from `since` on, other than fetching updates."""
    return [c.method for c in fake.calls[since:] if c.method != "getUpdates"]


def _lines_about(caplog, update_id: int) -> list[logging.LogRecord]:
    return [r for r in caplog.records if f"update {update_id}" in r.getMessage()]


# -- authenticated input: forged updates ---------------------------------------------------------

@pytest.mark.parametrize("kind", ["typed", "pressed"])
async def test_an_update_whose_private_chat_is_not_its_senders_is_refused_without_effect(
        tmp_path, caplog, kind):
    """Ben forges an update saying that Ana asked for her export from Ben's chat (the webhook
    attack of issue 16). Telegram never sends that; the bot drops it before the coach sees it:
    nothing goes to Ben or to Ana, nothing is stored, and one line without its words is
    logged."""
    async with coach_on_telegram(tmp_path) as t:
        fake, store = t.fake, t.coach.services.store
        await t.says(ANA, "/start", "not: a doctor")
        await t.presses(ANA, "Got it, let's go", "question 1 of 11")
        fake.add_chat(BEN, first_name="Ben")  # the bot could write to Ben: only refusing stops it
        await t.coach.settled(t.key(ANA))  # Ana's own turn is over, its replies marked as sent
        ana_before = store.export_user(store.find_user(t.key(ANA)))
        since = len(fake.calls)
        in_bens_chat = {"message_id": 900, "date": int(time.time()),
                        "chat": _private_chat(BEN, "Ben")}
        with caplog.at_level(logging.WARNING, logger="adapters.telegram"):
            if kind == "typed":
                forged = fake.raw_update({"message": {
                    **in_bens_chat, "from": _person(ANA, "Ana"),
                    "text": f"export {PRIVATE_WORDS}"}})
            else:
                forged = fake.raw_update({"callback_query": {
                    "id": "4242", "chat_instance": "1", "from": _person(ANA, "Ana"),
                    "data": "export", "message": {**in_bens_chat, "text": PRIVATE_WORDS,
                                                  "from": fake.bot_user.to_dict()}}})
            await fake.wait_until(lambda: _lines_about(caplog, forged), timeout=STEP)
        await fake.wait_confirmed()

        assert _not_answered(fake, since) == []  # no export, no answer, no spinner stopped
        assert not fake.calls_of("sendDocument")
        assert store.export_user(store.find_user(t.key(ANA))) == ana_before
        assert store.find_user(t.key(BEN)) is None
        refusal, = _lines_about(caplog, forged)
        assert refusal.levelname == "WARNING" and "not its sender's" in refusal.getMessage()
        assert PRIVATE_WORDS not in caplog.text and "export" not in caplog.text
        await t.presses(ANA, "No", "question 2 of 11")  # Ana's own conversation goes on


async def test_a_press_on_a_button_sent_to_someone_else_is_refused_without_effect(tmp_path,
                                                                                 caplog):
    """Ben presses "Got it" on the message the coach sent Ana (only a forged update can do
    that: Ben cannot see Ana's chat). It would start Ben's onboarding in Ana's chat; instead
    nobody hears anything, nothing is stored, and Ana's own press still works."""
    async with coach_on_telegram(tmp_path) as t:
        fake, store = t.fake, t.coach.services.store
        intro = await t.says(ANA, "/start", "not: a doctor")
        fake.add_chat(BEN, first_name="Ben")
        since = len(fake.calls)
        with caplog.at_level(logging.WARNING, logger="adapters.telegram"):
            press = fake.user_press(BEN, intro.message_id, _data(intro, "Got it, let's go"),
                                    chat_id=ANA, first_name="Ben")
            await fake.wait_until(lambda: "not its sender's" in caplog.text, timeout=STEP)
        await fake.wait_confirmed()

        assert _not_answered(fake, since) == []
        assert not fake.answered(press)
        assert store.find_user(t.key(ANA)).state == "intro"
        assert store.find_user(t.key(BEN)) is None
        await t.presses(ANA, "Got it, let's go", "question 1 of 11")


@contextlib.asynccontextmanager
async def coach_on_a_webhook(tmp_path: Path, hook: tg.Webhook) -> AsyncIterator[Telegram]:
    async with WebhookFake() as fake:
        coach = build(tmp_path / "coach.db", 600)
        adapter = TelegramAdapter(coach, fake.token, fake.base_url, webhook=hook)
        coach.services.delivery.register(adapter)
        await asyncio.wait_for(adapter.start(), STEP)
        try:
            yield Telegram(fake, coach, adapter)
        finally:
            await asyncio.wait_for(adapter.stop(), STEP)
            await coach.shutdown()
            coach.services.store.close()
        assert fake.unknown == []


async def _post(port: int, payload: dict, secret: str | None) -> int:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    async with aiohttp.ClientSession() as http:
        async with http.post(f"http://127.0.0.1:{port}/tg-hook", headers=headers,
                             data=json.dumps(payload, default=str)) as answer:
            return answer.status


def _listening_addresses(port: int) -> set[str] | None:
    """The IPv4 addresses something listens on at `port` (Linux's /proc), or None elsewhere."""
    table = Path("/proc/net/tcp")
    if not table.exists():
        return None
    found = set()
    for line in table.read_text().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        address, _, hex_port = local.partition(":")
        if int(hex_port, 16) == port and state == "0A":  # LISTEN
            found.add(".".join(str(int(address[i:i + 2], 16)) for i in (6, 4, 2, 0)))
    return found


async def test_a_webhook_always_has_a_secret_listens_on_loopback_and_refuses_posts_without_it(
        tmp_path, caplog):
    """Configured with no secret and no address: the bot makes a secret, registers it with
    setWebhook, and listens on 127.0.0.1 only. Ben's post without the secret, or with a wrong
    one, is refused (403) and changes nothing; Telegram's post, which carries it, is
    answered. The secret itself never reaches the log."""
    caplog.set_level(logging.DEBUG)  # python-telegram-bot logs setWebhook's parameters at DEBUG
    port = _free_port()
    env = {"TELEGRAM_WEBHOOK_URL": "https://coach.example.org/tg-hook",
           "TELEGRAM_WEBHOOK_PORT": str(port)}
    hook = tg.webhook_from_env(env)
    assert hook.listen == "127.0.0.1" and len(hook.secret) >= 40
    assert tg.webhook_from_env(env).secret != hook.secret  # a new one at every start
    with pytest.raises(ConfigError, match="TELEGRAM_WEBHOOK_SECRET"):
        tg.webhook_from_env({**env, "TELEGRAM_WEBHOOK_SECRET": "not allowed: spaces"})
    assert tg.webhook_from_env({**env, "TELEGRAM_WEBHOOK_LISTEN": "0.0.0.0"}).listen == "0.0.0.0"

    async with coach_on_a_webhook(tmp_path, hook) as t:
        fake, store = t.fake, t.coach.services.store
        assert fake.webhooks[0]["secret_token"] == hook.secret
        assert _listening_addresses(port) in (None, {"127.0.0.1"})
        update = fake.user_text(BEN, "/start", first_name="Ben").to_dict()
        since = len(fake.calls)
        assert await _post(port, update, secret=None) == 403
        assert await _post(port, update, secret="") == 403
        assert await _post(port, update, secret="guessed-" + hook.secret[8:]) == 403
        assert _not_answered(fake, since) == [] and store.find_user(t.key(BEN)) is None

        assert await _post(port, update, secret=hook.secret) == 200
        await fake.wait_for_text(BEN, "not: a doctor", timeout=STEP)
    assert hook.secret not in caplog.text and "<webhook-secret>" in caplog.text


# -- poison updates ------------------------------------------------------------------------------

def _unreadable(shape: str) -> dict:
    """An update python-telegram-bot 22 cannot turn into a usable Update."""
    sender = _person(ANA, "Ana")
    if shape == "a message without a chat":
        return {"message": {"message_id": 7, "date": int(time.time()), "from": sender,
                            "text": PRIVATE_WORDS}}
    if shape == "a message dated in words":
        return {"message": {"message_id": 7, "date": "Tuesday", "from": sender,
                            "chat": _private_chat(ANA, "Ana"), "text": PRIVATE_WORDS}}
    if shape == "a poll in an older shape":  # options without voter_count
        return {"poll": {"id": "1", "question": PRIVATE_WORDS, "options": [{"text": "yes"}],
                         "total_voter_count": 0, "is_closed": False, "is_anonymous": True,
                         "type": "regular", "allows_multiple_answers": False}}
    raise ValueError(shape)


SHAPES = ["a message without a chat", "a message dated in words", "a poll in an older shape"]


@pytest.mark.parametrize("shape", SHAPES)
async def test_an_unreadable_update_is_skipped_once_and_the_next_person_is_answered(
        tmp_path, caplog, shape):
    """Telegram (or a self-hosted Bot API server) hands over something python-telegram-bot
    cannot read, then Ben writes /start. The unreadable update is fetched once, acknowledged
    with the next offset and logged in one line without its content; Ben's message is fetched
    in the same poll or the very next one, and answered once. (Counted in polls rather than
    seconds: the failure this replaces never answered anyone at all, and a poll count does not
    depend on how busy the machine is. Ben's own update may be fetched again while it is still
    being answered: it is confirmed only once handled, and handled once.)"""
    async with coach_on_telegram(tmp_path) as t:
        fake = t.fake
        poison = fake.raw_update(_unreadable(shape))
        ben = fake.user_text(BEN, "/start", first_name="Ben").update_id
        await fake.wait_for_text(BEN, "not: a doctor", timeout=STEP)
        await fake.wait_confirmed()

        polls = fake.calls_of("getUpdates", ok=True)
        first = {update: next(i for i, c in enumerate(polls)
                               if update in {u["update_id"] for u in c.result})
                 for update in (poison, ben)}
        assert fake.deliveries(poison) == 1
        assert first[ben] - first[poison] <= 1  # Ben waited no extra poll
        assert len([text for text in fake.texts(BEN) if "not: a doctor" in text]) == 1
        line, = _lines_about(caplog, poison)
        assert line.levelname == "WARNING" and "skipped" in line.getMessage()
        assert PRIVATE_WORDS not in caplog.text and "Traceback" not in caplog.text
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
        await t.says(ANA, "/start", "not: a doctor")  # its sender is not shut out either


async def test_an_unreadable_webhook_post_is_acknowledged_and_the_next_one_answered(tmp_path,
                                                                                    caplog):
    """Over a webhook, an update python-telegram-bot cannot read gets 200 (so Telegram does not
    send it again and again), one line in the log without its content, and the next post is
    answered."""
    port = _free_port()
    hook = tg.Webhook("https://coach.example.org/tg-hook", port=port)
    async with coach_on_a_webhook(tmp_path, hook) as t:
        poison = {"update_id": 9001, **_unreadable("a poll in an older shape")}
        assert await _post(port, poison, hook.secret) == 200
        update = t.fake.user_text(BEN, "/start", first_name="Ben").to_dict()
        assert await _post(port, update, hook.secret) == 200
        await t.fake.wait_for_text(BEN, "not: a doctor", timeout=STEP)
    line, = _lines_about(caplog, 9001)
    assert "skipped" in line.getMessage() and PRIVATE_WORDS not in caplog.text


async def test_an_update_whose_handling_fails_is_logged_once_and_everyone_is_still_answered(
        tmp_path, caplog):
    """Handling Ana's message raises (a bug below the adapter, simulated here): one ERROR line
    names the update and the error's type and place, not what Ana wrote; the update is not
    fetched again; Ben is answered, and so is Ana's next message."""
    async with coach_on_telegram(tmp_path) as t:
        fake, handle = t.fake, t.coach.handle

        async def failing_on_tuesday(event, context=None, name=""):
            if "Tuesday" in getattr(event, "text", ""):
                raise RuntimeError(f"cannot handle {event.text!r}")
            await handle(event, context, name)

        t.coach.handle = failing_on_tuesday
        failing = fake.user_text(ANA, PRIVATE_WORDS).update_id
        await t.says(BEN, "/start", "not: a doctor")
        await fake.wait_until(lambda: _lines_about(caplog, failing), timeout=STEP)
        await t.says(ANA, "/start", "not: a doctor")
        await fake.wait_confirmed()

        line, = _lines_about(caplog, failing)
        assert line.levelname == "ERROR" and "RuntimeError at" in line.getMessage()
        assert PRIVATE_WORDS not in caplog.text and "Tuesday" not in caplog.text
        assert fake.deliveries(failing) == 1


# -- errors never leak ---------------------------------------------------------------------------

@pytest.mark.parametrize("method", ["getMe", "setMyCommands", "deleteWebhook"])
async def test_a_start_up_call_that_fails_for_a_while_is_retried_and_the_bot_comes_up(
        tmp_path, caplog, method):
    """The Bot API answers 500 twice (an HTML error page quoting the URL, token and all), then
    works: the bot waits 1 s, then 2 s (on its clock, here 600 times faster), comes up and
    answers; each retry is one WARNING line, with no traceback and no token."""
    async with FakeTelegram() as fake:
        fake.fail_next(method, 500, times=2, page=True)
        coach = build(tmp_path / "coach.db", 600)
        adapter = TelegramAdapter(coach, fake.token, fake.base_url, poll_timeout=1)
        coach.services.delivery.register(adapter)
        await asyncio.wait_for(adapter.start(), STEP)
        try:
            assert [c.status for c in fake.calls_of(method)] == [500, 500, 200]
            fake.user_text(ANA, "/start")
            await fake.wait_for_text(ANA, "not: a doctor", timeout=STEP)
        finally:
            await asyncio.wait_for(adapter.stop(), STEP)
            coach.services.store.close()
    retries = [r for r in caplog.records if "trying again" in r.getMessage()]
    assert len(retries) == 2 and all(r.levelname == "WARNING" for r in retries)
    assert "Traceback" not in caplog.text and fake.token.lower() not in caplog.text.lower()


async def test_set_my_commands_failing_for_good_ends_bot_py_with_one_line_and_exit_2(tmp_path):
    """`python bot.py` against a Bot API whose setMyCommands always answers 500 with an error
    page that quotes the URL: it tries STARTUP_TRIES times, then says so in one line and exits
    with 2. No traceback, and no token in any case or encoding, on stdout or stderr (where the
    log goes, here at DEBUG)."""
    async with FakeTelegram() as fake:
        fake.fail_next("setMyCommands", 500, times=1000, page=True)
        env = {**os.environ, "TELEGRAM_TOKEN": fake.token, "TELEGRAM_API_BASE_URL": fake.base_url,
               "LOG_LEVEL": "DEBUG"}
        env.pop("DISCORD_TOKEN", None)
        process = await asyncio.create_subprocess_exec(
            sys.executable, "bot.py", "telegram", "--db", str(tmp_path / "coach.db"),
            "--time-scale", "600", cwd=ROOT, env=env, stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        try:
            out, err = await asyncio.wait_for(process.communicate(), STEP * 3)
        finally:
            if process.returncode is None:
                process.kill()
        attempts = fake.calls_of("setMyCommands")
    assert process.returncode == 2, err.decode()[-2000:]
    assert len(attempts) == tg.STARTUP_TRIES and all(c.status == 500 for c in attempts)
    everything = (out + err).decode()
    final = [line for line in everything.splitlines() if line.startswith("Cannot start:")]
    assert len(final) == 1 and "setMyCommands" in final[0] and "6 tries" in final[0]
    assert "Traceback" not in everything and out == b""
    for form in (fake.token, quote(fake.token, safe="")):
        assert form.lower() not in everything.lower()
    assert "<telegram-token>" in everything  # the log did see it, masked


async def test_a_webhook_port_already_taken_is_a_plain_config_error(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        hook = tg.Webhook("https://coach.example.org/tg-hook", port=port)
        async with WebhookFake() as fake:
            coach = build(tmp_path / "coach.db", 600)
            adapter = TelegramAdapter(coach, fake.token, fake.base_url, webhook=hook)
            with pytest.raises(ConfigError, match=f"127.0.0.1:{port}.*TELEGRAM_WEBHOOK_PORT"):
                await asyncio.wait_for(adapter.start(), STEP)
            coach.services.store.close()


def test_an_unexpected_error_ends_bot_py_with_one_masked_line_and_no_traceback(
        tmp_path, monkeypatch, caplog, capsys):
    """Whatever goes wrong that nobody foresaw (here the adapter's start raising an error that
    quotes the token) ends the process with status 1 and one CRITICAL line, token masked; the
    traceback is kept for LOG_LEVEL=DEBUG."""
    token = "123456789:AAUnexpectedErrorTokenForTests_abc"
    monkeypatch.setenv("TELEGRAM_TOKEN", token)
    monkeypatch.setenv("TELEGRAM_API_BASE_URL", "http://127.0.0.1:9/bot")
    monkeypatch.chdir(tmp_path)  # no .env here

    async def broken_start(self) -> None:
        raise RuntimeError(f"something odd about /bot{token}/getMe")

    monkeypatch.setattr(TelegramAdapter, "start", broken_start)
    with caplog.at_level(logging.INFO):
        assert main(["telegram", "--db", str(tmp_path / "coach.db")]) == 1
    critical, = [r for r in caplog.records if r.levelno == logging.CRITICAL]
    assert "RuntimeError" in critical.getMessage() and "<telegram-token>" in critical.getMessage()
    assert token not in caplog.text and "Traceback" not in capsys.readouterr().err


async def test_a_token_echoed_in_a_refusal_is_masked_whatever_its_case_or_encoding(tmp_path,
                                                                                  caplog):
    """python-telegram-bot lower-cases the text of a BadRequest, token included; an error page
    may percent-encode it. Either way the log shows the mask."""
    async with coach_on_telegram(tmp_path) as t:
        fake, token = t.fake, t.fake.token
        fake.add_chat(ANA)
        for echoed in (f"/bot{token}/sendMessage", quote(f"/bot{token}/sendMessage", safe="")):
            fake.fail_next("sendMessage", 400, description=f"Bad Request: no route {echoed}")
            await t.adapter.send(t.key(ANA), Reply("Hello"), None)
        refusals = [r.getMessage() for r in caplog.records if "refused a message" in r.getMessage()]
        assert len(refusals) == 2 and all("<telegram-token>" in line for line in refusals)
        assert token.lower() not in caplog.text.lower()
        assert quote(token, safe="").lower() not in caplog.text.lower()


# -- names ---------------------------------------------------------------------------------------

async def test_a_huge_first_name_with_a_lone_surrogate_is_stored_trimmed_and_valid(tmp_path):
    """A client sends a first name of 100,000 characters with a lone surrogate in it. The coach
    answers as usual, keeps at most MAX_NAME characters of valid text, and the next message
    works too (before, every message from this person failed)."""
    async with coach_on_telegram(tmp_path) as t:
        name = "Ana\ud800" + "x" * 100_000
        t.fake.user_text(ANA, "/start", first_name=name)
        await t.fake.wait_for_text(ANA, "not: a doctor", timeout=STEP)
        stored = t.coach.services.store.find_user(t.key(ANA)).name
        assert stored == clean_name(name) and len(stored) == MAX_NAME
        assert stored.startswith("Ana\ufffdxxx") and stored.encode("utf-8")
        await t.presses(ANA, "Got it, let's go", "question 1 of 11")
