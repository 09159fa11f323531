"""`python bot.py stats`: aggregate, anonymous figures for the people running the bot."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from adapters.cli import main
from bot.events import UserKey
from bot.data.store import Store

NOW = datetime.now(timezone.utc)
EXERCISES = ["side_plank", "bird_dog"]


def someone(store: Store, name: str, baseline: int | None, state: str = "ready") -> int:
    user = store.user(UserKey("telegram", f"{name}-4711"), NOW - timedelta(days=30), name)
    store.update_user(user.id, state=state, baseline_pain=baseline)
    if state == "ready":
        store.init_stages(user.id, EXERCISES, NOW - timedelta(days=30))
    return user.id


def trained(store: Store, user_id: int, days_ago: float, pain: int) -> None:
    at = NOW - timedelta(days=days_ago)
    workout = store.start_workout(user_id, at, None, {})
    store.set_workout_status(workout, "done", at + timedelta(minutes=20))
    store.add_pain(user_id, pain, "after", at + timedelta(minutes=21), workout)
    store.set_workout_pain(workout, pain)


def seeded(path) -> None:
    store = Store(path)
    ana = someone(store, "Ana", baseline=6)
    trained(store, ana, 20, 5)
    trained(store, ana, 2, 3)  # latest: 3 points better than at the start
    bob = someone(store, "Bob", baseline=4)
    trained(store, bob, 10, 3)  # 1 better; not active this week
    cyd = someone(store, "Cyd", baseline=5)
    trained(store, cyd, 1, 7)  # 2 worse
    someone(store, "Dan", baseline=None, state="screen:2")  # still onboarding
    eve = someone(store, "Eve", baseline=5)
    store.add_pain(eve, 2, "adhoc", NOW)  # no workout yet: no change to count
    store.close()


def test_stats_prints_aggregate_figures_and_nothing_personal(tmp_path, capsys):
    db = tmp_path / "coach.db"
    seeded(db)

    assert main(["stats", "--db", str(db)]) == 0

    out = capsys.readouterr().out
    assert out.splitlines() == [
        "people: 5",
        "set up (finished onboarding): 4",
        "active in the last 7 days: 2",
        "workouts finished: 4",
        "median pain change since start: -1 points (over 3 people)",
    ]
    for personal in ("Ana", "Bob", "4711", "telegram"):
        assert personal not in out


def test_a_median_over_too_few_people_is_withheld(tmp_path, capsys):
    db = tmp_path / "coach.db"
    store = Store(db)
    trained(store, someone(store, "Ana", baseline=6), 1, 2)
    store.close()

    assert main(["stats", "--db", str(db)]) == 0

    out = capsys.readouterr().out
    assert "median pain change since start: not shown (needs 3+ people, have 1)" in out
