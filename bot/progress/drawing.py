"""Progress charts and text sparklines, with no platform in sight.

`render_progress_chart` draws a person's pain history as a PNG made in memory; the adapters
only send the bytes. It uses matplotlib's object API (`Figure` + `FigureCanvasAgg`) and never
pyplot, so it keeps no global figure registry, touches no global state, and is safe to call
from worker threads. Fonts are matplotlib's bundled DejaVu Sans: nothing is downloaded.

User-facing words arrive through `ChartLabels`, so the caller can take them from content files.
"""
from __future__ import annotations

import datetime
import io
import math
from dataclasses import dataclass
from typing import Sequence

from matplotlib.backends.backend_agg import FigureCanvasAgg
import matplotlib.dates as mdates
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FixedLocator, FuncFormatter

KIND_AFTER = "after"
KIND_MORNING = "morning"

WIDTH_IN, HEIGHT_IN, DPI = 8.0, 4.5, 100  # 800 x 450 px: readable on a phone

_AFTER_COLOR = "#2563eb"  # blue
_MORNING_COLOR = "#7c3aed"  # violet
_BASELINE_COLOR = "#64748b"  # slate: a reference, quieter than the data
_UP_COLOR = "#16a34a"  # green
_DOWN_COLOR = "#ea580c"  # orange
_TEXT_COLOR = "#1f2937"
_MUTED_COLOR = "#6b7280"
_GRID_COLOR = "#e5e7eb"

_Y_MAX = 10
_MARK_Y = 10.75  # stage-change triangles sit in a band above the 0..10 scale
_Y_TOP = 11.5
_Y_BOTTOM = -0.5
_MAX_ANNOTATED_MARKS = 3  # more stage changes than this: markers and legend only
_MAX_NAME_CHARS = 22

_SPARK_BLOCKS = "▁▂▃▄▅▆▇█"


@dataclass(frozen=True)
class PainPoint:
    """One pain report: `kind` is "after" (after a workout) or "morning" (the next morning)."""

    at: datetime.datetime
    score: int
    kind: str


@dataclass(frozen=True)
class StageMark:
    """A change of stage for one exercise: `direction` +1 is up, -1 is down."""

    at: datetime.datetime
    exercise_name: str
    direction: int


@dataclass(frozen=True)
class ChartLabels:
    """Every word the chart shows. `{weeks}` in `title` is replaced by the window length."""

    title: str = "Back pain, last 8 weeks"
    after: str = "After workout"
    morning: str = "Next morning"
    up: str = "Stage up"
    down: str = "Stage down"
    y: str = "Pain (0-10)"
    empty: str = "No pain reports yet"
    baseline: str = "Starting pain"


def sparkline(scores: Sequence[int]) -> str:
    """A one-line text sparkline of 0-10 scores, e.g. [0, 5, 10] -> "▁▅█"; "" for none."""
    top = len(_SPARK_BLOCKS) - 1
    return "".join(
        _SPARK_BLOCKS[int(_clamp_score(s) * top / _Y_MAX + 0.5)] for s in scores if s is not None
    )


def render_progress_chart(
    points: Sequence[PainPoint],
    marks: Sequence[StageMark],
    now: datetime.datetime,
    weeks: int = 8,
    title: str = "Back pain",
    labels: ChartLabels | None = None,
    start: datetime.datetime | None = None,
    baseline: int | None = None,
) -> bytes:
    """Render the window from `start` (default: `weeks` weeks before `now`) to `now` as PNG
    bytes (800x450 px), with the starting pain `baseline` as a dotted reference line.

    Points and marks outside the window, and points of any other kind than "after" or
    "morning", are left out. Scores are clamped to 0..10. The title is `labels.title` when
    `labels` is given, else `title`. Naive and aware datetimes may be mixed: everything is
    shown in `now`'s wall-clock time (naive values are taken to already be in it).
    """
    if labels is None:
        labels = ChartLabels(title=title)
    end = _wall(now, now)
    if start is None:
        weeks = max(1, int(weeks))
        start = end - datetime.timedelta(weeks=weeks)
    else:
        start = min(_wall(start, now), end - datetime.timedelta(days=1))
        weeks = max(1, math.ceil((end - start) / datetime.timedelta(weeks=1)))

    def in_window(at: datetime.datetime) -> bool:
        return start <= at <= end

    series: dict[str, list[tuple[datetime.datetime, int]]] = {KIND_AFTER: [], KIND_MORNING: []}
    for p in points:
        if p.kind in series:
            at = _wall(p.at, now)
            if in_window(at):
                series[p.kind].append((at, _clamp_score(p.score)))
    for values in series.values():
        values.sort(key=lambda v: v[0])
    shown_marks = sorted(
        (m for m in marks if m.direction and in_window(_wall(m.at, now))),
        key=lambda m: _wall(m.at, now),
    )

    fig = Figure(figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI, facecolor="white", layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    _style_axes(ax, labels, start, end, weeks)

    handles: list[Line2D] = []
    for kind, label, color, marker in (
        (KIND_AFTER, labels.after, _AFTER_COLOR, "o"),
        (KIND_MORNING, labels.morning, _MORNING_COLOR, "s"),
    ):
        values = series[kind]
        style = dict(color=color, marker=marker, markersize=6, linewidth=2.2,
                     markeredgecolor="white", markeredgewidth=1.0)
        if values:
            xs, ys = zip(*values)
            ax.plot(xs, ys, zorder=3, solid_joinstyle="round", **style)
        handles.append(Line2D([], [], label=label, **style))
    if baseline is not None:
        _draw_baseline(ax, _clamp_score(baseline), handles, labels)

    to_name = _draw_marks(ax, shown_marks, now, handles, labels)

    if not series[KIND_AFTER] and not series[KIND_MORNING]:
        ax.text(0.5, 0.5, labels.empty, transform=ax.transAxes, ha="center", va="center",
                fontsize=15, color=_MUTED_COLOR, zorder=5)

    columns = _legend_columns(handles)
    ax.legend(handles=_by_rows(handles, columns), loc="lower left", bbox_to_anchor=(0.0, 1.0),
              ncols=columns, frameon=False, fontsize=10, handlelength=2.2, borderaxespad=0.2,
              columnspacing=1.6, labelcolor=_TEXT_COLOR)
    fig.suptitle(labels.title.replace("{weeks}", str(weeks)), fontsize=15, fontweight="bold",
                 color=_TEXT_COLOR, x=0.02, ha="left")

    _annotate_marks(fig, ax, to_name)

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, facecolor="white", metadata={"Software": None})
    return buf.getvalue()


def _style_axes(ax, labels: ChartLabels, start, end, weeks: int) -> None:
    pad = max(datetime.timedelta(hours=12), (end - start) / 80)  # room for edge markers
    ax.set_xlim(start - pad, end + pad)
    ax.set_ylim(_Y_BOTTOM, _Y_TOP)
    ax.yaxis.set_major_locator(FixedLocator(range(0, _Y_MAX + 1, 2)))
    ax.set_ylabel(labels.y, fontsize=10, color=_TEXT_COLOR)
    if weeks <= 2:
        ax.xaxis.set_major_locator(mdates.DayLocator(interval=weeks))
    else:
        ax.xaxis.set_major_locator(
            mdates.WeekdayLocator(byweekday=mdates.MO, interval=math.ceil(weeks / 9))
        )
    ax.xaxis.set_major_formatter(FuncFormatter(_date_label))
    ax.tick_params(labelsize=9, colors=_MUTED_COLOR, length=0, pad=6)
    ax.grid(True, color=_GRID_COLOR, linewidth=0.8, zorder=0)
    ax.set_axisbelow(True)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.spines["bottom"].set_color("#9ca3af")
    ax.set_facecolor("white")


def _legend_columns(handles: list[Line2D]) -> int:
    """One row while it fits the width (four entries); with the starting pain too, the lines
    on the first row and the stage marks on a second."""
    return len(handles) if len(handles) <= 4 else 3


def _by_rows(handles: list[Line2D], columns: int) -> list[Line2D]:
    """matplotlib fills a legend column by column; this order makes it read row by row."""
    rows = math.ceil(len(handles) / columns)
    return [handles[row * columns + column] for column in range(columns) for row in range(rows)
            if row * columns + column < len(handles)]


def _draw_baseline(ax, score: int, handles: list[Line2D], labels: ChartLabels) -> None:
    """The pain the person started with, across the whole window: is today better than that?"""
    style = dict(color=_BASELINE_COLOR, linewidth=1.4, linestyle=(0, (1.5, 2.5)))
    ax.axhline(score, zorder=2, **style)
    handles.append(Line2D([], [], label=f"{labels.baseline} ({score})", **style))


def _draw_marks(ax, marks: Sequence[StageMark], now, handles: list[Line2D],
                labels: ChartLabels) -> list[tuple[datetime.datetime, StageMark]]:
    """Dashed lines and triangles for stage changes; returns the marks to annotate."""
    seen = set()
    placed = []
    for m in marks:
        up = m.direction > 0
        color = _UP_COLOR if up else _DOWN_COLOR
        seen.add(up)
        at = _wall(m.at, now)
        ax.vlines(at, _Y_BOTTOM, _Y_MAX + 0.3, colors=color, linewidth=1.1,
                  linestyles=(0, (3, 3)), alpha=0.55, zorder=1)
        ax.plot([at], [_MARK_Y], linestyle="none", marker="^" if up else "v", markersize=10,
                color=color, markeredgecolor="white", markeredgewidth=0.8, zorder=4)
        placed.append((at, m))
    for up in (True, False):
        if up in seen:
            handles.append(Line2D([], [], linestyle="none", marker="^" if up else "v",
                                  markersize=9, color=_UP_COLOR if up else _DOWN_COLOR,
                                  label=labels.up if up else labels.down))
    if len(placed) > _MAX_ANNOTATED_MARKS:
        return []  # too many to name: markers and legend only
    return [(at, m) for at, m in placed if m.exercise_name.strip()]


def _annotate_marks(fig: Figure, ax, placed: list[tuple[datetime.datetime, StageMark]]) -> None:
    """Name the stage changes where the names fit: each label goes right of its triangle, or
    left if it does not fit there; a label that fits nowhere is left out (the legend remains)."""
    if not placed:
        return
    fig.draw_without_rendering()  # settle the layout so text can be measured in pixels
    renderer = fig.canvas.get_renderer()
    area = ax.get_window_extent(renderer)
    to_px = ax.transData.transform
    triangles = [to_px((mdates.date2num(at), _MARK_Y))[0] for at, _ in placed]
    taken: list = []  # pixel extents of labels kept so far
    for (at, m), tri_x in zip(placed, triangles):
        color = _UP_COLOR if m.direction > 0 else _DOWN_COLOR
        for sign in (1, -1):
            text = ax.annotate(_shorten(m.exercise_name), (at, _MARK_Y),
                               xytext=(8 * sign, 0), textcoords="offset points",
                               ha="left" if sign > 0 else "right", va="center", fontsize=9,
                               color=color, zorder=4)
            box = text.get_window_extent(renderer)
            fits = (
                box.x0 >= area.x0 and box.x1 <= area.x1
                and not any(box.x0 - 4 <= x <= box.x1 + 4 for x in triangles if x != tri_x)
                and not any(box.x0 - 6 <= other.x1 and other.x0 <= box.x1 + 6 for other in taken)
            )
            if fits:
                taken.append(box)
                break
            text.remove()


def _date_label(x: float, _pos=None) -> str:
    d = mdates.num2date(x)
    return f"{d.day} {d:%b}"


def _shorten(name: str) -> str:
    name = " ".join(name.split())
    return name if len(name) <= _MAX_NAME_CHARS else name[: _MAX_NAME_CHARS - 1].rstrip() + "…"


def _clamp_score(score) -> int:
    return max(0, min(_Y_MAX, int(round(score))))


def _wall(at: datetime.datetime, now: datetime.datetime) -> datetime.datetime:
    """`at` as a naive datetime in `now`'s wall-clock time."""
    if at.tzinfo is not None and now.tzinfo is not None:
        at = at.astimezone(now.tzinfo)
    return at.replace(tzinfo=None)
