"""Turns any event (typed text, a button, a command) into one small Intent the coach acts on.

People type in many ways ("Start session", "/session", "pause!", "pain 4", "4/10", "ok i'm
done", "better, maybe a 4", "I moved to Berlin"); buttons carry short payloads like
"pain:4@after" (the part after "@" names the question the button belongs to, so a press on an
old button can be recognised). The words people use are in content/phrases.toml and read by
bot/understanding (which lists every verb and what the engine should do with it); the strict
forms below ("pain 4", "why side plank", "settings time 8am") come first, as they always did.
Nothing here can raise on any input.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from bot import understanding
from bot.events import Command, Event, Picked, Text
from bot.replies import Choice

MAX_INPUT = 500

_NUMBER_WORDS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten".split())}
_PAIN_RE = re.compile(r"^(?:pain|my pain is|pain is|pain level)?\s*[:=]?\s*(-?\d{1,3})\s*(?:/\s*10)?$")
_WHY_RE = re.compile(r"^why(?: is| did| has)?\s+(?:my\s+)?(.+?)(?:\s+(?:harder|easier|change|changed|"
                     r"go up|go down|move|moved))?\??$")


@dataclass(frozen=True)
class Intent:
    """What the person wants: a verb, an optional argument, and the button's question tag."""

    verb: str
    arg: str = ""
    tag: str | None = None
    raw: str = ""


def parse(event: Event) -> Intent:
    """Map an event to an Intent; unknown input becomes Intent("unknown")."""
    if isinstance(event, Picked):
        return _from_button(event.action)
    if isinstance(event, Command):
        return _from_text(f"{event.name} {event.args}".strip())
    if isinstance(event, Text):
        return _from_text(event.text)
    return Intent("unknown")


def normalise(text: str) -> str:
    """Lower-case, NFKC, collapse spaces, drop a leading slash and trailing punctuation."""
    text = unicodedata.normalize("NFKC", text or "")[:MAX_INPUT]
    text = "".join(ch for ch in text if ch.isprintable() or ch == " ")
    text = " ".join(text.lower().split())
    text = re.sub(r"^/(\w+)@\w+", r"\1", text)  # "/start@MyBot" -> "start"
    return text.lstrip("/").strip(" .!,;")


def _from_text(text: str) -> Intent:
    raw = (text or "")[:MAX_INPUT]
    norm = normalise(raw)
    if not norm:
        return Intent("empty", raw=raw)
    words = understanding.split(raw)
    known = understanding.whole(words, norm)
    if known is not None:
        return Intent(known.verb, known.arg, raw=raw)
    pain = _pain_value(norm)
    if pain is not None:
        return pain
    why = _WHY_RE.match(norm)
    if why:
        return Intent("why", why.group(1).strip(), raw=raw)
    if norm.startswith(("pause reminders", "resume reminders", "unpause reminders",
                        "reminders ", "turn reminders", "turn on reminders",
                        "turn off reminders", "stop reminders", "start reminders")):
        reading = understanding.sentence(words)  # "pause reminders for 2 weeks": 14 days
        if reading is not None and reading.verb == "settings" and reading.arg:
            return Intent("settings", reading.arg, raw=raw)
        return Intent("settings", norm, raw=raw)
    first, _, rest = norm.partition(" ")
    if first in ("session", "settings", "help", "progress", "rescreen", "stop", "snooze"):
        return Intent(first, rest, raw=raw)
    reading = understanding.sentence(words)
    if reading is not None:
        return Intent(reading.verb, reading.arg, raw=raw)
    if first == "pain":
        return Intent("pain_invalid", rest, raw=raw)
    return Intent("text", norm, raw=raw)


def _pain_value(norm: str) -> Intent | None:
    """"4", "pain 4", "4/10", "pain: four" -> pain; "pain 11" -> pain_invalid."""
    words = norm.split()
    if len(words) in (1, 2) and words[-1] in _NUMBER_WORDS and (
            len(words) == 1 or words[0] == "pain"):
        return Intent("number" if len(words) == 1 else "pain",
                      str(_NUMBER_WORDS[words[-1]]), raw=norm)
    match = _PAIN_RE.match(norm)
    if not match:
        return None
    value = int(match.group(1))
    said_pain = norm.startswith("pain") or norm.startswith("my pain")
    if not 0 <= value <= 10:
        return Intent("pain_invalid" if said_pain else "number_invalid", str(value), raw=norm)
    return Intent("pain" if said_pain else "number", str(value), raw=norm)


def _from_button(action: str) -> Intent:
    action = (action or "")[:64]
    body, _, tag = action.partition("@")
    verb, _, arg = body.partition(":")
    if not re.fullmatch(r"[a-z_]{1,20}", verb):
        return Intent("unknown", raw=action)
    if verb in ("pain", "number") and not (arg.isdigit() and 0 <= int(arg) <= 10):
        return Intent(f"{verb}_invalid", arg[:40], tag or None, raw=action)  # a forged payload
    return Intent(verb, arg[:40], tag or None, raw=action)


def button(verb: str, arg: str = "", tag: str | None = None) -> str:
    """The payload for a button: "verb[:arg][@tag]", always well under 64 bytes."""
    payload = verb + (f":{arg}" if arg else "") + (f"@{tag}" if tag else "")
    assert len(payload.encode()) <= 64, payload
    return payload


def pain_buttons(tag: str) -> tuple[Choice, ...]:
    """0-10 as eleven buttons for the question tagged `tag`; adapters lay them out in rows."""
    return tuple(Choice(str(n), button("pain", str(n), tag)) for n in range(11))
