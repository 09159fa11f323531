"""The next-morning check, asked by the reminder after a workout day: "Ana trained yesterday;
at 07:30 the coach asks how her back is this morning; a worse back holds or lowers stages"."""
from __future__ import annotations

import pytest
from chat import paragraphs
from reminder_world import World, berlin

EXERCISES = ["hip_flexor_stretch", "hamstring_stretch", "side_plank", "dead_bug", "bird_dog",
             "squat", "hip_hinge"]
MON, TUE, WED, THU = (2026, 3, 9), (2026, 3, 10), (2026, 3, 11), (2026, 3, 12)

pytestmark = pytest.mark.usefixtures("virtual_time")  # waits for replies never race the machine


async def _ana_trained_on_tuesday(tmp_path, workouts: int = 1, pain: int = 2, before: int = 3):
    """Ana trains on Tuesday at 09:00 (with workouts=2 on Monday too: step-ups need
    comfortable sessions on separate days), saying her pain is `before` each time."""
    days = [MON, TUE][-workouts:]
    world = await World.open(tmp_path, berlin(*days[0], 6, 0))
    ana = await world.onboards("ana", "07:30", "Europe/Berlin", name="Ana")  # baseline pain 3
    for day in days:
        await world.at(berlin(*day, 9, 0))
        await ana.trains(pain=pain, before=before)
    return world, ana


async def test_after_a_workout_day_the_reminder_asks_this_mornings_pain_first(tmp_path):
    world, ana = await _ana_trained_on_tuesday(tmp_path)
    sent = await world.at(berlin(*WED, 7, 30))
    question = sent[0].reply
    assert "Day 2 of your programme" in question.text
    assert question.text.endswith("You trained yesterday, so first: how is your back this "
                                  "morning, from 0 (no pain) to 10 (worst imaginable)?")
    assert [c.label for c in question.choices] == [str(n) for n in range(11)]
    replies = await ana.presses("3")
    assert [r.text for r in replies[:2]] == [
        "Thanks: 3/10 this morning, 3/10 before yesterday's workout.",
        "No worse than before yesterday's workout, so today's plan stands."]
    assert [c.label for c in replies[-1].choices] == [
        "Start session", "Snooze 15 min", "Snooze 1 h", "Tonight", "Skip today"]
    store = world.coach.services.store
    user = store.find_user(ana.key)
    assert user.state == "ready"
    assert [(p.score, p.kind) for p in store.pain_reports(user.id)][-1] == (3, "morning")
    await world.close()


async def test_a_small_rise_holds_step_ups_at_the_next_workout_only(tmp_path):
    world, ana = await _ana_trained_on_tuesday(tmp_path)  # pain before 3, after 2
    store = world.coach.services.store
    user = store.find_user(ana.key)
    await world.at(berlin(*WED, 7, 30))
    replies = await ana.presses("4")  # one point worse than before yesterday's workout
    assert replies[1].text == ("Your back is a little worse than before yesterday's workout, "
                               "so nothing moves up today.")
    await world.at(berlin(*WED, 9, 0))
    replies = await ana.trains(pain=2)  # a second good session would earn a step up ...
    assert not any(text.startswith("⬆") for text in paragraphs(replies))  # ... but it is held
    assert set(store.stages(user.id).values()) == {0}
    await world.at(berlin(*THU, 7, 30))
    await ana.presses("2")
    await world.at(berlin(*THU, 9, 0))
    replies = await ana.trains(pain=2)  # the hold was for one workout
    [ups] = [text for text in paragraphs(replies) if text.startswith("⬆")]
    assert ups.startswith("⬆ 7 exercises move up a stage") and ups.count("\n• ") == 7
    assert set(store.stages(user.id).values()) == {1}
    await world.close()


async def test_a_big_rise_lowers_yesterdays_exercises_and_says_why(tmp_path):
    world, ana = await _ana_trained_on_tuesday(tmp_path, workouts=2, before=2)  # stage 2/..
    store = world.coach.services.store
    user = store.find_user(ana.key)
    assert set(store.stages(user.id).values()) == {1}
    await world.at(berlin(*WED, 7, 30))
    replies = await ana.presses("6")  # 4 points above the 2 before yesterday's last workout
    downs = [text for text in paragraphs(replies) if text.startswith("⬇")]
    assert len(downs) == 7
    assert any(t.startswith("⬇ Side plank: back to \"Knees down, 10 s holds\". Your back was 4 "
                            "points worse this morning than before yesterday's workout.")
               for t in downs)
    assert set(store.stages(user.id).values()) == {0}
    changes = store.stage_changes(user.id)
    assert [c.reason for c in changes[-7:]] == ["morning_down"] * 7
    assert sorted(c.exercise_id for c in changes[-7:]) == sorted(EXERCISES)
    replies = await ana.says("why side plank")
    assert "worse the next morning" in replies[0].text
    await world.close()


async def test_the_morning_check_can_be_skipped_by_starting_the_session(tmp_path):
    world, ana = await _ana_trained_on_tuesday(tmp_path)
    await world.at(berlin(*WED, 7, 30))
    replies = await ana.says("start session")
    assert replies[0].text.startswith("Before we start: how is your back right now")
    replies = await ana.presses("3")
    assert paragraphs(replies)[1].startswith("Today's session")  # after the thanks
    await world.close()


async def test_an_answer_out_of_range_is_asked_again(tmp_path):
    world, ana = await _ana_trained_on_tuesday(tmp_path)
    await world.at(berlin(*WED, 7, 30))
    replies = await ana.says("12")
    assert "0 to 10" in replies[0].text and len(replies[0].choices) == 11
    replies = await ana.says("help")
    assert "how is your back this morning" in replies[-1].text.lower()
    await world.close()


async def test_a_snoozed_morning_reminder_asks_again_until_answered(tmp_path):
    world, ana = await _ana_trained_on_tuesday(tmp_path)
    await world.at(berlin(*WED, 7, 30))
    await ana.says("snooze 15 min")
    sent = await world.at(berlin(*WED, 7, 45))
    assert "how is your back this morning" in sent[0].reply.text
    await ana.presses("2")
    await ana.says("snooze 15 min")
    sent = await world.at(berlin(*WED, 8, 0))
    assert "how is your back" not in sent[0].reply.text
    assert sent[0].reply.choices[0].label == "Start session"
    await world.close()


async def test_an_unanswered_morning_question_is_over_by_the_next_reminder(tmp_path):
    world, ana = await _ana_trained_on_tuesday(tmp_path)
    await world.at(berlin(*WED, 7, 30))  # asked, never answered; no workout on Wednesday
    sent = await world.at(berlin(*THU, 7, 30))
    assert "how is your back" not in sent[0].reply.text
    assert world.coach.services.store.find_user(ana.key).state == "ready"
    replies = await ana.says("3")
    assert replies[0].text.startswith("Thanks, I've noted your back pain at 3/10.")
    await world.close()


async def test_yesterdays_unanswered_question_is_not_answered_today(tmp_path):
    world, ana = await _ana_trained_on_tuesday(tmp_path)  # pain before 3
    store = world.coach.services.store
    user = store.find_user(ana.key)
    await world.at(berlin(*WED, 7, 30))  # asked on Wednesday, never answered
    world.clock.set(berlin(*THU, 6, 45))  # Thursday, before the reminder
    replies = await ana.says("6")  # a pain report for today, not Wednesday's answer
    assert replies[0].text == ("Thanks, I've noted your back pain at 6/10. "
                               "That's up from 2 to 6 since last time.")
    assert not any(text.startswith("⬇") for text in paragraphs(replies))
    assert set(store.stages(user.id).values()) == {0}
    assert [(p.score, p.kind) for p in store.pain_reports(user.id)][-1] == (6, "adhoc")
    assert store.find_user(ana.key).state == "ready"
    check = world.reminders.book.check(user.id, "2026-03-11")
    assert (check["pain"], check["outcome"]) == (None, "expired")  # closed, unanswered
    assert world.reminders.book.open_check(user.id) is None
    await world.close()
