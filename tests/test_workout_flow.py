"""A workout as the person lives it: today's plan, a warm-up, short cards that wait for Ready,
one live message per side or set, controls that ask before they throw work away, "it hurts",
questions answered mid-workout, and a summary that tells the truth (issues 14 and 15)."""
from __future__ import annotations

import pytest

from bot.delivery import SendBudget
from bot.replies import Reply
from chat import Person, RecordingAdapter, make_coach, paragraphs

pytestmark = pytest.mark.usefixtures("virtual_time")

EXERCISE_NAMES = ["Half-kneeling hip flexor stretch", "Hamstring stretch", "Side plank",
                  "Dead bug march", "Bird dog", "Squat", "Hip hinge"]


async def _person(tmp_path, scale: float) -> tuple:
    """A coach on a slower clock, for conversations that talk while a timer runs."""
    coach = make_coach(tmp_path, scale=scale)
    adapter = RecordingAdapter(coach, SendBudget())
    ana = Person(coach, adapter)
    await ana.onboards()
    return coach, ana, adapter


def _new_messages(replies: list[Reply]) -> list[Reply]:
    """What pings the phone: new messages, not edits of a live message."""
    return [reply for reply in replies if not reply.edit]


# -- today's plan and the warm-up (issue 14) ---------------------------------------------------

async def test_todays_plan_opens_the_session_in_one_message(ana: Person):
    await ana.onboards()
    plan = (await ana.starts_session())[-1]
    thanks, _, words = plan.text.partition("\n\n")  # the pain answer's thanks comes with it
    assert thanks.startswith("Thanks: 3/10 right now.")
    lines = words.splitlines()
    assert lines[0].startswith("Today's session: warm-up and 7 exercises, about ")
    assert lines[0].endswith(" min.")
    for number, name in enumerate(EXERCISE_NAMES, 1):
        assert lines[number].startswith(f"{number}. {name} · ")
    assert "Side plank · Knees down, 10 s holds" in plan.text  # each at the person's stage
    assert [c.label for c in plan.choices] == ["Ready", "Skip warm-up", "Stop"]
    assert len(plan.text) <= 600


async def test_a_warm_up_comes_before_the_first_stretch_and_is_not_an_exercise(ana: Person,
                                                                              coach):
    await ana.onboards()
    await ana.starts_session()
    await ana.presses("Ready")
    first_move = await ana.waits_for("Warm-up 1/4 · March on the spot")
    await ana.waits_for("Warm-up 4/4 · Pelvic tilts")
    await ana.waits_for("Warm-up done")
    card = await ana.waits_for("1/7 · Half-kneeling hip flexor stretch")
    assert ana.replies.index(first_move) < ana.replies.index(card)
    await ana.stops()
    user = coach.services.store.find_user(ana.key)
    workout = coach.services.store.workouts(user.id)[-1]
    assert coach.services.store.workout_exercises(workout["id"]) == []  # never counted


async def test_skip_skips_the_warm_up(ana: Person):
    await ana.onboards()
    await ana.starts_session()
    replies = await ana.says("skip")
    assert replies[0].text.startswith("Warm-up skipped.")
    await ana.waits_for("1/7 · Half-kneeling hip flexor stretch")
    assert not any(r.text.startswith("Warm-up 1/4") for r in ana.replies)


async def test_the_skip_warm_up_button_skips_it_too(ana: Person):
    await ana.onboards()
    await ana.starts_session()
    await ana.presses("Ready")
    await ana.waits_for("Warm-up 1/4")
    replies = await ana.presses("Skip warm-up")  # the live message's own control
    assert replies[0].text.startswith("Warm-up skipped.")
    await ana.waits_for("1/7 · ")
    assert not any(r.text.startswith("Warm-up 2/4") for r in ana.replies)


# -- cards, Ready, progress (issue 15) ---------------------------------------------------------

async def test_a_card_is_short_and_how_exactly_gives_every_step_cue_and_warning(ana: Person,
                                                                               coach):
    await ana.onboards()
    await ana.trains(pain=3)  # every stage met once: its card had the full instructions
    await ana.starts_session()
    await ana.says("skip")
    card = await ana.waits_for("1/7 · Half-kneeling hip flexor stretch")
    lines = card.text.splitlines()
    assert lines[1] == "30 s each side."  # the plan line, from the timer plan
    assert len([line for line in lines if line.startswith("• ")]) <= 3
    assert "Avoid" not in card.text and len(card.text) <= 600
    assert [c.label for c in card.choices][:2] == ["Ready", "How exactly?"]
    [how] = await ana.presses("How exactly?")
    assert "1. Kneel on one knee" in how.text and "Avoid:" in how.text
    assert "Keep your tummy firm from start to finish." in how.text


async def test_the_first_meeting_with_a_stage_shows_its_full_instructions_once(ana: Person,
                                                                             coach):
    await ana.onboards()
    await ana.starts_session()
    await ana.says("skip")
    first = await ana.waits_for("1/7 · ")
    assert "1. Kneel on one knee" in first.text and "Avoid:" in first.text
    await ana.stops()
    await ana.says("3")
    user = coach.services.store.find_user(ana.key)
    assert coach.services.store.has_met_stage(user.id, "hip_flexor_stretch", 0)
    await ana.starts_session()
    await ana.says("skip")
    again = await ana.waits_for("1/7 · ")
    assert "1. Kneel on one knee" not in again.text


async def test_a_card_waits_for_ready_or_starts_by_itself(tmp_path):
    coach, ana, adapter = await _person(tmp_path, scale=100)
    wait = coach.services.programme.rules.ready_wait_s
    await ana.starts_session()
    await ana.says("skip")
    card = await ana.waits_for("1/7 · ")
    shown = next(s.at for s in adapter.sent if s.reply is card)
    await ana.presses("Ready")
    ready = await ana.waits_for("Get ready")
    started = next(s.at for s in adapter.sent if s.reply is ready)
    assert started < shown + wait  # Ready starts it before it would have started by itself
    await ana.waits_for("✓ Half-kneeling hip flexor stretch done")
    card = await ana.waits_for("2/7 · ")  # nobody presses Ready this time
    shown = next(s.at for s in adapter.sent if s.reply is card)
    ready = await ana.waits_for("Get ready")
    started = next(s.at for s in adapter.sent if s.reply is ready)
    assert started >= shown + wait - 1  # started by itself, after the pause in rules.toml
    await ana.stops()
    await coach.shutdown()


async def test_cards_show_progress_and_a_halfway_word(ana: Person):
    await ana.onboards()
    await ana.trains()
    cards = [r.text for r in ana.replies if "/7 · " in r.text.splitlines()[0]]
    assert len(cards) == 7
    assert "About " in cards[0] and " min left." in cards[0]
    assert "Halfway there" in cards[3]
    assert sum("Halfway there" in text for text in cards) == 1


# -- one live message per side or set (issue 15) -----------------------------------------------

async def test_a_side_is_one_live_message_with_its_reps_counted_in_it(ana: Person):
    await ana.onboards()
    await ana.reaches(3)  # the side plank: 10 holds of 10 s on each side
    await ana.waits_for("✓ Side plank done")
    start = next(i for i, r in enumerate(ana.replies) if r.text.startswith("3/7 · Side plank"))
    end = next(i for i, r in enumerate(ana.replies) if r.text.startswith("✓ Side plank done"))
    cues = [r for r in ana.replies[start + 1:end + 1] if r.kind == "cue"]
    assert [r.text for r in _new_messages(cues)] == [
        "Get ready: 5 s", "Switch sides: right side next, 5 s to get set."]
    edited = [r.text for r in cues if r.edit]
    assert "Hold 10 s · left side · rep 10/10" in edited  # reps counted in the live message
    assert all(r.slot == "timer" for r in cues)


async def test_a_whole_workout_fits_30_messages_and_4000_characters(coach, adapter):
    """On an editing platform (the recording adapter edits), from "start session" to the pain
    question, for someone who has met their stages before: new messages counted, edits not."""
    ana = Person(coach, adapter)
    await ana.onboards()
    await ana.trains(pain=2)
    start = len(adapter.sent)
    await ana.trains()
    workout = [s.reply for s in adapter.sent[start:] if s.user == ana.key]
    new = _new_messages(workout)
    characters = sum(len(reply.text) for reply in new)
    assert new[-1].text.endswith("How is your back now, from 0 (no pain) to 10 (worst imaginable)?")
    assert len(new) <= 30, len(new)
    assert characters <= 4000, characters
    assert max(len(reply.text) for reply in new) <= 600
    print(f"one workout: {len(new)} messages, {characters} characters, "
          f"{len(workout) - len(new)} edits")


# -- safe controls (issue 15) ------------------------------------------------------------------

async def test_next_done_and_finished_end_a_paced_set_not_the_exercise(ana: Person, coach):
    await ana.onboards()
    await ana.reaches(6)  # the squat: 2 sets of 10 at the person's own pace
    for word in ("finished", "next"):
        await ana.waits_for('Say "done"')
        await coach.settled(ana.key)
        assert await ana.says(word) == []  # no question asked, nothing skipped
    await ana.waits_for("✓ Squat done")
    user = coach.services.store.find_user(ana.key)
    workout = coach.services.store.workouts(user.id)[-1]
    assert {r["exercise_id"]: r["outcome"] for r in
            coach.services.store.workout_exercises(workout["id"])}["squat"] == "done"
    await ana.stops()


async def test_skip_in_a_rest_skips_the_rest_not_the_exercise(tmp_path):
    coach, ana, _ = await _person(tmp_path, scale=20)
    await ana.reaches(1)
    await ana.waits_for("Switch sides")  # a 5 s pause: a rest
    assert await ana.says("skip") == []  # no question: the rest is skipped
    await ana.waits_for("Hold 30 s · right knee down")
    assert coach.running(ana.key).position.exercise == 0  # still the same exercise
    await ana.stops()
    await coach.shutdown()


async def test_skipping_an_exercise_asks_first_and_no_carries_on(tmp_path):
    coach, ana, _ = await _person(tmp_path, scale=20)
    await ana.reaches(1)
    await ana.waits_for("Hold 30 s")
    session = coach.running(ana.key)
    [question] = await ana.says("skip exercise")
    assert question.text == "Skip Half-kneeling hip flexor stretch? It won't count today."
    assert [c.label for c in question.choices] == ["Yes, skip it", "No, carry on"]
    assert session.runner.paused  # held while the question is open
    said = len(ana.replies)
    await coach.services.clock.sleep(60)
    assert len(ana.replies) == said  # nothing moved on meanwhile
    assert [r.text for r in await ana.presses("No, carry on")] == ["Okay, carrying on."]
    assert not session.runner.paused
    replies = await ana.skips()
    assert replies[0].text == "Skipped Half-kneeling hip flexor stretch."
    await ana.waits_for("2/7 · Hamstring stretch")
    await ana.stops()
    await coach.shutdown()


async def test_stop_six_seconds_in_asks_first_and_then_gives_no_praise(tmp_path):
    coach, ana, _ = await _person(tmp_path, scale=20)
    await ana.starts_session()
    await coach.services.clock.sleep(6)
    [question] = await ana.says("stop")
    assert question.text.startswith("Stop the workout here? 0 of 7 done so far")
    await ana.presses("Yes, stop")
    end = await ana.waits_for("How is your back now")
    assert end.text.startswith("Workout stopped before any exercise was finished")
    for praise in ("Great work", "Well done", "Good work"):
        assert praise not in end.text
    await coach.shutdown()


async def test_a_summary_after_skips_says_what_was_done_and_what_was_skipped(ana: Person):
    await ana.onboards()
    await ana.starts_session()
    await ana.says("skip")  # the warm-up
    for number in range(1, 6):
        await ana.presses("Ready") if await ana.waits_for(f"{number}/7 · ") else None
        await ana.waits_for(f"✓ {EXERCISE_NAMES[number - 1]} done")
    for number in (6, 7):
        await ana.waits_for(f"{number}/7 · ")
        await ana.skips()
    end = await ana.waits_for("How is your back now")
    assert end.text.startswith("5 of 7 done, Squat and Hip hinge skipped.")
    assert "That's all seven" not in end.text


async def test_add_30_seconds_adds_30_and_a_large_amount_is_capped(tmp_path):
    coach, ana, _ = await _person(tmp_path, scale=20)
    await ana.reaches(1)
    await ana.waits_for("Hold 30 s")
    runner = coach.running(ana.key).runner
    deadline = runner.deadline
    assert [r.text for r in await ana.says("add 30 seconds")] == ["+30 s added."]
    assert runner.deadline == deadline + 30
    cap = coach.services.programme.rules.add_time_max_s
    assert [r.text for r in await ana.says("add 5 minutes")] == [f"+{cap} s added."]
    assert runner.deadline == deadline + 30 + cap
    assert [r.text for r in await ana.says("+10")] == ["+10 s added."]
    await ana.stops()
    await coach.shutdown()


async def test_questions_mid_workout_are_answered_and_the_timer_runs_on(tmp_path):
    coach, ana, _ = await _person(tmp_path, scale=20)
    await ana.reaches(1)
    await ana.waits_for("Hold 30 s · left knee down")
    runner = coach.running(ana.key).runner
    index, deadline = runner.index, runner.deadline
    [how_long] = await ana.says("how long is left?")
    assert how_long.text.startswith("Exercise 1 of 7 · about ")
    assert how_long.text.endswith(" min left.")
    [following] = await ana.says("what's next?")
    assert following.text == "Next up: Hamstring stretch (Lying with a belt, 30 s each leg)."
    [how] = await ana.says("how do I do this?")
    assert "1. Kneel on one knee" in how.text and "Avoid:" in how.text
    assert (runner.index, runner.deadline, runner.paused) == (index, deadline, False)
    await ana.stops()
    await coach.shutdown()


# -- "it hurts" (issue 14) ---------------------------------------------------------------------

async def test_it_hurts_mid_exercise_stops_it_and_asks_how_bad_and_where(tmp_path):
    coach, ana, _ = await _person(tmp_path, scale=100)
    await ana.reaches(3)
    await ana.waits_for("Hold 10 s")
    session = coach.running(ana.key)
    [question] = await ana.says("it hurts")
    assert question.text.startswith("Stopped Side plank.")
    assert [c.label for c in question.choices] == [str(n) for n in range(11)]
    assert session.runner is None or session.runner.current is None or session.hurt
    said = len(ana.replies)
    await coach.services.clock.sleep(60)
    assert len(ana.replies) == said  # stopped at once: no more cues while asking
    [travels] = await ana.presses("3")
    assert travels.text.startswith("Does the pain")
    assert [c.label for c in travels.choices] == ["Yes, down a leg", "No, it stays in my back"]
    [answer] = await ana.presses("No, it stays in my back")
    assert 'Side plank stays at "Knees down, 10 s holds"' in answer.text
    assert "carry on with the next exercise" in answer.text
    card = await ana.waits_for("4/7 · Dead bug march")
    assert 'Say "ready" when you want to carry on.' in card.text  # it waits: no auto-start
    user = coach.services.store.find_user(ana.key)
    workout = coach.services.store.workouts(user.id)[-1]
    outcomes = {r["exercise_id"]: r["outcome"]
                for r in coach.services.store.workout_exercises(workout["id"])}
    assert outcomes["side_plank"] == "hurt"
    assert [(p.score, p.kind) for p in coach.services.store.pain_reports(user.id)] == [
        (3, "before"), (3, "during")]
    end = await ana.stops()
    assert end.text.startswith("Workout stopped: 0 of 7 done, Half-kneeling hip flexor stretch "
                               "and Hamstring stretch skipped, Side plank stopped because it "
                               "hurt.")
    await coach.shutdown()


async def test_high_pain_during_an_exercise_lowers_it_a_stage_with_the_reason_kept(tmp_path):
    coach, ana, _ = await _person(tmp_path, scale=100)
    store = coach.services.store
    user = store.find_user(ana.key)
    store.change_stage(user.id, "side_plank", 0, 2, "up", {}, coach.services.clock.now(), None)
    await ana.reaches(3)
    await ana.waits_for("Hold 25 s")
    await ana.presses("It hurts")  # the button beside pause and skip
    await ana.presses("7")
    [answer] = await ana.presses("No, it stays in my back")
    assert answer.text.startswith('Side plank goes back to "Knees down, 20 s holds": pain 7/10')
    assert store.stages(user.id)["side_plank"] == 1
    change = store.stage_changes(user.id)[-1]
    assert (change.reason, change.detail["score"], change.to_index) == ("hurt", 7, 1)
    await ana.stops()
    await ana.says("4")
    why = (await ana.says("why side plank"))[0]
    assert "pain 7/10 during the exercise" in why.text
    await coach.shutdown()


async def test_a_zinging_or_travelling_pain_gets_the_nerve_advice(tmp_path):
    coach, ana, _ = await _person(tmp_path, scale=100)
    await ana.reaches(2)
    await ana.waits_for("Hold 30 s")
    [question] = await ana.says("it's zinging down my leg")
    assert question.text.startswith("Stopped Hamstring stretch.")
    [answer] = await ana.presses("4")  # a nerve sign already: no question about the leg
    assert "irritated nerve" in answer.text and "physiotherapist" in answer.text
    card = await ana.waits_for("3/7 · Side plank")
    await ana.presses("Ready")
    await ana.waits_for("Hold 10 s")
    await ana.presses("It hurts")
    await ana.presses("2")
    [answer] = await ana.says("yes")  # it travels down a leg
    assert "irritated nerve" in answer.text
    assert card.text
    await ana.stops()
    await coach.shutdown()


async def test_calf_zinging_at_onboarding_keeps_the_hamstring_gentle_until_it_has_gone(
        ana: Person, coach):
    await ana.onboards(hamstring="Zinging into my calves")
    store = coach.services.store
    user = store.find_user(ana.key)
    store.change_stage(user.id, "hamstring_stretch", 0, 2, "up", {}, coach.services.clock.now(),
                       None)
    plan = (await ana.starts_session())[-1]
    assert "Hamstring stretch · Lying with a belt, 30 s each leg" in plan.text
    await ana.says("skip")
    first = await ana.waits_for("1/7 · Half-kneeling hip flexor stretch")
    second = await ana.waits_for("2/7 · Hamstring stretch (Lying with a belt")
    for card in (first, second):
        assert "If you feel it during this stretch, stop straight away" in card.text
        assert "The zinging has gone" in [c.label for c in card.choices]
    assert "stays at \"Lying with a belt, 30 s each leg\", its gentlest stage" in second.text
    third = await ana.waits_for("3/7 · Side plank")
    assert "zinging" not in third.text
    [gone] = await ana.presses("The zinging has gone")
    assert gone.text.startswith("Good to hear the zinging has gone.")
    await ana.stops()
    await ana.says("3")
    plan = (await ana.starts_session())[-1]
    assert "Hamstring stretch · Standing, 45 s each leg" in plan.text
    await ana.stops()


async def test_it_hurts_during_the_warm_up_ends_it_and_the_first_card_waits(tmp_path):
    coach, ana, _ = await _person(tmp_path, scale=100)
    await ana.starts_session()
    await ana.presses("Ready")
    await ana.waits_for("Warm-up 2/4")
    [question] = await ana.presses("It hurts")
    assert question.text.startswith("Stopped Warm-up.")
    await ana.presses("2")
    [answer] = await ana.presses("No, it stays in my back")
    assert answer.text.startswith("Let's leave the rest of the warm-up.")
    card = await ana.waits_for("1/7 · ")
    assert 'Say "ready" when you want to carry on.' in card.text
    assert not any(r.text.startswith("Warm-up 3/4") for r in ana.replies)
    user = coach.services.store.find_user(ana.key)
    assert coach.services.store.stage_changes(user.id) == []  # no stage to change
    await ana.stops()
    await coach.shutdown()


# -- leaving for later -------------------------------------------------------------------------

async def test_quit_mid_workout_keeps_it_and_the_next_hello_offers_it_again(ana: Person, coach):
    await ana.onboards()
    await ana.reaches(3)
    await ana.waits_for("Hold 10 s")
    [bye] = await ana.says("quit")
    assert bye.text.startswith("Bye for now. Your workout is saved")
    user = coach.services.store.find_user(ana.key)
    assert user.state == "interrupted" and not coach.workout_running(ana.key)
    assert coach.services.store.workouts(user.id)[-1]["status"] == "interrupted"
    replies = await ana.says("/start")
    assert "Your last workout was interrupted during Side plank" in replies[-1].text
    [plan] = await ana.presses("Resume from Side plank")
    assert plan.text.startswith("Picking up where you left off: 5 exercises to go")
    await ana.waits_for("3/7 · Side plank")
    await ana.stops()
