"""Numbers inside sentences: a pain score ("better, maybe a 4"), or a duration ("add 10 seconds").

A number is a score when it stands on its own: not a time ("6:45"), not followed by a unit
("10 seconds", "3 sets", "7 am"), not after a word that makes it something else ("exercise 3",
"at 7"). Number words count only in a score's frame ("maybe a four", "seven out of ten"),
because "the next one" and "one more" are everyday words. A range ("3 or 4", "3-4") and a
decimal ("3.5") are vague: the higher whole number is suggested, to be confirmed.
"""
from __future__ import annotations

from dataclasses import dataclass

from bot.understanding.catalogue import Catalogue
from bot.understanding.words import BREAK, is_number

MAX_SCORE = 10
_OUT_OF = (("out", "of", "10"), ("out", "of", "ten"), ("of", "10"), ("of", "ten"))


@dataclass(frozen=True)
class Score:
    """A pain number found in a message: `vague` when it came from a range or a decimal."""

    value: int
    said_pain: bool
    vague: bool = False
    explicit: bool = False  # "4/10", "4 out of 10": a score whatever else is said


def pain_score(cat: Catalogue, tokens: tuple[str, ...]) -> Score | None:
    """The one pain score in the message, or None (none, or several that disagree)."""
    said_pain = any(t in cat.pain_words for t in tokens)
    found: list[Score] = []
    for index, token in enumerate(tokens):
        score = _score_at(cat, tokens, index, token, said_pain)
        if score is not None:
            found.append(score)
    ranged = _range(cat, tokens)
    if ranged is not None:
        return ranged
    explicit = {s.value for s in found if s.explicit}
    if len(explicit) == 1:
        return next(s for s in found if s.explicit)
    values = {s.value for s in found}
    if len(values) != 1:
        return None
    return found[0]


def _score_at(cat: Catalogue, tokens: tuple[str, ...], index: int, token: str,
              said_pain: bool) -> Score | None:
    before = tokens[index - 1] if index else BREAK
    after = tokens[index + 1] if index + 1 < len(tokens) else BREAK
    explicit = tokens[index + 1:index + 4] in _OUT_OF or tokens[index + 1:index + 3] in _OUT_OF
    if token.endswith("/10") and is_number(token[:-3]):
        value, explicit, vague = int(token[:-3]), True, False
    elif is_number(token) and len(token) <= 3:
        value, vague = int(token), False
    elif token in cat.number_words:
        said = next((t for t in reversed(tokens[:index]) if t != BREAK), BREAK)  # "pain: four"
        if not (explicit or said in cat.frames or len(tokens) == 1):
            return None
        value, vague = cat.number_words[token], False
    elif _is_decimal(token):
        value, vague = int(float(token) + 0.5), True
    else:
        return None
    if not explicit and (after in cat.units or before in cat.not_after):
        return None
    if value > MAX_SCORE and not (explicit or said_pain):
        return None  # "I'm 45": an age, not a score
    return Score(value, said_pain, vague, explicit)


def _is_decimal(token: str) -> bool:
    whole, dot, fraction = token.partition(".")
    return bool(dot) and is_number(whole) and is_number(fraction) and len(fraction) == 1


def _range(cat: Catalogue, tokens: tuple[str, ...]) -> Score | None:
    """"3 or 4", "3 to 4", "three or four": the higher one, as a vague score."""
    said_pain = any(t in cat.pain_words for t in tokens)
    for index in range(len(tokens) - 2):
        low, link, high = tokens[index:index + 3]
        if link not in ("or", "to"):
            continue
        values = [_plain_value(cat, low), _plain_value(cat, high)]
        if None in values or tokens[index + 3:index + 4] and tokens[index + 3] in cat.units:
            continue
        if all(v <= MAX_SCORE for v in values) and values[0] < values[1]:
            return Score(values[1], said_pain, vague=True)
    return None


def _plain_value(cat: Catalogue, token: str) -> int | None:
    if is_number(token) and len(token) <= 2:
        return int(token)
    return cat.number_words.get(token)


def seconds(cat: Catalogue, tokens: tuple[str, ...]) -> int | None:
    """"add 10 seconds", "+20", "a minute more", "give me 30 more seconds" -> seconds."""
    for index, token in enumerate(tokens):
        if token.startswith("+") and is_number(token[1:]):
            return _unit_amount(cat, int(token[1:]), tokens[index + 1:index + 2], seconds=True)
        value = _plain_value(cat, token) if token != "a" else 1
        if value is None:
            continue
        rest = tuple(t for t in tokens[index + 1:index + 3] if t not in ("more", "extra"))
        amount = _unit_amount(cat, value, rest[:1], seconds=False)
        if amount is not None:
            return amount
    for index, token in enumerate(tokens[:-1]):  # "add 10", "plus 10": seconds by default
        if token in ("add", "plus", "another", "extra") and is_number(tokens[index + 1]):
            return int(tokens[index + 1])
    return None


def _unit_amount(cat: Catalogue, value: int, unit: tuple[str, ...], seconds: bool) -> int | None:
    word = unit[0] if unit else ""
    if word in cat.minute_units:
        return value * 60
    if word in cat.second_units or (seconds and word in ("", BREAK)):
        return value
    return None


def days(cat: Catalogue, tokens: tuple[str, ...]) -> int | None:
    """"for 3 days", "a week", "two weeks" -> days."""
    for index, token in enumerate(tokens[:-1]):
        if is_number(token) and len(token) <= 4:
            value = int(token)
        else:
            value = cat.number_words.get(token) if token not in ("a", "one") else 1
        if value is None:
            continue
        unit = tokens[index + 1]
        if unit in cat.day_units:
            return value
        if unit in cat.week_units:
            return value * 7
    return None
