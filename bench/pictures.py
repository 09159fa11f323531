"""Picture benchmark: drawing time per stage, cold versus warm cache, and the loop meanwhile.

1. Cold drawing: every stage's still (PNG) and animation (GIF) drawn into an empty cache, one
   stage at a time, with the time and file sizes of each. Stages that look alike share one
   drawing (the later ones show the time of a cache hit).
2. Cold versus warm: fetching every stage's files from an empty cache, then again from the
   full one, as a ratio.
3. The event loop while `warm()` draws everything in the background: a ticker asks to wake
   every 10 ms, and its worst lateness is compared with the same ticker on an idle loop in the
   same run. A workout's next cue is such a wake-up, so this is the delay rendering adds to it.
   It also times the first `animation_async` a caller would await: from a cold cache, and warm.
4. The first workout after start-up, through the whole coach and a recording adapter: build the
   coach, start it (which starts the warm-up), and at once a person says "start session",
   answers the pain question before it, skips the session's warm-up (the quickest way to the
   first exercise card, whose picture is the one the drawing races) and presses "Ready" on
   the card as soon as it arrives; the time from "start session" to the exercise card and to
   the first timer cue, with an empty picture folder (cold: the warm-up is drawing meanwhile,
   the card goes without its picture) and with a full one (warm: the card carries it). Cold and
   warm take turns, each on a fresh database; the medians, the slowest, and cold minus warm,
   which is what rendering adds to the first cue. Target: at most 100 ms.

    python -m bench.pictures [--rounds 7]
"""
from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from bot.bootstrap import build_app
from bot.content import load_programme
from bot.delivery import SendBudget
from bot.events import Picked, Text, UserKey
from bot.pictures import Pictures, load_poses
from bot.replies import Reply
from bot.states import READY

CONTENT = Path(__file__).resolve().parent.parent / "content"
TICK_S = 0.010
FIRST_CUE_TARGET_S = 0.100


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


class Recorder:
    """A platform that only notes when each reply reached it (no send budget, no edits)."""

    platform = "bench"
    budget = SendBudget()
    can_edit = False

    def __init__(self) -> None:
        self.sent: list[tuple[float, Reply]] = []
        self.card = asyncio.Event()
        self.cue = asyncio.Event()

    async def send(self, user: UserKey, reply: Reply, context: object | None) -> None:
        self.sent.append((time.perf_counter(), reply))
        if is_first_card(reply):
            self.card.set()
        if reply.kind == "cue" and self.card.is_set():
            self.cue.set()


def is_first_card(reply: Reply) -> bool:
    """The first exercise's card ("1/7 · Side plank ...")."""
    return reply.text.startswith("1/")


def ready_button(reply: Reply) -> str:
    """The payload of the card's "Ready" button, as a person's tap sends it."""
    return next(choice.action for choice in reply.choices if choice.action.startswith("ready"))


async def first_workout(db: Path, pictures_dir: Path) -> tuple[float, float, bool]:
    """Start a coach and, at once, a workout: seconds to the card and to the first cue, and
    whether the card carried its picture."""
    app = build_app(db, time_scale=1.0, pictures_dir=pictures_dir)
    recorder = Recorder()
    app.coach.register(recorder)
    store, now = app.services.store, app.services.clock.now()
    person = UserKey(Recorder.platform, "ana")
    user = store.user(person, now, "Ana")
    store.init_stages(user.id, [exercise.id for exercise in app.services.programme.exercises], now)
    store.update_user(user.id, state=READY, baseline_pain=3, timezone="UTC")
    await app.coach.start()  # the warm-up starts drawing, as at a real start-up
    started = time.perf_counter()
    await app.coach.handle(Text(person, "start session"))
    await app.coach.handle(Text(person, "3"))  # the pain right now, asked before every session
    await app.coach.handle(Text(person, "skip"))  # the session's warm-up (it has no pictures)
    await asyncio.wait_for(recorder.card.wait(), 60)
    card_at, card = next((at, reply) for at, reply in recorder.sent if is_first_card(reply))
    await app.coach.handle(Picked(person, ready_button(card)))  # "Ready" on the card
    await asyncio.wait_for(recorder.cue.wait(), 60)
    cue_at = next(at for at, reply in recorder.sent if reply.kind == "cue" and at >= card_at)
    await app.coach.shutdown()
    app.coach.close()
    return card_at - started, cue_at - started, card.image is not None


def first_cue_cold_and_warm(folder: Path, poses, rounds: int) -> None:
    warm_folder = folder / "warm"
    warmer = Pictures(poses, warm_folder)
    for exercise_id, stages in poses.exercises:
        for index in range(len(stages)):
            warmer.files(exercise_id, index)
    results: dict[str, list[tuple[float, float, bool]]] = {"cold": [], "warm": []}
    for number in range(rounds):
        order = ("cold", "warm") if number % 2 == 0 else ("warm", "cold")
        for kind in order:
            pictures = folder / f"cold-{number}" if kind == "cold" else warm_folder
            results[kind].append(asyncio.run(first_workout(folder / f"{kind}-{number}.db",
                                                           pictures)))
    print(f"\nfirst workout right after start-up, {rounds} rounds each (ms: median / slowest)")
    medians = {}
    for kind, rows in results.items():
        cards = [card for card, _, _ in rows]
        cues = [cue for _, cue, _ in rows]
        pictured = sum(1 for _, _, with_picture in rows if with_picture)
        medians[kind] = statistics.median(cues)
        print(f"  {kind:<5} cache: card {statistics.median(cards) * 1000:6.1f} / "
              f"{max(cards) * 1000:6.1f}   first cue {statistics.median(cues) * 1000:6.1f} / "
              f"{max(cues) * 1000:6.1f}   cards with their picture: {pictured}/{len(rows)}")
    cold_cues = [cue for _, cue, _ in results["cold"]]
    added = medians["cold"] - medians["warm"]
    worst = max(cold_cues) - medians["warm"]
    print(f"  rendering adds to the first cue: {added * 1000:+.1f} ms at the median, "
          f"{worst * 1000:+.1f} ms at the slowest cold start (cold / warm = "
          f"{medians['cold'] / medians['warm']:.2f}); target <= "
          f"{FIRST_CUE_TARGET_S * 1000:.0f} ms: {'met' if worst <= FIRST_CUE_TARGET_S else 'NOT met'}")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.pictures")
    parser.add_argument("--rounds", type=int, default=7,
                        help="first-workout rounds for each of cold and warm")
    args = parser.parse_args()
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
        print(f"all {len(rows)} stages: cold {cold:.2f} s, warm {warm * 1000:.1f} ms "
              f"(warm = {warm / cold:.4f} x cold)")
        idle, busy, warm_s, cold_first, warm_first = asyncio.run(
            loop_during_warm(poses, Path(folder) / "loop"))
        print(f"\nloop wake-up lateness (10 ms ticks): idle {idle * 1000:.1f} ms, "
              f"during warm-up {busy * 1000:.1f} ms ({busy / max(idle, 1e-4):.1f} x idle); "
              f"warm-up took {warm_s:.1f} s")
        print(f"first animation awaited (files_async): cold cache {cold_first * 1000:.0f} ms, "
              f"warm {warm_first * 1000:.2f} ms ({cold_first / max(warm_first, 1e-6):.0f} x); "
              "a workout never awaits it")
        first_cue_cold_and_warm(Path(folder) / "first-cue", poses, args.rounds)


if __name__ == "__main__":
    main()
