"""Fuzzing through the adapters: thousands of generated updates, as raw JSON, through each
adapter's own parsing (python-telegram-bot's Update.de_json and the adapter's handlers;
discord.py's gateway parsers, its command tree and button dispatch, and the adapter), with one
coach behind both, as in `python bot.py`.

What goes in: typed texts (the coach's own phrases, commands in every state, any Unicode up to
10 kB, control characters, lone surrogates, empty text), presses on current, stale, forged and
other people's buttons, stickers and photos, edited messages, messages in groups and servers,
from bots, with forged chats, and updates the library cannot read. People are walked through
onboarding and workouts by pressing the buttons they are shown, so every state is reached.

What must hold, for every update: no exception escapes (nothing logged at ERROR or above,
anywhere); it gets an answer on its platform, or is one of the deliberate silences (a forged
or unreadable update, a command for another bot, an edit, a bot's message, a group's chatter,
a timer control while the timer itself answers); nothing about one person reaches another (no
other person's name in what they are sent, exports hold only their own record, a group or
server channel only ever hears "let's talk in private"); and, checked every few hundred
updates and at the end: stored pain within 0-10, stages on their ladders, at most one running
workout per person.

Deterministic: one seeded random generator (FUZZ_SEED, printed), the stand-ins answered
in-process (tests/standins/in_process.py: no socket), the coach on a manual clock that the run
moves on a few seconds per update (timers run between and during updates, as they would).
FUZZ_UPDATES sets how many updates (default 10,000, split between the two platforms).

Kept cheap on purpose, as the run's time goes mostly to the timers' own traffic: most people
cut their workouts short (two see them through, so ladders move), countdown edits run for a
few people only, and progress charts are asked for now and then.
"""
from __future__ import annotations

import asyncio
import json
import logging
import os
import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from telegram import Update

from adapters.discord import DiscordAdapter
from adapters.telegram import TelegramAdapter
from bot.bootstrap import build_app
from bot.clock import ManualClock
from bot.events import Picked, Text, UserKey
from bot.intents import parse

try:  # tests/ is on sys.path (pytest's default "prepend" import mode)
    from standins.in_process import DiscordGateway, TelegramRequest, log_in
    from standins.telegram_api import FakeTelegram
except ImportError:  # tests is a package
    from tests.standins.in_process import DiscordGateway, TelegramRequest, log_in
    from tests.standins.telegram_api import FakeTelegram

SEED = int(os.environ.get("FUZZ_SEED", "20260311"))
UPDATES = int(os.environ.get("FUZZ_UPDATES", "10000"))
PEOPLE = 12  # per platform
CHECK_EVERY = 500  # updates between the store-wide checks
SECONDS_BETWEEN = (0, 0, 1, 1, 2, 3)  # virtual time between two updates
MAX_TEXT = 10 * 1024
GROUP_CHAT = -4001234567
OTHER_BOT = "another_bot"

# What people type: the coach's own words (so conversations go somewhere), and near misses.
PHRASES = (
    "start session", "start", "hello", "help", "progress", "pain 4", "pain 11", "pain -1", "4",
    "10", "0", "99999999999999999999", "4/10", "pain: four", "ok", "yes", "no", "not sure",
    "Got it, let's go", "done", "stop", "pause", "resume", "skip", "skip rest", "+10", "next",
    "add 30 seconds", "07:30", "7:30am", "remind me at 7:30am", "remind me at 7", "Berlin",
    "I'm in Berlin", "Europe/Berlin", "atlantis", "no reminders", "settings", "reminders off",
    "reminders on", "pause reminders for 3 days", "settings time 8am", "snooze", "snooze 1h",
    "skip today", "export", "delete my data", "rescreen", "why side plank", "how long",
    "what's next", "show me", "what is this", "it hurts", "pain down my leg", "hurts a lot",
    "thanks", "bye", "quit", "don't stop", "back", "days", "weekdays", "time", "zone",
    "The zinging has gone", "Reached it easily", "Couldn't reach it",
)
COMMANDS = ("/start", "/session", "/pain 4", "/pain 0", "/pain 10", "/pain 11", "/pain",
            "/settings", "/help", "/stop", "/export", "/nonsense", "/start@standin_bot",
            f"/help@{OTHER_BOT}", "/")
# How much more often a person presses these than any other button they are shown, so that
# most get through the safety check and into workouts (the others still get pressed). A few
# people ("finishers") see workouts through, so ladders move; the rest mostly cut them short,
# which keeps the timers' own traffic (a cue every few seconds) from filling the run.
LIKELY = {"No": 12, "Got it, let's go": 8, "Start session": 4, "Done": 10, "Re-take the check": 4,
          "Reached it easily": 3, "Resume": 3, "Finish and report pain": 2, "Stop": 1,
          "Yes, every rep": 3, "No, it stays in my back": 3, "Skip warm-up": 2,
          "Skip exercise": 3, "Progress": 0.02}
HASTY = dict(LIKELY, **{"Stop": 10, "Skip exercise": 10, "Start session": 0.3})
FINISHERS = 1  # per platform
EDITING = 1  # per platform: people whose timers also count down by editing their cue
# What a running timer may answer by itself (its next cue), with no message of the coach's.
# Verbs a running workout may answer through its timer task rather than in the turn itself:
# its controls, "ready" on a card, and yes/no/ok to a question it holds (stop or skip?).
TIMER_VERBS = frozenset({"pause", "resume", "skip_rest", "add_time", "skip", "stop", "done",
                         "next", "quit", "ready", "yes", "no", "ok"})
NOBODY = UserKey("fuzz", "0")  # reading a verb needs a sender; whose does not matter
FORGED = ("other's button", "forged chat")  # answering these would speak into someone's chat
SLASH = ("start", "session", "pain", "progress", "settings", "help", "stop")
# "progress" draws a chart (matplotlib, a fifth of a second of CPU): asked for now and then, it
# is covered without taking over the run.
SLASH_WEIGHTS = {"progress": 0.03}


# -- generated text -----------------------------------------------------------------------------

RANGES = ((0x20, 0x7E), (0x00, 0x1F), (0x7F, 0x9F), (0xA0, 0x24F), (0x300, 0x36F),
          (0x590, 0x8FF), (0x200B, 0x202E), (0x2060, 0x206F), (0x4E00, 0x4FFF), (0xE000, 0xE0FF),
          (0xFFF0, 0xFFFF), (0x1F300, 0x1FAFF), (0xE0000, 0xE007F), (0x0, 0x10FFFF))


SURROGATE = re.compile("[\ud800-\udfff]")


def any_text(rng: random.Random, surrogates: bool = True) -> str:
    """Any Unicode: mostly short, sometimes up to 10 kB; control characters, marks, RTL, emoji,
    private use, noncharacters, and (rarely) lone surrogates, which JSON can carry."""
    roll = rng.random()
    if roll < 0.05:
        return ""
    if roll < 0.25:  # a phrase with noise around it
        return rng.choice(("", any_text(rng, surrogates)[:20])) + rng.choice(PHRASES) + \
            rng.choice(("", "!!", "\n\n", "\x00", "\u202e", " 🙂"))
    size = rng.choice((1, 3, 12, 60, 400, 2000, 4096, MAX_TEXT))
    length = rng.randint(1, size)
    chunks, total = [], 0
    while total < length:  # runs of one kind of character (a run of one repeated, sometimes)
        low, high = rng.choice(RANGES)
        codes = rng.choices(range(low, high + 1), k=min(length - total, rng.randint(1, 64)))
        if rng.random() < 0.1:
            codes = codes[:1] * rng.choice((5, 50, 500))
        chunk = "".join(map(chr, codes))
        if not (surrogates and rng.random() < 0.1):  # lone surrogates: now and then only
            chunk = SURROGATE.sub("\ufffd", chunk)
        chunks.append(chunk)
        total += len(chunk)
    return "".join(chunks)[:length]


def typed(rng: random.Random, surrogates: bool = True) -> str:
    roll = rng.random()
    if roll < 0.55:
        phrase = rng.choice(PHRASES)
        return rng.choice(PHRASES) if "progress" in phrase and rng.random() < 0.9 else phrase
    if roll < 0.7:
        return rng.choice(COMMANDS)
    return any_text(rng, surrogates)


def forged_payload(rng: random.Random) -> str:
    return rng.choice((
        "pain:99@after", "pain:-1@bl", "pain:4@after", "delete:yes@delete", "delete:yes",
        "ok@in", "yes@s0", "no@s99", "rt:0730@rt", "rt:9999@rt", "set:p90000@set_pa", "set:t2561",
        "ham:nerve@hm", "session", "stop@w1", "resume_workout@int", "@", ":", "::@@", "",
        "x" * 64, "x" * 200, "😀" * 20, "\x00\x01", "snooze:15-20260311", "skip_today:20991231",
    )) if rng.random() < 0.7 else any_text(rng, surrogates=False)[:80]


# -- what happened, and what must hold ------------------------------------------------------------

@dataclass
class Person:
    platform: str
    id: int
    name: str  # a marker nobody else's messages may contain
    finisher: bool = False

    @property
    def key(self) -> UserKey:
        return UserKey(self.platform, str(self.id))


@dataclass
class Outcome:
    """One update's effect on its platform: the messages it produced, and for whom."""

    answered: bool = False
    sent: list[tuple[int, str, str]] = field(default_factory=list)  # (person or 0, where, text)
    files: list[tuple[int, str, bytes]] = field(default_factory=list)  # (person, name, data)


@dataclass
class Fuzz:
    coach: Any
    rng: random.Random
    failures: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    people: list[Person] = field(default_factory=list)
    reached: dict[str, int] = field(default_factory=dict)
    last_seen: dict[tuple[str, str], tuple] = field(default_factory=dict)

    def fail(self, index: int, platform: str, kind: str, problem: str, update: Any) -> None:
        if len(self.failures) < 25:
            shown = json.dumps(update, ensure_ascii=True, default=str)
            self.failures.append(f"#{index} {platform} {kind}: {problem}\n    {shown[:400]}")

    def judge(self, index: int, platform: str, kind: str, person: Person | None,
              silence: bool, outcome: Outcome, update: Any, running_before: bool,
              verb: str | None = None) -> None:
        """The properties every single update must keep. `verb`: what the coach reads in it
        (a timer control may be answered by the timer's next cue alone)."""
        self.counts[f"{platform}:{kind}"] = self.counts.get(f"{platform}:{kind}", 0) + 1
        if kind in FORGED and outcome.answered:
            self.fail(index, platform, kind, "a forged update was answered", update)
        if not silence and not outcome.answered:
            timer_answers = person is not None and verb in TIMER_VERBS and (
                running_before or self.coach.workout_running(person.key))
            if not timer_answers:
                self.fail(index, platform, kind, "no answer", update)
        names = {p.id: p.name for p in self.people}
        for recipient, where, text in outcome.sent:
            if where == "public" and text != self.coach.texts("menu.private_only"):
                self.fail(index, platform, kind, f"said in public: {text[:80]!r}", update)
            others = [name for pid, name in names.items() if pid != recipient and name in text]
            if others:
                self.fail(index, platform, kind, f"{others} named to {recipient}", update)
        for recipient, name, data in outcome.files:
            if name.endswith(".json"):
                record = json.loads(data)
                if record["user"]["id"] != str(recipient):
                    self.fail(index, platform, kind, f"export of {record['user']} sent to "
                              f"{recipient}", update)

    def everyone(self) -> dict[tuple[str, str], tuple]:
        """What is stored about each person who has no timer running (a timer moves its
        person on by itself). Steps follow each other with no await in between, so one step's
        "after" is the next one's "before" (`last_seen`)."""
        rows = self.coach.services.store.db.execute(
            "select platform, platform_id, state, baseline_pain, reminders_on, timezone, "
            "reminder_time, (select count(*) from pain_reports p where p.user_id = u.id), "
            "(select count(*) from stage_changes c where c.user_id = u.id) from users u")
        self.last_seen = {(row[0], row[1]): row[2:] for row in rows
                          if not self.coach.workout_running(UserKey(row[0], row[1]))}
        return self.last_seen

    def untouched(self, index: int, platform: str, kind: str, person: Person,
                  before: dict[tuple[str, str], tuple], update: Any) -> None:
        """One person's update changed nothing stored about anyone else."""
        after = self.everyone()
        own = (person.platform, str(person.id))
        changed = [key for key, row in before.items() if key != own and (
            key in after and after[key] != row
            or key not in after and not self.coach.workout_running(UserKey(*key)))]
        if changed:
            self.fail(index, platform, kind, f"changed what is stored about {changed}", update)

    def check_store(self, where: str) -> None:
        """Store-wide: pain within 0-10, stages on their ladders, one running workout at most."""
        db = self.coach.services.store.db
        ladders = {e.id: len(e.stages) for e in self.coach.services.programme.exercises}
        problems = []
        for table, column in (("pain_reports", "score"), ("users", "baseline_pain"),
                              ("workouts", "pain_before"), ("workouts", "pain_after"),
                              ("morning_checks", "pain")):
            bad = db.execute(f"select count(*) from {table} where {column} is not null and "
                             f"({column} < 0 or {column} > 10 or typeof({column}) != 'integer')"
                             ).fetchone()[0]
            if bad:
                problems.append(f"{bad} {table}.{column} outside 0-10")
        for exercise, index in db.execute("select exercise_id, stage_index from stages"):
            if exercise not in ladders or not 0 <= index < ladders[exercise]:
                problems.append(f"stage {exercise} {index} off its ladder")
        for exercise, low, high in db.execute(
                "select exercise_id, from_index, to_index from stage_changes"):
            size = ladders.get(exercise, 0)
            if not (0 <= low < size and 0 <= high < size):
                problems.append(f"stage change {exercise} {low}->{high} off its ladder")
        running = db.execute("select user_id, count(*) from workouts where status = 'running' "
                             "group by user_id having count(*) > 1").fetchall()
        if running:
            problems.append(f"several running workouts: {running}")
        for problem in problems[:5]:
            self.failures.append(f"after {where}: {problem}")


def reached(coach) -> dict[str, int]:
    """How deep the run went: workouts finished, pain answers, stage moves, erased people."""
    db = coach.services.store.db
    count = lambda sql: db.execute(sql).fetchone()[0]  # noqa: E731
    return {"workouts done": count("select count(*) from workouts where status = 'done'"),
            "workouts stopped": count("select count(*) from workouts where status = 'stopped'"),
            "pain reports": count("select count(*) from pain_reports"),
            "stage changes": count("select count(*) from stage_changes"),
            "onboarded": count("select count(*) from users where state not in ('new', 'intro') "
                               "and state not like 'screen:%'"),
            "red flags": count("select count(*) from users where state like 'redflag:%'")}


class SteppedClock(ManualClock):
    """A ManualClock whose timers wait for the test to move time on (`advance`), so a workout
    unfolds across the updates around it instead of all at once and people act in the middle
    of it; other sleeps (send budgets, pacing between messages) pass at once, as on a
    ManualClock. After `run_free()` timers pass at once too (to wind down)."""

    def __init__(self, start: datetime) -> None:
        super().__init__(start)
        self._moved = asyncio.Event()
        self.free = False

    def advance(self, seconds: float) -> None:
        self._move_to(self._elapsed + max(0.0, seconds))

    def run_free(self) -> None:
        self.free = True
        self._move_to(self._elapsed)

    def _move_to(self, elapsed: float) -> None:
        self._elapsed = max(self._elapsed, elapsed)
        moved, self._moved = self._moved, asyncio.Event()
        moved.set()

    async def sleep_until(self, deadline: float) -> None:
        await asyncio.sleep(0)
        if deadline > self._elapsed:
            self._move_to(deadline)

    async def wait_event(self, event: asyncio.Event, deadline: float | None) -> bool:
        if self.free or deadline is None:
            return await super().wait_event(event, deadline)
        while not event.is_set() and self._elapsed < deadline and not self.free:
            waits = [asyncio.ensure_future(event.wait()), asyncio.ensure_future(self._moved.wait())]
            try:
                await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for wait in waits:
                    wait.cancel()
        return event.is_set()


class ErrorLog(logging.Handler):
    """Every record at ERROR or above, from any logger: an exception that escaped somewhere."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


# -- Telegram -----------------------------------------------------------------------------------

class TelegramDriver:
    """Raw updates for the Telegram adapter, built from the stand-in's own payloads."""

    platform = "telegram"

    def __init__(self, fuzz: Fuzz, fake: FakeTelegram, adapter: TelegramAdapter) -> None:
        self.fuzz, self.fake, self.adapter = fuzz, fake, adapter
        self.people = [Person("telegram", 7_000_000 + n, f"Tg{n}Qz", n < FINISHERS)
                       for n in range(PEOPLE)]
        self.update_ids = iter(range(10**9, 2 * 10**9))
        self.shown: dict[int, list[int]] = {}  # chat -> the bot's message ids, oldest first
        self.read = 0  # calls looked at so far (answers and timer cues alike)

    def _note_messages(self) -> None:
        """Keep up with the bot's messages (the stand-in's own lists are slow to search)."""
        for call in self.fake.calls[self.read:]:
            result = call.result if call.ok else None
            if call.method in ("sendMessage", "sendPhoto", "sendDocument") and \
                    isinstance(result, dict):
                self.shown.setdefault(result["chat"]["id"], []).append(result["message_id"])
        self.read = len(self.fake.calls)

    def _buttons(self, chat: int) -> list[tuple[int, str, str]]:
        """(message, payload, label) of the buttons on the bot's last messages in a chat,
        oldest first, as they are now (after edits)."""
        found = []
        for message_id in self.shown.get(chat, [])[-30:]:
            message = self.fake._messages.get((chat, message_id), {})
            for row in (message.get("reply_markup") or {}).get("inline_keyboard", []):
                found += [(message_id, b["callback_data"], b.get("text", ""))
                          for b in row if b.get("callback_data")]
        return found

    async def step(self, index: int) -> None:
        rng = self.fuzz.rng
        person = rng.choice(self.people)
        kind, raw, silence, chat = self._generate(rng, person)
        running = self.fuzz.coach.workout_running(person.key)
        before = self.fuzz.last_seen or self.fuzz.everyone()
        mark = len(self.fake.calls)
        update = Update.de_json(json.loads(json.dumps(raw)), self.adapter.app.bot)  # as sent
        await self.adapter.app.process_update(update)
        outcome = self._outcome(mark, chat)
        self.fuzz.judge(index, "telegram", kind, person, silence, outcome, raw, running,
                        telegram_verb(raw))
        self.fuzz.untouched(index, "telegram", kind, person, before, raw)

    def _generate(self, rng: random.Random, person: Person) -> tuple[str, dict, bool, int]:
        """(kind, raw update, whether silence is the right answer, the chat answers go to)."""
        roll = rng.random()
        self._note_messages()
        buttons = self._buttons(person.id)
        if roll < 0.40 and buttons:  # the newest message's buttons: conversations move on
            message, data, _ = likely(rng, newest(buttons), person)
            return "press", self._press(person, message, data), False, person.id
        if roll < 0.45 and buttons:
            message, data, _ = rng.choice(buttons)
            return "stale press", self._press(person, message, data), False, person.id
        if roll < 0.50 and buttons:
            message = rng.choice(buttons)[0]
            return "forged press", self._press(person, message, forged_payload(rng)), False, \
                person.id
        if 0.50 <= roll < 0.53:  # someone else's message: a forged chat
            other = rng.choice([p for p in self.people if p is not person])
            theirs = self._buttons(other.id)
            if theirs:
                message, data, _ = rng.choice(theirs)
                raw = self._press(person, message, rng.choice((data, forged_payload(rng))),
                                  chat=other.id)
                return "other's button", raw, True, other.id
        if roll < 0.80:
            text = typed(rng)
            if text.startswith("/") and not _has_surrogate(text):
                raw = self._text(person, text, entities=True)
                silence = OTHER_BOT in text.split()[0]
                return "command", raw, silence, person.id
            return "text", self._text(person, text), False, person.id
        return self._odd(rng, person)

    def _odd(self, rng: random.Random, person: Person) -> tuple[str, dict, bool, int]:
        """Stickers, photos, edits, groups, bots, forged chats, unreadable updates."""
        kind = rng.choice(("sticker", "photo", "voice", "empty", "edited", "channel post",
                           "group text", "group command", "group other bot", "bot sender",
                           "forged chat", "unreadable", "no chat", "inline press"))
        raw = self._text(person, "x")
        message = raw["message"]
        del message["text"]
        silence, chat = False, person.id
        if kind == "sticker":
            message["sticker"] = {"file_id": "s1", "file_unique_id": "u1", "type": "regular",
                                  "width": 512, "height": 512, "is_animated": False,
                                  "is_video": False, "emoji": "🙂"}
        elif kind == "photo":
            message["photo"] = [{"file_id": "p1", "file_unique_id": "u2", "width": 90,
                                 "height": 90}]
            message["caption"] = typed(rng)[:1024]
        elif kind == "voice":
            message["voice"] = {"file_id": "v1", "file_unique_id": "u3", "duration": 3}
        elif kind == "empty":
            message["text"] = ""
        elif kind == "edited":
            message["text"] = typed(rng)
            message["edit_date"] = message["date"]
            raw["edited_message"] = raw.pop("message")
            silence = True  # not asked for (allowed_updates): no handler takes it
        elif kind == "channel post":
            message["text"] = "start session"
            message["chat"] = {"id": -1009876543210, "type": "channel", "title": "news"}
            message.pop("from")
            raw["channel_post"] = raw.pop("message")
            silence = True
        elif kind.startswith("group"):
            text = {"group text": typed(rng, surrogates=False), "group command": "/start",
                    "group other bot": f"/start@{OTHER_BOT}"}[kind]
            raw = self._text(person, text, entities=True, chat=GROUP_CHAT)
            silence, chat = not text.startswith("/") or OTHER_BOT in text, GROUP_CHAT
            if kind == "group text" and text.startswith("/"):  # typed a command after all
                silence = OTHER_BOT in text.split()[0] or text == "/"
            if kind == "group command":
                silence = False
        elif kind == "bot sender":
            message["text"] = "start session"
            message["from"]["is_bot"] = True
            silence = True
        elif kind == "forged chat":
            message["text"] = "delete my data"
            other = rng.choice([p for p in self.people if p is not person])
            message["chat"] = {"id": other.id, "type": "private", "first_name": other.name}
            silence = True
        elif kind == "unreadable":
            message["date"] = "yesterday"
            message["message_id"] = {"not": "a number"}
            silence = True
        elif kind == "no chat":
            message["text"] = "help"
            del message["chat"]
            silence = True
        elif kind == "inline press":
            raw = {"update_id": raw["update_id"], "callback_query": {
                "id": str(raw["update_id"]), "chat_instance": "1", "data": forged_payload(rng),
                "inline_message_id": "abc", "from": message["from"]}}
            silence = True  # no chat to answer in; the spinner is stopped
        return kind, raw, silence, chat

    def _text(self, person: Person, text: str, entities: bool = False,
              chat: int | None = None) -> dict:
        if entities:
            update = self.fake.user_text(person.id, text, chat_id=chat,
                                         chat_type="private" if chat is None else "group",
                                         first_name=person.name)
            raw = update.to_dict()
        else:  # any text, lone surrogates included: built by hand (no entities to measure)
            self.fake._ensure_chat(person.id, "private", first_name=person.name)
            raw = {"update_id": 0, "message": {
                "message_id": self.fake._new_message_id(person.id), "date": int(time.time()),
                "chat": {"id": person.id, "type": "private", "first_name": person.name},
                "from": {"id": person.id, "is_bot": False, "first_name": person.name},
                "text": text}}
        self.fake._updates.clear()  # nobody polls: the stand-in's queue stays empty
        raw["update_id"] = next(self.update_ids)
        return raw

    def _press(self, person: Person, message_id: int, data: str, chat: int | None = None) -> dict:
        self.fake.user_press(person.id, message_id, data, chat_id=chat, first_name=person.name,
                             strict=False)
        raw = self.fake._updates.pop()
        self.fake._updates.clear()
        raw["update_id"] = next(self.update_ids)
        return raw

    def _outcome(self, mark: int, chat: int) -> Outcome:
        outcome = Outcome()
        for call in self.fake.calls[mark:]:
            if call.method not in ("sendMessage", "sendPhoto", "sendAnimation", "sendDocument",
                                   "editMessageText") or not call.ok:
                continue
            target = call.chat_id
            where = "public" if isinstance(target, int) and target < 0 else "private"
            text = call.params.get("text") or call.params.get("caption") or ""
            outcome.sent.append((target if where == "private" else 0, where, text))
            document = call.params.get("document")
            if document is not None and hasattr(document, "data"):
                outcome.files.append((target, document.filename or "", document.data))
            if target == chat:
                outcome.answered = True
        return outcome


def telegram_verb(raw: dict) -> str | None:
    """The verb the coach reads in a Telegram update (typed text, command or button)."""
    if "callback_query" in raw:
        return parse(Picked(NOBODY, str(raw["callback_query"].get("data") or ""))).verb
    message = raw.get("message") or {}
    text = message.get("text", message.get("caption", ""))  # a photo is heard by its caption
    return parse(Text(NOBODY, text)).verb if isinstance(text, str) else None


def discord_verb(kind: str, event: Any) -> str | None:
    """The verb the coach reads in a Discord button, slash command or DM."""
    if kind.endswith("press"):
        action = event.split(":", 2)[2] if event.startswith("bc:") and event.count(":") > 1 \
            else event
        return parse(Picked(NOBODY, action)).verb
    if kind.startswith("/") or kind == "dm text":
        return parse(Text(NOBODY, event)).verb
    return None


def newest(buttons: list[tuple[int, str, str]]) -> list[tuple[int, str, str]]:
    """The buttons of the newest message that has any."""
    last = max(message for message, _, _ in buttons)
    return [button for button in buttons if button[0] == last]


def likely(rng: random.Random, buttons: list[tuple[int, str, str]],
           person: Person) -> tuple[int, str, str]:
    """A button as a person would press it: the way forward more often (LIKELY, or HASTY)."""
    weights = LIKELY if person.finisher else HASTY
    return rng.choices(buttons, [weights.get(label, 1) for _, _, label in buttons])[0]


def _has_surrogate(text: str) -> bool:
    return any(0xD800 <= ord(ch) <= 0xDFFF for ch in text)


# -- Discord ------------------------------------------------------------------------------------

class DiscordDriver:
    """Raw gateway events for the Discord adapter, built from the stand-in's own payloads."""

    platform = "discord"

    def __init__(self, fuzz: Fuzz, fake: DiscordGateway, adapter: DiscordAdapter) -> None:
        self.fuzz, self.fake, self.adapter = fuzz, fake, adapter
        self.people = []
        for n in range(PEOPLE):
            uid = fake.add_user(name=f"dc{n}zq")
            self.people.append(Person("discord", uid, fake.users[uid]["global_name"],
                                      n < FINISHERS))
        self.general = fake.guild.channel("general")
        self.dm_people = {fake.dm_channel_of(p.id): p.id for p in self.people}

    async def step(self, index: int) -> None:
        rng = self.fuzz.rng
        person = rng.choice(self.people)
        running = self.fuzz.coach.workout_running(person.key)
        mark = len(self.fake.calls)
        kind, event, silence, act = self._generate(rng, person)
        before = self.fuzz.last_seen or self.fuzz.everyone()
        await act()
        outcome = self._outcome(mark, person)
        self.fuzz.judge(index, "discord", kind, person, silence, outcome, event, running,
                        discord_verb(kind, event))
        self.fuzz.untouched(index, "discord", kind, person, before, event)
        if kind == "another's button" and (person.id, "private", self.fuzz.coach.texts(
                "discord.not_yours")) not in outcome.sent:
            self.fuzz.fail(index, "discord", kind, f"not told it isn't theirs: {outcome.sent}",
                           event)

    def _generate(self, rng: random.Random, person: Person
                  ) -> tuple[str, Any, bool, Callable[[], Any]]:
        """(kind, what is sent, whether silence is right, the coroutine function that sends it)."""
        fake, roll = self.fake, rng.random()
        where = rng.choice(("dm", "dm", "dm", self.general))
        mine = self._buttons(person)
        if roll < 0.40 and mine:
            message, custom_id, _ = likely(rng, newest(mine), person)
            return "press", custom_id, False, lambda: fake.click(person.id, message, custom_id)
        if roll < 0.45 and mine:
            message, custom_id, _ = rng.choice(mine)
            return "stale press", custom_id, False, \
                lambda: fake.click(person.id, message, custom_id)
        if roll < 0.50 and mine:
            message = rng.choice(mine)[0]
            custom_id = rng.choice((f"bc:{person.id}:{forged_payload(rng)}",
                                    f"bc:{rng.choice(self.people).id}:pain:4@after",
                                    forged_payload(rng)))[:100] or "x"
            return "forged press", custom_id, False, \
                lambda: fake.forge_click(person.id, message, custom_id)
        if 0.50 <= roll < 0.53:  # a button on someone else's message
            other = rng.choice([p for p in self.people if p is not person])
            theirs = self._buttons(other)
            if theirs:
                message, custom_id, _ = rng.choice(theirs)
                return "another's button", custom_id, False, \
                    lambda: fake.click(person.id, message, custom_id)
        if roll < 0.60:
            name = rng.choices(SLASH, [SLASH_WEIGHTS.get(n, 1) for n in SLASH])[0]
            options = {"level": rng.randint(0, 10)} if name == "pain" else None
            return f"/{name}", name, False, \
                lambda: fake.slash(person.id, name, options, channel=where)
        if roll < 0.85:
            text = typed(rng)
            return "dm text", text, False, lambda: fake.dm_text(person.id, text)
        return self._odd(rng, person)

    def _odd(self, rng: random.Random, person: Person
             ) -> tuple[str, Any, bool, Callable[[], Any]]:
        fake = self.fake
        kind = rng.choice(("server text", "server mention", "bot author", "webhook", "edited",
                           "sticker", "attachment", "empty"))
        if kind == "server text":
            text = typed(rng)
            return kind, text, True, lambda: fake.guild_text(person.id, self.general, text)
        if kind == "server mention":
            text = f"<@{fake.bot_user_id}> {typed(rng)}"
            return kind, text, False, lambda: fake.guild_text(person.id, self.general, text)
        if kind == "attachment":
            return kind, "file", False, lambda: fake.dm_text(person.id, "",
                                                             files=[("a.txt", b"hello")])
        if kind == "empty":
            return kind, "", False, lambda: fake.dm_text(person.id, "")
        message = fake._user_message(person.id, fake.dm_channel_of(person.id), "start session")
        event = "MESSAGE_CREATE"
        silence = True
        if kind == "bot author":
            message["author"] = dict(message["author"], bot=True)
        elif kind == "webhook":
            message["webhook_id"] = str(fake.application_id)
        elif kind == "edited":
            message["edited_timestamp"] = message["timestamp"]
            event = "MESSAGE_UPDATE"
        elif kind == "sticker":
            message["content"] = ""
            message["sticker_items"] = [{"id": "1", "name": "wave", "format_type": 1}]
            silence = False
        return kind, message, silence, lambda: fake._dispatch(event, message)

    def _buttons(self, person: Person) -> list[tuple[int, str]]:
        """(message, custom_id) of the buttons on the bot's last messages to this person,
        oldest first (the stand-in's own lists are slow to search)."""
        found = []
        for channel in (self.fake.dm_channel_of(person.id), self.general):
            for message_id in self.fake.channel_messages.get(channel, [])[-40:]:
                message = self.fake.messages.get(message_id)
                if message is None or message["author"]["id"] != str(self.fake.bot_user_id):
                    continue
                for row in message.get("components", []):
                    for item in row.get("components", []):
                        custom_id = item.get("custom_id", "")
                        if f":{person.id}:" in custom_id:
                            found.append((int(message["id"]), custom_id,
                                          item.get("label", "")))
        return found

    def _outcome(self, mark: int, person: Person) -> Outcome:
        fake, outcome = self.fake, Outcome()
        for call in fake.calls[mark:]:
            if call.status >= 300 or call.method not in ("POST", "PATCH"):
                continue
            message = call.response if isinstance(call.response, dict) else None
            if call.path.startswith("/interactions/"):
                body = call.json or {}
                if body.get("type") == 4:  # answered right in the callback
                    text = (body.get("data") or {}).get("content", "")
                    outcome.sent.append((self._recipient(call), "private", text))
                    outcome.answered = True
                continue
            if message is None or "content" not in message:
                continue
            recipient = self._recipient(call)
            ephemeral = bool(message.get("flags", 0) & 64)
            in_server = "guild_id" in fake.channels.get(int(message["channel_id"]), {})
            where = "public" if in_server and not ephemeral else "private"
            outcome.sent.append((recipient if where == "private" else 0, where,
                                 message["content"]))
            for upload in call.files:
                outcome.files.append((recipient, upload.filename, upload.data))
            if recipient == person.id or where == "public":
                outcome.answered = True
        return outcome

    def _recipient(self, call) -> int:
        """Whom a request speaks to: the DM's person, or the interaction's."""
        parts = call.path.split("/")
        if call.path.startswith("/channels/"):
            return self.dm_people.get(int(parts[2]), 0)
        record = self.fake._by_token.get(parts[3])  # /webhooks/app/TOKEN, /interactions/id/TOKEN
        return record.user_id if record is not None else 0


# -- the run ------------------------------------------------------------------------------------

async def test_ten_thousand_generated_updates_through_both_adapters(tmp_path, capsys):
    errors = ErrorLog()
    logging.getLogger().addHandler(errors)
    clock = SteppedClock(datetime(2026, 3, 10, 5, 0, tzinfo=timezone.utc))
    app = build_app(tmp_path / "coach.db", clock=clock)
    coach = app.coach
    telegram_fake = FakeTelegram()
    telegram = TelegramAdapter(coach, telegram_fake.token, request=TelegramRequest(telegram_fake))
    discord_fake = DiscordGateway()
    discord = DiscordAdapter(coach, discord_fake.token)
    try:
        coach.register(telegram)
        coach.register(discord)
        await telegram.app.initialize()
        await log_in(discord.client, discord_fake)
        discord_fake.attach(discord.client)
        await discord._sync_commands()
        await coach.start()
        fuzz = Fuzz(coach, random.Random(SEED))
        drivers = [TelegramDriver(fuzz, telegram_fake, telegram),
                   DiscordDriver(fuzz, discord_fake, discord)]
        fuzz.people = [p for driver in drivers for p in driver.people]
        editing = {p.key for driver in drivers for p in driver.people[-EDITING:]}
        can_edit = coach.services.delivery.can_edit  # countdown edits: for a few people only
        coach.services.delivery.can_edit = lambda key: key in editing and can_edit(key)
        started, cpu = time.perf_counter(), time.process_time()
        for index in range(UPDATES):
            await fuzz.rng.choice(drivers).step(index)
            clock.advance(fuzz.rng.choice(SECONDS_BETWEEN))
            if (index + 1) % CHECK_EVERY == 0:
                fuzz.check_store(f"update {index + 1}")
        clock.run_free()
        for person in fuzz.people:  # let running timers come to rest, then the last look
            await coach.settled(person.key)
        fuzz.check_store("the end")
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        fuzz.reached = reached(coach)
    finally:
        logging.getLogger().removeHandler(errors)
        await coach.shutdown()
        await telegram.app.shutdown()
        coach.close()
    per_platform = {platform: sum(n for kind, n in fuzz.counts.items()
                                  if kind.startswith(platform)) for platform in
                    ("telegram", "discord")}
    with capsys.disabled():
        print(f"\nfuzz: {UPDATES} updates ({per_platform}) in {elapsed:.1f} s ({cpu:.1f} s "
              f"of CPU), seed {SEED}; "
              f"{len(telegram_fake.calls) + len(discord_fake.calls)} API calls answered; "
              f"reached: {fuzz.reached}")
        if os.environ.get("FUZZ_VERBOSE"):
            print("kinds:", dict(sorted(fuzz.counts.items())))
    for record in errors.records[:10]:
        fuzz.failures.append(f"logged {record.levelname} by {record.name}: "
                             f"{record.getMessage()[:300]}")
    assert sum(per_platform.values()) == UPDATES
    assert not telegram_fake.unknown and not discord_fake.unknown
    assert not fuzz.failures, f"seed {SEED}:\n" + "\n".join(fuzz.failures)
