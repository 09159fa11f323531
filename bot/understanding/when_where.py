"""Reminder times and places inside sentences: "change the time to 6:45 pm", "I moved to Berlin".

What counts as a time of day and as a place is decided by bot/localtime.py
(parse_time_of_day, parse_timezone), the same functions the settings and onboarding use on a
bare answer; this module only finds the candidate words inside a longer sentence.
"""
from __future__ import annotations

import re

from bot import localtime
from bot.understanding.catalogue import Catalogue
from bot.understanding.words import BREAK, Words, is_number

# Spans that may be a time of day; localtime.parse_time_of_day has the last word on each.
_TIME_SPAN = re.compile(
    r"(?<![\d:.])(?:\d{1,2}\s*[:.]\s*\d{2}(?:\s*(?:[ap]\.?\s*m\.?|[ap])(?![a-z]))?"
    r"|\d{1,2}\s*(?:[ap]\.?\s*m\.?|[ap])(?![a-z])"
    r"|\d{1,2}h\d{0,2}(?![a-z])"
    r"|noon|midday|midnight)(?![\d:])")
LONGEST_PLACE = 4  # words: "port au prince", "america / new york"


def reminder_time(cat: Catalogue, words: Words) -> str | None:
    """"time 18:45" for a time with a reminder word in the sentence; "time 7" for a bare hour
    ("remind me at 7"), which the settings ask about; None when there is no time."""
    if not cat.time_cues.intersection(words.tokens):
        return None
    at = time_of_day(words.text)
    return f"time {at}" if at is not None else _bare_hour(cat, words.tokens)


def time_of_day(text: str) -> str | None:
    """"HH:MM" for the first span of a cleaned text that localtime reads as a time of day."""
    for match in _TIME_SPAN.finditer(text):
        at = localtime.parse_time_of_day(match.group())
        if at is not None:
            return at.strftime("%H:%M")
    return None


def _bare_hour(cat: Catalogue, tokens: tuple[str, ...]) -> str | None:
    for index, token in enumerate(tokens[1:], start=1):
        if not (is_number(token) and tokens[index - 1] in cat.before_hour):
            continue
        after = tokens[index + 1] if index + 1 < len(tokens) else BREAK
        if int(token) > 23 or after in cat.units:  # "for 2 weeks" is no hour
            continue
        if cat.morning.intersection(tokens):
            at = localtime.parse_time_of_day(f"{token}am")
        elif cat.evening.intersection(tokens):
            at = localtime.parse_time_of_day(f"{token}pm")
        else:
            return f"time {token}"
        return f"time {at.strftime('%H:%M')}" if at is not None else f"time {token}"
    return None


def place(cat: Catalogue, words: Words) -> str | None:
    """"zone Europe/Berlin" after "I moved to berlin"; after a sure cue an unknown place is
    kept as typed ("zone atlantis") so the settings can say they don't know it."""
    tokens = words.tokens
    unknown = None
    for start, token in enumerate(tokens):
        for cue, sure in cat.places.get(token, ()):
            end = start + len(cue)
            if tokens[start:end] != cue:
                continue
            name = _place_words(cat, tokens[end:])
            zone = zone_of(name)
            if zone is not None:
                return f"zone {zone}"
            if sure and name and unknown is None:
                unknown = "zone " + " ".join(name)
    return unknown


def _place_words(cat: Catalogue, after: tuple[str, ...]) -> tuple[str, ...]:
    name = []
    for token in after:
        if token == BREAK or token in cat.place_until or is_number(token):
            break
        if name or token != "the":  # "I moved to the Netherlands"
            name.append(token)
    return tuple(name[:LONGEST_PLACE])


def zone_of(name: tuple[str, ...]) -> str | None:
    """The longest start of `name` that localtime knows: "berlin for work" -> Europe/Berlin."""
    for size in range(len(name), 0, -1):
        zone = localtime.parse_timezone(" ".join(name[:size]))
        if zone is None and size == 2:
            zone = localtime.parse_timezone("/".join(name[:2]))  # "europe berlin"
        if zone is not None:
            return zone
    return None
