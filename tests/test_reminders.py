"""Morning reminders, told as "it's 07:30 in Berlin: Ana gets her reminder" with a clock the test
moves itself (bot.clock.ManualClock); the service's `run_due` is what the wake-up job runs."""
from __future__ import annotations

import sqlite3
from datetime import timedelta

import pytest
from chat import RecordingAdapter, paragraphs
from reminder_world import REMINDER, World, berlin

from bot.delivery import Rate, RetryAfter, SendBudget, Transient, Unreachable
from bot.replies import Reply
from bot.states import PLAYER

TUESDAY = (2026, 3, 10)  # a plain week in March, before any DST change

pytestmark = pytest.mark.usefixtures("virtual_time")  # waits for replies never race the machine


async def test_after_onboarding_the_first_reminder_comes_at_0730_without_a_restart(tmp_path):
    world = await World.open(tmp_path, berlin(*TUESDAY, 6, 0))
    ana = await world.onboards("ana", "07:30", "Europe/Berlin", name="Ana")
    assert await world.at(berlin(*TUESDAY, 7, 29)) == []
    sent = await world.at(berlin(*TUESDAY, 7, 30))
    assert len(sent) == 1
    reminder = sent[0].reply
    assert reminder.text.startswith("Good morning, Ana! Day 1 of your programme: ")
    assert "is at \"" in reminder.text and "A session takes about" in reminder.text
    assert [c.label for c in reminder.choices] == [
        "Start session", "Snooze 15 min", "Snooze 1 h", "Tonight", "Skip today"]
    assert await world.at(berlin(*TUESDAY, 7, 31)) == []
    replies = await ana.presses("Start session")
    assert replies[0].text.startswith("Before we start: how is your back right now")
    replies = await ana.presses("3")
    assert paragraphs(replies)[1].startswith("Today's session")  # after the thanks
    await world.close()


async def test_the_reminder_names_the_programme_day_and_an_exercise_stage(tmp_path):
    world = await World.open(tmp_path, berlin(2026, 3, 9, 6, 0))  # a Monday
    ana = await world.onboards()
    await world.at(berlin(2026, 3, 9, 9, 0))
    await ana.trains(pain=2)
    await world.at(berlin(*TUESDAY, 9, 0))
    await ana.trains(pain=2)  # good sessions on two days: everything moves up a stage
    sent = await world.at(berlin(2026, 3, 11, 7, 30))
    text = sent[0].reply.text
    # yesterday was a workout day, so this morning's pain comes first
    assert "Day 3 of your programme" in text and "how is your back this morning" in text
    replies = await ana.says("3")
    assert replies[-1].choices[0].label == "Start session"
    world.clock.set(berlin(2026, 3, 11, 8, 0))
    assert "Day 3 of your programme: Hip hinge is at \"" in \
        world.reminders.chat.greeting(world.coach.services.store.find_user(ana.key),
                                      world.reminders.schedule.prefs(1), world.clock.now())
    await world.close()


async def test_snooze_15_min_and_1_h_remind_again_once(tmp_path):
    world = await World.open(tmp_path, berlin(*TUESDAY, 6, 0))
    ana = await world.onboards()
    await world.at(berlin(*TUESDAY, 7, 30))
    replies = await ana.presses("Snooze 15 min")
    assert replies[0].text == "Okay, I'll remind you again at 07:45."
    assert await world.at(berlin(*TUESDAY, 7, 44)) == []
    sent = await world.at(berlin(*TUESDAY, 7, 45))
    assert len(sent) == 1 and REMINDER in sent[0].reply.text
    replies = await ana.presses("Snooze 1 h")
    assert replies[0].text == "Okay, I'll remind you again at 08:45."
    assert len(await world.walk(berlin(*TUESDAY, 7, 46), berlin(*TUESDAY, 9, 30))) == 1
    await world.close()


async def test_tonight_means_19_00_and_in_the_evening_an_hour_later(tmp_path):
    world = await World.open(tmp_path, berlin(*TUESDAY, 6, 0))
    ana = await world.onboards(time="18:50")
    await world.at(berlin(*TUESDAY, 7, 30))
    assert (await ana.says("snooze tonight"))[0].text.startswith("There's nothing to snooze yet")
    sent = await world.at(berlin(*TUESDAY, 18, 50))
    assert sent[0].reply.text.startswith("Good evening, Ana!")
    replies = await ana.presses("Tonight")
    assert replies[0].text == "It's already evening, so I'll remind you in an hour instead, at 19:50."
    assert len(await world.walk(berlin(*TUESDAY, 18, 51), berlin(*TUESDAY, 20, 0))) == 1
    await world.close()


async def test_snooze_typed_with_a_duration(tmp_path):
    world = await World.open(tmp_path, berlin(*TUESDAY, 6, 0))
    ana = await world.onboards()
    await world.at(berlin(*TUESDAY, 7, 30))
    assert (await ana.says("snooze 30 min"))[0].text == "Okay, I'll remind you again at 08:00."
    assert (await ana.says("snooze 2h"))[0].text == "Okay, I'll remind you again at 09:30."
    replies = await ana.says("snooze")
    assert replies[0].text == "When should I remind you again?"
    assert [c.label for c in replies[0].choices] == ["Snooze 15 min", "Snooze 1 h", "Tonight"]
    # the newer snooze replaced the older one: one more reminder, at 09:30
    sent = await world.walk(berlin(*TUESDAY, 7, 31), berlin(*TUESDAY, 10, 0))
    assert [world.wall(s).strftime("%H:%M") for s in sent] == ["09:30"]
    await world.close()


async def test_a_snooze_survives_a_restart(tmp_path):
    world = await World.open(tmp_path, berlin(*TUESDAY, 6, 0))
    ana = await world.onboards()
    await world.at(berlin(*TUESDAY, 7, 30))
    await ana.presses("Snooze 1 h")
    world.clock.set(berlin(*TUESDAY, 7, 40))
    world = await world.restart()
    sent = await world.walk(berlin(*TUESDAY, 7, 41), berlin(*TUESDAY, 9, 0))
    assert [world.wall(s).strftime("%H:%M") for s in sent] == ["08:30"]
    await world.close()


async def test_skip_today_stops_todays_reminders_and_says_when_the_next_comes(tmp_path):
    world = await World.open(tmp_path, berlin(*TUESDAY, 6, 0))
    ana = await world.onboards()
    await world.at(berlin(*TUESDAY, 7, 30))
    await ana.presses("Snooze 15 min")
    replies = await ana.presses("Skip today")
    assert replies[0].text == ("Okay, no more reminders today. Rest well. "
                               "Next reminder: Wed 11 Mar at 07:30.")
    assert await world.walk(berlin(*TUESDAY, 7, 31), berlin(*TUESDAY, 23, 0),
                            timedelta(minutes=5)) == []
    assert len(await world.at(berlin(2026, 3, 11, 7, 30))) == 1
    await world.close()


async def test_skip_today_before_the_reminder_means_no_reminder_today(tmp_path):
    world = await World.open(tmp_path, berlin(*TUESDAY, 6, 0))
    ana = await world.onboards()
    replies = await ana.says("skip today")
    assert replies[0].text.endswith("Next reminder: Wed 11 Mar at 07:30.")
    assert await world.walk(berlin(*TUESDAY, 7, 0), berlin(*TUESDAY, 9, 0)) == []
    await world.close()


async def test_a_button_from_yesterdays_reminder_is_answered_as_passed(tmp_path):
    world = await World.open(tmp_path, berlin(*TUESDAY, 6, 0))
    ana = await world.onboards()
    await world.at(berlin(*TUESDAY, 7, 30))
    old_snooze = ana.last.choices[1].action
    await world.at(berlin(2026, 3, 11, 7, 30))
    replies = await ana.sends_payload(old_snooze)
    assert replies[0].text == "That reminder was for Tue 10 Mar and has passed."
    assert world.reminders.book.row(1, "snooze") is None
    await world.close()


async def test_snooze_and_skip_wait_until_onboarding_is_done(tmp_path):
    world = await World.open(tmp_path, berlin(*TUESDAY, 6, 0))
    bo = world.person("bo", "Bo")
    await bo.says("/start")
    replies = await bo.says("snooze")
    assert replies[0].text.startswith("You'll choose a reminder time at the end of the setup")
    assert "safety check" in replies[-1].text.lower() and replies[-1].choices
    await world.close()


class BlockedBy(RecordingAdapter):
    """The platform answers "forbidden" for people who blocked the bot; counts every try."""

    blocked: set[str] = set()

    def __init__(self, coach, budget=None) -> None:
        super().__init__(coach, budget)
        self.tries: list[str] = []

    async def send(self, user, reply, context) -> None:
        self.tries.append(user.id)
        if user.id in self.blocked:
            raise Unreachable("Forbidden: bot was blocked by the user")
        await super().send(user, reply, context)


async def test_a_person_who_blocked_the_bot_gets_no_further_reminders(tmp_path):
    BlockedBy.blocked = set()
    world = await World.open(tmp_path, berlin(*TUESDAY, 6, 0), adapter_class=BlockedBy)
    ana = await world.onboards("ana")
    await world.onboards("bo")
    BlockedBy.blocked = {"ana"}
    world.adapter.tries.clear()
    await world.at(berlin(*TUESDAY, 7, 30))
    assert world.adapter.tries.count("ana") == 1
    user = world.coach.services.store.find_user(ana.key)
    assert not user.reminders_on
    assert world.reminders.book.row(user.id, "daily") is None
    world.adapter.tries.clear()
    await world.walk(berlin(2026, 3, 11, 7, 0), berlin(2026, 3, 12, 8, 0), timedelta(minutes=10))
    assert world.adapter.tries == ["bo", "bo"]  # Ana is never tried again, Bo still gets his
    log = world.reminders.book.history(user.id)
    assert [(r["slot"], r["status"]) for r in log] == [("2026-03-10", "failed")]
    await world.close()


async def test_transient_errors_are_retried_and_a_429_is_waited_out(tmp_path):
    class Flaky(RecordingAdapter):
        failures = [Transient("502"), RetryAfter(7), Transient("timeout")]

        async def send(self, user, reply, context):
            if self.failures:
                raise self.failures.pop(0)
            await super().send(user, reply, context)

    world = await World.open(tmp_path, berlin(*TUESDAY, 6, 0), adapter_class=Flaky)
    await world.onboards()
    world.adapter.failures = [Transient("502"), RetryAfter(7), Transient("timeout")]
    sent = await world.at(berlin(*TUESDAY, 7, 30))
    assert len(sent) == 1 and REMINDER in sent[0].reply.text
    # 1 s backoff + the 7 s asked for + 2 s backoff, in clock time
    assert world.wall(sent[0]) >= berlin(*TUESDAY, 7, 30, 10)
    assert await world.at(berlin(*TUESDAY, 8, 0)) == []
    await world.close()


async def test_an_erased_person_is_skipped_silently(tmp_path):
    world = await World.open(tmp_path, berlin(*TUESDAY, 6, 0))
    ana = await world.onboards("ana")
    bo = await world.onboards("bo")
    store = world.coach.services.store
    ana_id, bo_id = store.find_user(ana.key).id, store.find_user(bo.key).id
    store.erase_user(ana_id)  # "delete my data": the users-table watcher cancels her schedule
    await world.at(berlin(*TUESDAY, 6, 1))
    assert world.reminders.book.row(ana_id, "daily") is None
    # Bo's row goes out from under the scheduler (another connection, no watcher)
    other = sqlite3.connect(world.path)
    other.execute("PRAGMA foreign_keys=OFF")
    other.execute("DELETE FROM users WHERE id = ?", [bo_id])
    other.commit()
    other.close()
    assert world.reminders.book.row(bo_id, "daily") is not None
    assert await world.at(berlin(*TUESDAY, 7, 30)) == []
    assert world.reminders.book.row(bo_id, "daily") is None
    await world.close()


async def test_after_downtime_a_reminder_within_3_hours_is_sent_late(tmp_path):
    world = await World.open(tmp_path, berlin(*TUESDAY, 6, 0))
    await world.onboards()
    await world.close()  # down from 06:00 ...
    world.clock.set(berlin(*TUESDAY, 10, 15))  # ... to 10:15: 2 h 45 min late
    world = await world.reopen()
    sent = await world.at(berlin(*TUESDAY, 10, 15))
    assert len(sent) == 1 and REMINDER in sent[0].reply.text
    assert "offline" not in sent[0].reply.text
    await world.close()


async def test_after_long_downtime_the_missed_reminder_is_mentioned_in_the_next(tmp_path):
    world = await World.open(tmp_path, berlin(*TUESDAY, 6, 0))
    await world.onboards()
    await world.close()
    world.clock.set(berlin(*TUESDAY, 10, 31))  # more than 3 h after 07:30
    world = await world.reopen()
    assert await world.at(berlin(*TUESDAY, 10, 31)) == []
    sent = await world.at(berlin(2026, 3, 11, 7, 30))
    assert len(sent) == 1
    assert ("(I was offline at your reminder time on Tue 10 Mar, so that reminder never came."
            in sent[0].reply.text)
    sent = await world.at(berlin(2026, 3, 12, 7, 30))
    assert "offline" not in sent[0].reply.text  # told once
    log = world.reminders.book.history(1)
    assert [(r["slot"], r["status"]) for r in log] == [
        ("2026-03-10", "missed"), ("2026-03-11", "sent"), ("2026-03-12", "sent")]
    await world.close()


async def test_a_restart_right_after_a_reminder_does_not_send_it_again(tmp_path):
    world = await World.open(tmp_path, berlin(*TUESDAY, 6, 0))
    await world.onboards()
    assert len(await world.at(berlin(*TUESDAY, 7, 30))) == 1
    for minutes in (1, 2):
        world = await world.restart()
        assert await world.at(berlin(*TUESDAY, 7, 30 + minutes)) == []
    await world.close()


async def test_many_people_at_0700_go_out_in_due_order_within_the_budget(tmp_path):
    budget = SendBudget(overall=Rate(5, 1.0))  # 5 a second, in clock time
    world = await World.open(tmp_path, berlin(*TUESDAY, 6, 0), budget=budget)
    for n in range(12):
        await world.onboards(f"p{n:02d}", "07:00")
    await world.onboards("late", "07:01")
    sent = await world.at(berlin(*TUESDAY, 7, 1))
    assert [s.user.id for s in sent] == [f"p{n:02d}" for n in range(12)] + ["late"]
    # 5 at once (the bucket is full), then one every 0.2 s
    assert sent[-1].at - sent[0].at >= (13 - 5) * 0.2 - 1e-6
    await world.close()


async def test_the_weekly_summary_comes_once_a_week_on_sunday_at_reminder_time(tmp_path):
    world = await World.open(tmp_path, berlin(*TUESDAY, 6, 0))
    calls = []

    def summary(user):
        calls.append(user.key.id)
        return [Reply("Your week: 0 workouts.")]

    world.reminders.weekly = summary
    ana = await world.onboards(time="07:30")
    sent = await world.walk(berlin(*TUESDAY, 6, 0), berlin(2026, 3, 23, 12, 0),
                            timedelta(minutes=15))
    weekly = [s for s in sent if s.reply.text.startswith("Your week")]
    assert [world.wall(s).strftime("%a %d %H:%M") for s in weekly] == [
        "Sun 15 07:30", "Sun 22 07:30"]
    assert calls == ["ana", "ana"]
    assert len(world.reminders_to(ana, sent)) == 14  # the daily ones go on as usual
    # asking again, or restarting, on a Sunday never sends a second one
    world = await world.restart()
    world.reminders.weekly = summary
    await world.at(berlin(2026, 3, 23, 12, 5))
    assert calls == ["ana", "ana"]
    await world.close()


async def test_the_weekly_summary_follows_the_chosen_day(tmp_path):
    world = await World.open(tmp_path, berlin(*TUESDAY, 6, 0))
    world.reminders.weekly = lambda user: [Reply("Your week")]
    ana = await world.onboards(time="08:00")
    await ana.says("settings")
    await ana.presses("Summary day")
    replies = await ana.presses("Wed")
    assert replies[0].text == ("Done: your weekly summary comes on Wednesdays. "
                               "Next one: Wed 11 Mar at 08:00.")
    sent = await world.walk(berlin(*TUESDAY, 8, 0), berlin(2026, 3, 18, 9, 0),
                            timedelta(minutes=30))
    weekly = [world.wall(s).strftime("%a %H:%M") for s in sent if s.reply.text == "Your week"]
    assert weekly == ["Wed 08:00", "Wed 08:00"]
    await world.close()


async def test_no_reminder_or_summary_while_a_blocked_person_decides_whether_to_delete(tmp_path):
    world = await World.open(tmp_path, berlin(*TUESDAY, 6, 0))
    ana = await world.onboards("ana")
    await ana.says("rescreen")
    await ana.presses("Yes")  # a warning sign, confirmed: the programme stops here
    replies = await ana.presses("Yes, that's right")
    assert replies[0].text.startswith("Please stop here and get medical help today")
    await ana.says("delete my data")  # ... and she leaves the question open
    assert world.coach.services.store.find_user(ana.key).state == "delete:redflag:urgent"
    sent = await world.walk(berlin(*TUESDAY, 7, 0), berlin(2026, 3, 15, 9, 0),
                            timedelta(minutes=30))  # past Sunday's summary too
    assert [s.reply.text for s in sent] == []
    await world.close()


async def test_no_reminder_while_someone_mid_rescreen_decides_whether_to_delete(tmp_path):
    world = await World.open(tmp_path, berlin(*TUESDAY, 6, 0))
    ana = await world.onboards("ana")
    await ana.says("rescreen")
    for _ in range(3):
        await ana.presses("No")
    await ana.says("delete my data")
    assert world.coach.services.store.find_user(ana.key).state == "delete:screen:3"
    assert await world.at(berlin(*TUESDAY, 7, 30)) == []
    replies = await ana.says("no")  # keeps her data: back at question 4 of the check
    assert "question 4 of 11" in replies[-1].text
    assert await world.at(berlin(2026, 3, 11, 7, 30)) == []
    await world.close()


async def test_after_downtime_over_a_whole_day_todays_reminder_still_comes(tmp_path):
    world = await World.open(tmp_path, berlin(*TUESDAY, 6, 0))
    await world.onboards()
    await world.close()  # down from Tuesday 06:00, before Tuesday's 07:30 ...
    world.clock.set(berlin(2026, 3, 11, 8, 0))  # ... to Wednesday 08:00: 30 min late
    world = await world.reopen()
    sent = await world.at(berlin(2026, 3, 11, 8, 0))
    assert len(sent) == 1 and REMINDER in sent[0].reply.text
    assert ("(I was offline at your reminder time on Tue 10 Mar, so that reminder never came."
            in sent[0].reply.text)
    assert await world.at(berlin(2026, 3, 11, 9, 0)) == []  # once
    sent = await world.at(berlin(2026, 3, 12, 7, 30))
    assert len(sent) == 1 and "offline" not in sent[0].reply.text  # told once
    log = world.reminders.book.history(1)
    assert [(r["slot"], r["status"]) for r in log] == [
        ("2026-03-10", "missed"), ("2026-03-11", "sent"), ("2026-03-12", "sent")]
    await world.close()


async def test_after_several_days_down_only_the_first_missed_day_is_told(tmp_path):
    world = await World.open(tmp_path, berlin(*TUESDAY, 6, 0))
    await world.onboards()
    await world.close()  # down from Tuesday to Friday 09:00: Tue, Wed and Thu passed
    world.clock.set(berlin(2026, 3, 13, 9, 0))
    world = await world.reopen()
    sent = await world.at(berlin(2026, 3, 13, 9, 0))
    assert len(sent) == 1 and "on Tue 10 Mar" in sent[0].reply.text  # Friday's, 1.5 h late
    log = world.reminders.book.history(1)
    assert [(r["slot"], r["status"]) for r in log] == [
        ("2026-03-10", "missed"), ("2026-03-13", "sent")]
    await world.close()


async def test_no_reminder_while_the_workout_is_open_in_the_player(tmp_path):
    """Ana began a session at 07:20 in the player page (state "player"): the 07:30 reminder has
    done its job, and "snooze" says where her workout is. Bob opened one the evening before and
    never began it: his reminder comes as usual."""
    world = await World.open(tmp_path, berlin(2026, 3, 9, 19, 0))  # Monday evening
    ana = await world.onboards("ana")
    bob = await world.onboards("bob", name="Bob")
    store = world.coach.services.store
    world.clock.set(berlin(2026, 3, 9, 20, 0))  # Bob's offer, never taken up
    store.start_workout(store.find_user(bob.key).id, world.clock.now(), None, {})
    store.set_state(store.find_user(bob.key).id, PLAYER)
    world.clock.set(berlin(*TUESDAY, 7, 20))
    store.start_workout(store.find_user(ana.key).id, world.clock.now(), 3, {})
    store.set_state(store.find_user(ana.key).id, PLAYER)
    sent = await world.at(berlin(*TUESDAY, 7, 30))
    assert {item.user for item in sent} == {bob.key}
    offer = world.coach.services.texts("player_offer.offer")
    assert sent[-1].reply.text == offer  # his session is still on offer, under the reminder
    [reply] = await ana.says("snooze 1 h")
    assert reply.text.startswith("That's not something I can do right now.")
    assert "Your workout is open in the player" in reply.text
    await world.close()
