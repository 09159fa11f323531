"""Time across a restart with --time-scale, and the chart a newcomer gets.

A quick tour at `--time-scale 600` stores its workout hours "ahead" of real time; the next run's
clock must start from there, never behind it, or the chart leaves the workout out. And the chart
of a person with one workout spans at least two weeks up to now, shows that workout, and draws
the pain they started with as a reference line.
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from bot.data import clock_start
from bot.progress import chart as progress_chart
from bot.clock import Clock
from bot.events import UserKey
from bot.data.store import Store
from bot_process import run_bot
from chat import Person

ONBOARDING = ["1", *["no"] * 11, "3", "1", "07:30", "UTC"]
WORKOUT = ["start session", "3",  # the pain right now, before the session
           "done", "done", "done", "done", "2"]  # squat and hip hinge by hand


def export(db) -> dict:
    result = run_bot("export", "--db", str(db))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)[0]


def pain_at(person: dict, score: int) -> datetime:
    [at] = [p["at"] for p in person["pain_reports"] if p["score"] == score]
    return datetime.fromisoformat(at)


def test_after_a_quick_tour_the_next_run_shows_its_workout_in_the_chart(tmp_path):
    db = tmp_path / "coach.db"
    tour = run_bot("console", "--db", str(db), "--time-scale", "600", cwd=tmp_path,
                   stdin="\n".join([*ONBOARDING, *WORKOUT]) + "\n")
    assert tour.returncode == 0, tour.stderr
    assert "Noted: pain 2/10" in tour.stdout
    workout_pain = pain_at(export(db), 2)

    again = run_bot("console", "--db", str(db), "--time-scale", "600", cwd=tmp_path,
                    stdin="progress\npain 5\n")
    assert again.returncode == 0, again.stderr
    assert "Your progress: 1 workout in all" in again.stdout
    assert "Pain after workouts, last 2 weeks: ▂ (2/10)" in again.stdout  # the workout is in it
    assert "[progress.png saved to" in again.stdout
    assert pain_at(export(db), 5) >= workout_pain  # and time went on from where it was


def test_a_scaled_clock_starts_from_the_latest_stored_instant_never_behind_it(tmp_path):
    """As a long tour leaves it: the last thing stored lies a month ahead of real time."""
    db = tmp_path / "coach.db"
    onboarded = run_bot("console", "--db", str(db), "--time-scale", "60", cwd=tmp_path,
                        stdin="\n".join(ONBOARDING) + "\n")
    assert onboarded.returncode == 0, onboarded.stderr
    ahead = datetime.now(timezone.utc) + timedelta(days=30)
    store = Store(db)
    user = store.find_user(UserKey("console", "me"))
    store.add_pain(user.id, 4, "adhoc", ahead)
    store.close()

    scaled = run_bot("console", "--db", str(db), "--time-scale", "60", cwd=tmp_path,
                     stdin="pain 5\n")
    assert scaled.returncode == 0, scaled.stderr
    assert ahead <= pain_at(export(db), 5) < ahead + timedelta(days=1)

    # At scale 1 the clock is the real one: reminders keep to the real 07:30.
    real = run_bot("console", "--db", str(db), cwd=tmp_path, stdin="pain 6\n")
    assert real.returncode == 0, real.stderr
    assert abs(pain_at(export(db), 6) - datetime.now(timezone.utc)) < timedelta(hours=1)


def test_the_latest_instant_is_compared_as_time_not_text_and_planned_times_do_not_count(
        tmp_path):
    store = Store(tmp_path / "coach.db")
    user = store.user(UserKey("test", "ana"), datetime(2030, 1, 1, tzinfo=timezone.utc))
    store.add_pain(user.id, 3, "adhoc", datetime(2030, 1, 2, 9, tzinfo=timezone.utc))
    # Later as text, earlier as time: 10:00 at +05:00 is 05:00 UTC.
    store.db.execute("insert into pain_reports (user_id, at, score, kind) values (?, ?, 2, ?)",
                     (user.id, "2030-01-02T10:00:00+05:00", "adhoc"))
    store.db.execute("insert into reminder_log (user_id, kind, slot, status, at) "
                     "values (?, 'daily', '2030-01-02', 'sent', '2030-01-02T09:30:00Z')",
                     (user.id,))
    store.db.execute("insert into reminders (user_id, kind, due_at) values (?, 'daily', ?)",
                     (user.id, "2031-06-01T07:30:00Z"))  # planned, not happened
    assert clock_start.latest_instant(store.db) == datetime(2030, 1, 2, 9, 30,
                                                            tzinfo=timezone.utc)
    clock = clock_start.scaled_clock(60, store)
    assert clock.now() >= datetime(2030, 1, 2, 9, 30, tzinfo=timezone.utc)
    assert type(clock_start.scaled_clock(1, store)) is Clock
    assert clock_start.scaled_clock(1, store).now().year < 2030
    store.close()


def test_every_stored_instant_of_something_that_happened_is_looked_at(tmp_path):
    """A new *_at column joins the list by itself; one holding a future time needs PLANNED."""
    store = Store(tmp_path / "coach.db")
    assert sorted(clock_start.happened_columns(store.db)) == sorted([
        ("users", "created_at"), ("users", "baseline_at"), ("users", "cleared_at"),
        ("form_checks", "asked_at"), ("form_checks", "answered_at"),
        ("stages", "updated_at"), ("workouts", "started_at"),
        ("workouts", "ended_at"), ("workout_exercises", "at"), ("pain_reports", "at"),
        ("stage_changes", "at"), ("reminder_log", "at"), ("reminder_log", "done_at"),
        ("morning_checks", "asked_at"), ("morning_checks", "answered_at"),
        ("seen_stages", "first_at"),
        ("delivery_failures", "at"),
        ("handled_updates", "at")])
    store.close()


async def test_the_chart_of_a_one_workout_person_shows_that_workout_and_where_they_started(
        ana: Person, coach, monkeypatch):
    await ana.onboards(baseline=6)
    await ana.trains(pain=2)
    drawn = []
    real = progress_chart.render_progress_chart

    def spy(points, marks, now, **options):
        drawn.append((points, marks, now, options))
        return real(points, marks, now, **options)

    monkeypatch.setattr(progress_chart, "render_progress_chart", spy)
    replies = await ana.says("progress")

    chart = replies[-1]
    assert chart.text == "Pain after workouts, last 2 weeks: ▂ (2/10)"
    assert chart.image is not None and chart.image.data.startswith(b"\x89PNG")
    [(points, marks, now, options)] = drawn  # what the picture was drawn from
    [workout] = coach.services.store.workouts(coach.services.store.find_user(ana.key).id)
    [point] = points
    assert (point.kind, point.score) == ("after", 2)
    assert datetime.fromisoformat(workout["started_at"]) <= point.at <= now
    assert options["baseline"] == 6  # the starting pain, drawn as a reference line
    assert options["start"] == now - timedelta(weeks=2)  # two weeks at least, up to now
    assert options["labels"].title == "Back pain, last 2 weeks"
    assert options["labels"].baseline == "Starting pain"
    assert marks == ()  # one workout moves no ladder yet
    without_baseline = real(points, marks, now, **{**options, "baseline": None})
    assert without_baseline != chart.image.data  # the line is really drawn


async def test_a_long_history_is_charted_from_its_first_entry_with_its_stage_changes(
        ana: Person, coach):
    await ana.onboards(baseline=5)
    store, user = coach.services.store, coach.services.store.find_user(ana.key)
    now = coach.services.clock.now()
    first = now - timedelta(weeks=10)
    store.add_pain(user.id, 6, "after", first)
    store.add_pain(user.id, 3, "after", now - timedelta(days=2))
    store.change_stage(user.id, "side_plank", 0, 1, "up", {"count": 2, "scores": [3, 3]},
                       now - timedelta(weeks=6), None)
    store.change_stage(user.id, "bird_dog", 1, 0, "down", {"score": 7},
                       now - timedelta(weeks=3), None)

    data = progress_chart.chart_input(coach.services, store.user_by_id(user.id), now)

    assert data.start == first  # from the first entry, not a fixed window
    local_first = first.astimezone(data.now.tzinfo)
    assert data.period == f"since {local_first.day} {local_first:%b}"
    assert [(p.score, p.at) for p in data.points] == [(6, first), (3, now - timedelta(days=2))]
    assert [(m.exercise_name, m.direction) for m in data.marks] == [("Side plank", 1),
                                                                   ("Bird dog", -1)]
    assert data.baseline == 5
    assert progress_chart.caption(coach.services, data).startswith(
        f"Pain after workouts, {data.period}: ")
