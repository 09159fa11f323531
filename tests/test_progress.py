"""Progress people can see: the ladders with what it takes to move up, counts, a pain chart with
a sparkline, and "why did it change?" answered from the stored reason."""
from __future__ import annotations

import io
import threading
from datetime import datetime, timedelta, timezone

import numpy as np
from matplotlib.image import imread

from bot.progress import chart as progress_chart
from bot.progress.chart import chart_input, render
from chat import Person

PNG = b"\x89PNG\r\n\x1a\n"


def decode(png: bytes) -> np.ndarray:
    return imread(io.BytesIO(png), format="png")


async def test_progress_shows_the_ladders_what_it_takes_and_a_chart(ana: Person, coach):
    await ana.onboards(baseline=3)
    await ana.trains(pain=2)
    replies = await ana.says("progress")
    text = replies[0].text
    assert text.startswith("Your progress: 1 workout in all, ")
    assert "streak 1 day." in text
    assert ("• Side plank: Knees down, 10 s holds (1/7)\n"
            "   next: Knees down, 20 s holds (after a comfortable session on another day)") in text
    assert "A comfortable session: pain 3 or less afterwards" in text

    await ana.next_day()
    await ana.trains(pain=2)  # the second comfortable day: every ladder moves up
    replies = await ana.says("progress")
    text = replies[0].text
    assert "Your progress: 2 workouts in all" in text and "streak 2 days." in text
    assert ("• Side plank: Knees down, 20 s holds (2/7)\n"
            "   next: Knees down, 25 s holds (after comfortable sessions on 2 separate days)") \
        in text

    chart = replies[-1]
    assert chart.text == "Pain after workouts, last 2 weeks: ▂▂ (from 2 to 2)"  # a newcomer: the minimum span
    assert chart.image is not None
    assert (chart.image.name, chart.image.mime) == ("progress.png", "image/png")
    assert chart.image.data.startswith(PNG)
    assert decode(chart.image.data).shape[:2] == (450, 800)


async def test_before_any_pain_report_progress_is_text_only(ana: Person):
    await ana.onboards()
    replies = await ana.says("progress")
    assert "No pain scores yet." in replies[0].text
    assert all(r.image is None for r in replies)


async def test_the_chart_is_drawn_off_the_event_loop(ana: Person, monkeypatch):
    await ana.onboards()
    await ana.trains(pain=3)
    drawn_on = []
    real = progress_chart.render_progress_chart

    def spy(*args, **kwargs):
        drawn_on.append(threading.current_thread())
        return real(*args, **kwargs)

    monkeypatch.setattr(progress_chart, "render_progress_chart", spy)
    replies = await ana.says("progress")
    assert replies[-1].image is not None
    assert drawn_on and drawn_on[0] is not threading.main_thread()


async def test_the_chart_of_a_seeded_history_decodes_and_follows_the_data(ana: Person, coach):
    await ana.onboards()
    store, user = coach.services.store, coach.services.store.find_user(ana.key)
    now = coach.services.clock.now()
    for day in range(40, 0, -4):  # ten workouts, pain falling, each with a next-morning score
        at = now - timedelta(days=day)
        store.add_pain(user.id, min(10, day // 5), "after", at)
        store.add_pain(user.id, min(10, day // 6), "morning", at + timedelta(hours=14))
    store.add_pain(user.id, 9, "after", now - timedelta(weeks=12))  # her first entry
    store.add_pain(user.id, 7, "adhoc", now - timedelta(days=3))  # not drawn
    store.change_stage(user.id, "side_plank", 0, 1, "up", {"count": 2, "scores": [2, 2]},
                       now - timedelta(days=20), None)
    store.change_stage(user.id, "bird_dog", 1, 0, "down", {"score": 7},
                       now - timedelta(days=6), None)

    data = chart_input(coach.services, user, now)
    assert len(data.points) == 21  # everything since her first entry, twelve weeks ago
    assert data.start == now - timedelta(weeks=12)
    assert data.period == f"since {data.start.day} {data.start:%b}"
    assert {(m.exercise_name, m.direction) for m in data.marks} == {("Side plank", 1),
                                                                      ("Bird dog", -1)}
    assert str(data.now.tzinfo) == "Europe/Berlin"  # days on the axis are the person's days
    png = render(data).data
    assert png.startswith(PNG)
    assert decode(png).shape[:2] == (450, 800)
    assert 5_000 < len(png) < 200_000

    store.add_pain(user.id, 10, "after", now - timedelta(hours=1))
    changed = render(chart_input(coach.services, user, now)).data
    assert changed != png
    assert not np.array_equal(decode(changed), decode(png))


# -- why did it change? --------------------------------------------------------------------------


async def test_why_explains_a_step_up_and_a_step_down_from_real_workouts(ana: Person):
    await ana.onboards()
    await ana.trains(pain=2)
    await ana.next_day()
    await ana.trains(pain=2)
    replies = await ana.says("why is side plank harder?")
    assert replies[0].text.startswith("Side plank changed on ")
    assert ('from "Knees down, 10 s holds" to "Knees down, 20 s holds": pain 2, 2 after '
            "sessions on 2 separate days, no higher than before each one, and you said your "
            "form held in every rep") in replies[0].text
    await ana.trains(pain=7)
    replies = await ana.says("why did my side plank get easier")
    assert 'to "Knees down, 10 s holds": pain 7/10 after the workout was above 5' in \
        replies[0].text


async def test_why_explains_a_next_morning_step_down_on_the_persons_own_date(ana: Person, coach):
    await ana.onboards()  # in Europe/Berlin
    store, user = coach.services.store, coach.services.store.find_user(ana.key)
    late_evening_utc = datetime(2025, 3, 1, 23, 30, tzinfo=timezone.utc)  # 2 March in Berlin
    store.change_stage(user.id, "bird_dog", 2, 1, "morning_down", {"rise": 3},
                       late_evening_utc, None)
    replies = await ana.says("why bird dog")
    assert replies[0].text.startswith("Bird dog changed on 2 Mar from ")
    assert "your back was 3 points worse the next morning" in replies[0].text


async def test_why_stays_sensible_with_odd_stored_changes(ana: Person, coach):
    await ana.onboards()
    store, user = coach.services.store, coach.services.store.find_user(ana.key)
    now = coach.services.clock.now()
    store.change_stage(user.id, "squat", 0, 1, "up", {}, now, None)  # no scores kept
    replies = await ana.says("why squat")
    assert replies[0].text.split("\n")[0].endswith(": it was moved up a stage")
    store.change_stage(user.id, "squat", 1, 0, "rescreen", {}, now, None)  # a reason added later
    replies = await ana.says("why squat")
    assert replies[0].text.split("\n")[0].endswith(
        ": it was moved down a stage, to keep it comfortable")
    store.change_stage(user.id, "dead_bug", 40, 41, "up", {"count": 2, "scores": [1, 2]}, now,
                       None)  # a ladder shortened since
    replies = await ana.says("why dead bug")
    assert "your 2 sessions before it had pain 1, 2" in replies[0].text


async def test_why_before_any_change_and_about_nothing_known(ana: Person):
    await ana.onboards()
    replies = await ana.says("why hip hinge")
    assert replies[0].text.startswith("Hip hinge hasn't changed stage yet. It's at \"")
    replies = await ana.says("why is the moon round")
    assert replies[0].text == "Which exercise? For example: why side plank."
