"""The coach on Discord: the real discord.py client over 127.0.0.1 against the stand-in Discord
(tests/standins/discord_api.py), started the way `python bot.py` starts it.

Every test ends with fake.assert_clean(): discord.py swallows errors raised inside interaction
handlers, so a request Discord would refuse must fail the test here.
"""
from __future__ import annotations

import asyncio
import contextlib
import copy
import gc
import itertools
import logging
import os
import re
import signal
import struct
import subprocess
import sys
import time
import zlib
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import discord
import pytest

import adapters.discord as dc
from adapters import _plumbing
from adapters.discord import ChoicesView, DiscordAdapter, button_rows, split_text
from adapters.telegram import TelegramAdapter
from bot.progress import report as progress
from adapters.cli import platform_modules
from bot.bootstrap import build
from bot.errors import ConfigError
from bot.coach import Coach
from bot.delivery import Delivery
from bot.events import UserKey
from bot.player.auth import AuthError, token_person
from bot.player.settings import LINK_LIFETIME_S
from bot.replies import Attachment, Choice, Reply

import scripts
from harness import running, running_with_player
from player_world import Page

try:  # tests/ is on sys.path (pytest's default "prepend" import mode)
    from standins.discord_api import EPHEMERAL, FakeDiscord, point_discord_at
except ImportError:  # tests is a package
    from tests.standins.discord_api import EPHEMERAL, FakeDiscord, point_discord_at

ROOT = Path(__file__).resolve().parent.parent
ANA, BEN = 424242424242424242, 535353535353535353
STEP = 10.0  # generous bound on every wait
MENU = ["start", "session", "pain", "progress", "settings", "help", "stop"]
HEALTH_WORDS = ("pain", "question", "safety", "back", "hurt", "workout", "progress", "/10")


def _png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    raw = b"\x00\x00\x80\xff" * 2
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 2, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


class Discord:
    """The stand-in, the coach and its Discord adapter, running; drives people through it."""

    def __init__(self, fake: FakeDiscord, coach: Coach, adapter: DiscordAdapter) -> None:
        self.fake = fake
        self.coach = coach
        self.adapter = adapter

    def key(self, user_id: int) -> UserKey:
        return UserKey("discord", str(user_id))

    def dm(self, user_id: int) -> int:
        return self.fake.dm_channel_of(user_id)

    def _mark(self, channel: int) -> int:
        return len(self.fake.channel_messages.get(channel, []))

    async def wait_text(self, channel: int, expect: str, since: int = 0) -> dict:
        """The first bot message in the channel (from message number `since` on) that says
        `expect` now (edits applied)."""
        def find():
            ids = self.fake.channel_messages.get(channel, [])[since:]
            for mid in ids:
                message = self.fake.messages.get(mid)
                if message and message["author"]["id"] == str(self.fake.bot_user_id) \
                        and expect in message["content"]:
                    return message
            return None
        return await self.fake.wait_for(find, timeout=STEP)

    async def slash(self, user_id: int, name: str, expect: str, options: dict | None = None,
                    channel: int | str = "dm") -> tuple[int, dict]:
        where = self.dm(user_id) if channel == "dm" else channel
        since = self._mark(where)
        iid = await self.fake.slash(user_id, name, options, channel=channel)
        return iid, await self.wait_text(where, expect, since)

    async def says(self, user_id: int, text: str, expect: str) -> dict:
        since = self._mark(self.dm(user_id))
        await self.fake.dm_text(user_id, text)
        return await self.wait_text(self.dm(user_id), expect, since)

    def button(self, channel: int, label: str, user_id: int | None = None) -> tuple[dict, str]:
        """The newest bot message in the channel with a button labelled `label` (and, in a
        server, belonging to `user_id`), and that button's custom_id."""
        for message in reversed(self.fake.bot_messages_in(channel)):
            for row in message.get("components", []):
                for item in row.get("components", []):
                    if item.get("label") == label and (
                            user_id is None or f":{user_id}:" in item["custom_id"]):
                        return message, item["custom_id"]
        raise AssertionError(f"no button {label!r} in channel {channel}")

    async def presses(self, user_id: int, label: str, expect: str,
                      channel: int | None = None) -> tuple[int, dict]:
        where = channel or self.dm(user_id)
        message, custom_id = self.button(where, label, user_id)
        since = self._mark(where)
        iid = await self.fake.click(user_id, int(message["id"]), custom_id)
        return iid, await self.wait_text(where, expect, since)

    async def onboards(self, user_id: int) -> None:
        """The shared onboarding script: /start, buttons, a time and a city typed in the DM."""
        for step in scripts.onboarding():
            if step.gesture == "start":
                await self.slash(user_id, "start", step.expect)
            elif step.gesture == "press":
                await self.presses(user_id, step.text, step.expect)
            else:
                await self.says(user_id, step.text, step.expect)

    async def starts_session(self, user_id: int, channel: int | None = None) -> None:
        """/session and the pain right now (scripts.session), in the DM or a server channel."""
        for step in scripts.session(start="session"):
            if step.gesture == "press":
                await self.presses(user_id, step.text, step.expect, channel)
            else:
                await self.slash(user_id, step.text, step.expect, channel=channel or "dm")

    async def trains(self, user_id: int) -> None:
        """/session and the pain right now, Ready on today's plan and on every exercise card,
        then Done on every paced set (its live message, as edited by then) until the pain
        question."""
        dm = self.dm(user_id)
        await self.starts_session(user_id)
        since = self._mark(dm)
        while True:
            message = await self.fake.wait_for(lambda: self._next_step(dm, since), timeout=STEP * 3)
            if "How is your back now" in message["content"]:
                return
            since = self.fake.channel_messages[dm].index(int(message["id"])) + 1
            ready = _custom_id(message, "Ready")
            if ready is not None:  # harmless if the card has started by itself
                await self.fake.click(user_id, int(message["id"]), ready)
                continue
            await self.coach.settled(self.key(user_id))
            await self.fake.click(user_id, int(message["id"]), _custom_id(message, "Done"))

    def _next_step(self, channel: int, since: int) -> dict | None:
        return next((m for m in self._bot_since(channel, since)
                     if _custom_id(m, "Ready") is not None or 'Say "done"' in m["content"]
                     or "How is your back now" in m["content"]), None)

    def _bot_since(self, channel: int, since: int) -> list[dict]:
        ids = self.fake.channel_messages.get(channel, [])[since:]
        return [self.fake.messages[i] for i in ids if i in self.fake.messages
                and self.fake.messages[i]["author"]["id"] == str(self.fake.bot_user_id)]

    def assert_acks_in_time(self) -> None:
        for record in self.fake.interactions.values():
            assert record.ack_latency is not None, f"interaction {record.id} never acknowledged"
            assert record.ack_latency < 3.0, record.ack_latency


def _custom_id(message: dict, label: str) -> str | None:
    return next((item["custom_id"] for row in message.get("components", [])
                 for item in row["components"] if item.get("label") == label), None)


@contextlib.asynccontextmanager
async def coach_on_discord(fake: FakeDiscord, tmp_path: Path, time_scale: float = 600,
                           db: str = "coach.db", **options) -> AsyncIterator[Discord]:
    """What `python bot.py discord` does, against the stand-in."""
    make = lambda coach: [DiscordAdapter(coach, fake.token,  # noqa: E731
                                         guild_ready_timeout=0.05, **options)]
    async with running(tmp_path, make, time_scale, db) as (coach, (adapter,)):
        harness = Discord(fake, coach, adapter)
        yield harness
    fake.assert_clean()
    harness.assert_acks_in_time()


@pytest.fixture
async def fake():
    async with FakeDiscord() as f, point_discord_at(f):
        yield f


# -- the whole conversation in a DM ------------------------------------------------------------

async def test_new_person_onboards_trains_and_reports_pain_by_buttons(fake, tmp_path):
    async with coach_on_discord(fake, tmp_path, time_scale=600) as d:
        commands = fake.registered_commands()
        assert list(commands) == MENU
        assert all(c["description"] for c in commands.values())
        [level] = commands["pain"]["options"]
        assert (level["type"], level["min_value"], level["max_value"]) == (4, 0, 10)

        await d.onboards(ANA)
        user = d.coach.services.store.find_user(d.key(ANA))
        assert user.baseline_pain == 3 and user.timezone == "Europe/Berlin"
        assert user.name == fake.users[ANA]["global_name"]

        await d.trains(ANA)
        dm = d.dm(ANA)
        texts = [m["content"] for m in fake.bot_messages_in(dm)]
        history = [h["content"] for m in fake.bot_messages_in(dm)
                   for h in fake.message_history[int(m["id"])]]
        for n in range(1, 8):
            assert any(text.startswith(f"{n}/7 · ") for text in texts), n
        assert any(text.startswith("Hold 10 s · ") and "rep 4/10" in text for text in history)
        assert any(" s left" in text for text in history)  # countdown edits of the cue
        # the pain question: 0-10 in rows of at most 5
        pain_message, _ = d.button(dm, "10")
        assert [len(row["components"]) for row in pain_message["components"]] == [4, 4, 3]
        await d.presses(ANA, "2", "Noted: pain 2/10")

        user = d.coach.services.store.find_user(d.key(ANA))
        expected = await progress.answer(d.coach.services, user)
        since = d._mark(dm)
        await d.slash(ANA, "progress", "Your progress")
        if any(r.image for r in expected):  # the chart (issue 7) arrives as a file attachment
            charts = lambda: [file for file in fake.files_in(dm)  # noqa: E731
                              if file[0].endswith(".png")]
            await fake.wait_for(charts, timeout=STEP)
            name, data = charts()[-1]
            assert data.startswith(b"\x89PNG")
        assert d._bot_since(dm, since)

        await d.slash(ANA, "pain", "4/10", {"level": 4})
        exported = d.coach.services.store.export_user(user)
        assert [w["status"] for w in exported["workouts"]] == ["done"]
        paced = {e["exercise_id"]: e["outcome"] for e in exported["workouts"][0]["exercises"]}
        assert paced["squat"] == paced["hip_hinge"] == "done"  # by tapping Done
        assert [(p["score"], p["kind"]) for p in exported["pain_reports"]] == [
            (3, "before"), (2, "after"), (4, "adhoc")]
        assert not any(m["flags"] & EPHEMERAL for m in fake.bot_messages_in(dm))


async def test_a_workout_keeps_to_the_dm_channel_budget(fake, tmp_path):
    """5 messages per 5 s a channel: the core's sliding window lets at most 5 requests reach the
    DM in any 5 seconds of clock time, countdown edits included, however late each arrives (a
    send holds its place until 5 s after Discord answered it)."""
    scale = 60
    async with coach_on_discord(fake, tmp_path, time_scale=scale) as d:
        await d.onboards(ANA)
        dm = d.dm(ANA)
        start = len(fake.calls)
        await d.starts_session(ANA)
        await d.wait_text(dm, "2/7 · ")  # the first exercise (both sides) is over
        await d.slash(ANA, "stop", "Stop the workout here?")
        await d.presses(ANA, "Yes, stop", "How is your back now")
        calls = [c for c in fake.calls[start:] if c.method in ("POST", "PATCH") and (
            c.path.startswith(f"/channels/{dm}/messages") or c.path.startswith("/webhooks/"))]
        assert any(c.method == "PATCH" for c in calls)  # the countdown was shown
        times = sorted(c.time for c in calls)
        for window in (5, 20):
            most = max(sum(1 for t in times if t0 <= t < t0 + window / scale) for t0 in times)
            assert most <= window, (window, most)


# -- the workout player, as a link button ------------------------------------------------------

PLAYER_SECRET = "a-secret-for-the-discord-tests"
PLAYER_ENV = {"BACKCOACH_PUBLIC_URL": "https://coach.example.org", "BACKCOACH_PLAYER_PORT": "0",
              "BACKCOACH_PLAYER_SECRET": PLAYER_SECRET}


async def test_the_player_is_a_link_button_whose_token_opens_that_persons_workout_only(
        fake, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)  # discord.py logs every request body at DEBUG
    make = lambda coach: [DiscordAdapter(coach, fake.token,  # noqa: E731
                                         guild_ready_timeout=0.05)]
    async with running_with_player(tmp_path, make, PLAYER_ENV) as (app, (adapter,), player), \
            aiohttp.ClientSession() as http:
        d = Discord(fake, app.coach, adapter)
        await d.onboards(ANA)
        await d.onboards(BEN)
        _, offer = await d.slash(ANA, "session", "Do it in the player")  # the page asks the pain
        [row] = offer["components"]
        link, chat = row["components"]
        assert (link["type"], link["style"], link["label"]) == (2, 5, "Open the player")
        assert "custom_id" not in link
        page_url, _, token = link["url"].partition("#token=")
        assert page_url == "https://coach.example.org/player/"
        now = time.time()
        assert token_person(PLAYER_SECRET.encode(), token, now) == d.key(ANA)
        with pytest.raises(AuthError):  # it expires: within the link lifetime, not beyond
            token_person(PLAYER_SECRET.encode(), token, now + LINK_LIFETIME_S + 1)
        assert chat["label"] == "Guide me here in chat" and chat["custom_id"].endswith(":in_chat")

        anas_page = Page(http, player.url, f"Bearer {token}")  # what the link opens
        status, plan = await anas_page.opens()
        workout = app.services.store.running_workout(
            app.services.store.find_user(d.key(ANA)).id)
        assert status == 200 and plan["workout_id"] == workout["id"]
        _, bens_offer = await d.slash(BEN, "session", "Do it in the player")
        bens_token = bens_offer["components"][0]["components"][0]["url"].partition("#token=")[2]
        bens_page = Page(http, player.url, f"Bearer {bens_token}")
        assert (await bens_page.opens())[1]["workout_id"] != plan["workout_id"]
        bens_page.workout_id = plan["workout_id"]  # Ben aims at Ana's workout: refused
        assert (await bens_page.reports(0))[0] == 409
        assert app.services.store.workout_exercises(workout["id"]) == []

        await d.presses(ANA, "Guide me here in chat", "Before we start")  # not asked on the page
        await d.presses(ANA, "3", "Thanks: 3/10 right now.")
        await d.wait_text(d.dm(ANA), "1/7 · ")
        await d.slash(ANA, "stop", "Stop the workout here?")
        await d.presses(ANA, "Yes, stop", "How is your back now")
    fake.assert_clean()
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert token not in logged and bens_token not in logged
    assert "<player-token>" in logged  # discord.py did log the message: masked
    assert PLAYER_SECRET not in logged


# -- privacy in a server -----------------------------------------------------------------------

async def test_in_a_server_health_answers_are_ephemeral_and_workouts_run_in_dms(fake, tmp_path):
    async with coach_on_discord(fake, tmp_path) as d:
        general = fake.guild.channel("general")
        server_interactions = []
        iid, intro = await d.slash(BEN, "start", "not: a doctor", channel=general)
        server_interactions.append(iid)
        assert intro["flags"] & EPHEMERAL
        iid, _ = await d.presses(BEN, "Got it, let's go", "question 1 of 11", general)
        server_interactions.append(iid)
        for number in range(2, 12):
            iid, _ = await d.presses(BEN, "No", f"question {number} of 11", general)
            server_interactions.append(iid)
        for label, expect in (("No", "How much does your back hurt"), ("3", "hamstrings"),
                              ("Reached it easily", "What time"), ("07:30", "which time zone")):
            iid, _ = await d.presses(BEN, label, expect, general)
            server_interactions.append(iid)
        await d.says(BEN, "Berlin", "You're all set")  # typed: in the DM

        iid, _ = await d.slash(BEN, "pain", "6/10", {"level": 6}, channel=general)
        server_interactions.append(iid)
        iid, _ = await d.slash(BEN, "progress", "Your progress", channel=general)
        server_interactions.append(iid)
        iid, _ = await d.slash(BEN, "session", "how is your back right now", channel=general)
        server_interactions.append(iid)
        iid, _ = await d.presses(BEN, "3", "Thanks: 3/10", general)
        server_interactions.append(iid)
        dm = d.dm(BEN)
        await d.wait_text(dm, "1/7 · ")  # the workout runs in the DM
        await d.wait_text(dm, "Get ready")
        iid, _ = await d.slash(BEN, "stop", "Stop the workout here?", channel=general)
        server_interactions.append(iid)  # asked only Ben: ephemerally, in the server
        message, confirm = d.button(general, "Yes, stop", BEN)
        iid = await fake.click(BEN, int(message["id"]), confirm)
        await d.wait_text(dm, "How is your back now")
        # nothing more to say to the tap itself: the summary comes in the DM
        await fake.wait_for_response(iid, timeout=STEP)
        await d.presses(BEN, "2", "Noted: pain 2/10")

        # a plain message that mentions the bot is answered in the channel, without health
        since = d._mark(general)
        await fake.guild_text(BEN, general, f"<@{fake.bot_user_id}> my back hurts, pain 7")
        note = await d.wait_text(general, "private", since)
        assert note["message_reference"]["message_id"]

        for iid in server_interactions:
            responses = fake.interaction_responses(iid)
            assert responses and all(r.ephemeral for r in responses), responses
        public = [m for m in fake.bot_messages_in(general) if not m["flags"] & EPHEMERAL]
        assert [m["id"] for m in public] == [note["id"]]
        assert not any(word in note["content"].lower() for word in HEALTH_WORDS if word != "back")
        assert "7" not in note["content"]
        assert fake.files_in(general) == [] or all(
            m["flags"] & EPHEMERAL for m in fake.bot_messages_in(general) if m["attachments"])


async def test_in_a_server_only_messages_that_mention_the_bot_reach_the_core_not_private(
        fake, tmp_path):
    """Bystanders' talk in a server never reaches the core (no profile, no trace); a message
    that mentions the bot does, marked not private."""
    async with coach_on_discord(fake, tmp_path) as d:
        events = []
        handle = d.coach.handle

        async def recorded(event, context=None, name=""):
            events.append(event)
            await handle(event, context, name)

        d.coach.handle = recorded
        general = fake.guild.channel("general")
        for text in ("my back hurts, pain 7", f"<@{ANA}> how is your back?", "/start",
                     "start session"):
            await fake.guild_text(BEN, general, text)
        since = d._mark(general)
        await fake.guild_text(BEN, general, f"<@{fake.bot_user_id}> pain 7")
        await d.wait_text(general, "private", since)
        assert [(type(e).__name__, e.private) for e in events] == [("Text", False)]
        assert d.coach.services.store.find_user(d.key(BEN)) is None
        assert [m["content"] for m in fake.bot_messages_in(general)] == [
            d.coach.texts("menu.private_only")]


# -- buttons -----------------------------------------------------------------------------------

async def test_someone_elses_button_is_refused_privately_and_changes_nothing(fake, tmp_path):
    async with coach_on_discord(fake, tmp_path) as d:
        await d.slash(ANA, "start", "not: a doctor")
        dm = d.dm(ANA)
        message, custom_id = d.button(dm, "Got it, let's go")
        before = len(fake.bot_messages_in(dm))
        iid = await fake.click(BEN, int(message["id"]), custom_id)
        response = await fake.wait_for_response(iid, timeout=STEP)
        assert response.type == 4 and response.ephemeral
        assert response.content == d.coach.texts("discord.not_yours")
        await asyncio.sleep(0.2)
        assert len(fake.bot_messages_in(dm)) == before + 1  # only the ephemeral "not yours"
        assert d.coach.services.store.find_user(d.key(ANA)).state == "intro"
        assert d.coach.services.store.find_user(d.key(BEN)) is None
        await d.presses(ANA, "Got it, let's go", "question 1 of 11")  # the owner still can


@pytest.mark.parametrize("names", ["the victim", "the presser"])
async def test_a_forged_button_payload_is_refused_privately_and_nobodys_data_goes_anywhere(
        fake, tmp_path, names, caplog):
    """A modified client can press any custom_id on any message it sees. Ben forges "export"
    naming Ana on his own message (to get her data), or naming himself on the message sent to
    Ana (to act on her conversation). Neither is a button the coach put there: Ben is told
    privately that it is not his, and nothing is exported, sent or stored for anyone."""
    async with coach_on_discord(fake, tmp_path) as d:
        store = d.coach.services.store
        await d.slash(ANA, "start", "not: a doctor")
        await d.presses(ANA, "Got it, let's go", "question 1 of 11")
        await d.slash(BEN, "start", "not: a doctor")
        for person in (ANA, BEN):  # their own turns are over, replies marked as sent
            await d.coach.settled(d.key(person))
        ana_before = store.export_user(store.find_user(d.key(ANA)))
        ben_before = store.export_user(store.find_user(d.key(BEN)))
        if names == "the victim":
            message, _ = d.button(d.dm(BEN), "Got it, let's go")
            forged = f"bc:{ANA}:export"
        else:
            message, _ = d.button(d.dm(ANA), "No")
            forged = f"bc:{BEN}:export"
        messages_before, files_before = len(fake.messages), len(fake.file_store)
        with caplog.at_level(logging.WARNING, logger="adapters.discord"):
            iid = await fake.forge_click(BEN, int(message["id"]), forged)
            response = await fake.wait_for_response(iid, timeout=STEP)
        assert response.type == 4 and response.ephemeral
        assert response.content == d.coach.texts("discord.not_yours")
        await asyncio.sleep(0.2)  # anything else would have gone out by now
        assert len(fake.messages) == messages_before + 1  # only that private note
        assert len(fake.file_store) == files_before  # no export, of anyone
        assert store.export_user(store.find_user(d.key(ANA))) == ana_before
        assert store.export_user(store.find_user(d.key(BEN))) == ben_before
        assert "not a button on the message" in caplog.text
        await d.presses(ANA, "No", "question 2 of 11")  # Ana's own buttons still work


# -- the same update delivered again -------------------------------------------------------------

async def _deliver_again(fake: FakeDiscord, event: str, ident: int) -> None:
    """Dispatch an event the gateway sent before, unchanged: what a replay after a resume is."""
    data = next(data for name, data in reversed(fake.dispatched)
                if name == event and data.get("id") == str(ident))
    await fake.dispatch_event(event, copy.deepcopy(data))


async def _after_everything_before(d: Discord, user_id: int) -> None:
    """One person's events are handled in order: once a later message is answered, every event
    before it has been handled, and everything it was going to send is out."""
    await d.says(user_id, "hello", "Hi")
    await d.coach.settled(d.key(user_id))


@pytest.mark.parametrize("kind", ["typed in a DM", "a slash command", "a button"])
async def test_a_message_or_interaction_delivered_again_has_no_second_effect(fake, tmp_path,
                                                                              kind):
    """Typed "pain 4", /pain 5, or "No" at a safety question, then the very same event again.
    The second changes nothing and says nothing (Discord would also refuse a second
    acknowledgement of an interaction, so none is made)."""
    async with coach_on_discord(fake, tmp_path) as d:
        store, dm = d.coach.services.store, d.dm(ANA)
        if kind == "a button":
            await d.slash(ANA, "start", "not: a doctor")
            await d.presses(ANA, "Got it, let's go", "question 1 of 11")
            iid, _ = await d.presses(ANA, "No", "question 2 of 11")
            event, ident = "INTERACTION_CREATE", iid
        else:
            await d.onboards(ANA)
            if kind == "a slash command":
                ident, _ = await d.slash(ANA, "pain", "5/10", {"level": 5})
                event = "INTERACTION_CREATE"
            else:
                ident = await fake.dm_text(ANA, "pain 4")
                await d.wait_text(dm, "4/10")
                event = "MESSAGE_CREATE"
        user = store.find_user(d.key(ANA))
        before = (store.export_user(user), len(fake.bot_messages_in(dm)))
        await _deliver_again(fake, event, ident)
        await _after_everything_before(d, ANA)
        after = store.export_user(store.find_user(d.key(ANA)))
        assert after["pain_reports"] == before[0]["pain_reports"]
        assert after["profile"]["state"] == before[0]["profile"]["state"]
        assert after["profile"]["screen_answers"] == before[0]["profile"]["screen_answers"]
        said = [m["content"] for m in fake.bot_messages_in(dm)[before[1]:]]
        assert said[0].startswith("Hi")  # only the answer to "hello" (and the open question)
        assert not any("/10" in text or "question 3" in text or "has passed" in text
                       for text in said), said


async def test_an_answer_that_never_went_out_is_sent_when_the_message_comes_again(fake,
                                                                                  tmp_path):
    """Ana's "pain 6" is noted, but Discord refuses its answer five times and the coach gives
    up. When the gateway delivers her message again, the answer goes out; the pain is still
    noted once."""
    async with coach_on_discord(fake, tmp_path) as d:
        store, dm = d.coach.services.store, d.dm(ANA)
        await d.onboards(ANA)
        fake.fail_next(rf"^/channels/{dm}/messages$", 503, method="POST",
                       times=Delivery.MAX_TRIES)
        mid = await fake.dm_text(ANA, "pain 6")
        await fake.wait_for(lambda: not any(rule.times for rule in fake._fail_rules),
                            timeout=STEP)
        await d.coach.settled(d.key(ANA))
        assert not any("6/10" in m["content"] for m in fake.bot_messages_in(dm))
        since = d._mark(dm)
        await _deliver_again(fake, "MESSAGE_CREATE", mid)
        await d.wait_text(dm, "6/10", since)
        user = store.find_user(d.key(ANA))
        assert [(p.score, p.kind) for p in store.pain_reports(user.id)] == [(6, "adhoc")]


async def test_a_button_sent_before_a_restart_still_works(fake, tmp_path):
    async with coach_on_discord(fake, tmp_path, db="same.db") as d:
        await d.slash(ANA, "start", "not: a doctor")
    assert not fake.connected
    async with coach_on_discord(fake, tmp_path, db="same.db") as d:
        iid, _ = await d.presses(ANA, "Got it, let's go", "question 1 of 11")
        assert fake.interaction(iid).ack_latency < 3.0


def test_buttons_fit_discord_rows_and_carry_owner_and_action(caplog):
    pain = tuple(Choice(str(n), f"pain:{n}@after") for n in range(11))
    assert [len(r) for r in button_rows(list(pain))] == [4, 4, 3]
    assert [len(r) for r in button_rows([Choice("Yes", "yes"), Choice("No", "no")])] == [2]
    many = tuple(Choice(f"Choice {n}", f"c:{n}") for n in range(30))
    view = ChoicesView(ANA, many)
    rows = view.to_components()
    assert len(rows) <= 5 and all(len(r["components"]) <= 5 for r in rows)
    assert len(view.children) == 25
    [first] = ChoicesView(ANA, pain[:1]).to_components()[0]["components"][:1]
    assert first["custom_id"] == f"bc:{ANA}:pain:0@after" and len(first["custom_id"]) <= 100
    with caplog.at_level(logging.WARNING):
        view = ChoicesView(ANA, (Choice("Bad", "é"), Choice("Ok", "ok"), Choice("Ok", "ok")))
    assert [c.item.label for c in view.children] == ["Ok"]
    assert "left out" in caplog.text


# -- replies through the adapter ---------------------------------------------------------------

async def test_a_picture_and_files_arrive_as_attachments_with_the_buttons(fake, tmp_path):
    async with coach_on_discord(fake, tmp_path) as d:
        fake.add_user(ANA)
        chart = Attachment("progress.png", _png(), "image/png")
        export = Attachment("my-data.json", b'{"pain": [3, 2]}', "application/json")
        buttons = (Choice("Start session", "session"), Choice("Help", "help"))
        await d.adapter.send(d.key(ANA), Reply("Your week", buttons, image=chart,
                                               files=(export,)), None)
        dm = d.dm(ANA)
        [message] = fake.bot_messages_in(dm)
        assert message["content"] == "Your week"
        assert fake.files_in(dm) == [("progress.png", chart.data), ("my-data.json", export.data)]
        assert [b["label"] for b in message["components"][0]["components"]] == ["Start session",
                                                                               "Help"]
        await d.adapter.send(d.key(ANA), Reply("", image=chart), None)  # a picture alone
        assert fake.files_in(dm)[-1] == ("progress.png", chart.data)


async def test_each_exercise_card_carries_its_animation_as_an_attachment(fake, tmp_path,
                                                                        drawn_pictures):
    async with coach_on_discord(fake, tmp_path) as d:
        exercises = d.coach.services.programme.exercises
        await d.onboards(ANA)
        await d.trains(ANA)
        dm = d.dm(ANA)
        gifs = [(message, attachment) for message in fake.bot_messages_in(dm)
                for attachment in message.get("attachments", [])
                if attachment["filename"].endswith(".gif")]
        assert [a["filename"] for _, a in gifs] == [f"{e.id}-{e.stages[0].id}.gif"
                                                     for e in exercises]
        for (message, attachment), exercise in zip(gifs, exercises):
            assert fake.attachment_data(attachment).startswith(b"GIF89a")  # shown animated
            assert attachment["description"] == \
                f'{exercise.name}, "{exercise.stages[0].name}": moving picture'  # alt text
            assert exercise.stages[0].avoid[-1] in message["content"]  # new: all of it


async def test_long_texts_are_split_with_the_buttons_on_the_last_part(fake, tmp_path):
    async with coach_on_discord(fake, tmp_path) as d:
        fake.add_user(ANA)
        text = "\n\n".join(f"Paragraph {n}. " + "word " * 150 for n in range(6))
        await d.adapter.send(d.key(ANA), Reply(text, (Choice("OK", "ok"),)), None)
        messages = fake.bot_messages_in(d.dm(ANA))
        assert len(messages) >= 3 and all(len(m["content"]) <= 2000 for m in messages)
        assert [bool(m["components"]) for m in messages] == [False] * (len(messages) - 1) + [True]
        assert " ".join(m["content"] for m in messages).split() == text.split()


def test_split_text_respects_the_limit():
    assert split_text("short") == ["short"]
    assert split_text("") == []
    parts = split_text("x" * 4500)
    assert [len(p) for p in parts] == [2000, 2000, 500]


async def test_slot_messages_are_edited_in_place(fake, tmp_path):
    async with coach_on_discord(fake, tmp_path) as d:
        key, dm = d.key(ANA), d.dm(ANA)
        controls = (Choice("Pause", "pause@w1"),)
        await d.adapter.send(key, Reply("Hold 10 s", controls, slot="cue", kind="cue"), None)
        await d.adapter.send(key, Reply("7 s left", controls, slot="cue", edit=True,
                                        kind="countdown"), None)
        await d.adapter.send(key, Reply("7 s left", controls, slot="cue", edit=True,
                                        kind="countdown"), None)
        [message] = fake.bot_messages_in(dm)
        assert message["content"] == "7 s left" and message["components"]
        await d.adapter.send(key, Reply("nothing to edit", slot="other", edit=True,
                                        kind="countdown"), None)
        assert len(fake.bot_messages_in(dm)) == 1


# -- faults ------------------------------------------------------------------------------------

async def test_closed_dms_are_logged_with_the_reason_and_kept_for_a_second_day(fake, tmp_path,
                                                                              caplog):
    """One refused DM is logged and remembered; the reminders stop only after a second day
    (tests/test_discord_closed_dms.py plays the days)."""
    async with coach_on_discord(fake, tmp_path) as d:
        await d.onboards(ANA)
        user = d.coach.services.store.find_user(d.key(ANA))
        assert user.reminders_on == 1
        fake.close_dms(ANA)
        with caplog.at_level(logging.WARNING):
            delivered = await d.coach.services.delivery.send(d.key(ANA), Reply("Good morning!"))
        assert delivered is False
        user = d.coach.services.store.find_user(d.key(ANA))
        assert user.reminders_on == 1
        [failure] = d.coach.services.store.db["delivery_failures"].rows
        assert failure["user_id"] == user.id and "50007" in failure["reason"]
        assert any("cannot reach" in r.getMessage() and "50007" in r.getMessage()
                   for r in caplog.records)


async def test_a_429_is_retried_by_discord_py_and_the_message_arrives(fake, tmp_path):
    async with coach_on_discord(fake, tmp_path) as d:
        dm = d.dm(ANA)
        fake.fail_next(rf"^/channels/{dm}/messages$", status=429, retry_after=0.2)
        assert await d.coach.services.delivery.send(d.key(ANA), Reply("after the storm"))
        assert [m["content"] for m in fake.bot_messages_in(dm)] == ["after the storm"]
        statuses = [c.status for c in fake.calls_to(rf"^/channels/{dm}/messages$", "POST")]
        assert statuses == [429, 200]


def _fail_after(fake: FakeDiscord, path: str, ok: int, status: int, times: int = 1) -> None:
    """Let `ok` POSTs to `path` through, then answer the next `times` with `status`."""
    match, seen = fake._match_fault, itertools.count()

    def fault(method: str, rel: str):
        if method == "POST" and re.search(path, rel) and next(seen) == ok:
            fake.fail_next(path, status, method="POST", times=times)
        return match(method, rel)

    fake._match_fault = fault


def _three_parts(word: str) -> str:
    return "\n\n".join(f"{word} {n}. " + "word " * 300 for n in range(3))


async def test_a_retried_reply_does_not_repeat_the_parts_that_went_out(fake, tmp_path):
    async with coach_on_discord(fake, tmp_path) as d:
        dm, text = d.dm(ANA), _three_parts("Paragraph")
        _fail_after(fake, rf"^/channels/{dm}/messages$", ok=1, status=503)
        assert await d.coach.services.delivery.send(d.key(ANA), Reply(text))
        statuses = [c.status for c in fake.calls_to(rf"^/channels/{dm}/messages$", "POST")]
        assert statuses == [200, 503, 200, 200]
        assert " ".join(m["content"] for m in fake.bot_messages_in(dm)).split() == text.split()


@pytest.mark.parametrize("status, times, why", [
    (400, 1, "refused, so never retried"),
    (503, Delivery.MAX_TRIES, "the core gave up"),
])
async def test_a_send_that_ended_leaves_nothing_behind_for_the_next_one(fake, tmp_path, status,
                                                                       times, why):
    """Parts already out are skipped only by the retries of that one send: once it has ended,
    sending the same Reply object again starts from its first part."""
    async with coach_on_discord(fake, tmp_path) as d:
        dm, reply = d.dm(ANA), Reply(_three_parts("Paragraph"))
        _fail_after(fake, rf"^/channels/{dm}/messages$", ok=1, status=status, times=times)
        await d.coach.services.delivery.send(d.key(ANA), reply)
        assert len(fake.bot_messages_in(dm)) == 1  # the first part only
        assert await d.coach.services.delivery.send(d.key(ANA), reply), why
        contents = [m["content"] for m in fake.bot_messages_in(dm)]
        assert " ".join(contents[1:]).split() == reply.text.split(), why
        assert not d.adapter._resume.open, "a finished send left its progress behind"


async def test_a_new_reply_at_a_given_up_replys_address_is_sent_whole(fake, tmp_path, caplog):
    """Python reuses a freed object's id at once: progress kept by id(reply) would make the next
    reply there skip its first parts."""
    caplog.set_level(logging.CRITICAL, logger="bot.delivery")  # its records would keep the reply
    async with coach_on_discord(fake, tmp_path) as d:
        dm, key = d.dm(ANA), d.key(ANA)
        reply = Reply(_three_parts("Paragraph"))
        _fail_after(fake, rf"^/channels/{dm}/messages$", ok=1, status=503,
                    times=Delivery.MAX_TRIES)
        assert not await d.coach.services.delivery.send(key, reply)  # the first part only, then given up
        stale, text = id(reply), _three_parts("Later")
        del reply
        gc.collect()
        made = []  # new replies until one lands where the old one was
        while len(made) < 100_000 and (not made or id(made[-1]) != stale):
            made.append(Reply(text))
        later = made.pop()
        del made
        if id(later) != stale:
            pytest.skip("the allocator did not reuse the freed reply's address this time")
        assert await d.coach.services.delivery.send(key, later)
        contents = [m["content"] for m in fake.bot_messages_in(dm)]
        assert len(contents) == 4 and " ".join(contents[1:]).split() == text.split()


async def test_the_token_never_reaches_the_logs(fake, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    async with coach_on_discord(fake, tmp_path) as d:
        await d.slash(ANA, "start", "not: a doctor")
        await d.presses(ANA, "Got it, let's go", "question 1 of 11")
        await d.says(ANA, "hello", "")
        # whatever a library might log, message, argument or traceback
        logging.getLogger("discord.http").debug("token is %s", fake.token)
        logging.getLogger("adapters.discord").warning(f"oops {fake.token}")
        try:
            raise RuntimeError(f"Bot {fake.token}")
        except RuntimeError:
            logging.getLogger("discord.client").exception("failed")
    assert caplog.records
    for record in caplog.records:
        line = logging.Formatter().format(record)
        assert fake.token not in line, line
    assert "<discord-token>" in caplog.text


def test_one_filter_keeps_both_tokens_out_of_every_guarded_logger(tmp_path):
    """Telegram and Discord in one process: a handler added after start-up sees neither token,
    whether a library, an adapter or the core logs it."""
    coach = build(tmp_path / "coach.db")
    telegram_token, discord_token = "123456:TelegramOnlyToken", "Discord.Only.Token"
    TelegramAdapter(coach, telegram_token, "http://127.0.0.1:9/bot")
    DiscordAdapter(coach, discord_token)
    lines: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: lines.append(handler.format(record))
    names = ("bot.delivery", "adapters.telegram", "discord.http", "httpx", "telegram.ext")
    for name in names:
        logging.getLogger(name).addHandler(handler)
    try:
        for name in names:
            logging.getLogger(name).error("tokens %s and %s", telegram_token, discord_token)
    finally:
        for name in names:
            logging.getLogger(name).removeHandler(handler)
        coach.services.store.close()
    assert len(lines) == len(names)
    for line in lines:
        assert telegram_token not in line and discord_token not in line, line
        assert "<telegram-token>" in line and "<discord-token>" in line, line
    assert not any(module is _plumbing for module in platform_modules().values())


# -- configuration -----------------------------------------------------------------------------

async def test_a_refused_message_content_intent_explains_how_to_fix_it(tmp_path):
    async with FakeDiscord(enabled_privileged_intents=0) as f, point_discord_at(f):
        coach = build(tmp_path / "coach.db")
        adapter = DiscordAdapter(coach, f.token, guild_ready_timeout=0.05)
        try:
            with pytest.raises(ConfigError) as raised:
                await asyncio.wait_for(adapter.start(), STEP)
            assert "Message Content" in str(raised.value)
            assert "DISCORD_MESSAGE_CONTENT=0" in str(raised.value)
        finally:
            coach.services.store.close()


async def test_without_message_content_slash_commands_and_buttons_still_work(tmp_path):
    async with FakeDiscord(enabled_privileged_intents=0, dm_content_requires_intent=True) as f, \
            point_discord_at(f):
        async with coach_on_discord(f, tmp_path, message_content=False) as d:
            assert not f.message_content_intent
            await d.slash(ANA, "start", "not: a doctor")
            await d.presses(ANA, "Got it, let's go", "question 1 of 11")
            await d.says(ANA, "no", "slash commands")  # content blanked: told what works


async def test_commands_go_to_the_test_server_when_one_is_set(fake, tmp_path):
    async with coach_on_discord(fake, tmp_path, test_guild=fake.guild.id) as d:
        assert list(fake.registered_commands(fake.guild.id)) == MENU
        assert fake.registered_commands() == {}
        general = fake.guild.channel()
        await d.slash(ANA, "help", "not: a doctor", channel=general)


async def test_a_wrong_token_is_a_plain_config_error(fake, tmp_path):
    coach = build(tmp_path / "coach.db")
    try:
        adapter = DiscordAdapter(coach, "wrong-token", guild_ready_timeout=0.05)
        with pytest.raises(ConfigError, match="DISCORD_TOKEN") as raised:
            await asyncio.wait_for(adapter.start(), STEP)
        assert "wrong-token" not in str(raised.value)
    finally:
        coach.services.store.close()


def test_missing_token_is_a_config_error_and_the_subcommand_exists(monkeypatch, tmp_path):
    assert platform_modules()["discord"] is dc
    assert dc.discord is discord  # adapters/discord.py does not shadow the library
    monkeypatch.delenv("DISCORD_TOKEN", raising=False)
    with pytest.raises(ConfigError, match="DISCORD_TOKEN is not set"):
        dc.create(build(tmp_path / "c.db"), None)


async def test_python_bot_py_discord_runs_it_and_stops_on_sigterm(fake, tmp_path):
    env = dict(os.environ, DISCORD_TOKEN=fake.token, DISCORD_API_BASE_URL=fake.api_base,
               DISCORD_GATEWAY_URL=fake.gateway_url, LOG_LEVEL="DEBUG", PYTHONUNBUFFERED="1")
    for name in ("TELEGRAM_TOKEN", "DISCORD_TEST_GUILD", "DISCORD_MESSAGE_CONTENT"):
        env.pop(name, None)
    log_file = tmp_path / "stderr.log"
    with open(log_file, "wb") as stderr_sink:  # a file: a chatty DEBUG log never blocks a pipe
        process = await asyncio.create_subprocess_exec(
            sys.executable, str(ROOT / "bot.py"), "discord", "--db", str(tmp_path / "coach.db"),
            "--time-scale", "600", cwd=tmp_path, env=env,
            stdout=subprocess.DEVNULL, stderr=stderr_sink)
    try:
        await fake.wait_for(lambda: fake.connected and fake.registered_commands(), timeout=20)
        iid = await fake.slash(ANA, "start")
        await fake.wait_for_message(fake.dm_channel_of(ANA), lambda m: "not: a doctor"
                                    in m["content"], timeout=STEP)
        assert fake.interaction(iid).ack_latency < 3.0
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.wait(), 20)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    stderr = log_file.read_text()
    assert process.returncode == 0, stderr[-2000:]
    assert "discord" in stderr and fake.token not in stderr
    fake.assert_clean()
