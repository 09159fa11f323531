"""A message cut into comparable words, the same way for what people type and for the catalogue.

Case, apostrophes ("I'm" = "im") and letter hyphens ("re-screen" = "re screen") never decide a
match. Punctuation that ends a clause becomes a BREAK token, so a phrase is never found across
"done. stop" and a negation never reaches past a comma. Times ("6:45"), scores ("4/10") and
"+10" stay one token each.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

BREAK = "|"
MAX_CHARS = 500

_APOSTROPHES = re.compile(r"['’‘`´ʼ]")
_LETTER_HYPHEN = re.compile(r"(?<=[^\W\d_])-(?=[^\W\d_])")
_DIGIT_DASH = re.compile(r"(?<=\d)\s*[-–—]\s*(?=\d)")  # "3-4" -> "3 to 4", a range
_DIGIT_SLASH = re.compile(r"(?<=\d)\s*/\s*(?=\d)")  # "6 / 10" -> "6/10"
_TOKEN = re.compile(
    r"(?P<num>\+?\d+(?:[:.]\d+)*(?:/\d+)?)"  # 7, +10, 6:45, 3.5, 4/10
    r"|(?P<word>[^\W\d_]+)"
    r"|(?P<brk>[,;.!?()\[\]{}…:\"“”|<>]|\s[-–—]+\s|[–—])")


@dataclass(frozen=True)
class Words:
    """One message: its cleaned text and its tokens (with BREAK between clauses)."""

    text: str
    tokens: tuple[str, ...]

    @property
    def key(self) -> str:
        """The words alone, for whole-message lookups: "I'm done!" -> "im done"."""
        return " ".join(t for t in self.tokens if t != BREAK)

    @property
    def plain(self) -> tuple[str, ...]:
        return tuple(t for t in self.tokens if t != BREAK)


def clean(text: str) -> str:
    """Lower case, NFKC, printable only, no apostrophes; ranges and scores written one way."""
    text = unicodedata.normalize("NFKC", text or "")[:MAX_CHARS]
    text = "".join(ch if ch.isprintable() else " " for ch in text).lower()
    text = _APOSTROPHES.sub("", text)
    text = _LETTER_HYPHEN.sub(" ", text)
    text = _DIGIT_SLASH.sub("/", text)
    text = _DIGIT_DASH.sub(" to ", text)
    return " ".join(text.split())


def split(text: str) -> Words:
    """Cut a message into Words; runs of breaks collapse, none at the ends."""
    cleaned = clean(text)
    tokens: list[str] = []
    for match in _TOKEN.finditer(cleaned):
        token = BREAK if match.lastgroup == "brk" else match.group()
        if token == BREAK and (not tokens or tokens[-1] == BREAK):
            continue
        tokens.append(token)
    if tokens and tokens[-1] == BREAK:
        tokens.pop()
    return Words(cleaned, tuple(tokens))


def phrase_tokens(phrase: str) -> tuple[str, ...]:
    """A catalogue phrase as tokens: "I'm done" -> ("im", "done"); "+#" and "#" kept."""
    cleaned = clean(phrase)
    out = []
    for part in cleaned.split():
        if part in ("#", "+#"):
            out.append(part)
        else:
            out.extend(t for t in split(part).tokens if t != BREAK)
    return tuple(out)


def is_number(token: str) -> bool:
    """Plain digits: "7", "10" (not "6:45", "3.5", "+10")."""
    return token.isascii() and token.isdigit()
