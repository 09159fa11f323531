"""The real content loads and makes sense, and broken content is refused with a useful message.

The timer invariants are checked here again, independently of the loader, because a bad plan
would only show up mid-workout as a timer that never ends or never starts.
"""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from bot.content import (
    ContentError,
    Exercise,
    Programme,
    Stage,
    TimerPlan,
    load_programme,
    total_seconds,
)

CONTENT_DIR = Path(__file__).resolve().parent.parent / "content"

EXPECTED_ORDER = [
    ("hip_flexor_stretch", "flexibility"),
    ("hamstring_stretch", "flexibility"),
    ("side_plank", "core"),
    ("dead_bug", "core"),
    ("bird_dog", "core"),
    ("squat", "movement"),
    ("hip_hinge", "movement"),
]


@pytest.fixture(scope="module")
def programme() -> Programme:
    return load_programme(CONTENT_DIR)


def all_stages() -> list[tuple[Exercise, Stage]]:
    """Every (exercise, stage) pair, for parametrised checks with readable ids."""
    loaded = load_programme(CONTENT_DIR)
    return [(exercise, stage) for exercise in loaded.exercises for stage in exercise.stages]


# --------------------------------------------------------------------------- the real content


def test_exactly_the_seven_exercises_in_workout_order(programme: Programme) -> None:
    assert [(e.id, e.block) for e in programme.exercises] == EXPECTED_ORDER


def test_blocks_are_in_order_with_names(programme: Programme) -> None:
    assert [block_id for block_id, _ in programme.blocks] == ["flexibility", "core", "movement"]
    assert all(name for _, name in programme.blocks)


def test_every_exercise_has_words_for_the_person(programme: Programme) -> None:
    for exercise in programme.exercises:
        assert exercise.name and exercise.purpose
        assert exercise.steps and exercise.cues and exercise.avoid
        assert exercise.stages


def test_exercise_lookup(programme: Programme) -> None:
    assert programme.exercise("bird_dog").name == "Bird dog"
    with pytest.raises(KeyError):
        programme.exercise("toe_touch")


def test_stage_ids_are_unique_within_each_exercise(programme: Programme) -> None:
    for exercise in programme.exercises:
        ids = [stage.id for stage in exercise.stages]
        assert len(ids) == len(set(ids)), exercise.id


@pytest.mark.parametrize(
    ("exercise", "stage"), all_stages(), ids=lambda value: getattr(value, "id", "")
)
def test_every_stage_has_a_valid_timer_plan(exercise: Exercise, stage: Stage) -> None:
    plan = stage.plan
    assert re.fullmatch(r"[a-z][a-z0-9_]*", stage.id)
    assert stage.name and stage.how
    assert plan.mode in {"hold", "move", "paced"}
    assert plan.sides in {"none", "each", "alternate"}
    assert plan.reps >= 1 and plan.sets >= 1
    assert plan.rest_s >= 0 and plan.set_rest_s >= 0
    if plan.mode == "paced":
        assert plan.work_s == 0 and plan.rest_s == 0
    else:
        assert plan.work_s > 0
    if plan.sides == "none":
        assert plan.side_labels is None
    elif plan.side_labels is not None:
        assert len(plan.side_labels) == 2 and all(plan.side_labels)
    if plan.sides == "alternate":
        assert plan.reps % 2 == 0


def held_per_side(plan: TimerPlan) -> int:
    """Seconds of holding on one side in one session (rests not counted)."""
    return plan.work_s * plan.reps * plan.sets


def test_side_plank_ladder_builds_to_100_s_at_a_steady_total(programme: Programme) -> None:
    stages = programme.exercise("side_plank").stages
    knees_down = stages[:-2]
    assert knees_down[0].plan == TimerPlan("hold", 10, 10, 3, 1, 0, "each", ("left side", "right side"))
    goal = knees_down[-1]
    assert (goal.plan.work_s, goal.plan.reps) == (100, 1), "the goal is 100 s straight"
    holds = [s.plan.work_s for s in knees_down]
    assert holds == sorted(set(holds)), "every knees-down stage holds longer than the one before"
    for stage in knees_down:
        # Longer holds, fewer of them: the time held per side stays that of the goal.
        assert held_per_side(stage.plan) == held_per_side(goal.plan), stage.id
        assert stage.plan.rest_s in (0, 3)
    for stage in stages:
        assert held_per_side(stage.plan) <= held_per_side(goal.plan), stage.id
    assert [s.id for s in stages[-2:]] == ["top_leg_straight", "feet_stacked"]
    assert all(s.plan.sides == "each" for s in stages)


def test_bird_dog_has_a_short_reset_between_holds_for_about_two_minutes(
        programme: Programme) -> None:
    for stage in programme.exercise("bird_dog").stages:
        plan = stage.plan
        assert (plan.work_s, plan.sides) == (5, "alternate"), stage.id
        assert 1 <= plan.rest_s <= 2, stage.id
        assert 110 <= total_seconds(plan) <= 130, stage.id


def test_first_stages_match_the_programme(programme: Programme) -> None:
    def first(exercise_id: str) -> TimerPlan:
        return programme.exercise(exercise_id).stages[0].plan

    assert (first("dead_bug").mode, first("dead_bug").work_s) == ("move", 120)
    assert (first("bird_dog").work_s, first("bird_dog").sides) == (5, "alternate")
    for paced in ("squat", "hip_hinge"):
        assert (first(paced).mode, first(paced).reps, first(paced).sets) == ("paced", 10, 2)


def test_stretches_hold_30_to_60_s_each_side(programme: Programme) -> None:
    for exercise_id in ("hip_flexor_stretch", "hamstring_stretch"):
        for stage in programme.exercise(exercise_id).stages:
            assert stage.plan.mode == "hold" and stage.plan.sides == "each"
            assert 30 <= stage.plan.work_s <= 60


def test_rules_load(programme: Programme) -> None:
    rules = programme.rules
    assert rules.up_max_pain < rules.hold_max_pain == rules.down_above_pain < rules.see_clinician_pain
    assert 1 <= rules.morning_hold_rise < rules.morning_down_rise
    assert rules.up_needs_good_workouts >= 1
    assert rules.switch_s >= 0 and rules.get_ready_s >= 0


def test_pain_limits_load_as_the_issue_describes(programme: Programme) -> None:
    rules = programme.rules
    assert rules.stop_for_today_above == rules.hold_max_pain == 5
    assert (rules.pause_step_ups_after, rules.pause_window_days) == (2, 7)
    assert rules.no_workout_from == 8
    # The programme gives no pain thresholds at all, so every one is marked as our choice.
    assert {"pain_limits.stop_for_today_above", "pain_limits.no_workout_from",
            "progression.up_max_pain", "timers.switch_s"} <= set(rules.our_choice)


def test_stages_resolve_their_own_texts_or_inherit_the_exercises(programme: Programme) -> None:
    hamstring = programme.exercise("hamstring_stretch")
    lying, standing = hamstring.stages[0], hamstring.stages[1]
    assert lying.steps != hamstring.steps and lying.steps[0].startswith("Lie on your back")
    assert standing.steps == hamstring.steps and standing.cues == hamstring.cues
    assert standing.form == hamstring.form
    hinge = programme.exercise("hip_hinge")
    assert hinge.stages[0].form.question == (
        "Did the stick stay on your head, upper back and tailbone in every rep?")
    assert [s.id for s in hinge.stages if s.loaded] == [
        "romanian_deadlift", "romanian_deadlift_one_side", "single_leg_deadlift_one_side"]
    assert [s.id for s in programme.exercise("squat").stages if s.loaded] == ["one_side_weight"]


def test_the_warm_up_is_about_three_minutes_of_easy_movement(programme: Programme) -> None:
    warmup = programme.warmup
    assert warmup.name and warmup.purpose
    assert [m.id for m in warmup.moves] == ["march", "hip_circles", "cat_cow", "pelvic_tilts"]
    assert all(m.plan.mode == "move" and not m.props for m in warmup.moves)
    rules = programme.rules
    seconds = sum(total_seconds(m.plan, rules.switch_s) + rules.get_ready_s for m in warmup.moves)
    assert 150 <= seconds <= 210
    assert all(m.our_choice for m in warmup.moves), "the whole warm-up is our own choice"


def test_nerve_marks_sit_on_the_stretches(programme: Programme) -> None:
    assert [e.id for e in programme.exercises if e.nerve_reminder] == [
        "hip_flexor_stretch", "hamstring_stretch"]
    assert [e.id for e in programme.exercises if e.nerve_hold_gentlest] == ["hamstring_stretch"]


def test_total_seconds() -> None:
    side_plank = TimerPlan("hold", 10, 10, 3, 1, 0, "each", None)
    assert total_seconds(side_plank) == 2 * (10 * 10 + 9 * 3)
    assert total_seconds(side_plank, switch_s=5) == 2 * (10 * 10 + 9 * 3) + 5
    bird_dog = TimerPlan("hold", 5, 24, 0, 1, 0, "alternate", None)
    assert total_seconds(bird_dog) == 120
    two_sets = TimerPlan("move", 30, 1, 0, 2, 60, "none", None)
    assert total_seconds(two_sets) == 30 + 60 + 30
    assert total_seconds(TimerPlan("paced", 0, 10, 0, 2, 60, "none", None)) is None


# --------------------------------------------------------------------------- broken content


@pytest.fixture
def content_copy(tmp_path: Path) -> Path:
    """A private copy of content/ that a test can break without touching the real files."""
    return Path(shutil.copytree(CONTENT_DIR, tmp_path / "content"))


def edit_after(path: Path, anchor: str, pattern: str, replacement: str) -> None:
    """Replace the first line matching pattern that comes after anchor (e.g. a stage's id line)."""
    text = path.read_text()
    start = text.index(anchor)
    edited = re.sub(pattern, replacement, text[start:], count=1, flags=re.MULTILINE)
    assert edited != text[start:], f"{pattern!r} not found after {anchor!r}"
    path.write_text(text[:start] + edited)


def load_error(content_dir: Path) -> str:
    with pytest.raises(ContentError) as caught:
        load_programme(content_dir)
    return str(caught.value)


def test_negative_work_s_names_file_exercise_stage_and_field(content_copy: Path) -> None:
    exercises = content_copy / "exercises.toml"
    edit_after(exercises, 'id = "knees_20"', r"^work_s = .*$", "work_s = -3")
    assert load_error(content_copy) == (
        f"{exercises}: exercise 'side_plank', stage 2 ('knees_20'): "
        "field 'work_s' must be a positive integer, got -3"
    )


def test_missing_field_is_reported(content_copy: Path) -> None:
    edit_after(content_copy / "exercises.toml", 'id = "dead_bug"', r"^purpose = .*\n", "")
    message = load_error(content_copy)
    assert "exercises.toml" in message
    assert "exercise 'dead_bug'" in message
    assert "field 'purpose' is missing" in message


def test_misspelt_field_is_rejected(content_copy: Path) -> None:
    edit_after(content_copy / "exercises.toml", 'id = "tabletop"', r"^rest_s = ", "rest_secs = ")
    message = load_error(content_copy)
    assert "exercise 'bird_dog', stage 1 ('tabletop')" in message
    assert "field 'rest_secs' is not a known field" in message


def test_unknown_extra_field_is_rejected(content_copy: Path) -> None:
    edit_after(content_copy / "exercises.toml", 'id = "squat"', r"^(name = .*)$", r"\1\ncolour = 'red'")
    message = load_error(content_copy)
    assert "exercise 'squat'" in message
    assert "field 'colour' is not a known field" in message


def test_paced_stage_with_work_time_is_rejected(content_copy: Path) -> None:
    edit_after(content_copy / "exercises.toml", 'id = "dowel"', r"^work_s = .*$", "work_s = 30")
    message = load_error(content_copy)
    assert "exercise 'hip_hinge', stage 1 ('dowel')" in message
    assert "field 'work_s' must be 0 when mode is \"paced\"" in message


def test_unknown_mode_is_rejected(content_copy: Path) -> None:
    edit_after(content_copy / "exercises.toml", 'id = "toe_taps"', r"^mode = .*$", 'mode = "wiggle"')
    message = load_error(content_copy)
    assert "exercise 'dead_bug', stage 1 ('toe_taps'): field 'mode'" in message


def test_side_labels_without_sides_are_rejected(content_copy: Path) -> None:
    edit_after(
        content_copy / "exercises.toml", 'id = "bodyweight"', r"^(sides = .*)$",
        r'\1\nside_labels = ["left", "right"]',
    )
    message = load_error(content_copy)
    assert "exercise 'squat', stage 1 ('bodyweight'): field 'side_labels'" in message


def test_duplicate_stage_id_is_rejected(content_copy: Path) -> None:
    edit_after(content_copy / "exercises.toml", 'id = "knees_25"', r'^id = "knees_25"', 'id = "knees_20"')
    message = load_error(content_copy)
    assert "exercise 'side_plank'" in message and "'knees_20' appears twice" in message


def test_unknown_block_is_rejected(content_copy: Path) -> None:
    edit_after(content_copy / "exercises.toml", 'id = "bird_dog"', r"^block = .*$", 'block = "cardio"')
    message = load_error(content_copy)
    assert "exercise 'bird_dog': field 'block'" in message


def test_missing_required_exercise_is_reported(content_copy: Path) -> None:
    exercises = content_copy / "exercises.toml"
    edit_after(exercises, 'id = "hip_hinge"', r'^id = "hip_hinge"', 'id = "hip_bridge"')
    message = load_error(content_copy)
    assert "exercises.toml" in message and "hip_hinge" in message


def test_bad_toml_names_the_file(content_copy: Path) -> None:
    exercises = content_copy / "exercises.toml"
    exercises.write_text(exercises.read_text() + "\n[[exercise\n")
    message = load_error(content_copy)
    assert message.startswith(f"{exercises}: not valid TOML")
    assert "line" in message


def test_bad_rules_are_reported(content_copy: Path) -> None:
    rules = content_copy / "rules.toml"
    edit_after(rules, "[progression]", r"^hold_max_pain = \d+", "hold_max_pain = 2")
    message = load_error(content_copy)
    assert message.startswith(f"{rules}: section 'progression': field 'hold_max_pain'")


def test_boolean_is_not_a_number(content_copy: Path) -> None:
    rules = content_copy / "rules.toml"
    edit_after(rules, "[timers]", r"^switch_s = \d+", "switch_s = true")
    message = load_error(content_copy)
    assert "rules.toml: section 'timers': field 'switch_s'" in message


def test_unknown_prop_names_the_stage_and_the_known_props(content_copy: Path) -> None:
    exercises = content_copy / "exercises.toml"
    edit_after(exercises, 'id = "romanian_deadlift"', r"^props = .*$", 'props = ["dumbell"]')
    message = load_error(content_copy)
    assert message.startswith(
        f"{exercises}: exercise 'hip_hinge', stage 2 ('romanian_deadlift'): "
        "field 'props' names unknown prop 'dumbell' (known: belt, towel, stick, weight,")


def test_a_stage_without_props_is_refused(content_copy: Path) -> None:
    edit_after(content_copy / "exercises.toml", 'id = "knees_20"', r"^props = .*\n", "")
    assert "exercise 'side_plank', stage 2 ('knees_20'): field 'props' is missing" in load_error(
        content_copy)


def test_an_empty_stage_text_override_is_refused(content_copy: Path) -> None:
    edit_after(content_copy / "exercises.toml", 'id = "knees_50"', r"^(props = .*)$",
               r"\1\ncues = []")
    assert load_error(content_copy).endswith(
        "exercise 'side_plank', stage 4 ('knees_50'): field 'cues' must be a non-empty list of "
        "text, got []")


def test_a_form_check_must_be_a_question(content_copy: Path) -> None:
    edit_after(content_copy / "exercises.toml", 'id = "narrow_base"', r"^form_question = .*$",
               'form_question = "Keep your hips square."')
    message = load_error(content_copy)
    assert "exercise 'bird_dog', stage 3 ('narrow_base'): field 'form_question' must be one " \
           "question ending with '?'" in message


def test_an_exercise_without_a_form_check_is_refused(content_copy: Path) -> None:
    edit_after(content_copy / "exercises.toml", 'id = "dead_bug"', r"^form_work_on = .*\n", "")
    assert "exercise 'dead_bug': field 'form_work_on' is missing" in load_error(content_copy)


def test_our_choice_must_name_a_number_field_of_that_stage(content_copy: Path) -> None:
    edit_after(content_copy / "exercises.toml", 'id = "knees_25"', r"^our_choice = .*$",
               'our_choice = ["work_s", "hold_s"]')
    message = load_error(content_copy)
    assert "exercise 'side_plank', stage 3 ('knees_25'): field 'our_choice' names 'hold_s', " \
           "which is not a number field here" in message


def test_a_broken_warm_up_move_names_the_move_and_field(content_copy: Path) -> None:
    exercises = content_copy / "exercises.toml"
    edit_after(exercises, 'id = "cat_cow"', r"^work_s = .*$", "work_s = 0")
    assert load_error(content_copy) == (
        f"{exercises}: section 'warmup', move 3 ('cat_cow'): "
        "field 'work_s' must be a positive integer, got 0")


def test_a_missing_warm_up_is_reported(content_copy: Path) -> None:
    exercises = content_copy / "exercises.toml"
    text = exercises.read_text()
    start, end = text.index("[warmup]"), text.index("# ------", text.index("[warmup]"))
    exercises.write_text(text[:start] + text[end:])
    assert load_error(content_copy) == f"{exercises}: field 'warmup' is missing"


def test_a_nerve_mark_must_be_true_or_false(content_copy: Path) -> None:
    edit_after(content_copy / "exercises.toml", 'id = "hamstring_stretch"',
               r"^nerve_hold_gentlest = .*$", 'nerve_hold_gentlest = "yes"')
    assert "exercise 'hamstring_stretch': field 'nerve_hold_gentlest' must be true or false" in \
        load_error(content_copy)


def test_pain_limits_missing_a_field_are_reported(content_copy: Path) -> None:
    rules = content_copy / "rules.toml"
    edit_after(rules, "[pain_limits]", r"^no_workout_from = .*\n", "")
    assert load_error(content_copy) == (
        f"{rules}: section 'pain_limits': field 'no_workout_from' is missing")


def test_stop_advice_below_the_hold_band_is_refused(content_copy: Path) -> None:
    rules = content_copy / "rules.toml"
    edit_after(rules, "[pain_limits]", r"^stop_for_today_above = \d+", "stop_for_today_above = 3")
    assert load_error(content_copy).startswith(
        f"{rules}: section 'pain_limits': field 'stop_for_today_above' must be from "
        "hold_max_pain (5) to 9, got 3")


def test_a_no_workout_threshold_inside_the_hold_band_is_refused(content_copy: Path) -> None:
    rules = content_copy / "rules.toml"
    edit_after(rules, "[pain_limits]", r"^no_workout_from = \d+", "no_workout_from = 4")
    assert "section 'pain_limits': field 'no_workout_from' must be greater than hold_max_pain" \
        in load_error(content_copy)


def test_a_pain_limit_out_of_range_is_refused(content_copy: Path) -> None:
    rules = content_copy / "rules.toml"
    edit_after(rules, "[pain_limits]", r"^no_workout_from = \d+", "no_workout_from = 11")
    assert load_error(content_copy) == (
        f"{rules}: section 'pain_limits': field 'no_workout_from' must be a pain score from 0 "
        "to 10, got 11")


def test_a_zero_day_window_is_refused(content_copy: Path) -> None:
    rules = content_copy / "rules.toml"
    edit_after(rules, "[pain_limits]", r"^pause_window_days = \d+", "pause_window_days = 0")
    assert "section 'pain_limits': field 'pause_window_days' must be a positive integer, got 0" \
        in load_error(content_copy)


def test_rules_our_choice_must_name_a_field_of_its_section(content_copy: Path) -> None:
    rules = content_copy / "rules.toml"
    edit_after(rules, "[timers]", r"^our_choice = .*$", 'our_choice = ["up_max_pain"]')
    assert "section 'timers': field 'our_choice' names 'up_max_pain'" in load_error(content_copy)
