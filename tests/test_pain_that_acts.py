"""Pain answers that act: pain above the hold band after a workout stops exercise for the day,
two such workouts in a week pause step-ups and bring a practitioner in, and a starting pain of
8-10 (before a session, or at onboarding) means no workout that day. The thresholds are read
from content/rules.toml ([pain_limits]), never repeated here."""
from __future__ import annotations

from chat import Person, paragraphs
from reminder_world import World, berlin

STOP_FOR_TODAY = "That's a lot of pain. Please stop the exercises for today."
NO_WORKOUT_TODAY = "so there's no workout today"


def _labels(reply) -> list[str]:
    return [choice.label for choice in reply.choices]


async def test_pain_7_after_a_workout_gives_the_stop_for_today_advice_and_a_rest_day(
        ana: Person, coach):
    await ana.onboards()
    user = coach.services.store.find_user(ana.key)
    coach.services.store.change_stage(user.id, "side_plank", 0, 1, "up", {}, coach.clock.now(),
                                      None)
    replies = await ana.trains(pain=7)
    assert len(replies) == 1  # the answer, what it changes and the advice: one message
    texts = paragraphs(replies)
    assert texts[0] == "Noted: pain 7/10, up from 3 before the workout."
    assert any(t.startswith('⬇ Side plank: back to "Knees down, 10 s holds"') for t in texts)
    said = "\n\n".join(texts)
    advice = said[said.index(STOP_FOR_TODAY):]  # and what follows it
    assert "short, easy walks" in advice and "health practitioner" in advice
    assert "Start session" not in _labels(replies[-1])  # rest is offered, not a session
    assert _labels(replies[-1]) == ["Progress", "Help"]

    replies = await ana.says("start session")  # later the same day
    assert replies[0].text.startswith("Your workout earlier today left your back at 7/10, so we "
                                      "stopped for today.")
    assert len(coach.services.store.workouts(user.id)) == 1
    replies = await ana.says("hello")
    assert "Start session" not in _labels(replies[-1])

    await ana.next_day()
    replies = await ana.says("start session")
    assert "how is your back right now" in replies[0].text  # a new day: asked again


async def test_a_starting_pain_of_9_does_not_start_a_workout(ana: Person, coach):
    await ana.onboards()
    replies = await ana.says("start session")
    assert [c.label for c in replies[0].choices] == [str(n) for n in range(11)]
    replies = await ana.presses("9")
    assert len(replies) == 1  # with the rest-day menu, one message
    thanks, not_today = replies[0].text.split("\n\n", 1)
    assert thanks == "Thanks: 9/10 right now. That's up from 3 to 9 since last time."
    assert "Pain at 9/10 is too much to exercise through" in not_today and \
        NO_WORKOUT_TODAY in not_today
    assert "short walks" in not_today and "check again tomorrow" in not_today
    assert "health practitioner" in not_today  # if it stays this high
    assert "Start session" not in _labels(replies[-1])
    user = coach.services.store.find_user(ana.key)
    assert coach.services.store.workouts(user.id) == [] and not coach.workout_running(ana.key)
    assert [(p.score, p.kind) for p in coach.services.store.pain_reports(user.id)] == [
        (9, "before")]
    replies = await ana.says("start session")
    assert replies[0].text.startswith("Your back was at 9/10 earlier today, which is too much to "
                                      "exercise through, so today stays a rest day.")
    assert coach.services.store.workouts(user.id) == []


async def test_a_baseline_of_9_does_not_start_a_workout_that_day(ana: Person, coach):
    await ana.onboards(baseline=9)
    done, not_today = ana.replies[-2:]
    assert done.text.startswith("You're all set!") and not done.choices
    assert "Pain at 9/10 is too much to exercise through" in not_today.text
    assert "Start session" not in _labels(not_today)
    replies = await ana.says("start session")
    assert replies[0].text.startswith("Your back was at 9/10 earlier today")
    user = coach.services.store.find_user(ana.key)
    assert coach.services.store.workouts(user.id) == []
    await ana.next_day()
    replies = await ana.says("start session")
    assert "how is your back right now" in replies[0].text


async def test_a_high_score_any_time_brings_rest_and_advice_not_a_session(ana: Person):
    await ana.onboards()
    replies = await ana.says("pain 9")
    assert replies[0].text == ("Thanks, I've noted your back pain at 9/10. "
                               "That's up from 3 to 9 since last time.")
    assert any("health practitioner" in r.text for r in replies)
    assert replies[-1].text.startswith("That's a lot of pain. Please don't exercise through it")
    assert not any("Start session" in _labels(r) for r in replies)


async def test_two_painful_workouts_in_a_week_pause_step_ups_until_the_week_has_passed(tmp_path):
    world = await World.open(tmp_path, berlin(2026, 3, 9, 6, 0))
    ana = await world.onboards("ana", "07:30", "Europe/Berlin", name="Ana")
    store = world.coach.services.store
    user = store.find_user(ana.key)
    replies = await ana.trains(pain=7)
    assert any(text.startswith(STOP_FOR_TODAY) for text in paragraphs(replies))
    assert not any("workouts in the last" in r.text for r in replies)  # one is not a pattern

    await ana.next_day()
    replies = await ana.trains(pain=6)
    said = "\n\n".join(paragraphs(replies))
    paused = said[said.index("That's 2 workouts"):]  # and what follows it
    assert paused.startswith("That's 2 workouts in the last 7 days with pain above 5/10 "
                             "afterwards.")
    assert "health practitioner" in paused

    for day in range(5):  # comfortable days that would have earned a step up: paused
        await ana.next_day()
        replies = await ana.trains(pain=2)
        assert any(text.startswith("Good session. Step-ups are paused")
                   for text in paragraphs(replies)), day
        assert set(store.stages(user.id).values()) == {0}

    await ana.next_day()  # the first painful workout is now more than a week old
    replies = await ana.trains(pain=2)
    texts = paragraphs(replies)
    assert "Your recent workouts have been easier on your back, so exercises can move up " \
        "again by the usual rules." in texts
    assert any(t.startswith("⬆ 7 exercises move up a stage") for t in texts)
    assert set(store.stages(user.id).values()) == {1}
    await world.close()
