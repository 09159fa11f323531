"""Conversations with the coach, told as "the person says X, the coach answers Y"."""
from __future__ import annotations

from chat import Person

EXERCISES = ["hip_flexor_stretch", "hamstring_stretch", "side_plank", "dead_bug", "bird_dog",
             "squat", "hip_hinge"]


async def test_new_person_is_told_what_the_coach_is_and_is_not(ana: Person):
    replies = await ana.says("hello")
    assert "not: a doctor" in replies[0].text or "not a" in replies[0].text
    assert "clinician" in replies[0].text
    assert [c.label for c in replies[0].choices] == ["Got it, let's go"]


async def test_onboarding_is_resumed_where_the_person_left(ana: Person, coach):
    await ana.says("/start")
    await ana.presses("Got it, let's go")
    await ana.presses("No")
    # the person goes away; later they come back with /start
    replies = await ana.says("/start")
    assert "question 2 of 11" in replies[-1].text


async def test_a_red_flag_never_starts_the_programme(ana: Person, coach):
    await ana.says("/start")
    await ana.presses("Got it, let's go")
    replies = await ana.presses("Yes")  # loss of bladder or bowel control
    assert "emergency" in replies[-1].text
    assert [c.label for c in replies[-1].choices] == ["Re-take the check"]
    for attempt in ("start session", "/session", "pain 2", "progress", "done"):
        replies = await ana.says(attempt)
        assert "practitioner" in replies[-1].text or "rescreen" in replies[-1].text
    user = coach.services.store.find_user(ana.key)
    assert user.state == "redflag:urgent"
    assert coach.services.store.workouts(user.id) == []
    assert coach.services.store.stages(user.id) == {}
    assert not coach.workout_running(ana.key)


async def test_a_practitioner_flag_stops_the_programme_until_rescreened(ana: Person, coach):
    await ana.says("/start")
    await ana.presses("Got it, let's go")
    for _ in range(4):
        await ana.presses("No")
    replies = await ana.presses("Yes")  # started after a fall
    assert "health practitioner" in replies[-1].text
    replies = await ana.says("start session")
    assert "paused because of your safety-check" in replies[-1].text
    replies = await ana.presses("Re-take the check")
    assert "question 1 of 11" in replies[-1].text


async def test_new_person_completes_onboarding_and_a_full_workout(ana: Person, coach):
    await ana.onboards(baseline=3)
    await ana.trains()
    texts = [r.text for r in ana.replies]
    for n in range(1, 8):
        assert any(t.startswith(f"{n}/7 · ") for t in texts), n
    assert any(t.startswith("Hold 10 s · ") and "rep 4/10" in t for t in texts)
    assert any(t.startswith("Rest 3 s") for t in texts)
    assert any(t.startswith("Switch sides") for t in texts)
    assert any("Set 2 of 2" in t for t in texts)
    replies = await ana.says("pain 2")
    assert replies[0].text == "Noted: pain 2/10."
    user = coach.services.store.find_user(ana.key)
    exported = coach.services.store.export_user(user)
    assert len(exported["workouts"]) == 1
    assert exported["workouts"][0]["status"] == "done"
    assert [e["exercise_id"] for e in exported["workouts"][0]["exercises"]] == EXERCISES
    assert [(p["score"], p["kind"]) for p in exported["pain_reports"]] == [(2, "after")]


async def test_two_good_workouts_move_every_exercise_up_and_pain_7_moves_them_down(
        ana: Person, coach):
    await ana.onboards(baseline=3)
    user = coach.services.store.find_user(ana.key)
    await ana.trains(pain=2)
    assert set(coach.services.store.stages(user.id).values()) == {0}
    replies = await ana.trains(pain=2)
    ups = [r.text for r in replies if r.text.startswith("⬆")]
    assert len(ups) == 7
    assert coach.services.store.stages(user.id) == {e: 1 for e in EXERCISES}
    replies = await ana.trains(pain=7)
    downs = [r.text for r in replies if r.text.startswith("⬇")]
    assert len(downs) == 7 and "above 5" in downs[0]
    assert coach.services.store.stages(user.id) == {e: 0 for e in EXERCISES}
    changes = coach.services.store.stage_changes(user.id)
    assert [c.reason for c in changes] == ["up"] * 7 + ["down"] * 7
    replies = await ana.says("why is side plank easier?")
    assert "Side plank" in replies[0].text and "above 5" in replies[0].text


async def test_pain_of_8_suggests_a_clinician(ana: Person):
    await ana.onboards()
    await ana.trains()
    replies = await ana.says("8")
    assert any("health practitioner" in r.text for r in replies)


async def test_pain_answers_outside_0_to_10_are_asked_again(ana: Person):
    await ana.onboards()
    await ana.trains()
    for bad in ("eleven", "-1", "abc", "🙂", "11", "3.5", ""):
        replies = await ana.says(bad)
        assert replies and ("0 to 10" in replies[-1].text or "0 (no pain)" in replies[-1].text), bad
        assert len(replies[-1].choices) == 11
    replies = await ana.says("four")
    assert replies[0].text == "Noted: pain 4/10."


async def test_pain_can_be_reported_at_any_time(ana: Person, coach):
    await ana.onboards()
    replies = await ana.says("pain 4")
    assert "4/10" in replies[0].text
    user = coach.services.store.find_user(ana.key)
    assert [(p.score, p.kind) for p in coach.services.store.pain_reports(user.id)] == [(4, "adhoc")]


async def test_progress_shows_the_ladder(ana: Person):
    await ana.onboards()
    replies = await ana.says("progress")
    text = replies[0].text
    assert "Side plank: Knees down, 10 s holds (1/" in text
    assert "next:" in text


async def test_a_group_chat_gets_a_note_to_talk_privately(ana: Person, coach):
    replies = await ana.says("start session", private=False)
    assert "private" in replies[0].text
    assert coach.services.store.find_user(ana.key) is None  # a bystander in a group leaves no trace


async def test_a_button_from_a_finished_step_is_answered_politely(ana: Person):
    await ana.says("/start")
    await ana.presses("Got it, let's go")
    old_no = ana.last.choices[1].action
    await ana.presses("No")
    replies = await ana.sends_payload(old_no)
    assert replies[0].text.startswith("That question has passed")
    assert "question 2 of 11" in replies[-1].text


async def test_start_session_is_understood_in_many_forms(coach, adapter):
    for n, words in enumerate(("START SESSION", "/session", "/start_session", "Start session!")):
        person = Person(coach, adapter, f"p{n}")
        await person.onboards()
        replies = await person.says(words)
        assert replies[0].text.startswith("Today's session"), words
        await person.stops()


async def test_rescreen_after_onboarding_returns_to_the_programme(ana: Person, coach):
    await ana.onboards()
    await ana.says("rescreen")
    for _ in coach.services.questions:
        replies = await ana.presses("No")
    assert "where you left it" in replies[-1].text
    assert coach.services.store.find_user(ana.key).state == "ready"


async def test_one_person_waiting_on_a_slow_chat_never_holds_up_another(coach):
    import asyncio

    from bot.delivery import SendBudget
    from chat import RecordingAdapter

    class SlowForAna(RecordingAdapter):
        async def send(self, user, reply, context):
            if user.id == "ana":
                await asyncio.sleep(3600)  # Ana's chat hangs
            await super().send(user, reply, context)

    adapter = SlowForAna(coach, SendBudget())
    ana, ben = Person(coach, adapter, "ana"), Person(coach, adapter, "ben")
    stuck = asyncio.create_task(ana.says("/start"))
    replies = await asyncio.wait_for(ben.says("/start"), 5)
    assert "coach" in replies[0].text
    stuck.cancel()
