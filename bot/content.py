"""The exercise programme and coaching rules, loaded from the TOML files in content/.

Content lives in data files so the wording and the numbers can be reviewed and changed without
touching code. Because a typo there would otherwise surface mid-workout (a timer that never ends,
a stage that cannot be found), everything is checked once at start-up: unknown fields are
rejected, numbers must make sense for a timer, and every error names the file, the exercise,
the stage and the field so it can be fixed without a debugger.
"""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

EXERCISES_FILE = "exercises.toml"
RULES_FILE = "rules.toml"

# The coach's flow and people's stored history refer to these ids, so the content must keep them.
REQUIRED_EXERCISE_IDS = (
    "hip_flexor_stretch",
    "hamstring_stretch",
    "side_plank",
    "dead_bug",
    "bird_dog",
    "squat",
    "hip_hinge",
)
MODES = ("hold", "move", "paced")
SIDES = ("none", "each", "alternate")
MAX_PAIN = 10

# Ids end up in button payloads (<= 64 bytes) and in the database, so keep them short and plain.
_ID_PATTERN = re.compile(r"[a-z][a-z0-9_]{0,39}")

_EXERCISE_FIELDS = ("id", "block", "name", "purpose", "steps", "cues", "avoid", "stage")
_STAGE_FIELDS = (
    "id", "name", "how", "mode", "work_s", "reps", "rest_s", "sets", "set_rest_s", "sides",
)
_STAGE_OPTIONAL_FIELDS = ("side_labels",)


class ContentError(Exception):
    """The content files are missing, malformed or inconsistent; the message says where."""


@dataclass(frozen=True)
class TimerPlan:
    """How the workout timer runs one stage.

    mode: "hold" (stay still for work_s), "move" (keep moving for work_s) or "paced" (reps at the
    person's own pace; they tap "done" after each set, so work_s and rest_s are 0).
    reps counts per side when sides is "each", and in total when sides is "alternate".
    """

    mode: str
    work_s: int
    reps: int
    rest_s: int
    sets: int
    set_rest_s: int
    sides: str
    side_labels: tuple[str, str] | None


@dataclass(frozen=True)
class Stage:
    """One rung of an exercise's ladder: what changes at this level, and how it is timed."""

    id: str
    name: str
    how: str
    plan: TimerPlan


@dataclass(frozen=True)
class Exercise:
    """One exercise, with its stages ordered from easiest to hardest."""

    id: str
    name: str
    block: str
    purpose: str
    steps: tuple[str, ...]
    cues: tuple[str, ...]
    avoid: tuple[str, ...]
    stages: tuple[Stage, ...]

    def stage_at(self, index: int) -> Stage:
        """The stage a stored index points at, clamped: a ladder shortened in content since
        must not break anyone whose saved stage is past its new end."""
        return self.stages[max(0, min(index, len(self.stages) - 1))]


@dataclass(frozen=True)
class Rules:
    """Thresholds for moving people up and down the ladders, and timer pauses.

    Pain is on a 0-10 scale. They live in rules.toml so they can be tuned without code changes.
    """

    up_max_pain: int
    up_needs_good_workouts: int
    hold_max_pain: int
    down_above_pain: int
    see_clinician_pain: int
    morning_hold_rise: int
    morning_down_rise: int
    switch_s: int
    get_ready_s: int


@dataclass(frozen=True)
class Programme:
    """Everything the coach needs from content/: blocks, exercises in workout order, and rules."""

    blocks: tuple[tuple[str, str], ...]
    exercises: tuple[Exercise, ...]
    rules: Rules

    def exercise(self, exercise_id: str) -> Exercise:
        """The exercise with this id; KeyError if there is none (e.g. stale stored data)."""
        for exercise in self.exercises:
            if exercise.id == exercise_id:
                return exercise
        raise KeyError(exercise_id)


def load_programme(content_dir: Path) -> Programme:
    """Read and check content_dir/exercises.toml and content_dir/rules.toml.

    Raises ContentError naming the file, exercise, stage and field of the first problem found.
    """
    content_dir = Path(content_dir)
    rules = _parse_rules(_read_toml(content_dir / RULES_FILE), _Where(str(content_dir / RULES_FILE)))
    exercises_where = _Where(str(content_dir / EXERCISES_FILE))
    blocks, exercises = _parse_exercises_file(
        _read_toml(content_dir / EXERCISES_FILE), exercises_where
    )
    return Programme(blocks=blocks, exercises=exercises, rules=rules)


def total_seconds(plan: TimerPlan, switch_s: int = 0) -> int | None:
    """Planned length of a timed stage, for "about N minutes" messages; None for paced stages.

    With sides "each", every set is one side's reps, a switch pause, then the other side's reps.
    With "alternate" the reps already include both sides, with rest_s between them.
    """
    if plan.mode == "paced":
        return None
    one_side = plan.reps * plan.work_s + (plan.reps - 1) * plan.rest_s
    per_set = 2 * one_side + switch_s if plan.sides == "each" else one_side
    return plan.sets * per_set + (plan.sets - 1) * plan.set_rest_s


# --------------------------------------------------------------------------- error locations


@dataclass(frozen=True)
class _Where:
    """Where in the content we are, so errors read like "file: exercise 'x', stage 2: field 'y'"."""

    file: str
    parts: tuple[str, ...] = ()

    def inside(self, part: str) -> _Where:
        return _Where(self.file, (*self.parts, part))

    def error(self, field: str | None, problem: str) -> ContentError:
        location = ", ".join(self.parts)
        prefix = f"{self.file}: {location}: " if location else f"{self.file}: "
        subject = f"field '{field}' " if field else ""
        return ContentError(f"{prefix}{subject}{problem}")


def _read_toml(path: Path) -> dict[str, Any]:
    """Parse one TOML file, turning I/O and syntax errors into ContentError that names it."""
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ContentError(f"{path}: file not found") from None
    except tomllib.TOMLDecodeError as err:
        raise ContentError(f"{path}: not valid TOML: {err}") from None


# --------------------------------------------------------------------------- field readers


def _check_fields(
    table: dict[str, Any], required: tuple[str, ...], where: _Where, optional: tuple[str, ...] = ()
) -> None:
    """Nothing unknown and every required field present, so a misspelt key cannot pass silently.

    Unknown fields are reported first: for a typo that points at the line to fix.
    """
    for field in table:
        if field not in required and field not in optional:
            known = ", ".join(required + optional)
            raise where.error(field, f"is not a known field (expected: {known})")
    for field in required:
        if field not in table:
            raise where.error(field, "is missing")


def _table(value: Any, field: str, where: _Where) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise where.error(field, f"must be a table, got {value!r}")
    return value


def _text(table: dict[str, Any], field: str, where: _Where) -> str:
    value = table[field]
    if not isinstance(value, str) or not value.strip():
        raise where.error(field, f"must be non-empty text, got {value!r}")
    return value.strip()


def _texts(table: dict[str, Any], field: str, where: _Where) -> tuple[str, ...]:
    value = table[field]
    if not isinstance(value, list) or not value:
        raise where.error(field, f"must be a non-empty list of text, got {value!r}")
    for item in value:
        if not isinstance(item, str) or not item.strip():
            raise where.error(field, f"must contain only non-empty text, got {item!r}")
    return tuple(item.strip() for item in value)


def _identifier(table: dict[str, Any], field: str, where: _Where) -> str:
    value = table[field]
    if not isinstance(value, str) or not _ID_PATTERN.fullmatch(value):
        raise where.error(
            field, f"must be a snake_case id (a-z, 0-9, _; at most 40 characters), got {value!r}"
        )
    return value


def _integer(table: dict[str, Any], field: str, where: _Where, *, minimum: int) -> int:
    """An int no smaller than minimum; booleans are refused although Python counts them as ints."""
    value = table[field]
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        kind = {0: "a non-negative integer", 1: "a positive integer"}.get(
            minimum, f"an integer >= {minimum}"
        )
        raise where.error(field, f"must be {kind}, got {value!r}")
    return value


def _one_of(table: dict[str, Any], field: str, options: tuple[str, ...], where: _Where) -> str:
    value = table[field]
    if value not in options:
        allowed = ", ".join(f'"{option}"' for option in options)
        raise where.error(field, f"must be one of {allowed}, got {value!r}")
    return value


# --------------------------------------------------------------------------- exercises.toml


def _parse_exercises_file(
    data: dict[str, Any], where: _Where
) -> tuple[tuple[tuple[str, str], ...], tuple[Exercise, ...]]:
    """Blocks and exercises, checked against each other and against the required ids."""
    _check_fields(data, ("blocks", "exercise"), where)
    blocks = _parse_blocks(_table(data["blocks"], "blocks", where), where.inside("section 'blocks'"))
    exercises = _parse_exercise_list(data["exercise"], where)
    _check_blocks_used_in_order(blocks, exercises, where)
    _check_required_exercises(exercises, where)
    return blocks, exercises


def _parse_blocks(table: dict[str, Any], where: _Where) -> tuple[tuple[str, str], ...]:
    """[blocks] order plus a display name for each, with no stray or missing names."""
    _check_fields(table, ("order", "names"), where)
    order = _texts(table, "order", where)
    for block_id in order:
        if not _ID_PATTERN.fullmatch(block_id):
            raise where.error("order", f"must contain snake_case ids, got {block_id!r}")
    if len(set(order)) != len(order):
        raise where.error("order", f"must not repeat a block, got {list(order)!r}")
    names = _table(table["names"], "names", where)
    names_where = where.inside("table 'names'")
    _check_fields(names, order, names_where)
    return tuple((block_id, _text(names, block_id, names_where)) for block_id in order)


def _parse_exercise_list(value: Any, where: _Where) -> tuple[Exercise, ...]:
    if not isinstance(value, list) or not value:
        raise where.error("exercise", "must be one or more [[exercise]] tables")
    exercises: list[Exercise] = []
    for number, table in enumerate(value, start=1):
        exercise = _parse_exercise(_table(table, "exercise", where), number, where)
        if any(earlier.id == exercise.id for earlier in exercises):
            raise where.error("id", f"must be unique, but exercise '{exercise.id}' appears twice")
        exercises.append(exercise)
    return tuple(exercises)


def _exercise_where(table: dict[str, Any], number: int, where: _Where) -> _Where:
    """Name the exercise by its id when it has a usable one, else by its position."""
    exercise_id = table.get("id")
    if isinstance(exercise_id, str) and _ID_PATTERN.fullmatch(exercise_id):
        return where.inside(f"exercise '{exercise_id}'")
    return where.inside(f"exercise {number}")


def _parse_exercise(table: dict[str, Any], number: int, where: _Where) -> Exercise:
    where = _exercise_where(table, number, where)
    _check_fields(table, _EXERCISE_FIELDS, where)
    return Exercise(
        id=_identifier(table, "id", where),
        name=_text(table, "name", where),
        block=_identifier(table, "block", where),
        purpose=_text(table, "purpose", where),
        steps=_texts(table, "steps", where),
        cues=_texts(table, "cues", where),
        avoid=_texts(table, "avoid", where),
        stages=_parse_stage_list(table["stage"], where),
    )


def _parse_stage_list(value: Any, where: _Where) -> tuple[Stage, ...]:
    """At least one stage, ids unique within the exercise, kept in file order (easiest first)."""
    if not isinstance(value, list) or not value:
        raise where.error("stage", "must be one or more [[exercise.stage]] tables")
    stages: list[Stage] = []
    for number, table in enumerate(value, start=1):
        stage = _parse_stage(_table(table, "stage", where), number, where)
        if any(earlier.id == stage.id for earlier in stages):
            raise where.error("stage", f"ids must be unique, but '{stage.id}' appears twice")
        stages.append(stage)
    return tuple(stages)


def _stage_where(table: dict[str, Any], number: int, where: _Where) -> _Where:
    stage_id = table.get("id")
    if isinstance(stage_id, str) and _ID_PATTERN.fullmatch(stage_id):
        return where.inside(f"stage {number} ('{stage_id}')")
    return where.inside(f"stage {number}")


def _parse_stage(table: dict[str, Any], number: int, where: _Where) -> Stage:
    where = _stage_where(table, number, where)
    _check_fields(table, _STAGE_FIELDS, where, optional=_STAGE_OPTIONAL_FIELDS)
    return Stage(
        id=_identifier(table, "id", where),
        name=_text(table, "name", where),
        how=_text(table, "how", where),
        plan=_parse_plan(table, where),
    )


def _parse_plan(table: dict[str, Any], where: _Where) -> TimerPlan:
    """The timer fields of a stage, each valid alone and all consistent with the mode and sides."""
    mode = _one_of(table, "mode", MODES, where)
    sides = _one_of(table, "sides", SIDES, where)
    plan = TimerPlan(
        mode=mode,
        work_s=_integer(table, "work_s", where, minimum=0 if mode == "paced" else 1),
        reps=_integer(table, "reps", where, minimum=1),
        rest_s=_integer(table, "rest_s", where, minimum=0),
        sets=_integer(table, "sets", where, minimum=1),
        set_rest_s=_integer(table, "set_rest_s", where, minimum=0),
        sides=sides,
        side_labels=_parse_side_labels(table, sides, where),
    )
    _check_plan_consistent(plan, where)
    return plan


def _parse_side_labels(table: dict[str, Any], sides: str, where: _Where) -> tuple[str, str] | None:
    if "side_labels" not in table:
        return None
    if sides == "none":
        raise where.error("side_labels", 'is only allowed when sides is "each" or "alternate"')
    labels = _texts(table, "side_labels", where)
    if len(labels) != 2:
        raise where.error("side_labels", f"must name exactly 2 sides, got {list(labels)!r}")
    return (labels[0], labels[1])


def _check_plan_consistent(plan: TimerPlan, where: _Where) -> None:
    """Rules that tie fields together; the person paces themselves, so paced has no timer per rep."""
    if plan.mode == "paced" and plan.work_s != 0:
        raise where.error("work_s", f'must be 0 when mode is "paced", got {plan.work_s!r}')
    if plan.mode == "paced" and plan.rest_s != 0:
        raise where.error("rest_s", f'must be 0 when mode is "paced", got {plan.rest_s!r}')
    if plan.sides == "alternate" and plan.reps % 2 != 0:
        raise where.error(
            "reps", f'must be even when sides is "alternate" (same work each side), got {plan.reps!r}'
        )


def _check_blocks_used_in_order(
    blocks: tuple[tuple[str, str], ...], exercises: tuple[Exercise, ...], where: _Where
) -> None:
    """Exercises name a known block, follow the block order, and no block is left empty.

    File order is workout order, so a block heading must never appear twice in one workout.
    """
    order = [block_id for block_id, _ in blocks]
    previous = 0
    for exercise in exercises:
        exercise_where = where.inside(f"exercise '{exercise.id}'")
        if exercise.block not in order:
            raise exercise_where.error(
                "block", f"must be one of the blocks in [blocks] order {order!r}, got {exercise.block!r}"
            )
        position = order.index(exercise.block)
        if position < previous:
            raise exercise_where.error(
                "block",
                f"is out of order: exercises must be grouped by block in the order {order!r}, "
                f"got {exercise.block!r} after {order[previous]!r}",
            )
        previous = position
    used = {exercise.block for exercise in exercises}
    for block_id in order:
        if block_id not in used:
            raise where.inside("section 'blocks'").error("order", f"block {block_id!r} has no exercises")


def _check_required_exercises(exercises: tuple[Exercise, ...], where: _Where) -> None:
    present = {exercise.id for exercise in exercises}
    missing = [exercise_id for exercise_id in REQUIRED_EXERCISE_IDS if exercise_id not in present]
    if missing:
        raise where.error("exercise", f"is missing required exercise(s): {', '.join(missing)}")


# --------------------------------------------------------------------------- rules.toml


def _parse_rules(data: dict[str, Any], where: _Where) -> Rules:
    """The three sections of rules.toml, each value in range and the thresholds in a sane order."""
    _check_fields(data, ("progression", "morning", "timers"), where)
    progression_where = where.inside("section 'progression'")
    morning_where = where.inside("section 'morning'")
    timers_where = where.inside("section 'timers'")
    progression = _table(data["progression"], "progression", where)
    morning = _table(data["morning"], "morning", where)
    timers = _table(data["timers"], "timers", where)
    _check_fields(
        progression,
        ("up_max_pain", "up_needs_good_workouts", "hold_max_pain", "down_above_pain",
         "see_clinician_pain"),
        progression_where,
    )
    _check_fields(morning, ("hold_rise", "down_rise"), morning_where)
    _check_fields(timers, ("switch_s", "get_ready_s"), timers_where)
    rules = Rules(
        up_max_pain=_pain(progression, "up_max_pain", progression_where),
        up_needs_good_workouts=_integer(
            progression, "up_needs_good_workouts", progression_where, minimum=1
        ),
        hold_max_pain=_pain(progression, "hold_max_pain", progression_where),
        down_above_pain=_pain(progression, "down_above_pain", progression_where),
        see_clinician_pain=_pain(progression, "see_clinician_pain", progression_where),
        morning_hold_rise=_pain(morning, "hold_rise", morning_where),
        morning_down_rise=_pain(morning, "down_rise", morning_where),
        switch_s=_integer(timers, "switch_s", timers_where, minimum=0),
        get_ready_s=_integer(timers, "get_ready_s", timers_where, minimum=0),
    )
    _check_thresholds_ordered(rules, progression_where, morning_where)
    return rules


def _pain(table: dict[str, Any], field: str, where: _Where) -> int:
    value = _integer(table, field, where, minimum=0)
    if value > MAX_PAIN:
        raise where.error(field, f"must be a pain score from 0 to {MAX_PAIN}, got {value!r}")
    return value


def _check_thresholds_ordered(rules: Rules, progression: _Where, morning: _Where) -> None:
    """Every pain score must land in exactly one of up / stay / down, and the clinician
    suggestion must only come with a step down; otherwise the coach's advice would contradict itself.
    """
    if rules.hold_max_pain <= rules.up_max_pain:
        raise progression.error(
            "hold_max_pain",
            f"must be greater than up_max_pain ({rules.up_max_pain}), got {rules.hold_max_pain}",
        )
    if rules.down_above_pain != rules.hold_max_pain:
        raise progression.error(
            "down_above_pain",
            f"must equal hold_max_pain ({rules.hold_max_pain}) so no pain score is left without "
            f"an action, got {rules.down_above_pain}",
        )
    if rules.see_clinician_pain <= rules.down_above_pain:
        raise progression.error(
            "see_clinician_pain",
            f"must be greater than down_above_pain ({rules.down_above_pain}), "
            f"got {rules.see_clinician_pain}",
        )
    if rules.morning_hold_rise < 1:
        raise morning.error("hold_rise", f"must be at least 1, got {rules.morning_hold_rise}")
    if rules.morning_down_rise <= rules.morning_hold_rise:
        raise morning.error(
            "down_rise",
            f"must be greater than hold_rise ({rules.morning_hold_rise}), "
            f"got {rules.morning_down_rise}",
        )


URGENT, PRACTITIONER = "urgent", "practitioner"  # what a "yes" to a screen question means


@dataclass(frozen=True)
class Question:
    id: str
    severity: str
    text: str


def load_questions(content_dir: Path) -> tuple[Question, ...]:
    """The warning-sign questions of content/screening.toml, checked."""
    path = content_dir / "screening.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ContentError(f"{path}: cannot read the screen: {exc}") from exc
    questions = []
    for number, item in enumerate(data.get("question", []), start=1):
        for field in ("id", "severity", "text"):
            if not isinstance(item.get(field), str) or not item[field].strip():
                raise ContentError(f"{path}: question {number}: field '{field}' must be text")
        if item["severity"] not in (URGENT, PRACTITIONER):
            raise ContentError(f"{path}: question {number} ('{item['id']}'): field 'severity' "
                               f"must be '{URGENT}' or '{PRACTITIONER}'")
        questions.append(Question(item["id"], item["severity"], item["text"].strip()))
    if not questions:
        raise ContentError(f"{path}: no questions")
    return tuple(questions)
