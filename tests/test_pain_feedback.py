"""Feedback that fits what happened: the pain before a session asked and used, changes in pain
named, step-ups only across separate days, several changes in one short message, "why" that
explains, a help that lists everything, counted words in the singular when there is one, and
vague pain words turned into a number to confirm wherever a number is asked."""
from __future__ import annotations

from chat import Person, paragraphs
from reminder_world import World, berlin


async def test_the_pain_before_a_session_is_asked_stored_and_used_by_the_rule(ana: Person, coach):
    await ana.onboards(baseline=3)
    replies = await ana.says("start session")
    question = replies[0]
    assert question.text == ("Before we start: how is your back right now, from 0 (no pain) to "
                             "10 (worst imaginable)?")
    assert [c.label for c in question.choices] == [str(n) for n in range(11)]
    replies = await ana.presses("2")
    thanks, plan = paragraphs(replies)  # one message
    assert thanks == "Thanks: 2/10 right now. That's down from 3 to 2 since last time."
    assert plan.startswith("Today's session")
    user = coach.services.store.find_user(ana.key)
    [workout] = coach.services.store.workouts(user.id)
    assert workout["pain_before"] == 2
    assert [(p.score, p.kind) for p in coach.services.store.pain_reports(user.id)] == [
        (2, "before")]

    await ana.stops()
    replies = await ana.says("3")  # comfortable by the number, but worse than before
    assert paragraphs(replies)[0] == "Noted: pain 3/10, up from 2 before the workout."
    await ana.next_day()
    replies = await ana.trains(pain=2, before=3)
    assert not any(text.startswith("⬆") for text in paragraphs(replies))  # yesterday's did not count
    assert set(coach.services.store.stages(user.id).values()) == {0}


async def test_a_drop_in_pain_is_noticed_and_named(ana: Person):
    await ana.onboards(baseline=5)
    replies = await ana.says("pain 7")
    assert replies[0].text == ("Thanks, I've noted your back pain at 7/10. "
                               "That's up from 5 to 7 since last time.")
    await ana.says("start session")
    replies = await ana.presses("4")
    assert paragraphs(replies)[0] == \
        "Thanks: 4/10 right now. That's down from 7 to 4 since last time."
    await ana.stops()
    replies = await ana.says("2")
    assert paragraphs(replies)[0] == "Noted: pain 2/10, down from 4 before the workout."


async def test_three_workouts_within_an_hour_count_as_one_day(ana: Person, coach):
    await ana.onboards(baseline=3)
    user = coach.services.store.find_user(ana.key)
    for _ in range(3):
        replies = await ana.trains(pain=2)
        assert not any(text.startswith("⬆") for text in paragraphs(replies))
    assert set(coach.services.store.stages(user.id).values()) == {0}
    replies = await ana.says("progress")
    assert ("Side plank: Knees down, 10 s holds (1/7)\n"
            "   next: Knees down, 20 s holds (after a comfortable session on another day)") in \
        replies[0].text
    await ana.next_day()
    replies = await ana.trains(pain=2)
    assert any(text.startswith("⬆ 7 exercises move up a stage") for text in paragraphs(replies))


async def test_several_changes_come_as_one_headline_and_a_compact_list(ana: Person, coach):
    await ana.onboards()
    await ana.trains(pain=2)
    await ana.next_day()
    replies = await ana.trains(pain=2)
    [changes] = [text for text in paragraphs(replies) if "move up a stage" in text]
    lines = changes.split("\n")
    assert lines[0] == ("⬆ 7 exercises move up a stage, after comfortable sessions on separate "
                        "days and good form in every rep:")
    assert lines[3] == '• Side plank: up to "Knees down, 20 s holds"' and len(lines) == 8
    assert len(changes) < 600
    replies = await ana.trains(pain=7)
    [downs] = [text for text in paragraphs(replies) if text.startswith("⬇")]
    assert downs.split("\n")[0] == ("⬇ Pain 7/10 after the workout is above 5, so 7 "
                                         "exercises ease off a stage:")


async def test_why_says_what_it_is_for_where_you_are_and_what_moves_it_up(ana: Person, coach):
    await ana.onboards()
    side_plank = coach.services.programme.exercise("side_plank")
    replies = await ana.says("why side plank")
    lines = replies[0].text.split("\n")
    assert lines == [
        'Side plank hasn\'t changed stage yet. It\'s at "Knees down, 10 s holds".',
        f"What it's for: {side_plank.purpose}",
        'To move up to "Knees down, 20 s holds": after comfortable sessions on 2 separate days, '
        "with your form holding in every rep."]


async def test_help_lists_every_command_including_settings(ana: Person, coach):
    await ana.onboards()
    replies = await ana.says("help")
    text = replies[0].text
    for command in ("start session", "pause / resume / skip rest / +10 / skip / stop", "done",
                    "pain 4", "progress", "why side plank", "settings", "rescreen",
                    "a clinician has checked me", "export", "delete my data", "help"):
        assert f"• {command}:" in text, command
    verbs = {line.split()[1] for line in coach.table.describe() if line.startswith("verb ")}
    assert {"settings", "export", "delete", "rescreen", "cleared", "progress", "why"} <= verbs


async def test_counted_words_are_singular_for_one(ana: Person):
    await ana.onboards()
    await ana.trains(pain=2)
    replies = await ana.says("progress")
    assert replies[0].text.startswith("Your progress: 1 workout in all, 1 this week, streak 1 day.")
    await ana.next_day()
    await ana.trains(pain=2)
    replies = await ana.says("progress")
    assert replies[0].text.startswith("Your progress: 2 workouts in all")
    assert "streak 2 days." in replies[0].text


async def test_vague_pain_words_get_a_number_to_confirm_wherever_a_number_is_asked(ana: Person,
                                                                                   coach):
    await ana.says("/start")
    await ana.presses("Got it, let's go")
    for _ in coach.services.questions:
        await ana.presses("No")
    replies = await ana.says("not bad")  # the starting pain
    assert replies[0].text.startswith("That sounds like about 2 on the 0 to 10 scale.")
    assert [c.label for c in replies[0].choices] == [str(n) for n in range(11)]
    assert coach.services.store.find_user(ana.key).baseline_pain is None  # nothing used unasked
    await ana.presses("2")
    await ana.presses("Reached it easily")
    await ana.says("07:30")
    await ana.says("Berlin")

    replies = await ana.says("my back hurts a lot")  # between workouts
    assert replies[0].text.startswith("That sounds like about 7 on the 0 to 10 scale.")
    await ana.says("start session")
    replies = await ana.says("it's a bit sore")  # before a session
    assert replies[0].text.startswith("That sounds like about 3 on the 0 to 10 scale.")
    replies = await ana.presses("3")
    assert replies[0].text.startswith("Thanks: 3/10 right now.")
    await ana.stops()
    replies = await ana.says("really sore")  # after a workout
    assert replies[0].text.startswith("That sounds like about 5 on the 0 to 10 scale.")
    user = coach.services.store.find_user(ana.key)
    assert [p.kind for p in coach.services.store.pain_reports(user.id)] == ["before"]


async def test_a_vague_answer_to_the_morning_question_is_confirmed_too(tmp_path):
    world = await World.open(tmp_path, berlin(2026, 3, 10, 6, 0))
    ana = await world.onboards("ana", "07:30", "Europe/Berlin", name="Ana")
    await world.at(berlin(2026, 3, 10, 9, 0))
    await ana.trains(pain=2)
    sent = await world.at(berlin(2026, 3, 11, 7, 30))
    assert "how is your back this morning" in sent[0].reply.text
    replies = await ana.says("pretty good")
    assert replies[0].text.startswith("That sounds like about 2 on the 0 to 10 scale.")
    assert world.coach.services.store.find_user(ana.key).state == "morning"
    replies = await ana.presses("2")
    assert replies[0].text.startswith("Thanks: 2/10 this morning")
    await world.close()


async def test_a_workout_stopped_before_anything_was_done_gets_no_praise(ana: Person):
    await ana.onboards()
    await ana.starts_session()
    await ana.stops()
    replies = await ana.says("2")
    assert paragraphs(replies)[0] == "Noted: pain 2/10, down from 3 before the workout."
    assert not any(text.startswith("Good session") for text in paragraphs(replies))
    assert replies[-1].choices[0].label == "Start session"


async def test_calf_zinging_keeps_the_hamstring_stretch_from_moving_up(ana: Person, coach):
    import scripts
    for step in scripts.onboarding(hamstring="Zinging into my calves"):
        await (ana.presses if step.gesture == "press" else ana.says)(step.text)
    await ana.trains(pain=2)
    await ana.next_day()
    replies = await ana.trains(pain=2)
    assert any(text.startswith("Before anything moves up") and "6 exercises" in text
               for text in paragraphs(replies))
    user = coach.services.store.find_user(ana.key)
    stages = coach.services.store.stages(user.id)
    assert stages["hamstring_stretch"] == 0 and stages["side_plank"] == 1
    replies = await ana.says("why hamstring stretch")
    assert replies[0].text.endswith("It stays at its gentlest stage until you tell me the "
                                    "zinging has gone.")
