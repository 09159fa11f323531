"""The real content loads and makes sense, and broken content is refused with a useful message.

The timer invariants are checked here again, independently of the loader, because a bad plan
would only show up mid-workout as a timer that never ends or never starts.
"""
from __future__ import annotations

import math
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


def test_side_plank_ladder_builds_to_100_s_then_harder_positions(programme: Programme) -> None:
    stages = programme.exercise("side_plank").stages
    knees_down = stages[:-2]
    assert [s.plan.work_s for s in knees_down] == [10, 20, 30, 40, 50, 60, 70, 80, 90, 100]
    assert knees_down[0].plan == TimerPlan("hold", 10, 10, 3, 1, 0, "each", ("left side", "right side"))
    assert knees_down[-1].plan.reps == 1, "the last knees-down stage is 100 s straight"
    for stage in knees_down[1:-1]:
        # Longer holds, fewer reps: the fewest reps that still add up to 100 s per side.
        assert stage.plan.rest_s == 3
        assert stage.plan.reps == math.ceil(100 / stage.plan.work_s), stage.id
    assert [s.id for s in stages[-2:]] == ["top_leg_straight", "feet_stacked"]
    assert all(s.plan.sides == "each" for s in stages)


def test_first_stages_match_the_programme(programme: Programme) -> None:
    def first(exercise_id: str) -> TimerPlan:
        return programme.exercise(exercise_id).stages[0].plan

    assert (first("dead_bug").mode, first("dead_bug").work_s) == ("move", 120)
    assert (first("bird_dog").work_s, first("bird_dog").reps, first("bird_dog").sides) == (
        5, 24, "alternate",
    )
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
    edit_after(content_copy / "exercises.toml", 'id = "knees_30"', r'^id = "knees_30"', 'id = "knees_20"')
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
