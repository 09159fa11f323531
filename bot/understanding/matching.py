"""Finding catalogue phrases inside a message, noticing negation, and forgiving typos.

A phrase is found where its words stand together in one clause ("ok I'm done now" holds
"i'm done"). A phrase inside a longer phrase that was also found does not count on its own
("stop the timer" is a pause, not a stop). Typos are corrected word by word against the
catalogue's own vocabulary with rapidfuzz, conservatively: nothing under 4 letters, one edit up
to 7 letters and two from 8, a 4-letter word only by a swap or a last letter left off, only
slips a finger makes (a neighbouring key, not "cause" for "pause"), the first letter right, and
never when two vocabulary words are equally close.
"""
from __future__ import annotations

from dataclasses import dataclass

from rapidfuzz import process
from rapidfuzz.distance import OSA, Levenshtein

from bot.understanding.catalogue import LONGEST_WORD, NUMBER, PLUS_NUMBER, Catalogue, Phrase
from bot.understanding.words import BREAK, is_number

_KEYBOARD_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")


def _neighbours() -> dict[str, frozenset[str]]:
    """Keys next to each letter on a QWERTY keyboard: a slip of the finger hits one of them."""
    where = {ch: (row, col) for row, keys in enumerate(_KEYBOARD_ROWS)
             for col, ch in enumerate(keys)}
    return {ch: frozenset(other for other, (r, c) in where.items()
                          if other != ch and abs(r - row) <= 1 and abs(c - col) <= 1
                          or other != ch and r == row + 1 and c == col - 1)
            for ch, (row, col) in where.items()}


_NEAR_KEYS = _neighbours()


@dataclass(frozen=True)
class Found:
    """A phrase found at tokens[start:end]; `negated` when a negator stands just before it."""

    phrase: Phrase
    start: int
    end: int
    negated: bool = False

    @property
    def length(self) -> int:
        return self.end - self.start


def find(cat: Catalogue, tokens: tuple[str, ...]) -> list[Found]:
    """Every phrase in the message, less those inside a longer one, with negation marked."""
    found: list[Found] = []
    for start, token in enumerate(tokens):
        if token == BREAK:
            continue
        for phrase in _starting_at(cat, tokens, start):
            end = start + len(phrase.tokens)
            if end <= len(tokens) and _same(phrase.tokens, tokens[start:end], cat):
                found.append(Found(phrase, start, end))
    found = [f for f in found if not _inside_another(f, found)]
    return [Found(f.phrase, f.start, f.end, _negated(cat, tokens, f)) for f in found]


def _starting_at(cat: Catalogue, tokens: tuple[str, ...], start: int) -> list[Phrase]:
    """The phrases that may start here, by their first two words (numbers as "#", "+#")."""
    firsts = _shapes(cat, tokens[start])
    phrases = [p for first in firsts for p in cat.singles.get(first, ())]
    if start + 1 < len(tokens):
        seconds = _shapes(cat, tokens[start + 1])
        phrases += [p for first in firsts for second in seconds
                    for p in cat.pairs.get((first, second), ())]
    return phrases


def _shapes(cat: Catalogue, token: str) -> tuple[str, ...]:
    """A token as the catalogue may write it: itself, and "#" or "+#" for a number."""
    if is_number(token) or token in cat.number_words:
        return (token, NUMBER)
    if token.startswith("+") and is_number(token[1:]):
        return (token, PLUS_NUMBER)
    return (token,)


def _same(pattern: tuple[str, ...], tokens: tuple[str, ...], cat: Catalogue) -> bool:
    for want, got in zip(pattern, tokens):
        if want == got:
            continue
        if want == NUMBER and (is_number(got) or got in cat.number_words):
            continue
        if want == PLUS_NUMBER and got.startswith("+") and is_number(got[1:]):
            continue
        return False
    return True


def _inside_another(found: Found, every: list[Found]) -> bool:
    return any(other is not found and other.start <= found.start and found.end <= other.end
               and other.length > found.length for other in every)


def _negated(cat: Catalogue, tokens: tuple[str, ...], found: Found) -> bool:
    """A negator within `negation_gap` words before the phrase, in the same clause."""
    if found.phrase.verb not in cat.negatable:
        return False
    for index in range(found.start - 1, max(-1, found.start - 2 - cat.negation_gap), -1):
        if tokens[index] == BREAK:
            return False
        if tokens[index] in cat.negators:
            return True
    return False


def corrected(cat: Catalogue, tokens: tuple[str, ...]) -> tuple[str, ...] | None:
    """The tokens with typos fixed ("finsihed" -> "finished"), or None when none was fixed."""
    out, changed = list(tokens), False
    for index, token in enumerate(tokens):
        fix = _correction(cat, token)
        if fix is not None:
            out[index], changed = fix, True
    return tuple(out) if changed else None


def _correction(cat: Catalogue, token: str) -> str | None:
    size = len(token)
    if (size < 4 or size > LONGEST_WORD or not token.isalpha() or token in cat.vocabulary
            or token in cat.keep):
        return None
    edits = 1 if size < 8 else 2
    near = process.extract(token, cat.near.get(size, ()), scorer=OSA.distance,
                           score_cutoff=edits, limit=6)
    if not near:
        return None
    closest = min(distance for _, distance, _ in near)
    words = [word for word, distance, _ in near
             if distance == closest and _fits(token, word) and _slips(token, word)]
    if len(words) > 1:  # a missing letter is the commonest slip: "setings" is "settings"
        words = [word for word in words if len(word) > size]
    return words[0] if len(words) == 1 else None  # none close, or two equally close: no guess


def _fits(token: str, word: str) -> bool:
    """4-letter words change only by a swap ("hlep") or a last letter left off ("paus"):
    never "gone" -> "done"."""
    if len(token) > 4:
        return True
    return sorted(word) == sorted(token) or (len(word) == 5 and word.startswith(token))


def _slips(typed: str, word: str) -> bool:
    """Every difference is a typing slip: swapped, missing or extra letters, or a key next to
    the right one; and the first letter is right (or swapped with the second), so "comfortable"
    never becomes "uncomfortable". "cause" is not a slip for "pause" (c and p are far apart)."""
    if typed[0] != word[0] and typed[:2] != word[1::-1]:
        return False
    if OSA.distance(typed, word) < Levenshtein.distance(typed, word):
        return True  # a swap of neighbouring letters
    for op in Levenshtein.editops(typed, word):
        if op.tag == "replace" and word[op.dest_pos] not in _NEAR_KEYS.get(typed[op.src_pos], ()):
            return False
    return True
