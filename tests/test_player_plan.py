"""The plan the page runs: the chat's own phases, with words from content/texts.toml."""
from __future__ import annotations

import pytest
from player_world import ANA, FakeCoach

from bot.player.plan import BUTTONS, PAGE_TEXTS
from bot.workout.timers import phases_for


@pytest.fixture
def coach() -> FakeCoach:
    return FakeCoach()


async def test_every_exercise_runs_exactly_the_phases_the_chat_runs(coach: FakeCoach) -> None:
    coach.open_workout(ANA)
    plan = await coach.plan_for(ANA)
    assert [exercise.id for exercise in plan.exercises] == [
        exercise.id for exercise in coach.programme.exercises]
    for exercise, shown in zip(coach.programme.exercises, plan.exercises):
        phases = phases_for(exercise.stages[0].plan, coach.programme.rules)
        assert [(p.kind, p.seconds) for p in shown.phases] == [(p.kind, p.seconds) for p in phases]


async def test_a_stretch_each_side_reads_like_a_coach(coach: FakeCoach) -> None:
    coach.open_workout(ANA, ["hip_flexor_stretch", "squat"])
    stretch, squat = (await coach.plan_for(ANA)).exercises
    assert stretch.heading == "Exercise 1 of 2"
    assert [(p.label, p.detail, p.cue) for p in stretch.phases] == [
        ("Get ready", "", "Get ready: Half-kneeling hip flexor stretch."),
        ("Hold", "left knee down", "Hold for 30 seconds, left knee down."),
        ("Switch sides", "right knee down", "Switch sides: right knee down."),
        ("Hold", "right knee down", "Hold for 30 seconds, right knee down."),
    ]
    assert [p.next for p in stretch.phases] == [
        "Next: Hold · left knee down", "Next: Switch sides · right knee down",
        "Next: Hold · right knee down", "Next: Squat"]
    assert squat.phases[-1].next == "Next: the end of today's session"


async def test_sets_at_ones_own_pace_say_how_to_finish_them(coach: FakeCoach) -> None:
    coach.open_workout(ANA, ["squat"])
    (squat,) = (await coach.plan_for(ANA)).exercises
    paced = [p for p in squat.phases if p.kind == "paced"]
    assert [p.detail for p in paced] == ["10 reps · Set 1 of 2", "10 reps · Set 2 of 2"]
    assert [p.next for p in squat.phases] == [
        "Next: At your own pace", "Next: Rest between sets", "Next: At your own pace",
        "Next: the end of today's session"]
    assert paced[0].cue == '10 reps at your own pace, set 1 of 2. Tap "Done" when you\'ve finished.'
    assert squat.phases[2].cue == "Rest before set 2 of 2."


async def test_the_page_gets_every_word_it_shows(coach: FakeCoach) -> None:
    coach.open_workout(ANA)
    plan = await coach.plan_for(ANA)
    assert set(plan.texts) == set(BUTTONS) | set(PAGE_TEXTS) | {"intro", "start", "pain_question", "skip_warmup", "warmup_item"}
    assert plan.texts["skip_rest"] == coach.texts("buttons.skip_rest")
    assert plan.texts["start"] == "Start"
    assert plan.texts["intro"].startswith("Today's session: 7 exercises")
    assert plan.language == "en-GB"


async def test_a_reopened_workout_offers_to_continue_where_it_was(coach: FakeCoach) -> None:
    workout_id = coach.open_workout(ANA)
    await coach.exercise_reported(ANA, workout_id, 0, "done")
    await coach.exercise_reported(ANA, workout_id, 1, "skipped")
    plan = await coach.plan_for(ANA)
    assert plan.next_index() == 2
    assert plan.texts["intro"] == "Welcome back: 2 of 7 exercises are behind you."
    assert plan.texts["start"] == f"Continue with {plan.exercises[2].name}"


async def test_only_our_own_or_https_pictures_reach_the_page(coach: FakeCoach) -> None:
    coach.open_workout(ANA, ["squat", "hip_hinge", "dead_bug", "bird_dog"], pictures={
        "squat": "/player/pictures/squat.webp", "hip_hinge": "javascript:alert(1)",
        "dead_bug": "//elsewhere.example/x.gif", "bird_dog": "https://cdn.example/bird.gif"})
    plan = await coach.plan_for(ANA)
    assert [exercise.picture for exercise in plan.exercises] == [
        "/player/pictures/squat.webp", None, None, "https://cdn.example/bird.gif"]
