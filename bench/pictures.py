"""Picture benchmark: drawing time per stage, cold versus warm cache, and the loop meanwhile.

1. Cold drawing: every stage's still (PNG) and animation (GIF) drawn into an empty cache, one
   stage at a time, with the time and file sizes of each. Stages that look alike share one
   drawing (the later ones show the time of a cache hit).
2. Cold versus warm: fetching every stage's files from an empty cache, then again from the
   full one, as a ratio.
3. The event loop while `warm()` draws everything in the background: a ticker asks to wake
   every 10 ms, and its worst lateness is compared with the same ticker on an idle loop in the
   same run. A workout's next cue is such a wake-up, so this is the delay rendering adds to it.
   It also times the first `animation_async` a workout would await: from a cold cache, and warm.

    python -m bench.pictures
"""
from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from bot.content import load_programme
from bot.pictures import Pictures, load_poses

CONTENT = Path(__file__).resolve().parent.parent / "content"
TICK_S = 0.010


def draw_every_stage_cold(pictures: Pictures) -> list[tuple[str, float, int, int]]:
    rows = []
    for exercise_id, stages in pictures.poses.exercises:
        for index, stage in enumerate(stages):
            started = time.perf_counter()
            files = pictures.files(exercise_id, index)
            elapsed = time.perf_counter() - started
            rows.append((f"{exercise_id}/{stage.stage_id}", elapsed,
                         files.still.stat().st_size, files.animation.stat().st_size))
    return rows


def fetch_all(pictures: Pictures) -> float:
    started = time.perf_counter()
    for exercise_id, stages in pictures.poses.exercises:
        for index in range(len(stages)):
            pictures.files(exercise_id, index)
    return time.perf_counter() - started


async def worst_tick_lateness(seconds: float, stop: asyncio.Future | None = None) -> float:
    """Largest delay past a 10 ms wake-up, over `seconds` or until `stop` is done."""
    loop = asyncio.get_running_loop()
    worst, ends = 0.0, loop.time() + seconds
    while loop.time() < ends and not (stop is not None and stop.done()):
        due = loop.time() + TICK_S
        await asyncio.sleep(TICK_S)
        worst = max(worst, loop.time() - due)
    return worst


async def loop_during_warm(poses, folder: Path) -> tuple[float, float, float, float, float]:
    idle = await worst_tick_lateness(1.0)
    pictures = Pictures(poses, folder)
    started = time.perf_counter()
    first = asyncio.ensure_future(pictures.animation_async(poses.exercises[0][0], 0))
    warm = pictures.warm()
    busy = await worst_tick_lateness(600.0, stop=warm)
    await first
    warm_s = time.perf_counter() - started
    cold_first = await _time_first(Pictures(poses, folder / "empty"))
    warm_first = await _time_first(pictures)
    return idle, busy, warm_s, cold_first, warm_first


async def _time_first(pictures: Pictures) -> float:
    started = time.perf_counter()
    await pictures.animation_async(pictures.poses.exercises[0][0], 0)
    return time.perf_counter() - started


def main() -> None:
    programme = load_programme(CONTENT)
    started = time.perf_counter()
    poses = load_poses(CONTENT, programme)
    load_s = time.perf_counter() - started
    print(f"poses.toml loaded and checked in {load_s * 1000:.0f} ms")
    with tempfile.TemporaryDirectory() as folder:
        pictures = Pictures(poses, Path(folder) / "cold")
        rows = draw_every_stage_cold(pictures)
        print(f"\n{'stage':48} {'ms':>7} {'PNG kB':>7} {'GIF kB':>7}")
        for name, seconds, png, gif in rows:
            print(f"{name:48} {seconds * 1000:7.0f} {png / 1024:7.1f} {gif / 1024:7.1f}")
        drawn = [seconds for _, seconds, _, _ in rows if seconds > 0.02]
        print(f"\n{len(drawn)} distinct pictures drawn, median {statistics.median(drawn) * 1000:.0f} "
              f"ms, slowest {max(drawn) * 1000:.0f} ms, total {sum(drawn):.1f} s")
        cold = sum(seconds for _, seconds, _, _ in rows)
        warm = fetch_all(pictures)
        print(f"all 35 stages: cold {cold:.2f} s, warm {warm * 1000:.1f} ms "
              f"(warm = {warm / cold:.4f} x cold)")
        idle, busy, warm_s, cold_first, warm_first = asyncio.run(
            loop_during_warm(poses, Path(folder) / "loop"))
        print(f"\nloop wake-up lateness (10 ms ticks): idle {idle * 1000:.1f} ms, "
              f"during warm-up {busy * 1000:.1f} ms ({busy / max(idle, 1e-4):.1f} x idle); "
              f"warm-up took {warm_s:.1f} s")
        print(f"first animation awaited by a workout: cold cache {cold_first * 1000:.0f} ms, "
              f"warm {warm_first * 1000:.2f} ms ({cold_first / max(warm_first, 1e-6):.0f} x)")


if __name__ == "__main__":
    main()
