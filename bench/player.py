"""Player benchmark: what one workout costs a Telegram bot token through the chat and through the
workout player, and how many workouts one token carries at once. Both paths, one run.

1. Platform calls per workout. One person does today's workout (first stages, sets at one's own
   pace done at 2 s a rep) through the real coach, with a recording adapter that counts the Bot
   API calls the Telegram adapter would make for each reply (a sendMessage per message, an
   editMessageText per countdown edit, an answerCallbackQuery per button pressed) and keeps
   Telegram's budget (30/s overall, 1/s per chat). Chat: "start session", "pain right now?",
   the chat's timer with its live countdown (each card starting by itself), "Done" on each
   paced set, up to the pain question. Player: "start session", then the page (GET plan, the
   pain right now, the warm-up, a report per exercise, the end, made to the coach's
   PlayerBackend at the moments the page would make them), up to the pain question. The pain
   answer and what the coach says to it are the same on both paths, shown apart; the targets
   are judged with it counted.
2. The page's API over real HTTP: `--pages` workouts at once through the real web server on
   127.0.0.1 (signed Telegram launch data, a time scale), counting requests, refusals, and the
   chat messages per workout; it checks part 1's figures against the real server.
3. Workouts at once within Telegram's budget, with p99 cue lateness at most 1 s. Chat path,
   measured: N people start a workout within `--spread` seconds (a morning reminder's burst)
   and every cue's lateness against its planned instant is measured; N is doubled, then halved
   in between, to the largest N that keeps p99 <= 1 s. Player path, computed: its cues run on
   the phone, so the platform only carries its few messages per workout; at 30 calls/s and a
   workout of D seconds, it carries 30 x D / (calls per workout) workouts at once. The chat
   path's figure by the same formula is shown beside it.

Parts 1 and 3 run on virtual time: an event loop whose clock jumps to the next timer instead of
waiting, so the figures are the coach's own scheduling under the budget, exact and repeatable,
and do not depend on how busy this machine is (its CPU is what bench.timers and bench.telegram
measure). Part 2 runs on real time.

    python -m bench.player [--spread 60] [--pages 200] [--max-workouts 2000]
"""
from __future__ import annotations

import argparse
import asyncio
import selectors
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import aiohttp

from adapters.telegram import MAX_CAPTION, split_text
from bot.bootstrap import App, build_app
from bot.clock import Clock
from bot.delivery import Rate, SendBudget
from bot.events import Picked, Text, UserKey
from bot.intents import button
from bot.player.service import PlayerService
from bot.player.settings import Entrance, PlayerSettings
from bot.replies import Reply
from bot.states import PAIN_BEFORE, PLAYER, READY
from bot.workout.session import todays_plan
from bot.workout.timers import PACED, phases_for
from tests.player_world import launch_data

TELEGRAM_BUDGET = SendBudget(per_chat=Rate(1, 1.0), overall=Rate(30, 1.0))
OVERALL_PER_S = 30
BOT_TOKEN = "123456789:AAbenchmarkTokenForThePlayerOnly_xyz"
SECRET = b"benchmark-secret-for-the-player"
PUBLIC_PAGE = "https://coach.example.org/player/"
SECONDS_PER_REP = 2.0  # the pace of a set at one's own pace
PAIN_NOW = 3  # the answer to "how is your back right now?" before each workout
MAX_P99_LATENESS_S = 1.0
TARGET_RATIO, TARGET_WORKOUTS = 50.0, 5000
PAIN_QUESTION = "How is your back now"


# -- virtual time -------------------------------------------------------------------------------

class _InstantSelector(selectors.DefaultSelector):
    """Never sleeps: where the loop would wait for its next timer, virtual time jumps to it."""

    def __init__(self) -> None:
        super().__init__()
        self.elapsed = 0.0

    def select(self, timeout: float | None = None):
        ready = super().select(0)
        if not ready and timeout:
            self.elapsed += timeout
        return ready


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    """An event loop on virtual time (no sockets wanted: everything here is in memory)."""

    def __init__(self) -> None:
        self._instant = _InstantSelector()
        super().__init__(self._instant)

    def time(self) -> float:
        return self._instant.elapsed


class LoopClock(Clock):
    """The coach's clock read from the running loop, so it runs on virtual time too."""

    def monotonic(self) -> float:
        try:
            return asyncio.get_running_loop().time()
        except RuntimeError:  # outside the loop: before it started
            return 0.0

    def real_delay(self, seconds: float) -> float:
        """At least a microsecond: a wait of 1e-15 s would vanish in float rounding, and on a
        clock that only moves when the loop waits, its waiter would spin forever."""
        return 0.0 if seconds <= 0 else max(seconds, 1e-6)


def on_virtual_time(make: Callable[[], Awaitable]):
    loop = VirtualTimeLoop()
    try:
        return loop.run_until_complete(make())
    finally:
        loop.close()


# -- counting what the Telegram adapter would send ----------------------------------------------

@dataclass
class Calls:
    sends: int = 0
    edits: int = 0
    presses: int = 0  # answerCallbackQuery, one per button pressed

    @property
    def total(self) -> int:
        return self.sends + self.edits + self.presses

    def minus(self, other: Calls) -> Calls:
        return Calls(self.sends - other.sends, self.edits - other.edits,
                     self.presses - other.presses)


class TelegramCounter:
    """Telegram's budget and editing, counting the Bot API calls each reply becomes there."""

    platform = "telegram"
    budget = TELEGRAM_BUDGET
    can_edit = True

    def __init__(self) -> None:
        self.calls: dict[UserKey, Calls] = {}
        self.slots: set[tuple[UserKey, str]] = set()
        self.pain_asked: dict[UserKey, asyncio.Event] = {}

    def of(self, user: UserKey) -> Calls:
        return self.calls.setdefault(user, Calls())

    async def send(self, user: UserKey, reply: Reply, context: object | None) -> None:
        calls = self.of(user)
        if reply.edit and reply.slot:
            if (user, reply.slot) in self.slots:
                calls.edits += 1
            return  # a countdown only ever edits its cue
        texts = split_text(reply.text)
        caption = 1 if reply.image and len(texts) == 1 and len(texts[0]) <= MAX_CAPTION else 0
        calls.sends += (1 if reply.image else 0) + len(texts) - caption + len(reply.files)
        if reply.slot:
            self.slots.add((user, reply.slot))
        if PAIN_QUESTION in reply.text:
            self.pain_asked.setdefault(user, asyncio.Event()).set()

    async def until_pain_asked(self, user: UserKey) -> None:
        await self.pain_asked.setdefault(user, asyncio.Event()).wait()


def seeded(app: App, count: int, first: int = 0) -> list[UserKey]:
    """People past onboarding, straight into the database (as bench.timers does)."""
    store, now = app.services.store, app.services.clock.now()
    keys = []
    for number in range(first, first + count):
        key = UserKey("telegram", str(10_000 + number))
        user = store.user(key, now)
        store.update_user(user.id, state=READY, baseline_pain=3)
        store.init_stages(user.id, [e.id for e in app.services.programme.exercises], now)
        keys.append(key)
    return keys


def built(tmp: Path, name: str) -> tuple[App, TelegramCounter]:
    start = datetime(2026, 3, 10, 6, 0, tzinfo=timezone.utc)
    app = build_app(tmp / f"{name}.db", clock=LoopClock(1.0, start))
    counter = TelegramCounter()
    app.coach.register(counter)
    return app, counter


# -- the two paths, as one person does them -----------------------------------------------------

async def press(app: App, counter: TelegramCounter, key: UserKey, action: str) -> None:
    counter.of(key).presses += 1
    await app.coach.handle(Picked(key, action))


async def chat_workout(app: App, counter: TelegramCounter, key: UserKey,
                       lateness: list[float] | None = None) -> None:
    """"start session", the chat's timer, "Done" at the person's pace: to the pain question."""
    await app.coach.handle(Text(key, "start session"))
    for _ in range(2):  # the player's offer (choose the chat), then "pain right now?"
        state = app.services.store.find_user(key).state
        if state == PLAYER:
            await press(app, counter, key, button("in_chat"))
        elif state == PAIN_BEFORE:
            await press(app, counter, key, button("pain", str(PAIN_NOW), "before"))
    session = app.coach.running(key)
    if lateness is not None:
        session.on_cue = lambda planned, delivered: lateness.append(delivered - planned)
    while session.task is None or not session.task.done():
        if session.waiting_for_person and session.runner is not None:
            phase = session.runner.current
            await app.services.clock.sleep(phase.reps * SECONDS_PER_REP)
            await press(app, counter, key, button("done", tag=session.tag))
            continue
        session.changed.clear()
        waiting = asyncio.ensure_future(session.changed.wait())
        await asyncio.wait({waiting, session.task} if session.task else {waiting},
                           return_when=asyncio.FIRST_COMPLETED)
        waiting.cancel()
    await counter.until_pain_asked(key)


async def page_workout(app: App, counter: TelegramCounter, key: UserKey) -> int:
    """"start session", then what the page does: open, a report as each exercise ends, the
    end. Returns the page's API calls."""
    await app.coach.handle(Text(key, "start session"))
    clock, rules = app.services.clock, app.services.programme.rules
    plan = await app.player.opened(key)
    assert plan is not None and plan.pain_before is None, "the page asks the pain right now"
    await app.player.pain_before(key, plan.workout_id, PAIN_NOW)
    requests = 2
    for move in app.services.programme.warmup.moves:  # the warm-up opens the page's workout
        for phase in phases_for(move.plan, rules):
            await clock.sleep(phase.reps * SECONDS_PER_REP if phase.kind == PACED
                              else phase.seconds)
    user = app.services.store.find_user(key)
    for index, (_, stage) in enumerate(todays_plan(app.services, user)):
        for phase in phases_for(stage.plan, rules):
            await clock.sleep(phase.reps * SECONDS_PER_REP if phase.kind == PACED
                              else phase.seconds)
        await app.player.exercise_reported(key, plan.workout_id, index, "done")
        requests += 1
    await app.player.ended(key, plan.workout_id, "done")
    await counter.until_pain_asked(key)
    return requests + 1


async def pain_answer(app: App, counter: TelegramCounter, key: UserKey) -> None:
    await press(app, counter, key, button("pain", "2", "after"))


@dataclass
class OneWorkout:
    calls: Calls
    after: Calls  # the pain answer and the coach's replies to it
    seconds: float  # from "start session" to the pain question
    page_requests: int = 0


def one_workout(tmp: Path, player: bool) -> OneWorkout:
    async def run() -> OneWorkout:
        app, counter = built(tmp, "player" if player else "chat")
        if player:
            app.player.open_to("telegram", PUBLIC_PAGE, False, SECRET)
        [key] = seeded(app, 1)
        started = app.services.clock.monotonic()
        requests = 0
        if player:
            requests = await page_workout(app, counter, key)
        else:
            await chat_workout(app, counter, key)
        seconds = app.services.clock.monotonic() - started
        workout = Calls(**vars(counter.of(key)))
        await pain_answer(app, counter, key)
        after = counter.of(key).minus(workout)
        await app.coach.shutdown()
        app.coach.close()
        return OneWorkout(workout, after, seconds, requests)
    return on_virtual_time(run)


# -- how many chat workouts at once -------------------------------------------------------------

@dataclass
class Load:
    """Cue lateness with N workouts sharing the token, beyond what each cue has alone."""

    workouts: int
    p50: float
    p99: float
    worst: float
    p99_total: float  # lateness itself, the per-chat part included

    @property
    def within(self) -> bool:
        return self.p99 <= MAX_P99_LATENESS_S


def chat_lateness(tmp: Path, workouts: int, spread: float, seed: int = 7
                  ) -> list[list[float]]:
    """Every cue's lateness (delivered minus planned), per workout, in order."""
    import random

    async def run() -> list[list[float]]:
        app, counter = built(tmp, f"load-{workouts}")
        keys = seeded(app, workouts)
        rng = random.Random(seed)
        lateness: dict[UserKey, list[float]] = {key: [] for key in keys}

        async def one(key: UserKey) -> None:
            await app.services.clock.sleep(rng.uniform(0, spread))
            await chat_workout(app, counter, key, lateness[key])

        await asyncio.gather(*(one(key) for key in keys))
        await app.coach.shutdown()
        app.coach.close()
        return list(lateness.values())
    return on_virtual_time(run)


def chat_load(tmp: Path, workouts: int, spread: float, alone: list[float]) -> Load:
    """N workouts at once; each cue's lateness less the same cue's in a workout alone (the
    per-chat limit's share, which no number of workouts changes)."""
    runs = chat_lateness(tmp, workouts, spread)
    assert all(len(run) == len(alone) for run in runs), "workouts differ in their cues"
    extra = sorted(late - solo for run in runs for late, solo in zip(run, alone))
    total = sorted(late for run in runs for late in run)
    p99 = statistics.quantiles(extra, n=100, method="inclusive")[98]
    p99_total = statistics.quantiles(total, n=100, method="inclusive")[98]
    return Load(workouts, statistics.median(extra), p99, extra[-1], p99_total)


def chat_capacity(tmp: Path, spread: float, ceiling: int, alone: list[float]
                  ) -> tuple[Load, Load | None]:
    """The largest N whose p99 added lateness is within the limit: doubling, then bisection."""
    good, bad = None, None
    workouts = 25
    while workouts <= ceiling:
        load = chat_load(tmp, workouts, spread, alone)
        report(load)
        if not load.within:
            bad = load
            break
        good = load
        workouts *= 2
    assert good is not None, "not even 25 chat workouts fit the budget"
    while bad is not None and bad.workouts - good.workouts > max(2, good.workouts // 20):
        load = chat_load(tmp, (good.workouts + bad.workouts) // 2, spread, alone)
        report(load)
        good, bad = (load, bad) if load.within else (good, load)
    return good, bad


def report(load: Load) -> None:
    print(f"  chat, {load.workouts:>5} at once: added cue lateness p50 {load.p50:5.2f} s, "
          f"p99 {load.p99:6.2f} s, worst {load.worst:6.2f} s; lateness itself p99 "
          f"{load.p99_total:6.2f} s ({'within' if load.within else 'over'} "
          f"{MAX_P99_LATENESS_S:.0f} s)", flush=True)


# -- the page's API over real HTTP --------------------------------------------------------------

@dataclass
class PagesRun:
    pages: int
    requests: int = 0
    refused: int = 0
    chat_calls: list[int] = field(default_factory=list)
    seconds: float = 0.0


async def pages_over_http(tmp: Path, pages: int, scale: float) -> PagesRun:
    app = build_app(tmp / "pages.db", scale)
    counter = TelegramCounter()
    app.coach.register(counter)
    keys = seeded(app, pages, first=50_000)
    player = PlayerService(app.player, app.services.texts, PlayerSettings())
    await player.start([Entrance("telegram", PUBLIC_PAGE, False, BOT_TOKEN)], SECRET)
    page_api = player.url + "api/"
    result = PagesRun(pages)
    clock, rules = app.services.clock, app.services.programme.rules

    async def one(http: aiohttp.ClientSession, key: UserKey) -> None:
        headers = {"Authorization": f"tma {launch_data(int(key.id), bot_token=BOT_TOKEN)}"}

        async def call(method: str, path: str, body: dict | None = None) -> dict:
            async with http.request(method, page_api + path, json=body,
                                    headers=headers) as answer:
                result.requests += 1
                result.refused += answer.status != 200
                return await answer.json()

        await app.coach.handle(Text(key, "start session"))
        plan = await call("GET", "plan")
        await call("POST", "pain", {"workout_id": plan["workout_id"], "score": PAIN_NOW})
        warmup = sum(phase["seconds"] or 0 for move in plan["warmup"] for phase in move["phases"])
        await clock.sleep(warmup)
        for index, exercise in enumerate(plan["exercises"]):
            seconds = sum(phase["seconds"] or 0 for phase in exercise["phases"])
            await clock.sleep(seconds)  # the phone keeps time; the paced sets are instant here
            await call("POST", "exercise", {"workout_id": plan["workout_id"], "index": index,
                                            "outcome": "done"})
        await call("POST", "end", {"workout_id": plan["workout_id"], "outcome": "done"})
        await counter.until_pain_asked(key)
        result.chat_calls.append(counter.of(key).total)

    started = time.perf_counter()
    connector = aiohttp.TCPConnector(limit=100)
    async with aiohttp.ClientSession(connector=connector) as http:
        await asyncio.gather(*(one(http, key) for key in keys))
    result.seconds = time.perf_counter() - started
    await player.stop()
    await app.coach.shutdown()
    app.coach.close()
    return result


# -- the report ---------------------------------------------------------------------------------

def describe(calls: Calls) -> str:
    return (f"{calls.total:>4} ({calls.sends} sendMessage, {calls.edits} editMessageText, "
            f"{calls.presses} answerCallbackQuery)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--spread", type=float, default=60.0,
                        help="chat workouts start within this many seconds (part 3)")
    parser.add_argument("--pages", type=int, default=200,
                        help="workouts at once through the real web server (part 2)")
    parser.add_argument("--page-scale", type=float, default=600.0,
                        help="time scale of the pages in part 2")
    parser.add_argument("--max-workouts", type=int, default=2000,
                        help="the chat path is not tried beyond this many at once")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        print("1. Bot API calls for one workout (virtual time, Telegram's budget)")
        chat = one_workout(tmp, player=False)
        page = one_workout(tmp, player=True)
        print(f"  chat:   {describe(chat.calls)}, {chat.seconds / 60:.1f} min to the pain question")
        print(f"  player: {describe(page.calls)}, {page.seconds / 60:.1f} min; "
              f"{page.page_requests} page API calls (not the platform's)")
        print(f"  the pain answer after either: {describe(chat.after)} / {describe(page.after)}")
        ratio = chat.calls.total / page.calls.total
        ratio_all = (chat.calls.total + chat.after.total) / (page.calls.total + page.after.total)
        print(f"  chat / player: {ratio:.0f}x fewer platform calls per workout "
              f"(target >= {TARGET_RATIO:.0f}x); {ratio_all:.0f}x counting the pain answer too")

        print(f"2. The page's API over real HTTP: {args.pages} workouts at once, time scale "
              f"{args.page_scale:g}")
        pages = asyncio.run(pages_over_http(tmp, args.pages, args.page_scale))
        print(f"  {pages.requests} requests ({pages.requests / pages.pages:.1f} per workout), "
              f"{pages.refused} refused, in {pages.seconds:.1f} s; chat calls per workout: "
              f"{statistics.median(pages.chat_calls):.0f} (median), {max(pages.chat_calls)} (most)")

        print(f"3. Workouts at once per token (30 calls/s overall, 1/s per chat; starts within "
              f"{args.spread:g} s)")
        [alone] = chat_lateness(tmp, 1, 0.0)
        solo = sorted(alone)
        print(f"  one chat workout alone: cue lateness p50 {statistics.median(solo):.2f} s, p99 "
              f"{statistics.quantiles(solo, n=100, method='inclusive')[98]:.2f} s, worst "
              f"{solo[-1]:.2f} s ({sum(late > 1 for late in alone)} of {len(alone)} cues over "
              f"1 s: the per-chat limit, 1/s, behind the messages at an exercise's start)")
        good, bad = chat_capacity(tmp, args.spread, args.max_workouts, alone)
        seconds = page.seconds  # the same workout on both paths
        formula_chat = OVERALL_PER_S * seconds / chat.calls.total
        formula_chat_sends = OVERALL_PER_S * seconds / (chat.calls.sends + chat.calls.presses)
        formula_player = OVERALL_PER_S * seconds / page.calls.total
        formula_player_all = OVERALL_PER_S * seconds / (page.calls.total + page.after.total)
        print(f"  chat, measured: {good.workouts} at once with p99 added cue lateness "
              f"{good.p99:.2f} s" + (f" ({bad.workouts} gave {bad.p99:.2f} s)" if bad else ""))
        print(f"  chat, 30/s x {seconds:.0f} s / {chat.calls.total} calls: {formula_chat:,.0f} "
              f"at once with every countdown edit; / {chat.calls.sends + chat.calls.presses} "
              f"calls without them (edits give way when the budget is short, cues wait): "
              f"{formula_chat_sends:,.0f}, an upper bound (bursts of cues come late sooner)")
        print(f"  player, 30/s x {seconds:.0f} s / {page.calls.total} calls: "
              f"{formula_player:,.0f} at once (cues on the phone: no lateness from the platform); "
              f"{formula_player_all:,.0f} counting the pain answer")
        print(f"  player / chat measured: {formula_player_all / good.workouts:.0f}x with the pain "
              f"answer counted ({formula_player / good.workouts:.0f}x without)")
        met = ratio_all >= TARGET_RATIO and formula_player_all >= TARGET_WORKOUTS
        print(f"targets, the pain answer counted ({TARGET_RATIO:.0f}x fewer calls, "
              f">= {TARGET_WORKOUTS:,} at once): "
              f"{'met' if met else 'MISSED'}")


if __name__ == "__main__":
    main()
