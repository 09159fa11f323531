"""Tests for bot/localtime.py: parsing what people type, and DST-safe reminder times.

The DST dates used throughout (2026):
  Europe/Berlin     spring forward Sun 29 Mar 02:00 CET  -> 03:00 CEST (01:00Z)
                    fall back      Sun 25 Oct 03:00 CEST -> 02:00 CET  (01:00Z)
  America/New_York  spring forward Sun  8 Mar 02:00 EST  -> 03:00 EDT  (07:00Z)
                    fall back      Sun  1 Nov 02:00 EDT  -> 01:00 EST  (06:00Z)
"""
from __future__ import annotations

import datetime as dt
import tomllib
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot import localtime
from bot.localtime import (
    CalendarNames,
    aware,
    day_month,
    describe_day,
    describe_next,
    local_date,
    next_occurrence,
    parse_time_of_day,
    parse_timezone,
)

UTC = dt.timezone.utc
EVERY_DAY = frozenset(range(7))
WEEKDAYS = frozenset(range(5))
BERLIN = "Europe/Berlin"
NEW_YORK = "America/New_York"
ENGLISH = CalendarNames(("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
                        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct",
                         "Nov", "Dec"))


def utc(*args: int) -> dt.datetime:
    """Shorthand for an aware UTC datetime."""
    return dt.datetime(*args, tzinfo=UTC)


def t(hour: int, minute: int = 0) -> dt.time:
    return dt.time(hour, minute)


# --------------------------------------------------------------------------------------
# parse_time_of_day
# --------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # 24-hour
        ("07:30", t(7, 30)),
        ("7:30", t(7, 30)),
        ("7.30", t(7, 30)),
        ("19:00", t(19, 0)),
        ("00:00", t(0, 0)),
        ("23:59", t(23, 59)),
        ("  07:30  ", t(7, 30)),
        ("7 : 30", t(7, 30)),
        # compact
        ("0730", t(7, 30)),
        ("730", t(7, 30)),
        ("1930", t(19, 30)),
        # European "h"
        ("19h", t(19, 0)),
        ("19h30", t(19, 30)),
        ("7h30", t(7, 30)),
        # 12-hour
        ("7am", t(7, 0)),
        ("7 am", t(7, 0)),
        ("7AM", t(7, 0)),
        ("7 a.m.", t(7, 0)),
        ("7a.m.", t(7, 0)),
        ("7p", t(19, 0)),
        ("7:30am", t(7, 30)),
        ("7:30 pm", t(19, 30)),
        ("7:30 P.M.", t(19, 30)),
        ("7.30pm", t(19, 30)),
        ("730pm", t(19, 30)),
        ("12am", t(0, 0)),
        ("12pm", t(12, 0)),
        ("12:30am", t(0, 30)),
        ("12:30 pm", t(12, 30)),
        ("11:59pm", t(23, 59)),
        # words
        ("noon", t(12, 0)),
        ("Noon", t(12, 0)),
        ("12 noon", t(12, 0)),
        ("midday", t(12, 0)),
        ("midnight", t(0, 0)),
    ],
)
def test_parse_time_of_day_accepts(text: str, expected: dt.time) -> None:
    assert parse_time_of_day(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "abc",
        "25:00",
        "24:00",
        "7:60",
        "7:5",  # one-digit minutes: probably a typo, don't guess
        "13pm",
        "0am",
        "00:30am",
        "7",  # bare hour: am or pm? ask again rather than guess
        "19",
        "07:30:00",
        "7:30 xm",
        "-7:30",
        "7:30 tomorrow",
        "٧:٣٠",  # Arabic-Indic digits
        "０７:３０",  # fullwidth digits
        "99999",
    ],
)
def test_parse_time_of_day_rejects(text: str) -> None:
    assert parse_time_of_day(text) is None


def test_parse_time_of_day_returns_naive_whole_minutes() -> None:
    parsed = parse_time_of_day("7:30pm")
    assert parsed is not None
    assert parsed.tzinfo is None
    assert (parsed.second, parsed.microsecond) == (0, 0)


@settings(max_examples=500)
@given(st.text())
def test_parse_time_of_day_never_raises(text: str) -> None:
    result = parse_time_of_day(text)
    assert result is None or isinstance(result, dt.time)


@settings(max_examples=300)
@given(
    st.from_regex(r"\s*\d{1,3}\s*[:.h]?\s*\d{0,3}\s*(a|p|am|pm|a\.m\.|p\.m\.)?\s*", fullmatch=True)
)
def test_parse_time_of_day_never_raises_on_time_like_text(text: str) -> None:
    result = parse_time_of_day(text)
    assert result is None or isinstance(result, dt.time)


# --------------------------------------------------------------------------------------
# parse_timezone
# --------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # IANA names, any case and spacing
        ("Europe/Berlin", BERLIN),
        ("europe/berlin", BERLIN),
        ("EUROPE/BERLIN", BERLIN),
        ("Europe / Berlin", BERLIN),
        ("america/new_york", NEW_YORK),
        ("America/New York", NEW_YORK),
        ("America/Argentina/Buenos_Aires", "America/Argentina/Buenos_Aires"),
        ("US/Pacific", "US/Pacific"),
        ("UTC", "UTC"),
        ("utc", "UTC"),
        ("GMT", "GMT"),
        ("gmt", "GMT"),
        # cities = last component of an IANA name
        ("berlin", BERLIN),
        ("Berlin", BERLIN),
        (" Berlin. ", BERLIN),
        ("London", "Europe/London"),
        ("New York", NEW_YORK),
        ("new_york", NEW_YORK),
        ("new-york", NEW_YORK),
        ("NEW YORK", NEW_YORK),
        ("los angeles", "America/Los_Angeles"),
        ("sao paulo", "America/Sao_Paulo"),
        ("São Paulo", "America/Sao_Paulo"),
        ("são paulo", "America/Sao_Paulo"),
        ("zürich", "Europe/Zurich"),
        ("Port au Prince", "America/Port-au-Prince"),
        ("kolkata", "Asia/Kolkata"),
        ("tokyo", "Asia/Tokyo"),
        ("sydney", "Australia/Sydney"),
        ("buenos aires", "America/Argentina/Buenos_Aires"),  # prefers current over link
        ("indianapolis", "America/Indiana/Indianapolis"),
        # alias table (content/zone_aliases.toml)
        ("san francisco", "America/Los_Angeles"),
        ("Seattle", "America/Los_Angeles"),
        ("boston", NEW_YORK),
        ("munich", BERLIN),
        ("germany", BERLIN),
        ("Germany", BERLIN),
        ("mumbai", "Asia/Kolkata"),
        ("delhi", "Asia/Kolkata"),
        ("New Delhi", "Asia/Kolkata"),
        ("india", "Asia/Kolkata"),
        ("uk", "Europe/London"),
        ("UK", "Europe/London"),
        # abbreviations mean the DST-observing clock, not IANA's fixed-offset "EST"
        ("EST", NEW_YORK),
        ("pst", "America/Los_Angeles"),
        ("CET", BERLIN),
    ],
)
def test_parse_timezone_accepts(text: str, expected: str) -> None:
    assert parse_timezone(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "abc",
        "Atlantis",
        "Europe",  # an area, not a zone
        "America",
        "Europe/Atlantis",
        "localtime",  # the server's zone, never the person's
        "Factory",
        "berlin germany",
        "/",
        "12:30",
    ],
)
def test_parse_timezone_rejects(text: str) -> None:
    assert parse_timezone(text) is None


@settings(max_examples=500)
@given(st.text())
def test_parse_timezone_never_raises(text: str) -> None:
    result = parse_timezone(text)
    assert result is None or result in localtime._zone_names()


@settings(max_examples=200)
@given(st.sampled_from(sorted(localtime._zone_names())), st.sampled_from([str.lower, str.upper]))
def test_parse_timezone_round_trips_every_iana_name_in_any_case(name: str, case) -> None:
    """Every zone we know is reachable by its own name, whatever the case.

    (Names that collide with an alias, like "EST", deliberately resolve to the alias.)
    """
    result = parse_timezone(case(name))
    assert result is not None
    if name.casefold() not in localtime._alias_index():
        assert result == name


def test_every_alias_target_is_a_real_zone() -> None:
    """The loader silently drops bad entries so parsing can't crash; this catches them instead."""
    path = Path(__file__).resolve().parent.parent / "content" / "zone_aliases.toml"
    table = tomllib.loads(path.read_text(encoding="utf-8"))["aliases"]
    assert table, "alias table is empty"
    zones = localtime._zone_names()
    bad = {alias: zone for alias, zone in table.items() if zone not in zones}
    assert bad == {}
    assert len(localtime._alias_index()) == len(table)


def test_every_parsed_zone_loads() -> None:
    for text in ("berlin", "sao paulo", "india", "EST", "utc", "US/Pacific"):
        zone = parse_timezone(text)
        assert zone is not None
        ZoneInfo(zone)


# --------------------------------------------------------------------------------------
# next_occurrence: ordinary days on both sides of DST
# --------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("zone", "after", "expected"),
    [
        # Berlin, 07:30 CET = 06:30Z, 07:30 CEST = 05:30Z
        (BERLIN, utc(2026, 3, 27, 12), utc(2026, 3, 28, 6, 30)),  # Sat before: CET
        (BERLIN, utc(2026, 3, 28, 12), utc(2026, 3, 29, 5, 30)),  # the change day itself: CEST
        (BERLIN, utc(2026, 3, 29, 12), utc(2026, 3, 30, 5, 30)),  # Mon after: CEST
        (BERLIN, utc(2026, 10, 23, 12), utc(2026, 10, 24, 5, 30)),  # Sat before: CEST
        (BERLIN, utc(2026, 10, 24, 12), utc(2026, 10, 25, 6, 30)),  # the change day: CET
        (BERLIN, utc(2026, 10, 25, 12), utc(2026, 10, 26, 6, 30)),  # Mon after: CET
        # New York, 07:30 EST = 12:30Z, 07:30 EDT = 11:30Z
        (NEW_YORK, utc(2026, 3, 6, 18), utc(2026, 3, 7, 12, 30)),  # Sat before: EST
        (NEW_YORK, utc(2026, 3, 7, 18), utc(2026, 3, 8, 11, 30)),  # change day: EDT
        (NEW_YORK, utc(2026, 3, 8, 18), utc(2026, 3, 9, 11, 30)),  # Mon after: EDT
        (NEW_YORK, utc(2026, 10, 30, 18), utc(2026, 10, 31, 11, 30)),  # Sat before: EDT
        (NEW_YORK, utc(2026, 10, 31, 18), utc(2026, 11, 1, 12, 30)),  # change day: EST
        (NEW_YORK, utc(2026, 11, 1, 18), utc(2026, 11, 2, 12, 30)),  # Mon after: EST
    ],
)
def test_0730_on_both_sides_of_dst(zone: str, after: dt.datetime, expected: dt.datetime) -> None:
    got = next_occurrence(t(7, 30), zone, EVERY_DAY, after)
    assert got == expected
    assert got.utcoffset() == dt.timedelta(0)
    assert got.astimezone(ZoneInfo(zone)).time() == t(7, 30)


def test_same_day_if_still_ahead_next_day_if_already_passed() -> None:
    # 06:00 CET on a Monday: today's 07:30 is still ahead
    assert next_occurrence(t(7, 30), BERLIN, EVERY_DAY, utc(2026, 1, 5, 5)) == utc(2026, 1, 5, 6, 30)
    # exactly at 07:30: "strictly after", so tomorrow
    assert next_occurrence(t(7, 30), BERLIN, EVERY_DAY, utc(2026, 1, 5, 6, 30)) == utc(2026, 1, 6, 6, 30)
    # one microsecond before: today
    just_before = utc(2026, 1, 5, 6, 30) - dt.timedelta(microseconds=1)
    assert next_occurrence(t(7, 30), BERLIN, EVERY_DAY, just_before) == utc(2026, 1, 5, 6, 30)


def test_local_day_not_utc_day() -> None:
    # 23:30 in New York on Mon 5 Jan = 04:30Z Tue 6 Jan. Asked at 20:00 NY Monday,
    # it is Monday's reminder that comes next, even though UTC already says Tuesday.
    got = next_occurrence(t(23, 30), NEW_YORK, frozenset({0}), utc(2026, 1, 6, 1))
    assert got == utc(2026, 1, 6, 4, 30)
    assert local_date(got, NEW_YORK) == dt.date(2026, 1, 5)


def test_after_in_another_zone_is_fine() -> None:
    after = dt.datetime(2026, 1, 5, 7, 0, tzinfo=ZoneInfo(BERLIN))  # 06:00Z
    assert next_occurrence(t(7, 30), BERLIN, EVERY_DAY, after) == utc(2026, 1, 5, 6, 30)


# --------------------------------------------------------------------------------------
# next_occurrence: the DST edge cases
# --------------------------------------------------------------------------------------

def test_spring_forward_gap_berlin_fires_once_shifted_by_the_gap() -> None:
    # 02:30 does not exist in Berlin on 29 Mar 2026; fires at 03:30 CEST = 01:30Z.
    first = next_occurrence(t(2, 30), BERLIN, EVERY_DAY, utc(2026, 3, 28, 12))
    assert first == utc(2026, 3, 29, 1, 30)
    local = first.astimezone(ZoneInfo(BERLIN))
    assert (local.date(), local.time()) == (dt.date(2026, 3, 29), t(3, 30))
    # and only once: next is Monday 02:30 CEST = 00:30Z
    assert next_occurrence(t(2, 30), BERLIN, EVERY_DAY, first) == utc(2026, 3, 30, 0, 30)
    # the day before was a normal 02:30 CET = 01:30Z
    assert next_occurrence(t(2, 30), BERLIN, EVERY_DAY, utc(2026, 3, 27, 12)) == utc(2026, 3, 28, 1, 30)


def test_spring_forward_gap_new_york() -> None:
    # 02:30 does not exist in New York on 8 Mar 2026; fires at 03:30 EDT = 07:30Z.
    first = next_occurrence(t(2, 30), NEW_YORK, EVERY_DAY, utc(2026, 3, 7, 12))
    assert first == utc(2026, 3, 8, 7, 30)
    assert next_occurrence(t(2, 30), NEW_YORK, EVERY_DAY, first) == utc(2026, 3, 9, 6, 30)


def test_spring_forward_asked_inside_the_gap_hour() -> None:
    # At 01:15Z on 29 Mar it is 03:15 CEST in Berlin; 02:30 "hasn't happened yet" in
    # the sense that its shifted firing (03:30 CEST) is still ahead.
    assert next_occurrence(t(2, 30), BERLIN, EVERY_DAY, utc(2026, 3, 29, 1, 15)) == utc(2026, 3, 29, 1, 30)


def test_fall_back_berlin_fires_once_at_first_occurrence() -> None:
    # 02:30 happens twice in Berlin on 25 Oct 2026: 00:30Z (CEST) and 01:30Z (CET).
    first = next_occurrence(t(2, 30), BERLIN, EVERY_DAY, utc(2026, 10, 24, 12))
    assert first == utc(2026, 10, 25, 0, 30)
    assert first.astimezone(ZoneInfo(BERLIN)).utcoffset() == dt.timedelta(hours=2)
    # asking again right after the first occurrence: 26 Oct, never the second one
    again = next_occurrence(t(2, 30), BERLIN, EVERY_DAY, first)
    assert again != utc(2026, 10, 25, 1, 30)
    assert again == utc(2026, 10, 26, 1, 30)  # 02:30 CET on Mon 26 Oct
    assert local_date(again, BERLIN) == dt.date(2026, 10, 26)


@pytest.mark.parametrize("minutes_after_first", [1, 30, 59, 60])
def test_fall_back_berlin_asked_between_the_two_occurrences(minutes_after_first: int) -> None:
    after = utc(2026, 10, 25, 0, 30) + dt.timedelta(minutes=minutes_after_first)
    assert next_occurrence(t(2, 30), BERLIN, EVERY_DAY, after) == utc(2026, 10, 26, 1, 30)


def test_fall_back_new_york_fires_once_at_first_occurrence() -> None:
    # 01:30 happens twice in New York on 1 Nov 2026: 05:30Z (EDT) and 06:30Z (EST).
    first = next_occurrence(t(1, 30), NEW_YORK, EVERY_DAY, utc(2026, 10, 31, 18))
    assert first == utc(2026, 11, 1, 5, 30)
    again = next_occurrence(t(1, 30), NEW_YORK, EVERY_DAY, first)
    assert again != utc(2026, 11, 1, 6, 30)
    assert again == utc(2026, 11, 2, 6, 30)  # 01:30 EST on Mon 2 Nov
    # also when asked during the repeated hour
    assert next_occurrence(t(1, 30), NEW_YORK, EVERY_DAY, utc(2026, 11, 1, 6, 0)) == again


def test_skipped_calendar_day_still_fires_once() -> None:
    # Samoa skipped Fri 30 Dec 2011 entirely (Thu 29 -> Sat 31). The 30th's reminder,
    # shifted by the 24h gap, coincides with the 31st's; we fire once, not twice.
    apia = "Pacific/Apia"
    first = next_occurrence(t(7, 30), apia, EVERY_DAY, utc(2011, 12, 29, 18))  # 08:00 on the 29th
    assert first.astimezone(ZoneInfo(apia)).replace(tzinfo=None) == dt.datetime(2011, 12, 31, 7, 30)
    second = next_occurrence(t(7, 30), apia, EVERY_DAY, first)
    assert second.astimezone(ZoneInfo(apia)).replace(tzinfo=None) == dt.datetime(2012, 1, 1, 7, 30)


# --------------------------------------------------------------------------------------
# next_occurrence: day filter and validation
# --------------------------------------------------------------------------------------

def test_weekdays_only_skips_the_weekend() -> None:
    # Fri 27 Mar 2026 after the 07:30 CET firing -> Mon 30 Mar 07:30 CEST (over the DST weekend)
    after = utc(2026, 3, 27, 7)
    got = next_occurrence(t(7, 30), BERLIN, WEEKDAYS, after)
    assert got == utc(2026, 3, 30, 5, 30)
    assert local_date(got, BERLIN).weekday() == 0


def test_single_day() -> None:
    # Sundays only, asked on Monday 5 Jan 2026 -> Sunday 11 Jan
    got = next_occurrence(t(9, 0), NEW_YORK, frozenset({6}), utc(2026, 1, 5, 20))
    assert got == utc(2026, 1, 11, 14, 0)


def test_day_filter_uses_local_weekday() -> None:
    # Mondays 00:30 in Tokyo is Sunday 15:30Z: the filter must look at Tokyo's calendar.
    got = next_occurrence(t(0, 30), "Asia/Tokyo", frozenset({0}), utc(2026, 1, 1))
    assert got == utc(2026, 1, 4, 15, 30)
    assert got.weekday() == 6
    assert local_date(got, "Asia/Tokyo").weekday() == 0


def test_empty_days_raises() -> None:
    with pytest.raises(ValueError):
        next_occurrence(t(7, 30), BERLIN, frozenset(), utc(2026, 1, 1))


@pytest.mark.parametrize("bad", [frozenset({7}), frozenset({-1}), frozenset({0, 9})])
def test_out_of_range_days_raise(bad: frozenset[int]) -> None:
    with pytest.raises(ValueError):
        next_occurrence(t(7, 30), BERLIN, bad, utc(2026, 1, 1))


def test_naive_after_raises() -> None:
    with pytest.raises(ValueError):
        next_occurrence(t(7, 30), BERLIN, EVERY_DAY, dt.datetime(2026, 1, 1))


def test_unknown_zone_raises() -> None:
    with pytest.raises(KeyError):  # zoneinfo.ZoneInfoNotFoundError
        next_occurrence(t(7, 30), "Europe/Atlantis", EVERY_DAY, utc(2026, 1, 1))


# --------------------------------------------------------------------------------------
# next_occurrence: a whole year, many zones
# --------------------------------------------------------------------------------------

YEAR_ZONES = [
    BERLIN,
    NEW_YORK,
    "Europe/London",
    "Australia/Sydney",  # southern hemisphere: DST at the other end of the year
    "Australia/Lord_Howe",  # 30-minute DST shift
    "America/Santiago",  # transitions at local midnight
    "Asia/Kolkata",  # no DST, half-hour offset
    "Pacific/Chatham",  # +12:45 / +13:45
    "UTC",
]
YEAR_TIMES = [t(0, 0), t(0, 30), t(1, 30), t(2, 30), t(7, 30), t(12, 0), t(23, 30), t(23, 59)]


def _exists(day: dt.date, at: dt.time, tz: ZoneInfo) -> bool:
    """Whether wall time `at` really occurs on `day` (False inside a spring-forward gap)."""
    local = dt.datetime.combine(day, at, tzinfo=tz)
    return local.astimezone(UTC).astimezone(tz).replace(tzinfo=None) == local.replace(tzinfo=None)


@pytest.mark.parametrize("zone", YEAR_ZONES)
@pytest.mark.parametrize("at", YEAR_TIMES, ids=str)
@pytest.mark.parametrize("days", [EVERY_DAY, WEEKDAYS], ids=["daily", "weekdays"])
def test_whole_year_exactly_one_firing_per_allowed_local_day(
    zone: str, at: dt.time, days: frozenset[int]
) -> None:
    tz = ZoneInfo(zone)
    # one microsecond before the year so that a 00:00 reminder on 1 Jan counts
    start = dt.datetime(2026, 1, 1, tzinfo=tz).astimezone(UTC) - dt.timedelta(microseconds=1)
    end = dt.datetime(2027, 1, 1, tzinfo=tz).astimezone(UTC)

    firings: list[dt.datetime] = []
    after = start
    while True:
        fire = next_occurrence(at, zone, days, after)
        if fire >= end:
            break
        firings.append(fire)
        after = fire

    # strictly increasing, all aware UTC
    assert all(a < b for a, b in zip(firings, firings[1:]))
    assert all(f.utcoffset() == dt.timedelta(0) for f in firings)

    # exactly one per allowed local date
    dates = [local_date(f, zone) for f in firings]
    expected_dates = [
        dt.date(2026, 1, 1) + dt.timedelta(days=i)
        for i in range(365)
        if (dt.date(2026, 1, 1) + dt.timedelta(days=i)).weekday() in days
    ]
    assert dates == expected_dates

    for fire, day in zip(firings, dates):
        local = fire.astimezone(tz)
        if _exists(day, at, tz):
            # at the requested wall time, and the first time it happened that day
            assert local.time() == at
            assert fire == min(
                dt.datetime.combine(day, at, tzinfo=tz).replace(fold=f).astimezone(UTC) for f in (0, 1)
            )
        else:
            # in a gap: later than asked, by exactly the gap, on the same local day.
            # fold=1 reads the gap time with the new offset, fold=0 with the old one;
            # the difference between the two readings is the size of the gap.
            naive = dt.datetime.combine(day, at)
            gap = naive.replace(tzinfo=tz, fold=0).astimezone(UTC) - naive.replace(
                tzinfo=tz, fold=1
            ).astimezone(UTC)
            assert gap > dt.timedelta(0)
            assert local.replace(tzinfo=None) == naive + gap


# --------------------------------------------------------------------------------------
# next_occurrence: properties on random inputs
# --------------------------------------------------------------------------------------

@settings(max_examples=300, deadline=None)
@given(
    zone=st.sampled_from(YEAR_ZONES + ["America/Havana", "Asia/Tehran", "Africa/Casablanca"]),
    at=st.times().map(lambda x: x.replace(second=0, microsecond=0)),
    days=st.frozensets(st.integers(0, 6), min_size=1),
    after=st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2035, 12, 31), timezones=st.just(UTC)),
)
def test_next_occurrence_properties(
    zone: str, at: dt.time, days: frozenset[int], after: dt.datetime
) -> None:
    fire = next_occurrence(at, zone, days, after)
    assert fire > after
    assert fire - after <= dt.timedelta(days=8)
    assert local_date(fire, zone).weekday() in days
    # it is a fixed point: asking from just before it gives it back
    assert next_occurrence(at, zone, days, fire - dt.timedelta(microseconds=1)) == fire
    # and the next one is on a later local date
    assert local_date(next_occurrence(at, zone, days, fire), zone) > local_date(fire, zone)


# --------------------------------------------------------------------------------------
# local_date and describe_next
# --------------------------------------------------------------------------------------

def test_local_date() -> None:
    instant = utc(2026, 1, 6, 4, 30)  # 23:30 Mon in New York, 05:30 Tue in Berlin
    assert local_date(instant, NEW_YORK) == dt.date(2026, 1, 5)
    assert local_date(instant, BERLIN) == dt.date(2026, 1, 6)
    assert local_date(instant, "UTC") == dt.date(2026, 1, 6)


def test_local_date_rejects_naive() -> None:
    with pytest.raises(ValueError):
        local_date(dt.datetime(2026, 1, 6), BERLIN)


@pytest.mark.parametrize(
    ("instant", "zone", "expected"),
    [
        (utc(2026, 11, 25, 6, 30), BERLIN, ("Wed 25 Nov", "07:30")),
        (utc(2026, 3, 29, 1, 30), BERLIN, ("Sun 29 Mar", "03:30")),
        (utc(2026, 1, 6, 4, 30), NEW_YORK, ("Mon 5 Jan", "23:30")),
        (utc(2026, 12, 31, 23, 59), "UTC", ("Thu 31 Dec", "23:59")),
        (utc(2026, 6, 1, 0, 5), "Asia/Kolkata", ("Mon 1 Jun", "05:35")),
    ],
)
def test_describe_next(instant: dt.datetime, zone: str, expected: tuple[str, str]) -> None:
    assert describe_next(instant, zone, ENGLISH) == expected


def test_describe_next_ignores_locale() -> None:
    import locale

    previous = locale.setlocale(locale.LC_TIME)
    try:
        locale.setlocale(locale.LC_TIME, "de_DE.UTF-8")
    except locale.Error:
        pytest.skip("de_DE locale not installed")
    try:
        assert describe_next(utc(2026, 11, 25, 6, 30), BERLIN, ENGLISH) == ("Wed 25 Nov", "07:30")
    finally:
        locale.setlocale(locale.LC_TIME, previous)


def test_day_and_month_names_are_the_ones_passed_in() -> None:
    german = CalendarNames(("Mo", "Di", "Mi", "Do", "Fr", "Sa", "So"),
                           ("Jan", "Feb", "März", "Apr", "Mai", "Juni", "Juli", "Aug", "Sep",
                            "Okt", "Nov", "Dez"))
    assert describe_next(utc(2026, 3, 11, 6, 30), BERLIN, german) == ("Mi 11 März", "07:30")
    assert describe_day(dt.date(2026, 12, 24), german) == "Do 24 Dez"
    assert day_month(dt.date(2026, 5, 1), ENGLISH) == "1 May"
    with pytest.raises(ValueError):
        CalendarNames(("Mon",), ENGLISH.months)


def test_the_calendar_names_come_from_the_texts() -> None:
    from bot.texts import Texts

    texts = Texts.load(Path(__file__).resolve().parent.parent / "content")
    assert CalendarNames.from_texts(texts) == ENGLISH


def test_stored_instants_without_a_zone_are_utc() -> None:
    assert aware("2026-03-10T06:30:00") == utc(2026, 3, 10, 6, 30)
    assert aware("2026-03-10T07:30:00+01:00") == utc(2026, 3, 10, 6, 30)
    assert aware(dt.datetime(2026, 3, 10, 6, 30)) == utc(2026, 3, 10, 6, 30)
