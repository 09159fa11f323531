"""Guided timers: cues land on their planned deadlines, and the person's controls behave."""
from __future__ import annotations

import asyncio
import math

import pytest

from bot.clock import Clock
from bot.content import Rules, TimerPlan
from bot.workout.timers import PACED, REST, SWITCH, WORK, PhaseRunner, phases_for
from chat import Person

# Every clock here follows the test's loop on virtual time: cue times are exact, not racy.
pytestmark = pytest.mark.usefixtures("virtual_time")

RULES = Rules(up_max_pain=3, up_needs_good_workouts=2, hold_max_pain=5, down_above_pain=5,
              see_clinician_pain=8, morning_hold_rise=1, morning_down_rise=3, switch_s=5,
              get_ready_s=5, stop_for_today_above=5, pause_step_ups_after=2, pause_window_days=7,
              ready_wait_s=30, add_time_max_s=120,
              no_workout_from=8)


def plan(**kw) -> TimerPlan:
    base = dict(mode="hold", work_s=10, reps=10, rest_s=3, sets=1, set_rest_s=0, sides="each",
                side_labels=None)
    base.update(kw)
    return TimerPlan(**base)


def test_side_plank_plan_becomes_holds_rests_and_a_side_switch():
    phases = phases_for(plan(), RULES)
    kinds = [p.kind for p in phases]
    assert kinds.count(WORK) == 20 and kinds.count(REST) == 18 and kinds.count(SWITCH) == 1
    assert phases[1].seconds == 10 and phases[2].seconds == 3
    assert sum(p.seconds for p in phases) == 5 + 20 * 10 + 18 * 3 + 5


def test_paced_sets_wait_for_the_person_with_a_timed_rest_between():
    phases = phases_for(plan(mode="paced", work_s=0, rest_s=0, sets=2, set_rest_s=60,
                             sides="none"), RULES)
    assert [(p.kind, p.seconds) for p in phases[1:]] == [(PACED, 0), ("set_rest", 60), (PACED, 0)]


async def test_cues_land_on_planned_deadlines_without_drift():
    """Some cues are delivered late on purpose: later phases still start on time."""
    clock = Clock(scale=20)
    phases = phases_for(plan(work_s=2, reps=12, rest_s=1, sides="none"), RULES)
    seen: list[tuple[float, float]] = []

    async def on_phase(index, phase, planned):
        seen.append((planned, clock.monotonic()))
        if index % 3 == 0:
            await asyncio.sleep(0.02)  # a slow platform: 0.4 s of clock time late

    start = clock.monotonic()
    await PhaseRunner(clock, phases, on_phase).run(start)
    end = clock.monotonic()
    planned_offsets = [planned - start for planned, _ in seen]
    expected = [0.0]
    for phase in phases[:-1]:
        expected.append(expected[-1] + phase.seconds)
    assert planned_offsets == expected
    lateness = [actual - planned for planned, actual in seen]
    # On virtual time every cue is exactly on time: a late one's 0.4 s never carries over.
    assert lateness == pytest.approx([0.0] * len(seen), abs=1e-6)
    assert end - start == pytest.approx(sum(p.seconds for p in phases), abs=1e-6)


async def test_pause_moves_the_rest_of_the_schedule_and_resume_continues():
    clock = Clock(scale=20)
    phases = phases_for(plan(work_s=10, reps=2, rest_s=5, sides="none"), RULES)
    runner = PhaseRunner(clock, phases, lambda *a: asyncio.sleep(0))
    task = asyncio.create_task(runner.run(clock.monotonic()))
    start = clock.monotonic()
    await clock.sleep(8)  # inside the first hold
    assert runner.pause()
    await clock.sleep(20)
    assert runner.index == 1  # still the same phase after 20 s paused
    assert runner.resume()
    await task
    total = clock.monotonic() - start
    assert total == pytest.approx(50, abs=1e-6)  # 5 + 10 + 5 + 10 planned, plus 20 paused


async def test_skip_rest_and_add_time_move_the_deadline_by_exactly_that():
    clock = Clock(scale=20)
    phases = phases_for(plan(work_s=10, reps=2, rest_s=20, sides="none"), RULES)
    runner = PhaseRunner(clock, phases, lambda *a: asyncio.sleep(0))
    start = clock.monotonic()
    task = asyncio.create_task(runner.run(start))
    await clock.sleep(6)  # first hold
    assert runner.add_time(10)
    assert not runner.skip_rest()  # not resting now
    await clock.sleep(14)  # 20 s in: the hold now ends at 25 s
    assert runner.current.kind == WORK
    await clock.sleep(8)  # 28 s: in the 20 s rest
    assert runner.current.kind == REST
    assert runner.skip_rest()
    await task
    total = clock.monotonic() - start
    # 5 ready + 20 hold (10 + 10 added) + 3 of rest + 10 hold
    assert total == pytest.approx(38, abs=1e-6)


async def test_pause_resume_skip_and_stop_during_a_workout(ana: Person, coach):
    await ana.onboards()
    await ana.starts_session()
    await ana.waits_for("Hold 30 s")
    replies = await ana.says("pause")
    assert replies[0].text.startswith("Paused")
    said = len(ana.replies)
    await coach.services.clock.sleep(100)
    assert len(ana.replies) == said  # nothing moves while paused
    assert (await ana.says("resume"))[0].text == "Resuming."
    await ana.waits_for("Switch sides")
    await ana.skips()
    await ana.waits_for("Skipped Half-kneeling hip flexor stretch")
    await ana.waits_for("2/7 · Hamstring stretch")
    await ana.waits_for("Hold 30 s")
    end = await ana.stops()
    assert end.text.startswith("Workout stopped")
    user = coach.services.store.find_user(ana.key)
    workout = coach.services.store.workouts(user.id)[-1]
    outcomes = {r["exercise_id"]: r["outcome"]
                for r in coach.services.store.workout_exercises(workout["id"])}
    assert outcomes == {"hip_flexor_stretch": "skipped"}
    assert workout["status"] == "stopped"
    replies = await ana.says("3")
    assert replies[0].text.startswith("Noted: pain 3/10")


async def test_controls_are_answered_when_no_workout_runs(ana: Person):
    await ana.onboards()
    for word in ("pause", "resume", "skip", "stop", "done", "+10"):
        replies = await ana.says(word)
        assert "no workout running" in replies[0].text


async def test_a_telegram_like_budget_is_never_exceeded_and_every_cue_arrives(tmp_path):
    """1 send-or-edit per second per chat: cues go first, countdown edits use what is left."""
    from bot.delivery import Rate, SendBudget
    from bot.workout.timers import phases_for
    from bot.workout.session import todays_plan
    from chat import RecordingAdapter, make_coach

    coach = make_coach(tmp_path, scale=400)
    adapter = RecordingAdapter(coach, SendBudget(per_chat=Rate(1, 1.0), overall=Rate(30, 1.0)))
    ana = Person(coach, adapter)
    await ana.onboards()
    start = len(adapter.sent)
    await ana.trains(pain=3, timeout=60)
    sent = adapter.sent[start:]
    times = [s.at for s in sent]
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert min(gaps) >= 0.999, min(gaps)  # never two sends within one second of clock time
    cues = [s for s in sent if s.reply.kind == "cue" and s.reply.choices]  # a phase begins
    user = coach.services.store.find_user(ana.key)
    programme = coach.services.programme
    plans = [stage.plan for _, stage in todays_plan(coach.services, user)] + \
        [move.plan for move in programme.warmup.moves]
    assert len(cues) == sum(len(phases_for(plan, programme.rules)) for plan in plans)
    assert sum(1 for s in sent if s.reply.kind == "countdown") > 20  # the live countdown ran
    await coach.shutdown()


async def test_a_deadline_a_hair_ahead_is_waited_for_not_spun_on():
    """A deadline nearer than the loop clock can tell apart still gets a wait (a microsecond):
    a timer armed for less fires at once on a clock that has not moved, and its waiter spins."""
    await asyncio.sleep(1000)  # a loop that has run a while, and a clock made now
    clock = Clock(scale=1000)
    await clock.sleep(10)
    deadline = math.nextafter(clock.monotonic(), math.inf)
    assert not await clock.wait_event(asyncio.Event(), deadline)
    assert clock.monotonic() >= deadline


async def test_a_stop_that_comes_as_a_control_wakes_the_timer_still_stops_it():
    """Shutdown cancels a workout's timer in the very turn a control woke it: the cancel wins."""
    clock = Clock(scale=20)
    changed = asyncio.Event()
    timer = asyncio.create_task(clock.wait_event(changed, clock.monotonic() + 60))
    for _ in range(3):
        await asyncio.sleep(0)  # the timer is waiting
    changed.set()  # "pause" wakes the timer...
    assert timer.cancel()  # ...and the workout is cancelled before the timer has run again
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(timer, 10)
