"""Edges around a workout: controls said between two exercises, sets at your own pace, pain
answers given early, forged or old buttons, a worse morning, rescreening mid-way."""
from __future__ import annotations

import pytest

from bot.delivery import Rate, SendBudget
from bot.routing import Feature
from chat import Person, RecordingAdapter, make_coach

pytestmark = pytest.mark.usefixtures("virtual_time")  # make_coach's clock on virtual time


async def _slow_chat(tmp_path, scale: float = 200) -> tuple:
    """A chat with Telegram's 1 message per second, so there is a gap between exercises."""
    coach = make_coach(tmp_path, scale=scale)
    adapter = RecordingAdapter(coach, SendBudget(per_chat=Rate(1, 1.0)))
    return coach, Person(coach, adapter)


async def test_stop_said_between_two_exercises_ends_the_workout_there(tmp_path):
    coach, ana = await _slow_chat(tmp_path)
    await ana.onboards()
    await ana.starts_session()
    await ana.waits_for("✓ Half-kneeling hip flexor stretch done")
    await ana.stops()
    after_stop = [r.text for r in ana.replies[ana.replies.index(
        next(r for r in ana.replies if r.text.startswith("✓ Half-kneeling"))):]]
    assert not any(t.startswith("Hold") for t in after_stop), after_stop
    await coach.shutdown()


async def test_pause_said_between_two_exercises_pauses_the_next_one(tmp_path):
    coach, ana = await _slow_chat(tmp_path)
    await ana.onboards()
    await ana.starts_session()
    await ana.waits_for("✓ Half-kneeling hip flexor stretch done")
    assert any(r.text.startswith("Paused") for r in await ana.says("pause"))
    card = await ana.waits_for("2/7 · Hamstring stretch")
    await coach.services.clock.sleep(120)  # far past the time a card starts by itself
    since_card = ana.replies[ana.replies.index(card) + 1:]
    assert not any(r.text.startswith(("Get ready", "Hold")) for r in since_card)  # it waited
    await ana.says("resume")  # as good as "ready" at a card
    await ana.waits_for("Hold 30 s")
    assert "The timer isn't paused." in [r.text for r in await ana.says("resume")]
    await ana.stops()
    await coach.shutdown()


async def test_a_set_at_your_own_pace_has_no_pause(ana: Person, coach):
    await ana.onboards()
    await ana.reaches(6)
    await ana.waits_for('Say "done"')
    await coach.settled(ana.key)
    assert "Pause" not in [c.label for c in ana.last.choices]
    replies = await ana.says("pause")
    assert replies[0].text.startswith("No timer runs during this set")
    await ana.says("done")
    rest = await ana.waits_for("Rest 60 s")  # the set ended by "done" and its rest began
    assert "Skip rest" in [choice.label for choice in rest.choices]


async def test_high_baseline_pain_brings_the_clinician_advice(ana: Person, coach):
    await ana.says("/start")
    await ana.presses("Got it, let's go")
    for _ in coach.services.questions:
        await ana.presses("No")
    replies = await ana.presses("9")
    assert any("health practitioner" in r.text for r in replies)


async def test_a_forged_pain_button_is_not_stored(ana: Person, coach):
    await ana.onboards()
    await ana.trains()
    replies = await ana.sends_payload("pain:99@after")
    assert "0 to 10" in replies[0].text
    replies = await ana.sends_payload("number:abc@after")
    assert "0 to 10" in replies[0].text
    user = coach.services.store.find_user(ana.key)
    assert [p.kind for p in coach.services.store.pain_reports(user.id)] == ["before"]
    assert user.state == "pain_after"


async def test_a_worse_morning_holding_the_step_up_is_told(ana: Person, coach):
    await ana.onboards()
    # this morning's back was worse than before yesterday's
    coach.use(Feature("a worse morning", holds_step_ups=lambda user: True))
    await ana.trains(pain=2)
    await ana.next_day()
    replies = await ana.trains(pain=2)
    assert any("Nothing moves up this time" in r.text for r in replies)
    user = coach.services.store.find_user(ana.key)
    assert set(coach.services.store.stages(user.id).values()) == {0}


async def test_rescreen_waits_until_the_pain_answer_is_given(ana: Person, coach):
    await ana.onboards()
    await ana.trains()
    replies = await ana.says("rescreen")
    assert "once this workout is finished" in replies[0].text
    assert "How is your back now" in replies[-1].text
    replies = await ana.says("2")
    assert replies[0].text.startswith("Noted: pain 2/10")
