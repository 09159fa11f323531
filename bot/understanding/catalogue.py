"""The phrase catalogue (content/phrases.toml), checked once and indexed for fast reading.

Everything a message is compared with is prepared here, at load time: whole-message keys in a
dict, in-sentence phrases indexed by their first word, the vocabulary for typo correction
grouped by length. Reading a message then costs dictionary lookups, not a scan of the file.
A mistake in the file (an unknown key, a phrase claimed by two intents) is a ContentError that
names the file and the phrase, raised at start-up rather than mid-conversation.
"""
from __future__ import annotations

import tomllib
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.content import ContentError
from bot.understanding.words import BREAK, phrase_tokens

PHRASES_FILE = "phrases.toml"
LONGEST_WORD = 20  # longer "words" are noise (a pasted link, a key mash): never corrected
NUMBER, PLUS_NUMBER = "#", "+#"
_INTENT_KEYS = {"rank", "say", "alone", "slot"}
_SECTIONS = {"words", "numbers", "reminder_time", "place", "intent"}


@dataclass(frozen=True)
class Phrase:
    """One way of saying an intent: its tokens, the intent, and what the phrase carries."""

    tokens: tuple[str, ...]
    verb: str
    arg: str
    rank: int
    slot: bool


@dataclass
class Catalogue:
    """content/phrases.toml, ready for reading messages."""

    source: str
    whole: dict[str, Phrase] = field(default_factory=dict)  # whole-message key -> phrase
    singles: dict[str, list[Phrase]] = field(default_factory=dict)  # one-word phrases by word
    pairs: dict[tuple[str, str], list[Phrase]] = field(default_factory=dict)  # by first 2 words
    vocabulary: frozenset[str] = frozenset()
    near: dict[int, tuple[str, ...]] = field(default_factory=dict)  # typo correction: by length
    keep: frozenset[str] = frozenset()
    negators: frozenset[str] = frozenset()
    negatable: frozenset[str] = frozenset()
    negation_gap: int = 2
    negated_rank: int = 45
    fillers: frozenset[str] = frozenset()
    number_rank: int = 70
    number_words: dict[str, int] = field(default_factory=dict)
    frames: frozenset[str] = frozenset()
    pain_words: frozenset[str] = frozenset()
    units: frozenset[str] = frozenset()
    not_after: frozenset[str] = frozenset()
    second_units: frozenset[str] = frozenset()
    minute_units: frozenset[str] = frozenset()
    day_units: frozenset[str] = frozenset()
    week_units: frozenset[str] = frozenset()
    time_cues: frozenset[str] = frozenset()
    morning: frozenset[str] = frozenset()
    evening: frozenset[str] = frozenset()
    before_hour: frozenset[str] = frozenset()
    places: dict[str, list[tuple[tuple[str, ...], bool]]] = field(default_factory=dict)
    place_until: frozenset[str] = frozenset()
    verbs: frozenset[str] = frozenset()


def load(content_dir: Path) -> Catalogue:
    """Read and check content_dir/phrases.toml."""
    path = Path(content_dir) / PHRASES_FILE
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ContentError(f"{path}: cannot read the phrase catalogue: {exc}") from exc
    return build(data, str(path))


def build(data: dict[str, Any], source: str) -> Catalogue:
    """A Catalogue from the parsed TOML; every problem is a ContentError naming `source`."""
    unknown = set(data) - _SECTIONS
    if unknown:
        raise ContentError(f"{source}: unknown section(s) {sorted(unknown)}")
    words, numbers = data.get("words", {}), data.get("numbers", {})
    times, place = data.get("reminder_time", {}), data.get("place", {})
    intents = data.get("intent", {})
    if not isinstance(intents, dict) or not intents:
        raise ContentError(f"{source}: no [intent.*] tables")
    cat = Catalogue(source=source)
    _add_intents(cat, intents)
    cat.keep = _word_set(words, "keep", source)
    cat.negators = _word_set(words, "negators", source)
    cat.negatable = frozenset(_words(words, "negatable", source))
    unknown_verbs = cat.negatable - cat.verbs
    if unknown_verbs:
        raise ContentError(f"{source}: [words] negatable names no intent: {sorted(unknown_verbs)}")
    cat.negation_gap = _int(words, "negation_gap", source, 2)
    cat.negated_rank = _int(words, "negated_rank", source, 45)
    cat.fillers = _word_set(words, "fillers", source)
    cat.number_rank = _int(numbers, "rank", source, 70)
    cat.number_words = {w: i for i, w in enumerate(_words(numbers, "words", source))}
    for name in ("frames", "pain_words", "units", "not_after", "second_units", "minute_units",
                 "day_units", "week_units"):
        setattr(cat, name, _word_set(numbers, name, source))
    cat.time_cues = _word_set(times, "cues", source)
    cat.morning = _word_set(times, "morning", source)
    cat.evening = _word_set(times, "evening", source)
    cat.before_hour = _word_set(times, "before_hour", source)
    for key, sure in (("sure", True), ("maybe", False)):  # by first word: (cue, sure)
        for cue in _words(place, key, source):
            tokens = phrase_tokens(cue)
            cat.places.setdefault(tokens[0], []).append((tokens, sure))
    cat.place_until = _word_set(place, "until", source)
    _index_vocabulary(cat)
    return cat


def _add_intents(cat: Catalogue, intents: dict[str, Any]) -> None:
    owner: dict[tuple[str, ...], Phrase] = {}
    singles: dict[str, list[Phrase]] = defaultdict(list)
    pairs: dict[tuple[str, str], list[Phrase]] = defaultdict(list)
    for verb, table in intents.items():
        where = f"{cat.source}: [intent.{verb}]"
        if not isinstance(table, dict) or set(table) - _INTENT_KEYS:
            raise ContentError(f"{where}: allowed keys are {sorted(_INTENT_KEYS)}")
        rank = _int(table, "rank", where, None)
        slot = bool(table.get("slot", False))
        for alone, arg, text in _phrases(table, where):
            tokens = phrase_tokens(text)
            if not tokens and not text.strip():
                raise ContentError(f"{where}: an empty phrase")
            phrase = Phrase(tokens, verb, arg, rank, slot)
            _claim(cat, owner, tokens, phrase, text, where)
            raw_key = " ".join(text.lower().split())
            cat.whole.setdefault(raw_key, phrase)  # "?" has no word tokens
            if not alone and len(tokens) == 1:
                singles[tokens[0]].append(phrase)
            elif not alone and tokens:
                pairs[tokens[0], tokens[1]].append(phrase)
    cat.singles, cat.pairs = dict(singles), dict(pairs)
    cat.verbs = frozenset(intents)


def _claim(cat: Catalogue, owner: dict, tokens: tuple[str, ...], phrase: Phrase, text: str,
           where: str) -> None:
    """One phrase means one thing: the same words under two intents (or args) are an error."""
    if not tokens:
        return
    other = owner.get(tokens)
    if other is not None and (other.verb, other.arg) != (phrase.verb, phrase.arg):
        raise ContentError(f"{where}: \"{text}\" is also under [intent.{other.verb}]"
                           + (f" ({other.arg})" if other.arg else ""))
    owner[tokens] = phrase
    if NUMBER not in tokens and PLUS_NUMBER not in tokens:
        cat.whole.setdefault(" ".join(tokens), phrase)


def _phrases(table: dict[str, Any], where: str):
    """(alone, arg, text) for every phrase of one intent: `alone` and `say`, list or table."""
    for key, alone in (("alone", True), ("say", False)):
        value = table.get(key, [])
        groups = value.items() if isinstance(value, dict) else [("", value)]
        for arg, texts in groups:
            if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
                raise ContentError(f"{where}: `{key}` must be a list of phrases "
                                   "or a table of lists")
            for text in texts:
                yield alone, str(arg), text


def _index_vocabulary(cat: Catalogue) -> None:
    vocabulary = {t for phrase in cat.whole.values() for t in phrase.tokens
                  if t.isalpha() and t != BREAK}
    cat.vocabulary = frozenset(vocabulary)
    for size in range(4, LONGEST_WORD + 1):  # the words a typo of this length may be
        edits = 1 if size < 8 else 2
        cat.near[size] = tuple(sorted(w for w in vocabulary if abs(len(w) - size) <= edits))


def _words(table: dict[str, Any], key: str, where: str) -> list[str]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ContentError(f"{where}: `{key}` must be a list of words")
    return value


def _word_set(table: dict[str, Any], key: str, where: str) -> frozenset[str]:
    return frozenset(" ".join(phrase_tokens(w)) for w in _words(table, key, where))


def _int(table: dict[str, Any], key: str, where: str, default: int | None) -> int:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ContentError(f"{where}: `{key}` must be a whole number")
    return value
