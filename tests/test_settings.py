"""Settings, told as conversations: every change is confirmed with the next reminder's local
date and time, and the next reminder really comes then, without a restart."""
from __future__ import annotations

from datetime import timedelta

from reminder_world import REMINDER, World, berlin, local, new_york

TUE = (2026, 3, 10)


async def _ana(tmp_path, start=berlin(*TUE, 6, 0), time="07:30", zone="Europe/Berlin"):
    world = await World.open(tmp_path, start)
    ana = await world.onboards("ana", time, zone, name="Ana")
    return world, ana


def _times(world, sent, zone="Europe/Berlin"):
    return [world.wall(s, zone).strftime("%a %d %H:%M") for s in sent if REMINDER in s.reply.text]


async def test_settings_show_the_reminders_and_when_the_next_one_comes(tmp_path):
    world, ana = await _ana(tmp_path)
    replies = await ana.says("settings")
    assert replies[0].text == ("Your reminders: at 07:30 (Europe/Berlin), every day.\n"
                               "Next reminder: Tue 10 Mar at 07:30.\n"
                               "Weekly summary: Sundays at your reminder time.\n\n"
                               "What would you like to change?")
    assert [c.label for c in replies[0].choices] == [
        "Reminder time", "Time zone", "Days", "Summary day", "Pause", "Turn reminders off", "Done"]
    replies = await ana.presses("Done")
    assert replies[0].text == "Settings saved."
    await world.close()


async def test_a_new_time_is_confirmed_and_used_without_a_restart(tmp_path):
    world, ana = await _ana(tmp_path)
    await ana.says("settings")
    replies = await ana.presses("Reminder time")
    assert replies[0].text.startswith("What time should I remind you?")
    replies = await ana.says("8:15")
    assert replies[0].text == ("Done: reminders at 08:15 (Europe/Berlin), every day. "
                               "Next reminder: Tue 10 Mar at 08:15 (Europe/Berlin).")
    assert world.coach.services.store.find_user(ana.key).state == "ready"
    sent = await world.walk(berlin(*TUE, 7, 0), berlin(*TUE, 9, 0))
    assert _times(world, sent) == ["Tue 10 08:15"]
    await world.close()


async def test_a_later_time_after_todays_reminder_starts_tomorrow(tmp_path):
    world, ana = await _ana(tmp_path)
    await world.at(berlin(*TUE, 7, 30))
    replies = await ana.says("settings time 9am")
    assert replies[0].text.endswith("Next reminder: Wed 11 Mar at 09:00 (Europe/Berlin).")
    sent = await world.walk(berlin(*TUE, 7, 35), berlin(2026, 3, 11, 10, 0),
                            timedelta(minutes=5))
    assert _times(world, sent) == ["Wed 11 09:00"]  # never two on one day
    await world.close()


async def test_a_time_that_is_not_a_time_is_asked_again(tmp_path):
    world, ana = await _ana(tmp_path)
    await ana.says("settings")
    await ana.presses("Reminder time")
    replies = await ana.says("25:00")
    assert replies[0].text.startswith("I couldn't read that as a time")
    replies = await ana.presses("08:00")
    assert "Next reminder: Tue 10 Mar at 08:00" in replies[0].text
    await world.close()


async def test_a_new_time_zone_moves_the_reminder_to_0730_there(tmp_path):
    world, ana = await _ana(tmp_path)
    await ana.says("settings")
    await ana.presses("Time zone")
    replies = await ana.says("New York")
    assert replies[0].text == ("Done: reminders at 07:30 (America/New_York), every day. "
                               "Next reminder: Tue 10 Mar at 07:30 (America/New_York).")
    sent = await world.walk(berlin(*TUE, 7, 0), new_york(*TUE, 8, 0), timedelta(minutes=5))
    assert _times(world, sent, "America/New_York") == ["Tue 10 07:30"]
    await world.close()


async def test_weekdays_only_skip_the_weekend(tmp_path):
    friday = (2026, 3, 13)
    world, ana = await _ana(tmp_path, start=berlin(*friday, 9, 0))
    await ana.says("settings")
    await ana.presses("Days")
    replies = await ana.presses("Weekdays")
    assert replies[0].text == ("Done: reminders at 07:30 (Europe/Berlin), on weekdays. "
                               "Next reminder: Mon 16 Mar at 07:30 (Europe/Berlin).")
    replies = await ana.says("settings days mon wed fri")
    assert "on Mon, Wed, Fri" in replies[0].text
    sent = await world.walk(berlin(*friday, 9, 10), berlin(2026, 3, 20, 9, 0),
                            timedelta(minutes=10))
    assert _times(world, sent) == ["Mon 16 07:30", "Wed 18 07:30", "Fri 20 07:30"]
    await world.close()


async def test_reminders_off_and_on_again(tmp_path):
    world, ana = await _ana(tmp_path)
    replies = await ana.says("reminders off")
    assert replies[0].text == ("Done: reminders are off. Say \"settings\" any time to turn "
                               "them back on.")
    assert await world.walk(berlin(*TUE, 7, 0), berlin(2026, 3, 11, 9, 0),
                            timedelta(minutes=10)) == []
    replies = await ana.says("settings")
    assert replies[0].text.startswith("Your reminders: off.\nNo reminder is scheduled.")
    replies = await ana.presses("Turn reminders on")
    assert replies[0].text.endswith("Next reminder: Thu 12 Mar at 07:30 (Europe/Berlin).")
    assert _times(world, await world.at(berlin(2026, 3, 12, 7, 30))) == ["Thu 12 07:30"]
    await world.close()


async def test_pause_for_3_days_skips_the_next_3_days(tmp_path):
    world, ana = await _ana(tmp_path)
    await world.at(berlin(*TUE, 7, 30))  # today's has come
    replies = await ana.says("pause reminders for 3 days")
    assert replies[0].text == ("Done: reminders paused for 3 days. "
                               "Next reminder: Sat 14 Mar at 07:30 (Europe/Berlin).")
    replies = await ana.says("settings")
    assert replies[0].text.startswith(
        "Your reminders: at 07:30 (Europe/Berlin), every day, paused until Sat 14 Mar.")
    await ana.presses("Done")
    sent = await world.walk(berlin(*TUE, 7, 40), berlin(2026, 3, 14, 9, 0),
                            timedelta(minutes=10))
    assert _times(world, sent) == ["Sat 14 07:30"]
    await world.close()


async def test_pause_asks_how_long_and_resume_ends_it(tmp_path):
    world, ana = await _ana(tmp_path)
    replies = await ana.says("pause reminders")
    assert replies[0].text.startswith("Pause reminders for how many days?")
    replies = await ana.presses("7 days")
    assert replies[0].text.endswith("Next reminder: Tue 17 Mar at 07:30 (Europe/Berlin).")
    replies = await ana.says("resume reminders")
    assert replies[0].text.endswith("Next reminder: Tue 10 Mar at 07:30 (Europe/Berlin).")
    await world.close()


async def test_reminders_on_after_choosing_none_asks_for_time_and_zone(tmp_path):
    world = await World.open(tmp_path, berlin(*TUE, 6, 0))
    bo = world.person("bo", "Bo")
    await bo.says("/start")
    await bo.presses("Got it, let's go")
    for _ in world.coach.services.questions:
        await bo.presses("No")
    await bo.presses("3")
    await bo.presses("Reached it easily")
    await bo.presses("No reminders")
    replies = await bo.says("turn reminders on")
    assert replies[0].text.startswith("What time should I remind you?")
    replies = await bo.says("7am")
    assert replies[0].text.startswith("Which time zone are you in?")
    replies = await bo.says("Tokyo")
    assert replies[0].text == ("Done: reminders at 07:00 (Asia/Tokyo), every day. "
                               "Next reminder: Wed 11 Mar at 07:00 (Asia/Tokyo).")
    sent = await world.walk(berlin(*TUE, 6, 5), local("Asia/Tokyo", 2026, 3, 11, 8, 0),
                            timedelta(minutes=5))
    assert _times(world, sent, "Asia/Tokyo") == ["Wed 11 07:00"]
    await world.close()


async def test_settings_wait_until_a_workout_is_over(tmp_path):
    world, ana = await _ana(tmp_path)
    await ana.starts_session()
    replies = await ana.says("settings")
    assert replies[0].text.startswith("That's not something I can do right now")
    await ana.stops()
    await world.close()


async def test_a_button_from_a_closed_settings_menu_is_stale(tmp_path):
    world, ana = await _ana(tmp_path)
    await ana.says("settings")
    old_days = ana.last.choices[2].action
    await ana.presses("Done")
    replies = await ana.sends_payload(old_days)
    assert replies[0].text.startswith("That question has passed")
    await world.close()


async def test_a_pause_of_0_or_999_days_is_asked_again(tmp_path):
    world, ana = await _ana(tmp_path)
    for typed in ("pause reminders for 0 days", "pause reminders for 999 days"):
        replies = await ana.says(typed)
        assert replies[0].text == ("Please give a number of days from 1 to 90, like "
                                   "\"pause reminders for 3 days\".")
        assert replies[1].text.startswith("Pause reminders for how many days?")
        user = world.coach.services.store.find_user(ana.key)
        assert user.state == "set_pause"
        assert world.reminders.schedule.prefs(user.id).paused_until is None
    replies = await ana.says("91")
    assert replies[0].text.startswith("Please give a number of days from 1 to 90")
    replies = await ana.says("90")
    assert replies[0].text == ("Done: reminders paused for 90 days. "
                               "Next reminder: Mon 8 Jun at 07:30 (Europe/Berlin).")
    await world.close()
