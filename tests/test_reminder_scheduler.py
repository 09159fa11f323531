"""The real thing: one AsyncIOScheduler on the running loop wakes the reminder service at the
right instant of a scaled clock (--time-scale), and a fan-out never blocks the rest of the bot.

These run on real time, scaled: APScheduler reads the wall clock itself, so it cannot follow a
virtual-time loop. They are the wiring only (what is due when is tested on a ManualClock in
test_reminders.py): each leaves a second or more of real time before the first reminder is due,
asserts order (never early, before the next planned one) rather than speed, and gives its waits
half a minute."""
from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from chat import Person, RecordingAdapter
from reminder_world import REMINDER, berlin

from bot.bootstrap import build_app
from bot.clock import Clock
from bot.delivery import Rate, SendBudget
from bot.reminders.service import JOB_ID

BERLIN = ZoneInfo("Europe/Berlin")
PATIENCE = 30.0  # real seconds: only a guard against a hang


async def _onboard(person: Person, time: str) -> None:
    await person.says("/start")
    await person.presses("Got it, let's go")
    for _ in person.coach.services.questions:
        await person.presses("No")
    await person.presses("3")
    await person.presses("Reached it easily")
    await person.says(time)
    await person.says("Europe/Berlin")


def _local_now(clock: Clock) -> datetime:
    return clock.now().astimezone(BERLIN)


async def test_the_wake_up_job_fires_at_0730_on_a_scaled_clock(tmp_path):
    clock = Clock(scale=600, start=berlin(2026, 3, 10, 7, 20, 0))  # 10 min a second
    app = build_app(tmp_path / "coach.db", clock=clock)
    coach = app.coach
    adapter = RecordingAdapter(coach)
    ana = Person(coach, adapter, "ana", "Ana")
    await _onboard(ana, "07:30")
    await coach.start()
    scheduler = app.reminders._scheduler
    assert isinstance(scheduler, AsyncIOScheduler) and scheduler.running
    assert scheduler.get_job(JOB_ID) is not None
    reminder = await ana.waits_for(REMINDER, timeout=PATIENCE)
    fired = _local_now(clock)
    assert reminder.text.startswith("Good morning, Ana!")
    # never early; "late" only by how busy the machine is (an hour of clock is 6 real seconds)
    assert timedelta(0) <= fired - berlin(2026, 3, 10, 7, 30) < timedelta(hours=1), fired
    # re-armed for tomorrow
    assert app.reminders._armed == berlin(2026, 3, 11, 7, 30)
    await coach.shutdown()
    coach.services.store.close()


async def test_a_settings_change_rearms_the_wake_up_without_a_restart(tmp_path):
    clock = Clock(scale=600, start=berlin(2026, 3, 10, 6, 0))
    app = build_app(tmp_path / "coach.db", clock=clock)
    coach = app.coach
    adapter = RecordingAdapter(coach)
    bo = Person(coach, adapter, "bo", "Bo")
    await _onboard(bo, "11:00")
    await coach.start()
    soon = _local_now(clock) + timedelta(minutes=10)
    replies = await bo.says(f"settings time {soon:%H:%M}")
    assert f"Next reminder: Tue 10 Mar at {soon:%H:%M}" in replies[0].text
    await bo.waits_for(REMINDER, timeout=PATIENCE)  # 10 clock minutes: 1 s, long before 11:00
    fired = _local_now(clock)
    assert soon.replace(second=0, microsecond=0) <= fired < berlin(2026, 3, 10, 11, 0), fired
    await coach.shutdown()
    coach.services.store.close()


async def test_a_fan_out_does_not_hold_up_a_conversation(tmp_path):
    clock = Clock(scale=10, start=berlin(2026, 3, 10, 7, 29, 45))
    app = build_app(tmp_path / "coach.db", clock=clock)
    coach = app.coach
    adapter = RecordingAdapter(coach, SendBudget(overall=Rate(10, 0.2)))  # 50/s of clock time
    store = coach.services.store
    store.db["users"].insert_all(
        {"platform": "test", "platform_id": f"p{n:03d}", "name": "", "state": "ready",
         "created_at": clock.now().isoformat(), "reminder_time": "07:30",
         "timezone": "Europe/Berlin", "reminder_days": "0123456", "reminders_on": 1}
        for n in range(300))
    ana = Person(coach, adapter, "ana", "Ana")
    await coach.start()
    await adapter.wait(lambda s: REMINDER in s.reply.text, timeout=PATIENCE)
    await adapter.wait(lambda s: s.user.id == "p050", timeout=PATIENCE)
    replies = await ana.says("hello")  # a newcomer, mid-way through the 300 reminders
    assert replies and "back-care exercise coach" in replies[0].text
    reminded_then = sum(REMINDER in s.reply.text for s in adapter.sent)
    assert reminded_then < 300, "the answer had to wait for the whole fan-out"
    for n in range(300):  # everyone, however the sends interleave
        await adapter.wait(lambda s, n=n: s.user.id == f"p{n:03d}", timeout=PATIENCE)
    order = [s.user.id for s in adapter.sent if REMINDER in s.reply.text]
    assert order == [f"p{n:03d}" for n in range(300)]  # everyone once, in due order
    await coach.shutdown()
    store.close()


async def test_stopping_gives_a_stuck_send_5_clock_seconds_then_cancels_it(tmp_path):
    class Stuck(RecordingAdapter):
        """The platform takes the reminder and never answers."""

        def __init__(self, coach, budget=None) -> None:
            super().__init__(coach, budget)
            self.started = asyncio.Event()
            self.cancelled = False

        async def send(self, user, reply, context):
            if REMINDER not in reply.text:
                return await super().send(user, reply, context)
            self.started.set()
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                self.cancelled = True
                raise

    clock = Clock(scale=100, start=berlin(2026, 3, 10, 7, 28, 0))  # 5 clock s: 50 ms
    app = build_app(tmp_path / "coach.db", clock=clock)
    coach = app.coach
    adapter = Stuck(coach)
    await _onboard(Person(coach, adapter, "ana", "Ana"), "07:30")
    await coach.start()
    await asyncio.wait_for(adapter.started.wait(), PATIENCE)
    begun = time.monotonic()
    await app.reminders.stop()
    assert time.monotonic() - begun < 4.0  # the grace is clock time (50 ms), not 5 real seconds
    assert adapter.cancelled
    await coach.shutdown()
    coach.services.store.close()
