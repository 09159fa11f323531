"""Local wall-clock time for reminders: parsing what people type, and DST-safe scheduling.

People think in "07:30 where I live"; the scheduler thinks in UTC instants. Every
conversion between the two lives here so that daylight-saving edge cases are handled
in one place and tested in one place. Everything is a pure function: callers pass
`now`/`after` in, nothing here reads a clock or talks to the network. The only file
read is the small alias table `content/zone_aliases.toml`, once, lazily. Day and month
names shown to people come from content/texts.toml ([calendar]) and are passed in.

DST policy for a reminder at local time T (see `next_occurrence`):

* T does not exist that day (spring-forward gap): fire once, shifted forward by the
  gap (02:30 in Berlin on 29 Mar 2026 fires at 03:30 CEST). Skipping the day would
  silently drop a reminder; firing early would surprise people.
* T happens twice (fall-back): fire once, at the first occurrence. Firing twice
  would nag, and the first one is what the person would have seen yesterday.
"""
from __future__ import annotations

import datetime as dt
import functools
import re
import tomllib
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo, available_timezones

__all__ = [
    "parse_time_of_day",
    "parse_timezone",
    "next_occurrence",
    "local_date",
    "zone_info",
    "zone_or_utc",
    "aware",
    "CalendarNames",
    "describe_next",
    "describe_day",
    "day_month",
]

UTC = dt.timezone.utc

# --------------------------------------------------------------------------------------
# parse_time_of_day
# --------------------------------------------------------------------------------------

# Spelled-out times. "midnight" is 00:00 (the start of the day), the reading that
# makes "remind me at midnight" fire tonight rather than being rejected.
_NAMED_TIMES: dict[str, dt.time] = {
    "noon": dt.time(12, 0),
    "12 noon": dt.time(12, 0),
    "midday": dt.time(12, 0),
    "midnight": dt.time(0, 0),
    "12 midnight": dt.time(0, 0),
}

# Meridiem after normalisation ("a.m." -> "am"); single letters cover "7a"/"7p".
_MERIDIEM = r"(?:\s*(?P<mer>am|pm|a|p))?"

# One pattern per notation, tried in order. re.ASCII so that exotic Unicode digits
# (Arabic-Indic, fullwidth, ...) are simply not times rather than a source of surprises.
_TIME_PATTERNS: tuple[re.Pattern[str], ...] = tuple(
    re.compile(p, re.ASCII)
    for p in (
        # "7:30", "07:30", "7.30", "7 : 30", optionally with am/pm
        r"(?P<h>\d{1,2})\s*[:.]\s*(?P<m>\d{2})" + _MERIDIEM,
        # "19h", "19h30", "7h30" (common in French/German-speaking Europe)
        r"(?P<h>\d{1,2})\s*h\s*(?P<m>\d{2})?",
        # "0730", "730", "1930", "730pm" (compact military-style)
        r"(?P<h>\d{1,2})(?P<m>\d{2})" + _MERIDIEM,
        # "7am", "7 pm", "12a": a bare hour is only accepted WITH am/pm, because "7"
        # alone is ambiguous and a reminder at the wrong half of the day is worse
        # than asking again.
        r"(?P<h>\d{1,2})\s*(?P<mer>am|pm|a|p)",
    )
)

# "a.m." / "p. m." -> "am" / "pm". No \b before the letter: in "7a.m." digit and
# letter are both word characters, so there is no boundary there.
_DOTTED_MERIDIEM = re.compile(r"(?<![a-z])([ap])\s*\.\s*m\.?(?![a-z])", re.ASCII)


def parse_time_of_day(text: str) -> dt.time | None:
    """Read a time of day the way people type it; None if it isn't one.

    Accepts 24-hour ("19:00", "7.30", "0730", "19h30"), 12-hour ("7am", "7:30 pm",
    "7 a.m."; "12am" is 00:00 and "12pm" is 12:00) and "noon"/"midnight". Rejects
    anything out of range ("25:00", "7:60", "13pm", "0am") and bare hours ("7"),
    which are ambiguous. Returns a naive `time` with second=0: it is a wall-clock
    time, its zone is stored separately. Never raises for any str.
    """
    if not isinstance(text, str):
        return None
    s = " ".join(text.casefold().split())
    if not s:
        return None
    if s in _NAMED_TIMES:
        return _NAMED_TIMES[s]
    s = _DOTTED_MERIDIEM.sub(r"\1m", s)
    for pattern in _TIME_PATTERNS:
        match = pattern.fullmatch(s)
        if match is not None:
            return _build_time(match)
    return None


def _build_time(match: re.Match[str]) -> dt.time | None:
    """Turn a regex match into a validated time; out-of-range parts mean "not a time"."""
    groups = match.groupdict()
    hour = int(groups["h"])
    minute = int(groups["m"]) if groups.get("m") else 0
    meridiem = groups.get("mer")
    if not 0 <= minute <= 59:
        return None
    if meridiem:
        if not 1 <= hour <= 12:
            return None
        hour %= 12  # 12am -> 0, 12pm -> 0 then +12 below
        if meridiem.startswith("p"):
            hour += 12
    elif not 0 <= hour <= 23:
        return None
    return dt.time(hour, minute)


# --------------------------------------------------------------------------------------
# parse_timezone
# --------------------------------------------------------------------------------------

# Top-level IANA areas that name real places. City lookup by last component only
# considers these, so legacy names like "US/Pacific" or "Canada/Eastern" do not make
# "pacific" or "eastern" mean something surprising (they still match in full).
_GEOGRAPHIC_AREAS = frozenset(
    {
        "Africa",
        "America",
        "Antarctica",
        "Arctic",
        "Asia",
        "Atlantic",
        "Australia",
        "Europe",
        "Indian",
        "Pacific",
    }
)

# Present in available_timezones() on some systems but not places anyone lives:
# "localtime" is the *server's* zone and "Factory" is a placeholder with offset "-00".
_EXCLUDED_ZONES = frozenset({"localtime", "Factory", "posixrules"})

_ALIASES_PATH = Path(__file__).resolve().parent.parent / "content" / "zone_aliases.toml"

_SEPARATORS = re.compile(r"[\s_\-]+")
_AROUND_SLASH = re.compile(r"\s*/\s*")
_EDGE_PUNCTUATION = "\"'`.,;:!?()[]{}"


def _key(text: str) -> str:
    """Normalise a place name for lookup.

    Case-insensitive, accent-insensitive ("São Paulo" == "sao paulo") and treats
    spaces, underscores and hyphens alike ("new_york" == "New York",
    "port au prince" == "Port-au-Prince"), because people type all of these.
    """
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    s = stripped.casefold().strip().strip(_EDGE_PUNCTUATION)
    s = _SEPARATORS.sub(" ", s).strip()
    return _AROUND_SLASH.sub("/", s)


@functools.cache
def _zone_names() -> frozenset[str]:
    """The zones we will hand out: every tzdata zone minus non-places. Cached: it scans disk."""
    return frozenset(available_timezones()) - _EXCLUDED_ZONES


@functools.cache
def _full_name_index() -> dict[str, str]:
    """Normalised full IANA name -> canonical spelling, e.g. "europe/berlin" -> "Europe/Berlin"."""
    return {_key(name): name for name in _zone_names()}


@functools.cache
def _city_index() -> dict[str, str]:
    """Normalised last component -> zone, e.g. "sao paulo" -> "America/Sao_Paulo".

    A few cities appear under two names (backward-compatibility links such as
    "America/Buenos_Aires" and "America/Argentina/Buenos_Aires"); they are the same
    clock, and we pick deterministically: the longer (current) name, then alphabetical.
    """
    candidates: dict[str, list[str]] = {}
    for name in _zone_names():
        parts = name.split("/")
        if len(parts) < 2 or parts[0] not in _GEOGRAPHIC_AREAS:
            continue
        candidates.setdefault(_key(parts[-1]), []).append(name)
    return {
        key: min(names, key=lambda n: (-n.count("/"), n))
        for key, names in candidates.items()
    }


@functools.cache
def _alias_index() -> dict[str, str]:
    """The hand-made table in content/zone_aliases.toml, keys normalised.

    Entries whose target is not a known zone are dropped rather than raised on, so a
    typo in the data file can never make `parse_timezone` crash at runtime; the test
    suite checks every entry instead. A missing file just means no aliases.
    """
    try:
        data = tomllib.loads(_ALIASES_PATH.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    table = data.get("aliases", {})
    if not isinstance(table, dict):
        return {}
    zones = _zone_names()
    return {
        _key(alias): zone
        for alias, zone in table.items()
        if isinstance(zone, str) and zone in zones
    }


def parse_timezone(text: str) -> str | None:
    """Turn what someone typed about where they are into an IANA zone name, or None.

    Tries, in order: the alias table (so "EST" means New York's clock rather than
    IANA's fixed-offset "EST"), full IANA names in any case ("europe/berlin"), then
    city names matching the last part of an IANA name ("New York", "são paulo").
    "UTC" and "GMT" are IANA names and work as such. Never raises for any str.
    """
    if not isinstance(text, str):
        return None
    key = _key(text)
    if not key:
        return None
    for index in (_alias_index(), _full_name_index(), _city_index()):
        zone = index.get(key)
        if zone is not None:
            return zone
    return None


# --------------------------------------------------------------------------------------
# Scheduling
# --------------------------------------------------------------------------------------

# Enough days to pass over any one-week filter even when the first two candidate days
# are already in the past (we start one local day *before* `after`, see below).
_SEARCH_DAYS = 10


def _require_aware(instant: dt.datetime, name: str) -> None:
    """Naive datetimes are a bug upstream: guessing their zone would shift reminders by hours."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {instant!r}")


def _fire_instant(day: dt.date, at: dt.time, tz: ZoneInfo) -> dt.datetime:
    """The UTC instant when wall time `at` on local `day` should fire, per the DST policy.

    This leans on PEP 495 semantics of fold=0, which give exactly our policy:
    * ambiguous wall time (fall-back): fold=0 is the first occurrence;
    * nonexistent wall time (spring-forward gap): fold=0 is interpreted with the
      offset in force *before* the transition, which lands `gap` later on the new
      clock, i.e. "shifted forward by the gap" (02:30 CET -> 01:30Z == 03:30 CEST).
    """
    local = dt.datetime.combine(day, at.replace(tzinfo=None, fold=0)).replace(tzinfo=tz, fold=0)
    return local.astimezone(UTC)


def next_occurrence(
    at: dt.time,
    zone: str,
    days: frozenset[int],
    after: dt.datetime,
) -> dt.datetime:
    """First UTC instant strictly after `after` when local wall time `at` occurs on an allowed day.

    `days` are local weekdays, 0=Monday .. 6=Sunday. The day filter applies to the
    person's local calendar, not UTC's, because "weekdays at 07:30" is about their week.
    Exactly one firing per allowed local day, DST notwithstanding (see module docstring):
    a time in a spring-forward gap fires once, moved later by the gap; a time repeated
    by a fall-back fires once, at its first occurrence, and asking again between the two
    occurrences yields the next allowed day.

    Raises ValueError for an empty or out-of-range `days` or a naive `after`, and
    zoneinfo.ZoneInfoNotFoundError (a KeyError) for an unknown zone.
    """
    if not days:
        raise ValueError("days is empty: a reminder that never fires has no next occurrence")
    if any(not isinstance(d, int) or not 0 <= d <= 6 for d in days):
        raise ValueError(f"days must be weekday numbers 0..6, got {sorted(days)!r}")
    _require_aware(after, "after")
    tz = zone_info(zone)
    after_utc = after.astimezone(UTC)
    # Start a day early: around a backwards transition at midnight the previous local
    # date's firing can still be ahead of `after`.
    day = after_utc.astimezone(tz).date() - dt.timedelta(days=1)
    for _ in range(_SEARCH_DAYS):
        if day.weekday() in days:
            candidate = _fire_instant(day, at, tz)
            if candidate > after_utc:
                return candidate
        day += dt.timedelta(days=1)
    raise AssertionError("unreachable: every week contains each allowed weekday")  # pragma: no cover


def local_date(instant: dt.datetime, zone: str) -> dt.date:
    """The person's calendar day at `instant`, for rules like "one reminder per local day".

    UTC dates are wrong for this: 23:30 in New York is already tomorrow in UTC.
    """
    _require_aware(instant, "instant")
    return instant.astimezone(zone_info(zone)).date()


@functools.lru_cache(maxsize=1024)
def zone_info(zone: str) -> ZoneInfo:
    """ZoneInfo(zone), cached. ZoneInfo keeps only 8 zones strongly cached; with people in dozens
    of zones it would re-read tzdata files on nearly every call (measured: most of the reminder
    service's start-up with 100,000 people). Raises like ZoneInfo for an unknown zone."""
    return ZoneInfo(zone)


def zone_or_utc(zone: str | None) -> ZoneInfo:
    """The zone named, or UTC when there is none or tzdata does not know it (for showing
    a person their own days, where a wrong-but-safe zone beats an error)."""
    try:
        return zone_info(zone or "UTC")
    except (KeyError, ValueError, OSError):
        return zone_info("UTC")


def aware(at: dt.datetime | str) -> dt.datetime:
    """A stored instant (a datetime, or its ISO 8601 text) as an aware datetime. Stored times
    are UTC; one written without a zone is read as UTC too."""
    value = dt.datetime.fromisoformat(at) if isinstance(at, str) else at
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


@dataclass(frozen=True)
class CalendarNames:
    """Short weekday (Monday first) and month (January first) names for dates shown to people.

    They come from content/texts.toml ([calendar], see `from_texts`), never from
    strftime("%a %b"), whose output changes with the server's locale.
    """

    weekdays: tuple[str, ...]
    months: tuple[str, ...]

    def __post_init__(self) -> None:
        if len(self.weekdays) != 7 or len(self.months) != 12:
            raise ValueError(f"need 7 weekday and 12 month names, got {len(self.weekdays)} "
                             f"and {len(self.months)}")

    @classmethod
    def from_texts(cls, texts: Callable[[str], str]) -> CalendarNames:
        """From the texts' "calendar.weekdays" and "calendar.months" (space-separated)."""
        return cls(tuple(texts("calendar.weekdays").split()),
                   tuple(texts("calendar.months").split()))


def day_month(day: dt.date, names: CalendarNames) -> str:
    """"25 Nov"."""
    return f"{day.day} {names.months[day.month - 1]}"


def describe_day(day: dt.date, names: CalendarNames) -> str:
    """"Wed 25 Nov": a calendar day, already local (e.g. a pause's end, a missed reminder)."""
    return f"{names.weekdays[day.weekday()]} {day_month(day, names)}"


def describe_next(instant: dt.datetime, zone: str, names: CalendarNames) -> tuple[str, str]:
    """("Wed 25 Nov", "07:30") in the person's zone, for "next reminder: ..." messages."""
    _require_aware(instant, "instant")
    local = instant.astimezone(zone_info(zone))
    return describe_day(local.date(), names), f"{local.hour:02d}:{local.minute:02d}"
