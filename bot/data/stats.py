"""Aggregate, anonymous figures for the people running the bot: `python bot.py stats`.

Only counts and a median leave this module: no names, platform ids or per-person rows, so the
output can be pasted into a report. A median over fewer than MIN_GROUP people would all but
name them, so it is withheld below that.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from statistics import median

from bot.localtime import aware
from bot.data.store import Store

MIN_GROUP = 3
ACTIVE_DAYS = 7
FINISHED = ("done", "stopped")


@dataclass(frozen=True)
class Stats:
    people: int  # everyone who ever wrote (and has not deleted their data)
    set_up: int  # finished onboarding and took part in the programme
    active: int  # finished a workout in the last ACTIVE_DAYS days
    workouts: int  # finished workouts, all time
    pain_change_people: int  # people with a starting pain and an after-workout pain
    median_pain_change: float | None  # latest after-workout pain minus starting pain

    def lines(self) -> list[str]:
        """Plain text for the operator's terminal (not for people in chat)."""
        if self.median_pain_change is None:
            change = f"not shown (needs {MIN_GROUP}+ people, have {self.pain_change_people})"
        else:
            change = f"{self.median_pain_change:+g} points (over {self.pain_change_people} people)"
        return [
            f"people: {self.people}",
            f"set up (finished onboarding): {self.set_up}",
            f"active in the last {ACTIVE_DAYS} days: {self.active}",
            f"workouts finished: {self.workouts}",
            f"median pain change since start: {change}",
        ]


def gather(store: Store, now: datetime) -> Stats:
    """Read the figures straight from SQL; nothing per person is kept or returned."""
    db = store.db
    finished = ", ".join(f"'{s}'" for s in FINISHED)
    people = db.execute("select count(*) from users").fetchone()[0]
    set_up = db.execute("select count(distinct user_id) from stages").fetchone()[0]
    since = now - timedelta(days=ACTIVE_DAYS)
    active = len({user_id for user_id, started in db.execute(
        f"select user_id, started_at from workouts where status in ({finished})")
        if aware(started) > since})
    workouts = db.execute(
        f"select count(*) from workouts where status in ({finished})").fetchone()[0]
    changes = [row[0] for row in db.execute("""
        select p.score - u.baseline_pain
        from users u
        join pain_reports p on p.id = (
            select id from pain_reports
            where user_id = u.id and kind = 'after'
            order by at desc, id desc limit 1)
        where u.baseline_pain is not null
    """)]
    shown = float(median(changes)) if len(changes) >= MIN_GROUP else None
    return Stats(people, set_up, active, workouts, len(changes), shown)


def print_stats(store: Store, now: datetime) -> int:
    """The `stats` subcommand: print the figures, exit status 0."""
    print("\n".join(gather(store, now).lines()))
    return 0
