"""Reminders across the 2026 daylight-saving changes, walked minute by minute on a clock the
test moves: 07:30 stays 07:30 local on both sides; a time the change skips fires once, shifted
forward; a time the change repeats fires once, at its first occurrence.

2026 changes: Europe/Berlin springs forward on Sun 29 Mar (02:00 -> 03:00) and falls back on
Sun 25 Oct (03:00 -> 02:00); America/New_York on Sun 8 Mar and Sun 1 Nov (both at 02:00).
"""
from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

import pytest
from reminder_world import World, local

STEP = timedelta(minutes=1)


async def _days_of_reminders(tmp_path, zone: str, at: str, start: datetime, end: datetime):
    """Onboard someone at `start` with a reminder at `at` in `zone`, walk the clock to `end`,
    and return the local times their reminders came at."""
    world = await World.open(tmp_path, start)
    ana = await world.onboards("ana", at, zone)
    sent = world.reminders_to(ana, await world.walk(start + STEP, end, STEP))
    times = [world.wall(s, zone) for s in sent]
    await world.close()
    return times


@pytest.mark.parametrize("zone, before, change, after", [
    ("Europe/Berlin", (2026, 3, 27), "spring", (2026, 3, 31)),
    ("Europe/Berlin", (2026, 10, 23), "fall", (2026, 10, 27)),
    ("America/New_York", (2026, 3, 6), "spring", (2026, 3, 10)),
    ("America/New_York", (2026, 10, 30), "fall", (2026, 11, 3)),
])
async def test_0730_fires_at_0730_local_on_both_sides_of_a_change(tmp_path, zone, before,
                                                                    change, after):
    start = local(zone, *before, 12, 0)
    end = local(zone, *after, 12, 0)
    times = await _days_of_reminders(tmp_path, zone, "07:30", start, end)
    days = [t.date() for t in times]
    assert len(days) == len(set(days)) == 4, times  # one a day, every day, none twice
    assert {t.strftime("%H:%M:%S") for t in times} == {"07:30:00"}, times
    offsets = {t.utcoffset() for t in times}
    assert len(offsets) == 2, f"the walk should cross the {change} change: {times}"


async def test_a_time_the_spring_change_skips_fires_once_shifted_forward(tmp_path):
    # 02:30 does not exist in Berlin on 29 Mar 2026: the clocks jump from 02:00 to 03:00
    zone = "Europe/Berlin"
    times = await _days_of_reminders(tmp_path, zone, "02:30", local(zone, 2026, 3, 28, 12, 0),
                                     local(zone, 2026, 3, 30, 12, 0))
    assert [t.strftime("%a %d %H:%M %Z") for t in times] == [
        "Sun 29 03:30 CEST", "Mon 30 02:30 CEST"]


async def test_a_time_the_fall_change_repeats_fires_once_at_its_first_occurrence(tmp_path):
    # 02:30 happens twice in Berlin on 25 Oct 2026: at 00:30 UTC (CEST) and 01:30 UTC (CET)
    zone = "Europe/Berlin"
    times = await _days_of_reminders(tmp_path, zone, "02:30", local(zone, 2026, 10, 24, 12, 0),
                                     local(zone, 2026, 10, 26, 12, 0))
    assert [t.strftime("%a %d %H:%M %Z") for t in times] == [
        "Sun 25 02:30 CEST", "Mon 26 02:30 CET"]
    per_day = Counter(t.date() for t in times)
    assert set(per_day.values()) == {1}


async def test_new_york_0130_on_fall_back_day_fires_once(tmp_path):
    zone = "America/New_York"
    times = await _days_of_reminders(tmp_path, zone, "01:30", local(zone, 2026, 10, 31, 12, 0),
                                     local(zone, 2026, 11, 2, 12, 0))
    assert [t.strftime("%a %d %H:%M %Z") for t in times] == [
        "Sun 01 01:30 EDT", "Mon 02 01:30 EST"]


async def test_a_restart_between_the_two_repeated_0230s_does_not_fire_again(tmp_path):
    zone = "Europe/Berlin"
    world = await World.open(tmp_path, local(zone, 2026, 10, 24, 12, 0))
    ana = await world.onboards("ana", "02:30", zone)
    sent = await world.walk(_utc(2026, 10, 24, 10, 1), _utc(2026, 10, 25, 0, 45), STEP)
    assert len(world.reminders_to(ana, sent)) == 1  # 02:30 CEST = 00:30 UTC
    world = await world.restart()  # 00:45 UTC: between the two 02:30s
    ana = world.person("ana")
    sent = await world.walk(_utc(2026, 10, 25, 0, 46), _utc(2026, 10, 25, 3, 0), STEP)
    assert world.reminders_to(ana, sent) == []  # 02:30 CET = 01:30 UTC passes quietly
    await world.close()


def _utc(*parts: int) -> datetime:
    return local("UTC", *parts)
