"""Issue 15's "Why" list, phrase by phrase: each said where a person would say it, with the
answer the coach gives now (not just the intent the parser reads: tests/test_understanding.py
has that). Everyday words first, then the ambiguous controls, then the reprompts."""
from __future__ import annotations

import io
import re

import pytest

import scripts
from adapters.console import ConsoleAdapter
from bot.delivery import SendBudget
from chat import Person, RecordingAdapter, make_coach, paragraphs

pytestmark = pytest.mark.usefixtures("virtual_time")

APOLOGY = "Sorry, I didn't catch that."
WHOLE_INTRO = "What I do: guide you through"  # only the full introduction says this
PAIN_SCALE = [str(n) for n in range(11)]
# Words for pressing buttons ("tap a button", 'tap "Re-take the check"'), as in test_console.
TAPPING = re.compile(r'.*\btap(ping)? (a |the |one of|it\b|")', re.IGNORECASE)


async def _person(tmp_path, scale: float = 20) -> tuple:
    """Ana, set up, on a coach slow enough to talk to while a timer runs."""
    coach = make_coach(tmp_path, scale=scale)
    ana = Person(coach, RecordingAdapter(coach, SendBudget()))
    await ana.onboards()
    return coach, ana


async def _to_the_safety_check(ana: Person) -> None:
    await ana.says("/start")
    await ana.presses("Got it, let's go")


def _state(coach, person: Person) -> str:
    return coach.services.store.find_user(person.key).state


def _terminal(coach, tmp_path, lines: list[str]) -> tuple[ConsoleAdapter, io.StringIO]:
    """The terminal adapter reading these typed lines, in this process (on virtual time)."""
    out = io.StringIO()
    console = ConsoleAdapter(coach, stdin=io.StringIO("\n".join(lines) + "\n"), stdout=out,
                             files_dir=tmp_path / "files")
    coach.register(console)
    return console, out


TYPED_ONBOARDING = scripts.typed(scripts.onboarding(time="07:30", zone="Berlin"),
                                 {"Got it, let's go": "1", "No": "no", "Reached it easily": "1"})


# -- everyday words ----------------------------------------------------------------------------

async def test_im_done_ends_a_set_at_ones_own_pace(ana: Person, coach):
    await ana.onboards()
    await ana.reaches(6)  # the squat: 2 sets of 10 at the person's own pace
    await ana.waits_for('Set 1 of 2: 10 reps at your own pace. Say "done"')
    await coach.settled(ana.key)
    assert await ana.says("i'm done") == []  # no question, nothing skipped: the set ends
    await ana.waits_for('Set 2 of 2: 10 reps at your own pace')
    assert coach.running(ana.key).position.exercise == 5  # still the squat
    await ana.stops()


async def test_i_dont_know_on_a_safety_question_is_a_possible_yes_confirmed_first(
        ana: Person, coach):
    await _to_the_safety_check(ana)  # question 1: bladder or bowel control, an urgent sign
    [confirm] = await ana.says("I don't know")
    assert "You're not sure about" in confirm.text and "emergency department" in confirm.text
    assert [c.label for c in confirm.choices] == ["Yes, that's right", "No, I meant no"]
    assert coach.services.store.find_user(ana.key).screen_result is None  # no verdict yet
    [verdict] = await ana.presses("Yes, that's right")
    assert verdict.text.startswith('To be on the safe side, I\'ve counted "not sure" as a '
                                   "possible yes.")
    assert _state(coach, ana) == "redflag:urgent"


async def test_almost_at_the_hamstring_test_means_couldnt_quite_reach(ana: Person, coach):
    await _to_the_safety_check(ana)
    for _ in coach.services.questions:
        await ana.presses("No")
    await ana.presses("3")  # the starting pain
    assert "hamstrings" in ana.last.text
    replies = await ana.says("almost")
    assert replies[0].text.startswith("Noted: your hamstrings are probably tight.")
    assert replies[-1].text.startswith("What time would you like a morning reminder")
    assert coach.services.store.find_user(ana.key).hamstring == "tight"


async def test_my_back_hurts_a_lot_gets_a_number_to_confirm(ana: Person, coach):
    await ana.onboards(baseline=3)
    [suggestion] = await ana.says("my back hurts a lot")
    assert suggestion.text.startswith("That sounds like about 7 on the 0 to 10 scale.")
    assert [c.label for c in suggestion.choices] == PAIN_SCALE
    user = coach.services.store.find_user(ana.key)
    assert coach.services.store.pain_reports(user.id) == []  # nothing kept until confirmed
    replies = await ana.presses("7")
    assert replies[0].text == ("Thanks, I've noted your back pain at 7/10. "
                               "That's up from 3 to 7 since last time.")
    assert [p.score for p in coach.services.store.pain_reports(user.id)] == [7]


async def test_better_maybe_a_4_is_pain_4_where_a_pain_number_is_asked(ana: Person, coach):
    await ana.onboards(baseline=3)
    await ana.says("start session")  # "how is your back right now?"
    replies = await ana.says("better, maybe a 4")
    thanks, plan = paragraphs(replies)
    assert thanks.startswith("Thanks: 4/10 right now.") and plan.startswith("Today's session")
    end = await ana.stops()
    assert end.text.endswith("How is your back now, from 0 (no pain) to 10 (worst imaginable)?")
    replies = await ana.says("better, maybe a 4")
    assert paragraphs(replies)[0] == "Noted: pain 4/10, the same as before the workout."
    user = coach.services.store.find_user(ana.key)
    assert [(p.score, p.kind) for p in coach.services.store.pain_reports(user.id)] == [
        (4, "before"), (4, "after")]


async def test_add_10_seconds_during_a_timer(tmp_path):
    coach, ana = await _person(tmp_path)
    await ana.reaches(1)
    await ana.waits_for("Hold 30 s · left knee down")
    runner = coach.running(ana.key).runner
    deadline = runner.deadline
    assert [r.text for r in await ana.says("add 10 seconds")] == ["+10 s added."]
    assert runner.deadline == deadline + 10
    await ana.stops()
    await coach.shutdown()


async def test_how_long_whats_next_and_how_do_i_do_this_leave_the_timer_alone(tmp_path):
    coach, ana = await _person(tmp_path)
    await ana.reaches(2)
    await ana.waits_for("Hold 30 s")
    runner = coach.running(ana.key).runner
    running = (runner.index, runner.deadline, runner.paused)
    [how_long] = await ana.says("how long is left?")
    assert re.fullmatch(r"Exercise 2 of 7 · about \d+ min left\.", how_long.text)
    [following] = await ana.says("what's next?")
    assert following.text == "Next up: Side plank (Knees down, 10 s holds)."
    [how] = await ana.says("how do I do this?")
    assert how.text.startswith("Hamstring stretch · Lying with a belt, 30 s each leg\n1. ")
    assert "Avoid:" in how.text
    assert (runner.index, runner.deadline, runner.paused) == running
    await ana.stops()
    await coach.shutdown()


async def test_show_me_a_picture_during_a_workout_sends_the_stages_animation(
        tmp_path, drawn_pictures):
    coach, ana = await _person(tmp_path)
    await ana.reaches(3)
    await ana.waits_for("Hold 10 s")
    runner = coach.running(ana.key).runner
    running = (runner.index, runner.deadline, runner.paused)
    [shown] = await ana.says("show me a picture")
    assert shown.text == 'Side plank, "Knees down, 10 s holds": here\'s how it looks.'
    assert shown.image is not None and shown.image.animated
    assert shown.image.name.startswith("side_plank-")
    assert shown.image.data.startswith(b"GIF89a")
    assert (runner.index, runner.deadline, runner.paused) == running
    await ana.stops()
    await coach.shutdown()


async def test_show_me_a_picture_not_drawn_yet_gets_the_steps_in_words(held_drawing):
    """Drawing held up on purpose (conftest's held_drawing): a plain answer, never a wait; once
    the picture exists, the same words show it."""
    app = held_drawing.app
    ana = Person(app.coach, RecordingAdapter(app.coach))
    await ana.onboards()
    await ana.starts_session()
    await ana.says("skip")  # the warm-up
    await ana.waits_for("1/7 · Half-kneeling hip flexor stretch")
    [words] = await ana.says("show me a picture")
    assert words.image is None
    assert words.text.startswith("No picture to show for this one just now, so here it is "
                                 "in words:\n\nHalf-kneeling hip flexor stretch · Kneeling")
    assert "1. Kneel on one knee" in words.text
    held_drawing.release.set()
    await app.services.pictures.files_async("hip_flexor_stretch", 0)
    [shown] = await ana.says("show me a picture")
    assert shown.image is not None and shown.image.name.startswith("hip_flexor_stretch-")
    await ana.stops()


async def test_show_me_a_picture_between_workouts_shows_todays_first_exercise(
        ana: Person, coach, drawn_pictures):
    await ana.onboards()
    [shown] = await ana.says("show me a picture")
    assert shown.text == ('Half-kneeling hip flexor stretch, "Kneeling, 30 s each side": '
                          "here's how it looks.")
    assert shown.image is not None and shown.image.name.startswith("hip_flexor_stretch-")
    assert [c.label for c in shown.choices] == ["How exactly?"]
    [how] = await ana.presses("How exactly?")
    assert "1. Kneel on one knee" in how.text
    [named] = await ana.says("show me a picture of the side plank")  # at Ana's stage
    assert named.text.startswith('Side plank, "Knees down, 10 s holds"')
    assert named.image.name.startswith("side_plank-")
    assert _state(coach, ana) == "ready"


async def test_thanks_gets_a_kind_line_between_workouts_and_during_one(tmp_path):
    coach, ana = await _person(tmp_path)
    thanks = "You're welcome, Ana! I'm here whenever you need me."
    assert [r.text for r in await ana.says("thanks")] == [thanks]
    await ana.reaches(1)
    await ana.waits_for("Hold 30 s")
    runner = coach.running(ana.key).runner
    deadline = runner.deadline
    assert [r.text for r in await ana.says("thanks")] == [thanks]
    assert runner.deadline == deadline and not runner.paused
    await ana.stops()
    await coach.shutdown()


async def test_exit_in_the_terminal_leaves_cleanly_and_keeps_the_question_open(tmp_path):
    coach = make_coach(tmp_path)
    console, out = _terminal(coach, tmp_path, ["1", "no", "exit", "help"])
    await console.run()  # returns: the terminal session has ended
    text = out.getvalue()
    assert text.endswith("you> exit\nBye for now! I'll be here when you come back.\n")
    assert "you> help" not in text  # nothing after "exit" is read
    assert "question 2 of" in text.split("you> exit")[0].rsplit("you> ", 1)[-1]
    assert coach.services.store.find_user(console.key).state == "screen:1"  # question 2, kept
    await coach.shutdown()


async def test_change_the_time_to_645_pm_at_the_settings_menu(ana: Person, coach):
    await ana.onboards()
    [menu] = await ana.says("settings")
    assert menu.text.endswith("What would you like to change?")
    replies = await ana.says("change the time to 6:45 pm")
    assert replies[0].text.startswith("Done: reminders at 18:45 (Europe/Berlin), every day. "
                                      "Next reminder: ")
    assert coach.services.store.find_user(ana.key).reminder_time == "18:45"


async def test_i_moved_to_berlin_at_the_settings_menu(ana: Person, coach):
    for step in scripts.onboarding(zone="New York"):
        await (ana.presses if step.gesture == "press" else ana.says)(step.text)
    await ana.says("settings")
    replies = await ana.says("I moved to berlin")
    assert replies[0].text.startswith("Done: reminders at 07:30 (Europe/Berlin), every day. "
                                      "Next reminder: ")
    assert coach.services.store.find_user(ana.key).timezone == "Europe/Berlin"


# -- ambiguous words that must not destroy work ------------------------------------------------

async def test_next_after_squat_set_1_ends_the_set_not_the_squat(ana: Person, coach):
    await ana.onboards()
    await ana.reaches(6)
    await ana.waits_for("Set 1 of 2")
    await coach.settled(ana.key)
    assert await ana.says("next") == []
    await ana.waits_for("Set 2 of 2")
    await coach.settled(ana.key)
    assert coach.running(ana.key).position.exercise == 5
    await ana.says("done")
    await ana.waits_for("✓ Squat done")
    user = coach.services.store.find_user(ana.key)
    workout = coach.services.store.workouts(user.id)[-1]
    outcomes = {row["exercise_id"]: row["outcome"]
                for row in coach.services.store.workout_exercises(workout["id"])}
    assert outcomes["squat"] == "done"
    await ana.stops()


async def test_skip_during_a_rest_skips_the_rest(tmp_path):
    coach, ana = await _person(tmp_path)
    await ana.reaches(1)
    await ana.waits_for("Switch sides")  # the pause between the two sides: a rest
    assert await ana.says("skip") == []  # no question: the rest is skipped
    await ana.waits_for("Hold 30 s · right knee down")
    assert coach.running(ana.key).position.exercise == 0  # the same stretch, other side
    await ana.stops()
    await coach.shutdown()


async def test_stop_asks_for_one_tap_first(tmp_path):
    coach, ana = await _person(tmp_path)
    await ana.reaches(1)
    await ana.waits_for("Hold 30 s")
    runner = coach.running(ana.key).runner
    [question] = await ana.says("stop")
    assert question.text == "Stop the workout here? 0 of 7 done so far, and that's kept."
    assert [c.label for c in question.choices] == ["Yes, stop", "No, carry on"]
    assert runner.paused and _state(coach, ana) == "workout"  # held, not ended
    assert [r.text for r in await ana.presses("No, carry on")] == ["Okay, carrying on."]
    assert not runner.paused
    end = await ana.stops()  # "stop" again, and the tap
    assert end.text.startswith("Workout stopped")
    await coach.shutdown()


async def test_the_summary_after_a_skip_is_truthful(ana: Person, coach):
    await ana.onboards()
    await ana.starts_session()
    await ana.says("skip")  # the warm-up
    for number, exercise in enumerate(coach.services.programme.exercises, 1):
        await ana.waits_for(f"{number}/7 · {exercise.name}")
        if number in (2, 7):
            await ana.skips()
            continue
        await ana.presses("Ready")
        if number == 6:  # the squat: two sets at Ana's own pace
            for _ in range(2):
                await ana.waits_for('Say "done"')
                await coach.settled(ana.key)
                await ana.says("done")
        await ana.waits_for(f"✓ {exercise.name} done")
    end = await ana.waits_for("How is your back now")
    assert end.text.startswith("5 of 7 done, Hamstring stretch and Hip hinge skipped.")
    assert "That's all seven" not in end.text


async def test_no_well_done_after_a_workout_stopped_six_seconds_in(tmp_path):
    coach, ana = await _person(tmp_path)
    await ana.starts_session()
    await coach.services.clock.sleep(6)
    end = await ana.stops()
    assert end.text.startswith("Workout stopped before any exercise was finished")
    for praise in ("Well done", "Great work", "Good work"):
        assert praise not in end.text
    await coach.shutdown()


# -- one short reprompt ------------------------------------------------------------------------

async def test_a_miss_in_the_main_menu_gets_one_short_line_naming_what_is_possible(ana: Person):
    await ana.onboards()
    [line] = await ana.says("purple monkey dishwasher")
    assert line.text == (f'{APOLOGY} Say "start session" to train, "progress" to see your '
                         'ladder, or "help".')
    assert [c.label for c in line.choices] == ["Start session", "Progress", "Help"]


async def test_a_miss_before_onboarding_does_not_reprint_the_welcome(ana: Person):
    [welcome] = await ana.says("/start")
    assert WHOLE_INTRO in welcome.text
    replies = await ana.says("purple monkey dishwasher")
    assert replies[0].text == f"{APOLOGY} Pick one of the choices below, or type your answer."
    assert not any(WHOLE_INTRO in reply.text for reply in replies)
    assert [c.label for c in replies[-1].choices] == ["Got it, let's go"]  # the question only
    assert sum(len(reply.text) for reply in replies) < len(welcome.text) / 2


async def test_the_terminal_never_says_tap(tmp_path):
    coach = make_coach(tmp_path)
    lines = ["what?", *TYPED_ONBOARDING, "what?", "help", "settings", "what?", "done",
             "my back hurts a lot", "3", "start session", "what?", "2", "what?", "stop",
             "yes", "what?", "3", "exit"]
    console, out = _terminal(coach, tmp_path, lines)
    await console.run()
    text = out.getvalue()
    assert "Today's session" in text and "you> exit\n" in text
    assert APOLOGY in text
    assert not TAPPING.search(text), TAPPING.search(text)
    await coach.shutdown()
