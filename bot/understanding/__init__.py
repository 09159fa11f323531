"""Understanding what people type: everyday sentences and typos, read into one intent.

bot/intents.py asks `whole` first (the message is exactly a known phrase: the fast, old path),
then its own strict forms ("pain 4", "why side plank", "settings time 8am"), then `sentence`.
The phrases live in content/phrases.toml; this package holds no words of its own.

`sentence` reads, in this order, and the first that finds something answers:
  1. a reminder time with a reminder word: "change the time to 6:45 pm" -> settings "time 18:45"
     ("remind me at 7" -> settings "time 7": a bare hour, which the settings ask about);
  2. a place after "I moved to", "I'm in ... now": settings "zone Europe/Berlin";
  3. phrases anywhere in the sentence, a pain number, vague pain words, ranked as the
     catalogue says; a tie between two intents stays unread rather than guessed;
  4. the same after correcting typos, when nothing was found without.

Verbs the engine receives besides the old ones (start, session, pause, resume, skip_rest,
add_time, skip, stop, done, progress, help, rescreen, settings, export, delete, yes, no, ok,
snooze, skip_today, pain, number, pain_invalid, number_invalid, why, text, empty):
  next        "next" alone. In a set at one's own pace: done; in a rest: skip_rest; else skip.
  skip        arg "exercise" when the words name the exercise ("skip exercise", "next
              exercise"): always the exercise; "" (bare "skip"): in a rest, the rest.
  zinging_gone  the calf zinging reported at onboarding has gone.
  add_time    arg: seconds asked for ("add 30 seconds" -> "30"), "" when unsaid (use 10).
  settings    arg as the settings shortcuts read it: "time 18:45", "time 7" (ambiguous hour),
              "zone Europe/Berlin", "zone atlantis" (unknown place), "reminders off",
              "reminders on", "pause reminders", "pause reminders for 7 days", "".
  hello, thanks, bye    small talk: one kind line, then carry on where the person is.
  quit        leave the chat: the terminal ends; a running workout is kept for later.
  how_long    "how long is left": exercise n of 7, minutes left.
  whats_next  "what's next": the next exercise (or "this is the last one").
  how_to      "how do I do this": arg names an exercise when one was said, else the current one.
  show_me     "show me a picture": arg as for how_to; the picture, or the steps in words.
  what_is     "what is this": arg as for how_to; the exercise's name and what it is for.
  not_sure    on a safety question: a possible yes; elsewhere: offer the choices again.
  almost      partly: at the hamstring test, "couldn't quite reach"; in a paced set: carry on.
  hurts       pain without a measure: pause the exercise, ask 0-10.
  nerve       zinging, tingling, numbness, pain down a leg: stop that exercise, nerve advice.
  pain_vague  arg: the suggested score ("hurts a lot" -> "7"), to be confirmed before use.
              Outside a pain question it may also be read as "ok" ("fine").
  negated     arg: the verb negated ("don't stop" -> "stop"): change nothing, carry on; at a
              "stop?" or "skip?" confirmation it means no.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from bot import localtime
from bot.understanding import matching, numbers, when_where
from bot.understanding.catalogue import Catalogue, load
from bot.understanding.words import BREAK, Words, split

__all__ = ["Reading", "split", "whole", "sentence", "find_time", "find_place", "use_content",
           "current_catalogue"]

MAX_ADD_SECONDS = 600  # "add 100000 seconds" asks for no particular amount
DEFAULT_CONTENT = Path(__file__).resolve().parent.parent.parent / "content"
_content = [DEFAULT_CONTENT]


@dataclass(frozen=True)
class Reading:
    """What a message means: a verb from the catalogue (or pain/number/settings/negated)."""

    verb: str
    arg: str = ""


@dataclass(frozen=True)
class _Candidate:
    rank: int
    length: int
    reading: Reading


def use_content(content_dir: Path) -> None:
    """Read phrases from this content folder (the app's --content), checked at once; the
    folder already in use is not read again."""
    if Path(content_dir).resolve() != _content[0].resolve():
        _content[0] = Path(content_dir)
        current_catalogue.cache_clear()
    current_catalogue()


@functools.cache
def current_catalogue() -> Catalogue:
    """The phrase catalogue, loaded once."""
    return load(_content[0])


def whole(words: Words, norm: str = "") -> Reading | None:
    """The message is exactly a catalogue phrase ("I'm done!", "?")."""
    cat = current_catalogue()
    phrase = cat.whole.get(words.key) or (cat.whole.get(norm) if norm else None)
    if phrase is None:
        return None
    return Reading(phrase.verb, _argument(cat, phrase, words.tokens, len(words.tokens)))


def sentence(words: Words) -> Reading | None:
    """A phrase, number, time or place inside a longer message; None when nothing fits."""
    cat = current_catalogue()
    setting = when_where.reminder_time(cat, words) or when_where.place(cat, words)
    if setting is not None:
        return Reading("settings", setting)
    reading = _best(cat, words.tokens)
    if reading is not None:
        return reading
    fixed = matching.corrected(cat, words.tokens)
    if fixed is None:
        return None
    fixed_words = Words(words.text, fixed)
    return whole(fixed_words) or _best(cat, fixed)


def find_time(text: str) -> str | None:
    """"HH:MM" for a time of day anywhere in `text` ("at 7:30am please"), else None: for a step
    that asks for a time (onboarding) and gets a sentence."""
    return when_where.time_of_day(split(text).text)


def find_place(text: str) -> str | None:
    """An IANA zone for a place in `text` ("I'm in New York now", "berlin please"), else None:
    for a step that asks for a place and gets a sentence."""
    words = split(text)
    found = when_where.place(current_catalogue(), words)
    if found is not None:
        return localtime.parse_timezone(found.removeprefix("zone "))
    return when_where.zone_of(words.plain[:when_where.LONGEST_PLACE])


def _best(cat: Catalogue, tokens: tuple[str, ...]) -> Reading | None:
    candidates = [_candidate(cat, tokens, found) for found in matching.find(cat, tokens)]
    score = numbers.pain_score(cat, tokens)
    if score is not None:
        candidates.append(_score_candidate(cat, score))
    if not candidates:
        return None
    top = max((c.rank, c.length) for c in candidates)
    best = [c for c in candidates if (c.rank, c.length) == top]
    verbs = {c.reading.verb for c in best}
    if len(verbs) > 1:
        return None  # two different meanings, equally strong: ask rather than guess
    if best[0].reading.verb == "pain_vague":  # "sore ... really sore": the higher, to be safe
        return max((c.reading for c in best), key=lambda r: int(r.arg))
    return best[0].reading


def _candidate(cat: Catalogue, tokens: tuple[str, ...], found: matching.Found) -> _Candidate:
    phrase = found.phrase
    if found.negated:
        return _Candidate(cat.negated_rank, found.length, Reading("negated", phrase.verb))
    return _Candidate(phrase.rank, found.length,
                      Reading(phrase.verb, _argument(cat, phrase, tokens, found.end)))


def _score_candidate(cat: Catalogue, score: numbers.Score) -> _Candidate:
    if score.vague:
        return _Candidate(cat.number_rank, 1, Reading("pain_vague", str(min(score.value, 10))))
    verb = "pain" if score.said_pain or score.explicit and score.value > 10 else "number"
    if score.value > numbers.MAX_SCORE:
        verb += "_invalid"
    return _Candidate(cat.number_rank, 1, Reading(verb, str(score.value)))


def _argument(cat: Catalogue, phrase, tokens: tuple[str, ...], end: int) -> str:
    """What the phrase carries: its own arg, the seconds or days asked for, or a slot's words."""
    if phrase.verb == "add_time":
        asked = numbers.seconds(cat, tokens)
        return str(asked) if asked is not None and 0 < asked <= MAX_ADD_SECONDS else ""
    if phrase.verb == "settings" and phrase.arg == "pause reminders":
        asked = numbers.days(cat, tokens)
        return phrase.arg if asked is None else f"pause reminders for {asked} days"
    if phrase.slot:
        rest = []
        for token in tokens[end:]:
            if token == BREAK:
                break
            if token not in cat.fillers:
                rest.append(token)
        return " ".join(rest)
    return phrase.arg
