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
from bot.localtime import aware, zone_or_utc  # aware: also imported from here by progress, mydata
from bot.replies import Attachment
from bot.services import Services
from bot.data.store import User

WEEKS = 8
PNG = "image/png"


@dataclass(frozen=True)
class ChartInput:
    """Everything the picture needs, already read: safe to hand to another thread."""

    points: tuple[PainPoint, ...]
    marks: tuple[StageMark, ...]
    now: datetime  # in the person's own time zone, so days on the axis are their days
    weeks: int
    labels: ChartLabels
    name: str = "progress.png"

    @property
    def empty(self) -> bool:
        return not self.points and not self.marks

    def scores(self, kind: str = KIND_AFTER) -> list[int]:
        """Scores of one kind in time order (the sparkline's input)."""
        return [p.score for p in sorted(self.points, key=lambda p: p.at) if p.kind == kind]


def chart_input(services: Services, user: User, now: datetime, weeks: int = WEEKS,
                name: str = "progress.png") -> ChartInput:
    """Read the last `weeks` weeks of after-workout and morning pain, and the stage changes."""
    t, store = services.texts, services.store
    local_now = now.astimezone(zone(user))
    start = local_now - timedelta(weeks=weeks)
    points = tuple(PainPoint(p.at, p.score, p.kind) for p in store.pain_reports(user.id)
                   if p.kind in (KIND_AFTER, KIND_MORNING) and start <= aware(p.at) <= local_now)
    names = {e.id: e.name for e in services.programme.exercises}
    marks = tuple(StageMark(c.at, names.get(c.exercise_id, c.exercise_id),
                            (c.to_index > c.from_index) - (c.to_index < c.from_index))
                  for c in store.stage_changes(user.id)
                  if start <= aware(c.at) <= local_now and c.to_index != c.from_index)
    labels = ChartLabels(title=t("chart.title", weeks=weeks), after=t("chart.after"),
                         morning=t("chart.morning"), up=t("chart.up"), down=t("chart.down"),
                         y=t("chart.y"), empty=t("chart.empty"))
    return ChartInput(points, marks, local_now, weeks, labels, name)


def render(data: ChartInput) -> Attachment:
    """The PNG, drawn on the calling thread."""
    png = render_progress_chart(data.points, data.marks, data.now, weeks=data.weeks,
                                labels=data.labels)
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
        return t("chart.caption_none", weeks=data.weeks)
    key = "chart.caption_one" if len(scores) == 1 else "chart.caption"
    return t(key, weeks=data.weeks, spark=sparkline(scores), first=scores[0], last=scores[-1])


def zone(user: User) -> ZoneInfo:
    """The person's zone; UTC when unknown or unreadable."""
    return zone_or_utc(user.timezone)
