"""The progress chart renderer and the text sparkline."""
from __future__ import annotations

import datetime
import io
import random
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from matplotlib.image import imread

from bot.progress.drawing import ChartLabels, PainPoint, StageMark, render_progress_chart, sparkline

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
NOW = datetime.datetime(2025, 3, 20, 20, 0)


def history(seed: int = 1) -> list[PainPoint]:
    """20 points over 6 weeks: an after-workout score and the next morning's, 10 times."""
    rnd = random.Random(seed)
    points = []
    for i in range(10):
        at = NOW - datetime.timedelta(days=42 - i * 4.2)
        score = max(0, min(10, 7 - i // 2 + rnd.randint(-1, 1)))
        points.append(PainPoint(at, score, "after"))
        morning = max(0, score - rnd.randint(0, 2))
        points.append(PainPoint(at + datetime.timedelta(hours=13), morning, "morning"))
    return points


MARKS = [
    StageMark(NOW - datetime.timedelta(days=30), "Bird dog", 1),
    StageMark(NOW - datetime.timedelta(days=16), "Glute bridge", 1),
    StageMark(NOW - datetime.timedelta(days=3), "Cat-cow", -1),
]


def decode(png: bytes) -> np.ndarray:
    return imread(io.BytesIO(png), format="png")


def test_renders_a_phone_sized_png():
    png = render_progress_chart(history(), MARKS, NOW)
    assert png.startswith(PNG_SIGNATURE)
    pixels = decode(png)
    assert pixels.shape[:2] == (450, 800)
    assert len(png) < 200_000
    assert pixels.std() > 0.05  # not a blank canvas


def test_is_deterministic():
    assert render_progress_chart(history(), MARKS, NOW) == render_progress_chart(history(), MARKS, NOW)


def test_changes_when_the_data_changes():
    base = render_progress_chart(history(), MARKS, NOW)
    points = history()
    points[5] = PainPoint(points[5].at, 10 - points[5].score, points[5].kind)
    changed_points = render_progress_chart(points, MARKS, NOW)
    changed_marks = render_progress_chart(history(), MARKS[:2], NOW)
    for other in (changed_points, changed_marks):
        assert other != base
        assert not np.array_equal(decode(other), decode(base))


def test_empty_history_still_renders():
    png = render_progress_chart([], [], NOW)
    assert png.startswith(PNG_SIGNATURE)
    assert decode(png).shape[:2] == (450, 800)
    # The "empty" text is drawn: another label gives another picture.
    other = render_progress_chart([], [], NOW, labels=ChartLabels(empty="Nothing here"))
    assert not np.array_equal(decode(other), decode(png))


def test_marks_without_points_render():
    png = render_progress_chart([], MARKS, NOW)
    assert decode(png).shape[:2] == (450, 800)


def test_points_older_than_the_window_are_ignored():
    old = [
        PainPoint(NOW - datetime.timedelta(weeks=8, days=1), 9, "after"),
        PainPoint(NOW - datetime.timedelta(weeks=20), 3, "morning"),
    ]
    old_mark = [StageMark(NOW - datetime.timedelta(weeks=9), "Plank", 1)]
    plain = render_progress_chart(history(), MARKS, NOW)
    with_old = render_progress_chart(old + history(), old_mark + MARKS, NOW)
    assert with_old == plain
    # ...but a longer window does show them.
    assert render_progress_chart(old + history(), MARKS, NOW, weeks=30) != render_progress_chart(
        history(), MARKS, NOW, weeks=30
    )


def test_points_after_now_and_unknown_kinds_are_ignored():
    extra = [
        PainPoint(NOW + datetime.timedelta(days=2), 9, "after"),
        PainPoint(NOW - datetime.timedelta(days=5), 9, "during"),
    ]
    assert render_progress_chart(history() + extra, MARKS, NOW) == render_progress_chart(
        history(), MARKS, NOW
    )


def test_unsorted_input_gives_the_same_chart():
    points = history()
    shuffled = points[:]
    random.Random(3).shuffle(shuffled)
    assert render_progress_chart(shuffled, MARKS[::-1], NOW) == render_progress_chart(
        points, MARKS, NOW
    )


def test_many_marks_and_long_names_render():
    marks = [
        StageMark(NOW - datetime.timedelta(days=d), "A very long exercise name " * 3, (-1) ** d)
        for d in range(1, 50, 4)
    ]
    png = render_progress_chart(history(), marks, NOW)
    assert decode(png).shape[:2] == (450, 800)


def test_aware_now_and_mixed_datetimes():
    tz = datetime.timezone(datetime.timedelta(hours=3))
    now = NOW.replace(tzinfo=tz)
    points = history()
    mixed = [
        PainPoint(p.at.replace(tzinfo=tz).astimezone(datetime.timezone.utc), p.score, p.kind)
        if i % 2 else p
        for i, p in enumerate(points)
    ]
    assert render_progress_chart(mixed, MARKS, now) == render_progress_chart(points, MARKS, NOW)


def test_scores_out_of_range_are_clamped():
    at = NOW - datetime.timedelta(days=1)
    assert render_progress_chart([PainPoint(at, 14, "after")], [], NOW) == render_progress_chart(
        [PainPoint(at, 10, "after")], [], NOW
    )


def test_title_and_labels():
    plain = render_progress_chart(history(), MARKS, NOW)
    assert render_progress_chart(history(), MARKS, NOW, title="Rücken") != plain
    labels = ChartLabels(title="Спина, {weeks} недель", after="После", morning="Утро")
    assert render_progress_chart(history(), MARKS, NOW, labels=labels).startswith(PNG_SIGNATURE)


def test_other_window_lengths():
    for weeks in (1, 2, 4, 26, 52):
        png = render_progress_chart(history(), MARKS, NOW, weeks=weeks)
        assert decode(png).shape[:2] == (450, 800)


def test_thread_safe():
    expected = render_progress_chart(history(), MARKS, NOW)
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda _: render_progress_chart(history(), MARKS, NOW), range(8)))
    assert all(r == expected for r in results)


@pytest.mark.parametrize(
    ("scores", "expected"),
    [
        ([0, 5, 10], "▁▅█"),
        ([], ""),
        ([0, 1, 3, 4, 6, 7, 9, 10], "▁▂▃▄▅▆▇█"),
        ([10, 10, 0], "██▁"),
        ([-3, 15], "▁█"),
    ],
)
def test_sparkline(scores, expected):
    assert sparkline(scores) == expected
