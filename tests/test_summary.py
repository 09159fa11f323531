"""The weekly summary's content: the week's workouts, the pain trend, stage changes and the chart.

When it is sent (once a week at the person's reminder time) is the reminder scheduler's part;
these tests give `weekly_summary` the moment it fires and read what it says. The coach's own
clock runs in another year, so nothing here can depend on it.
"""
from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from matplotlib.image import imread

from bot.events import UserKey
from bot.data.store import Store, User
from bot.progress.summary import weekly_summary, weekly_summary_async

BERLIN = ZoneInfo("Europe/Berlin")
FRIDAY_MORNING = datetime(2025, 3, 21, 7, 30, tzinfo=BERLIN)  # the person's reminder time


def local(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment in March 2025 in Berlin, as the store keeps it (UTC)."""
    return datetime(2025, 3, day, hour, minute, tzinfo=BERLIN).astimezone(timezone.utc)


def person(store: Store, name: str, state: str = "ready") -> User:
    user = store.user(UserKey("test", name), local(1, 9), name.title())
    store.update_user(user.id, state=state, timezone="Europe/Berlin", baseline_pain=5,
                      reminder_time="07:30", reminders_on=1)
    store.init_stages(user.id, ["side_plank", "bird_dog"], local(1, 9))
    return store.user_by_id(user.id)


def trained(store: Store, user: User, at: datetime, pain: int) -> int:
    """A finished workout at `at` with its after-workout pain."""
    workout = store.start_workout(user.id, at, 4, {})
    store.record_exercise(workout, "side_plank", 0, "done", at + timedelta(minutes=10))
    store.set_workout_status(workout, "done", at + timedelta(minutes=20))
    store.add_pain(user.id, pain, "after", at + timedelta(minutes=21), workout)
    store.set_workout_pain(workout, pain)
    return workout


def a_month_of_training(store: Store, user: User) -> None:
    trained(store, user, local(8, 18), 5)  # the week before: Saturday and Tuesday
    trained(store, user, local(11, 18), 4)
    store.change_stage(user.id, "bird_dog", 1, 0, "down", {"score": 6}, local(11, 18, 25), None)
    trained(store, user, local(15, 18), 3)  # this week: Saturday, Monday, Wednesday
    store.add_pain(user.id, 2, "morning", local(16, 7))
    trained(store, user, local(17, 18), 2)
    store.add_pain(user.id, 3, "morning", local(18, 7))
    workout = trained(store, user, local(19, 18), 1)
    store.change_stage(user.id, "side_plank", 0, 1, "up", {"count": 2, "scores": [2, 1]},
                       local(19, 18, 25), workout)


async def test_a_good_week_is_summed_up_with_its_trend_changes_and_chart(coach):
    store = coach.services.store
    ana = person(store, "ana")
    a_month_of_training(store, ana)
    bob = person(store, "bob")  # someone else's week never shows in Ana's
    trained(store, bob, local(20, 8), 9)

    summary = weekly_summary(coach.services, ana, FRIDAY_MORNING)

    assert summary[0].text.splitlines() == [
        "Your week in review (14 Mar to 21 Mar):",
        "• Workouts: 3 (Sat, Mon, Wed). 5 in all.",
        "• Pain after workouts: ▃▂▂ (average 2/10, down from 4.5/10 the week before).",
        "• Next-morning pain averaged 2.5/10.",
        "• Stage changes:",
        '   ⬆ Side plank: up to "Knees down, 20 s holds"',
        'Say "progress" any time for your full ladder, or "why side plank" to hear why an '
        "exercise changed.",
    ]
    chart = summary[1]
    assert chart.text == "Pain after workouts, since 1 Mar: ▅▄▃▂▂ (from 5 to 1)"  # she joined then
    assert (chart.image.name, chart.image.mime) == ("weekly-summary.png", "image/png")
    assert imread(io.BytesIO(chart.image.data), format="png").shape[:2] == (450, 800)


async def test_a_week_without_training_says_so_kindly_and_still_shows_the_chart(coach):
    store = coach.services.store
    ana = person(store, "ana")
    a_month_of_training(store, ana)
    a_week_later = FRIDAY_MORNING + timedelta(days=7)

    summary = weekly_summary(coach.services, ana, a_week_later)

    lines = summary[0].text.splitlines()
    assert lines[0] == "Your week in review (21 Mar to 28 Mar):"
    assert lines[1].startswith("• No workouts this week. 5 in all so far")
    assert "• No pain scores after workouts this week." in lines
    assert "• No stage changes this week." in lines
    assert summary[1].image is not None


async def test_pain_going_up_is_named_plainly(coach):
    store = coach.services.store
    ana = person(store, "ana")
    trained(store, ana, local(10, 18), 2)
    trained(store, ana, local(18, 18), 4)
    text = weekly_summary(coach.services, ana, FRIDAY_MORNING)[0].text
    assert "• Workouts: 1 (Tue). 2 in all." in text
    assert "(average 4/10, up from 2/10 the week before)" in text


async def test_someone_new_gets_the_text_without_an_empty_chart(coach):
    ana = person(coach.services.store, "ana")
    summary = weekly_summary(coach.services, ana, FRIDAY_MORNING)
    assert len(summary) == 1
    assert "No workouts this week. 0 in all so far" in summary[0].text


async def test_nothing_is_sent_to_people_not_in_the_programme(coach):
    store = coach.services.store
    halfway = person(store, "halfway", state="screen:3")
    blocked = person(store, "blocked", state="redflag:urgent")
    gone = person(store, "gone")
    store.erase_user(gone.id)
    # "delete my data" asked and not yet answered keeps the state before it after "delete:"
    deciding_blocked = person(store, "deciding_blocked", state="delete:redflag:urgent")
    deciding_halfway = person(store, "deciding_halfway", state="delete:screen:3")
    for user in (halfway, blocked, gone, deciding_blocked, deciding_halfway):
        assert weekly_summary(coach.services, user, FRIDAY_MORNING) == []


async def test_the_async_variant_says_the_same_with_the_chart_drawn_off_the_loop(coach):
    store = coach.services.store
    ana = person(store, "ana")
    a_month_of_training(store, ana)
    assert await weekly_summary_async(coach.services, ana, FRIDAY_MORNING) == \
        weekly_summary(coach.services, ana, FRIDAY_MORNING)


async def test_someone_in_the_programme_deciding_whether_to_delete_still_gets_it(coach):
    ana = person(coach.services.store, "ana", state="delete:ready")
    assert weekly_summary(coach.services, ana, FRIDAY_MORNING) != []


async def test_the_dates_use_the_month_names_of_the_texts_not_the_servers_locale(coach,
                                                                                monkeypatch):
    texts = coach.services.texts
    german = "Jan Feb März Apr Mai Juni Juli Aug Sep Okt Nov Dez"
    monkeypatch.setattr(coach.services, "texts", lambda key, **values: german
                        if key == "calendar.months" else texts(key, **values))
    ana = person(coach.services.store, "ana")
    summary = weekly_summary(coach.services, ana, FRIDAY_MORNING)
    assert summary[0].text.splitlines()[0] == "Your week in review (14 März to 21 März):"
