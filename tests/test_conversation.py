"""Conversations with the coach, told as "the person says X, the coach answers Y"."""
from __future__ import annotations

from chat import Person, paragraphs

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
    assert "emergency" in replies[-1].text  # asked to confirm, with the urgent advice
    replies = await ana.presses("Yes, that's right")
    assert "emergency" in replies[-1].text
    assert [c.label for c in replies[-1].choices] == ["A clinician has checked me",
                                                      "Re-take the check"]
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
    assert replies[0].text.startswith("Noted: pain 2/10")
    user = coach.services.store.find_user(ana.key)
    exported = coach.services.store.export_user(user)
    assert len(exported["workouts"]) == 1
    assert exported["workouts"][0]["status"] == "done"
    assert [e["exercise_id"] for e in exported["workouts"][0]["exercises"]] == EXERCISES
    assert [(p["score"], p["kind"]) for p in exported["pain_reports"]] == [(3, "before"),
                                                                          (2, "after")]


async def test_two_good_workouts_move_every_exercise_up_and_pain_7_moves_them_down(
        ana: Person, coach):
    await ana.onboards(baseline=3)
    user = coach.services.store.find_user(ana.key)
    await ana.trains(pain=2)
    assert set(coach.services.store.stages(user.id).values()) == {0}
    await ana.next_day()  # comfortable sessions count on separate days
    replies = await ana.trains(pain=2)
    [ups] = [text for text in paragraphs(replies) if text.startswith("⬆")]  # one headline, a compact list
    assert ups.startswith("⬆ 7 exercises move up a stage") and ups.count("\n• ") == 7
    assert coach.services.store.stages(user.id) == {e: 1 for e in EXERCISES}
    replies = await ana.trains(pain=7)
    [downs] = [text for text in paragraphs(replies) if text.startswith("⬇")]
    assert "above 5" in downs and downs.count("\n• ") == 7
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
    assert replies[0].text.startswith("Noted: pain 4/10")


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
        assert "how is your back right now" in replies[0].text, words  # first, the pain now
        replies = await person.presses("3")
        thanks, plan = paragraphs(replies)  # the thanks and today's plan: one message
        assert thanks.startswith("Thanks: 3/10") and plan.startswith("Today's session"), words
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


# -- pictures on the exercise cards (issue 12) -------------------------------------------------

def cards(replies) -> list:
    """The exercise cards among replies, in order."""
    return [reply for reply in replies if reply.text[:4] in {f"{n}/7 " for n in range(1, 8)}]


async def test_every_card_shows_its_animation_and_the_full_text_only_at_the_first_meeting(
        ana: Person, coach, drawn_pictures):
    programme = coach.services.programme
    await ana.onboards()
    await ana.trains(pain=2)
    first = cards(ana.replies)
    assert len(first) == 7
    for card, exercise in zip(first, programme.exercises):
        stage = exercise.stages[0]
        assert card.image.animated and card.image.data.startswith(b"GIF89a")
        assert card.image.name == f"{exercise.id}-{stage.id}.gif" and card.image.key
        assert exercise.name in card.image.description
        # New to this stage: every step, cue and warning on the card, unasked.
        assert stage.steps[-1] in card.text
        assert stage.avoid[-1] in card.text and stage.cues[-1] in card.text

    mark = len(ana.replies)
    await ana.trains()
    second = cards(ana.replies[mark:])
    assert [card.image.key for card in second] == [card.image.key for card in first]
    for card, exercise in zip(second, programme.exercises):
        stage = exercise.stages[0]
        lines = card.text.split("\n")
        assert lines[0] == f"{programme.exercises.index(exercise) + 1}/7 · {exercise.name} " \
                           f"({stage.name})"
        assert stage.steps[0] not in card.text  # met before: the short card
        assert "How exactly?" in [choice.label for choice in card.choices]

    user = coach.services.store.find_user(ana.key)
    seen = coach.services.store.export_user(user)["seen_stages"]  # the person's data, exported
    assert sorted((row["exercise_id"], row["stage_index"]) for row in seen) == \
        sorted((exercise.id, 0) for exercise in programme.exercises)


async def test_a_picture_still_being_drawn_never_holds_up_the_workout(held_drawing):
    """Drawing is held up on purpose: the card goes without its picture, the timer runs on, and
    the next time that card comes round its picture is there."""
    from chat import RecordingAdapter

    app = held_drawing.app
    ana = Person(app.coach, RecordingAdapter(app.coach))
    await ana.onboards()
    await ana.starts_session()
    await ana.says("skip")  # the warm-up
    card = await ana.waits_for("1/7 · ")
    assert card.image is None
    await ana.presses("Ready")
    await ana.waits_for("Get ready")  # the cues go on while the picture is drawn
    assert app.services.pictures.ready("hip_flexor_stretch", 0) is None
    held_drawing.release.set()
    await app.services.pictures.files_async("hip_flexor_stretch", 0)  # drawn meanwhile
    await ana.stops()
    await ana.says("3")
    await ana.starts_session()
    await ana.says("skip")
    card = await ana.waits_for("1/7 · ")
    assert card.image is not None and card.image.animated
    await ana.stops()


async def test_why_shows_the_next_stage_with_its_picture(ana: Person, drawn_pictures):
    await ana.onboards()
    replies = await ana.says("why side plank")
    assert replies[0].text.startswith("Side plank hasn't changed stage yet")
    following = replies[-1]
    assert following.text == 'What comes next for Side plank, when it moves up a stage: ' \
                             '"Knees down, 20 s holds".'
    assert following.image.animated and following.image.name == "side_plank-knees_20.gif"
    replies = await ana.presses("How exactly?")
    assert replies[0].text.startswith("Side plank · Knees down, 20 s holds\n1. ")


async def test_progress_offers_whats_next_for_the_exercise_nearest_its_step_up(
        ana: Person, coach, drawn_pictures):
    await ana.onboards()
    hip_hinge = coach.services.programme.exercises[-1]
    coach.services.store.change_stage(coach.services.store.find_user(ana.key).id, hip_hinge.id,
                                      0, len(hip_hinge.stages) - 1, "up", {}, coach.clock.now(),
                                      None)  # at the top: nothing comes after it
    await ana.trains(pain=2)  # one comfortable session: everything else needs one more
    report = (await ana.says("progress"))[0]
    assert [choice.label for choice in report.choices] == [
        "What's next: Half-kneeling hip flexor stretch"]
    replies = await ana.presses("What's next: Half-kneeling hip flexor stretch")
    assert '"Kneeling, 45 s each side"' in replies[0].text
    assert replies[0].image.name == "hip_flexor_stretch-kneeling_45.gif"
    replies = await ana.sends_payload(f"ahead:{hip_hinge.id}")
    assert replies[0].text == "Hip hinge is at the top of its ladder already: nothing harder " \
                              "comes after it."


async def test_forged_picture_buttons_get_a_plain_answer_and_change_nothing(ana: Person, coach,
                                                                            adapter):
    bob = Person(coach, adapter, "bob", "Bob")
    await bob.says("/start")
    replies = await bob.sends_payload("how:side_plank.0")  # before onboarding: not offered
    assert "question" in replies[-1].text or "Got it" in str(replies[-1].choices)
    await ana.onboards()
    for payload in ("how:side_plank.99", "how:side_plank.-1", "how:nothing.0", "how:",
                    "how:side_plank", "ahead:nothing", "ahead:"):
        replies = await ana.sends_payload(payload)
        assert replies[0].text.startswith("I can't find that exercise or stage"), payload
    assert coach.services.store.find_user(ana.key).state == "ready"
