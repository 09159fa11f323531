"""Chart benchmark: how long the progress chart takes to draw, against the least any chart of
its size costs, in the same run.

The progress chart (bot/progress/drawing.py) is drawn in a worker thread when someone asks for
"progress"; it should stay a small multiple of the baseline, a bare matplotlib figure of the
same size with one line of the same points saved as PNG, so a change that makes it much slower
shows as a ratio whatever the machine. Both are drawn once to warm font caches, then `--rounds`
times each, interleaved; medians are compared.

    python -m bench.charts [--rounds 15]
"""
from __future__ import annotations

import argparse
import io
import statistics
import time

from matplotlib.figure import Figure

from bot.progress.drawing import render_progress_chart
from tests.test_charts import MARKS, NOW, history

TARGET_RATIO = 5.0  # the chart within 5x a bare figure of its size
WIDTH_IN, HEIGHT_IN, DPI = 8, 4.5, 100  # 800 x 450 px, as the chart


def bare_figure(scores: list[int]) -> bytes:
    """The baseline: one line, no axes work beyond matplotlib's defaults, PNG in memory."""
    figure = Figure(figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI)
    figure.add_subplot().plot(range(len(scores)), scores)
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()


def timed(draw) -> float:
    started = time.perf_counter()
    draw()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    points = history()
    scores = [point.score for point in points]
    chart = lambda: render_progress_chart(points, MARKS, NOW)  # noqa: E731
    bare = lambda: bare_figure(scores)  # noqa: E731
    chart(), bare()  # font caches and the first figure's set-up
    chart_s, bare_s = [], []
    for _ in range(args.rounds):
        chart_s.append(timed(chart))
        bare_s.append(timed(bare))
    chart_ms, bare_ms = statistics.median(chart_s) * 1000, statistics.median(bare_s) * 1000
    ratio = chart_ms / bare_ms
    print(f"progress chart (20 points, 3 stage marks, 800x450 PNG): {chart_ms:.1f} ms median "
          f"of {args.rounds}")
    print(f"baseline, a bare figure of the same size with one line: {bare_ms:.1f} ms median")
    print(f"chart / baseline: {ratio:.1f}x (target <= {TARGET_RATIO:.0f}x): "
          f"{'met' if ratio <= TARGET_RATIO else 'MISSED'}")


if __name__ == "__main__":
    main()
