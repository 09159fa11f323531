"""A person's pain chart: the data read from the store, and the picture made from it.

Reading and drawing are split on purpose. The SQLite connection belongs to the event loop's
thread, so `chart_input` reads there; drawing takes ~80 ms of matplotlib, too long to hold the
loop (timers of other people would stutter), so `render_off_loop` draws in a worker thread.
`bot.charts` uses Figure + Agg without pyplot, which is safe in threads.
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.progress.drawing import KIND_AFTER, KIND_MORNING, ChartLabels, PainPoint, StageMark, render_progress_chart, sparkline
from bot.localtime import CalendarNames, day_month
from bot.localtime import aware, zone_or_utc  # aware: also imported from here by progress, mydata
from bot.replies import Attachment
from bot.services import Services
from bot.data.store import User

MIN_SPAN = timedelta(weeks=2)  # a newcomer's chart still shows a readable stretch of days
PNG = "image/png"


@dataclass(frozen=True)
class ChartInput:
    """Everything the picture needs, already read: safe to hand to another thread."""

    points: tuple[PainPoint, ...]
    marks: tuple[StageMark, ...]
    start: datetime  # the person's first entry, or two weeks back when that is more recent
    now: datetime  # in the person's own time zone, so days on the axis are their days
    baseline: int | None  # the pain they started with, drawn as a reference line
    period: str  # the window in words: "last 2 weeks", "since 3 Feb"
    labels: ChartLabels
    name: str = "progress.png"

    @property
    def empty(self) -> bool:
        return not self.points and not self.marks

    def scores(self, kind: str = KIND_AFTER) -> list[int]:
        """Scores of one kind in time order (the sparkline's input)."""
        return [p.score for p in sorted(self.points, key=lambda p: p.at) if p.kind == kind]


def chart_input(services: Services, user: User, now: datetime,
                name: str = "progress.png") -> ChartInput:
    """Read the person's after-workout and morning pain and stage changes, from their first
    entry (at least the last two weeks) to now, and the pain they started with."""
    t, store = services.texts, services.store
    local_now = now.astimezone(zone(user))
    reports = store.pain_reports(user.id)
    changes = store.stage_changes(user.id)
    entries = [p.at for p in reports] + [c.at for c in changes]
    joined = store.joined_at(user.id)
    if joined is not None:
        entries.append(joined)
    first = min((aware(at) for at in entries), default=local_now)
    if first < local_now - MIN_SPAN:
        start = first.astimezone(local_now.tzinfo)
        period = t("chart.period_since",
                   date=day_month(start.date(), CalendarNames.from_texts(t)))
    else:
        start = local_now - MIN_SPAN
        period = t("chart.period_weeks", weeks=MIN_SPAN.days // 7)

    def shown(at: datetime) -> bool:
        return start <= aware(at) <= local_now

    points = tuple(PainPoint(p.at, p.score, p.kind) for p in reports
                   if p.kind in (KIND_AFTER, KIND_MORNING) and shown(p.at))
    names = {e.id: e.name for e in services.programme.exercises}
    marks = tuple(StageMark(c.at, names.get(c.exercise_id, c.exercise_id),
                            (c.to_index > c.from_index) - (c.to_index < c.from_index))
                  for c in changes if shown(c.at) and c.to_index != c.from_index)
    labels = ChartLabels(title=t("chart.title", period=period), after=t("chart.after"),
                         morning=t("chart.morning"), up=t("chart.up"), down=t("chart.down"),
                         y=t("chart.y"), empty=t("chart.empty"), baseline=t("chart.baseline"))
    return ChartInput(points, marks, start, local_now, user.baseline_pain, period, labels, name)


def render(data: ChartInput) -> Attachment:
    """The PNG, drawn on the calling thread."""
    png = render_progress_chart(data.points, data.marks, data.now, labels=data.labels,
                                start=data.start, baseline=data.baseline)
    return Attachment(data.name, png, PNG)


async def render_off_loop(data: ChartInput) -> Attachment:
    """The PNG, drawn in a worker thread so the event loop keeps running timers meanwhile."""
    return await asyncio.to_thread(render, data)


def caption(services: Services, data: ChartInput) -> str:
    """One line under the picture: a text sparkline of pain after workouts (shown as is by
    platforms without pictures, e.g. next to a saved file's path in the terminal)."""
    t = services.texts
    scores = data.scores(KIND_AFTER)
    if not scores:
        return t("chart.caption_none")
    key = "chart.caption_one" if len(scores) == 1 else "chart.caption"
    return t(key, period=data.period, spark=sparkline(scores), first=scores[0], last=scores[-1])


def zone(user: User) -> ZoneInfo:
    """The person's zone; UTC when unknown or unreadable."""
    return zone_or_utc(user.timezone)
