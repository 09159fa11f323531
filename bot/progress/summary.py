"""The weekly summary: the week's workouts, the pain trend, stage changes and the chart.

Content only. When it goes out (once a week, at the person's reminder time on their chosen day)
is the reminder scheduler's job; it calls `weekly_summary(services, user, now)` and sends what
comes back. "The week" is the seven days up to `now`, so it reads right whichever weekday the
person chose. An empty list means there is nothing to send (not set up, blocked by the safety
check, or gone).

Drawing the chart costs ~80 ms. `weekly_summary` draws on the calling thread, as its contract is
synchronous; a caller on the event loop can use `weekly_summary_async` instead, which reads the
database on the loop and draws in a worker thread.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from statistics import mean

from bot.states import in_programme
from bot.progress.drawing import KIND_AFTER, KIND_MORNING, sparkline
from bot.localtime import CalendarNames, aware, day_month
from bot.progress.chart import ChartInput, caption, chart_input, render, render_off_loop, zone
from bot.replies import Attachment, Reply
from bot.services import Services
from bot.data.store import StageChange, User

CHART_NAME = "weekly-summary.png"
FINISHED = ("done", "stopped")
SAME_WITHIN = 0.25  # averages closer than this read as "the same as the week before"


@dataclass(frozen=True)
class Week:
    """What happened in the seven days up to `end`, read from the store (all local times)."""

    start: datetime
    end: datetime
    workout_days: tuple[date, ...]  # one entry per finished workout, in order
    total_workouts: int
    after: tuple[int, ...]  # pain after workouts this week, in order
    after_before: tuple[int, ...]  # ... and in the week before, for the trend
    morning: tuple[int, ...]
    changes: tuple[StageChange, ...]
    chart: ChartInput


def weekly_summary(services: Services, user: User, now: datetime) -> list[Reply]:
    """The summary for the week ending at `now`; [] when there is nothing to send."""
    week = collect(services, user, now)
    if week is None:
        return []
    return compose(services, week, None if week.chart.empty else render(week.chart))


async def weekly_summary_async(services: Services, user: User, now: datetime) -> list[Reply]:
    """The same summary, with the chart drawn off the event loop."""
    week = collect(services, user, now)
    if week is None:
        return []
    image = None if week.chart.empty else await render_off_loop(week.chart)
    return compose(services, week, image)


def collect(services: Services, user: User, now: datetime) -> Week | None:
    """Read the week from the store (on the loop thread); None when nothing should be sent."""
    store = services.store
    fresh = store.find_user(user.key)  # the scheduler's copy may be stale, or the person gone
    if fresh is None or not in_programme(fresh.state):  # the reminders' rule too
        return None
    tz = zone(fresh)
    end = now.astimezone(tz)
    start = end - timedelta(days=7)
    before = start - timedelta(days=7)

    def this_week(at: datetime) -> bool:
        return start < aware(at) <= end

    finished = [w for w in store.workouts(fresh.id) if w["status"] in FINISHED
                and aware(datetime.fromisoformat(w["started_at"])) <= end]
    days = tuple(aware(datetime.fromisoformat(w["started_at"])).astimezone(tz).date()
                 for w in finished if this_week(datetime.fromisoformat(w["started_at"])))
    pains = store.pain_reports(fresh.id)
    return Week(
        start=start, end=end, workout_days=days, total_workouts=len(finished),
        after=tuple(p.score for p in pains if p.kind == KIND_AFTER and this_week(p.at)),
        after_before=tuple(p.score for p in pains
                           if p.kind == KIND_AFTER and before < aware(p.at) <= start),
        morning=tuple(p.score for p in pains if p.kind == KIND_MORNING and this_week(p.at)),
        changes=tuple(c for c in store.stage_changes(fresh.id)
                      if this_week(c.at) and c.to_index != c.from_index),
        chart=chart_input(services, fresh, now, name=CHART_NAME),
    )


def compose(services: Services, week: Week, image: Attachment | None) -> list[Reply]:
    """The summary text, then the chart with its sparkline caption (when there is a chart)."""
    t = services.texts
    names = CalendarNames.from_texts(t)
    lines = [t("summary.header", start=day_month(week.start.date(), names),
               end=day_month(week.end.date(), names))]
    lines.append(_workouts_line(services, week))
    lines.append(_pain_line(services, week))
    if week.morning:
        lines.append(t("summary.morning", average=_number(mean(week.morning))))
    lines += _change_lines(services, week)
    lines.append(t("summary.footer"))
    replies = [Reply("\n".join(lines))]
    if image is not None:
        replies.append(Reply(caption(services, week.chart), image=image))
    return replies


def _workouts_line(services: Services, week: Week) -> str:
    t = services.texts
    if not week.workout_days:
        return t("summary.no_workouts", total=week.total_workouts)
    names = t("summary.weekdays").split()
    days = ", ".join(names[d.weekday()] for d in week.workout_days)
    key = "summary.workouts_one" if len(week.workout_days) == 1 else "summary.workouts"
    return t(key, count=len(week.workout_days), days=days, total=week.total_workouts)


def _pain_line(services: Services, week: Week) -> str:
    t = services.texts
    if not week.after:
        return t("summary.no_pain")
    average = mean(week.after)
    compare = ""
    if week.after_before:
        earlier = mean(week.after_before)
        if abs(average - earlier) < SAME_WITHIN:
            compare = t("summary.pain_same")
        else:
            key = "summary.pain_lower" if average < earlier else "summary.pain_higher"
            compare = t(key, before=_number(earlier))
    return t("summary.pain", spark=sparkline(week.after), average=_number(average),
             compare=compare)


def _change_lines(services: Services, week: Week) -> list[str]:
    t = services.texts
    if not week.changes:
        return [t("summary.no_changes")]
    lines = [t("summary.changes")]
    for change in week.changes:
        try:
            exercise = services.programme.exercise(change.exercise_id)
        except KeyError:  # an exercise since removed from the programme
            continue
        stage = exercise.stage_at(change.to_index).name
        key = "summary.change_up" if change.to_index > change.from_index else "summary.change_down"
        lines.append(t(key, name=exercise.name, stage=stage))
    return lines


def _number(value: float) -> str:
    """2.0 -> "2", 2.25 -> "2.3": a pain average people read at a glance."""
    return f"{value:.1f}".removesuffix(".0")
