"""Telegram delivers an update again: after the bot was killed before confirming it, or (over a
webhook) when it did not get a 200. Each update's effect happens exactly once and every update
gets its answer. The real `python bot.py telegram` process, SIGKILLed again and again, against
the stand-in Bot API over 127.0.0.1; and the in-process adapter for the webhook.

Nothing here is decided by how fast the machine is: kills come after conditions (the process is
polling, a few more updates were fetched) plus a random pause, and every wait is bounded by
generous timeouts that only a hung bot reaches."""
from __future__ import annotations

import asyncio
import os
import random
import re
import sqlite3
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

import adapters.telegram as tg
from bot.bootstrap import CONTENT_DIR
from bot.content import load_programme
from bot.data.store import Store
from bot.events import UserKey
from test_telegram import ANA, ROOT, STEP, WebhookFake, _free_port
from test_telegram_untrusted import _post, coach_on_a_webhook

try:  # tests/ is on sys.path (no tests/__init__.py, pytest's default "prepend" import mode)
    from standins.telegram_api import FakeTelegram
except ImportError:  # tests is a package
    from tests.standins.telegram_api import FakeTelegram

pytestmark = pytest.mark.filterwarnings(
    "ignore:.*retry_after.*:telegram.warnings.PTBDeprecationWarning")

PEOPLE = [7_000_000 + n for n in range(40)]
KILLS = 12
PATIENCE = 180.0  # seconds: the bound on draining everything at the end (a hung bot only)
NOTED = re.compile(r"noted your back pain at (\d+)/10")


def seed(db: Path) -> None:
    """Forty people who finished onboarding (reminders off), straight into the database."""
    store = Store(db)
    now = datetime.now(timezone.utc)
    exercises = [e.id for e in load_programme(CONTENT_DIR).exercises]
    for uid in PEOPLE:
        user = store.user(UserKey("telegram", str(uid)), now, f"P{uid % 100}")
        store.update_user(user.id, state="ready", baseline_pain=3, screen_result="clear")
        store.init_stages(user.id, exercises, now)
    store.close()


async def start_bot(fake: FakeTelegram, db: Path, log: Path) -> asyncio.subprocess.Process:
    env = {**os.environ, "TELEGRAM_TOKEN": fake.token, "TELEGRAM_API_BASE_URL": fake.base_url,
           "LOG_LEVEL": "WARNING"}
    env.pop("DISCORD_TOKEN", None)
    with open(log, "ab") as sink:
        return await asyncio.create_subprocess_exec(
            sys.executable, "bot.py", "telegram", "--db", str(db), "--time-scale", "600",
            cwd=ROOT, env=env, stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL, stderr=sink)


class People:
    """Forty people typing "pain N" (and pressing a pain button now and then) at their own
    pace, whether or not the bot is up: Telegram keeps what they send."""

    def __init__(self, fake: FakeTelegram, rng: random.Random) -> None:
        self.fake = fake
        self.rng = rng
        self.sent: dict[int, list[int]] = {uid: [] for uid in PEOPLE}
        self.presses = 0

    async def keep_sending(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            uid = self.rng.choice(PEOPLE)
            score = self.rng.randint(0, 10)
            answered = self.fake.last_message(uid)
            if answered is not None and self.rng.random() < 0.3:  # a tap on a pain button
                self.fake.user_press(uid, answered["message_id"], f"pain:{score}", strict=False)
                self.presses += 1
            else:
                self.fake.user_text(uid, f"pain {score}")
            self.sent[uid].append(score)
            await asyncio.sleep(self.rng.uniform(0.005, 0.03))

    @property
    def total(self) -> int:
        return sum(len(scores) for scores in self.sent.values())

    def answered(self, uid: int) -> list[int]:
        return [int(found.group(1)) for text in self.fake.texts(uid)
                if (found := NOTED.search(text))]


def in_order_within(sent: list[int], answered: list[int]) -> bool:
    """Every score sent was answered, in order (a message may have been repeated after a kill
    between it going out and it being marked as sent: extra answers are allowed)."""
    found = iter(answered)
    return all(any(score == answer for answer in found) for score in sent)


async def test_a_bot_killed_again_and_again_leaves_one_effect_per_update_and_answers_all(
        tmp_path):
    seed_value = random.randrange(1_000_000)
    rng = random.Random(seed_value)
    db, log = tmp_path / "coach.db", tmp_path / "bot.log"
    seed(db)
    async with FakeTelegram() as fake:
        for uid in PEOPLE:
            fake.add_chat(uid, first_name=f"P{uid % 100}")
        people = People(fake, rng)
        stop = asyncio.Event()
        sending = asyncio.create_task(people.keep_sending(stop))
        killed_with_updates_in_hand = 0
        try:
            for _ in range(KILLS):
                polls = len(fake.calls_of("getUpdates"))
                bot = await start_bot(fake, db, log)
                # Polling, with a fresh batch fetched: then a random moment, mid-work.
                await fake.wait_until(lambda: len(fake.calls_of("getUpdates", ok=True)) > polls
                                      and fake.calls_of("getUpdates", ok=True)[-1].result,
                                      timeout=PATIENCE)
                await asyncio.sleep(rng.uniform(0.0, 1.5))
                if fake.calls_of("getUpdates", ok=True)[-1].result:
                    killed_with_updates_in_hand += 1
                bot.kill()  # SIGKILL: no clean-up of any kind
                await bot.wait()
        finally:
            stop.set()
            await sending
        polls = len(fake.calls_of("getUpdates"))
        bot = await start_bot(fake, db, log)
        try:  # polling first: a SIGTERM while it still starts up would meet no handler yet
            await fake.wait_until(lambda: len(fake.calls_of("getUpdates")) > polls,
                                  timeout=PATIENCE)
            await fake.wait_until(lambda: fake.pending_updates == 0 and all(
                in_order_within(people.sent[uid], people.answered(uid)) for uid in PEOPLE),
                timeout=PATIENCE)
        finally:
            bot.terminate()
            await asyncio.wait_for(bot.wait(), STEP * 3)
        assert bot.returncode == 0, log.read_text()[-3000:]
        delivered_again = sum(1 for c in fake.calls_of("getUpdates", ok=True)
                              for _ in c.result) - people.total
        answers = {uid: people.answered(uid) for uid in PEOPLE}

    with sqlite3.connect(db) as connection:
        pain = {uid: [row[0] for row in connection.execute(
            "select p.score from pain_reports p join users u on u.id = p.user_id "
            "where u.platform_id = ? order by p.id", (str(uid),))] for uid in PEOPLE}
        ledger = connection.execute(
            "select count(*), sum(sent = count), sum(replies is null) from handled_updates"
        ).fetchone()
    summary = (f"seed {seed_value}: {people.total} updates ({people.presses} presses), "
               f"{delivered_again} deliveries of updates already fetched, "
               f"{sum(len(a) for a in answers.values()) - people.total} answers repeated, "
               f"{killed_with_updates_in_hand} of {KILLS} kills with a batch in hand")
    print(summary)
    assert all(pain[uid] == people.sent[uid] for uid in PEOPLE), summary  # once each, in order
    assert sum(len(scores) for scores in pain.values()) == people.total, summary
    assert ledger == (people.total, people.total, people.total), summary  # all answered
    assert all(in_order_within(people.sent[uid], answers[uid]) for uid in PEOPLE), summary
    assert delivered_again > 0, summary  # the kills did cut batches off: re-delivery happened
    assert "Traceback" not in log.read_text()


async def test_a_webhook_answers_telegram_only_once_the_update_is_handled(tmp_path):
    """Telegram re-posts an update until it gets a 200. The 200 comes after Ana's answer went
    out; a second post of the same update changes nothing; and an update whose answer could
    not go out (Telegram failing five times) gets it when Telegram posts it again."""
    port = _free_port()
    hook = tg.Webhook("https://coach.example.org/tg-hook", port=port)
    async with coach_on_a_webhook(tmp_path, hook) as t:
        fake, store = t.fake, t.coach.services.store
        start = fake.user_text(ANA, "/start").to_dict()
        assert await _post(port, start, hook.secret) == 200
        assert any("not: a doctor" in text for text in fake.texts(ANA))  # already out at 200
        assert await _post(port, start, hook.secret) == 200
        assert len([text for text in fake.texts(ANA) if "not: a doctor" in text]) == 1

        store.update_user(store.find_user(t.key(ANA)).id, state="ready", baseline_pain=3)
        pain = fake.user_text(ANA, "pain 6").to_dict()
        fake.fail_next("sendMessage", 502, times=t.coach.services.delivery.MAX_TRIES)
        assert await _post(port, pain, hook.secret) == 200
        assert not any("noted your back pain" in text for text in fake.texts(ANA))
        assert await _post(port, pain, hook.secret) == 200  # Telegram posts it again
        assert len([text for text in fake.texts(ANA) if "noted your back pain at 6/10" in text]) == 1
        user = store.find_user(t.key(ANA))
        assert [(p.score, p.kind) for p in store.pain_reports(user.id)] == [(6, "adhoc")]
