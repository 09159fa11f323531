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

_EXERCISE_FIELDS = (
    "id", "block", "name", "purpose", "steps", "cues", "avoid", "form_question", "form_work_on",
    "stage",
)
_EXERCISE_OPTIONAL_FIELDS = ("nerve_reminder", "nerve_hold_gentlest")
_TIMER_FIELDS = ("mode", "work_s", "reps", "rest_s", "sets", "set_rest_s", "sides")
# The timer numbers an `our_choice` list may name: the ones a programme could have given.
_TIMER_NUMBERS = ("work_s", "reps", "rest_s", "sets", "set_rest_s")
_STAGE_FIELDS = ("id", "name", "how", "props", *_TIMER_FIELDS)
# A stage sets its own texts only where it differs from its exercise (see exercises.toml).
_STAGE_TEXT_FIELDS = ("steps", "cues", "avoid", "form_question", "form_work_on")
_STAGE_OPTIONAL_FIELDS = ("side_labels", *_STAGE_TEXT_FIELDS, "our_choice")
_PROP_FIELDS = ("name", "words")
_PROP_OPTIONAL_FIELDS = ("adds_load",)
_WARMUP_FIELDS = ("id", "name", "purpose", "move")
_MOVE_FIELDS = ("id", "name", "how", "cues", "props", *_TIMER_FIELDS)
_MOVE_OPTIONAL_FIELDS = ("side_labels", "our_choice")


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
class Prop:
    """Something a stage uses (a belt, a weight...), and the words that name it in a text.

    The words let a test prove no stage's text mentions a prop that stage does not use.
    """

    id: str
    name: str
    words: tuple[str, ...]
    adds_load: bool


@dataclass(frozen=True)
class FormCheck:
    """The form that must hold before a stage may move up: one short question, and what to
    practise when the answer is "Mostly" or "Not yet"."""

    question: str
    work_on: str


@dataclass(frozen=True)
class Stage:
    """One rung of an exercise's ladder: what changes at this level, how it is timed, and the
    instructions as they read at this level (the exercise's, unless this stage sets its own).

    loaded: the stage uses a prop that adds load (a weight), so its form is always checked.
    our_choice: timer fields whose numbers the programme does not give (see README).
    """

    id: str
    name: str
    how: str
    plan: TimerPlan
    steps: tuple[str, ...]
    cues: tuple[str, ...]
    avoid: tuple[str, ...]
    props: tuple[str, ...]
    form: FormCheck
    loaded: bool
    our_choice: tuple[str, ...]


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
    form: FormCheck
    # Someone who reported nerve signs (the calf zinging) hears a reminder at this exercise,
    # and with nerve_hold_gentlest it stays at its first stage until they say the signs are gone.
    nerve_reminder: bool = False
    nerve_hold_gentlest: bool = False

    def stage_at(self, index: int) -> Stage:
        """The stage a stored index points at, clamped: a ladder shortened in content since
        must not break anyone whose saved stage is past its new end."""
        return self.stages[max(0, min(index, len(self.stages) - 1))]


@dataclass(frozen=True)
class WarmupMove:
    """One easy movement of the warm-up, timed like an exercise stage."""

    id: str
    name: str
    how: str
    cues: tuple[str, ...]
    props: tuple[str, ...]
    plan: TimerPlan
    our_choice: tuple[str, ...]


@dataclass(frozen=True)
class Warmup:
    """The warm-up that opens every session: its moves run one after another, in file order."""

    id: str
    name: str
    purpose: str
    moves: tuple[WarmupMove, ...]


@dataclass(frozen=True)
class Rules:
    """Thresholds for moving people up and down the ladders, for acting on pain, and timer pauses.

    Pain is on a 0-10 scale. They live in rules.toml so they can be tuned without code changes.
    stop_for_today_above: pain after a workout above this brings the stop-for-today advice.
    pause_step_ups_after / pause_window_days: that many such workouts in that many days pause
    step-ups. no_workout_from: a starting pain at or above this means no workout that day.
    our_choice: "section.field" for every number the programme does not give.
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
    stop_for_today_above: int
    pause_step_ups_after: int
    pause_window_days: int
    no_workout_from: int
    ready_wait_s: int  # a card starts by itself after this long without "Ready"
    add_time_max_s: int  # the most one "add N seconds" adds
    our_choice: tuple[str, ...] = ()


@dataclass(frozen=True)
class Programme:
    """Everything the coach needs from content/: blocks, exercises in workout order, and rules."""

    blocks: tuple[tuple[str, str], ...]
    exercises: tuple[Exercise, ...]
    rules: Rules
    warmup: Warmup
    props: tuple[Prop, ...]

    def exercise(self, exercise_id: str) -> Exercise:
        """The exercise with this id; KeyError if there is none (e.g. stale stored data)."""
        for exercise in self.exercises:
            if exercise.id == exercise_id:
                return exercise
        raise KeyError(exercise_id)

    def prop(self, prop_id: str) -> Prop:
        """The prop with this id (every id a stage names is checked to exist at load)."""
        for prop in self.props:
            if prop.id == prop_id:
                return prop
        raise KeyError(prop_id)


def load_programme(content_dir: Path) -> Programme:
    """Read and check content_dir/exercises.toml and content_dir/rules.toml.

    Raises ContentError naming the file, exercise, stage and field of the first problem found.
    """
    content_dir = Path(content_dir)
    rules = _parse_rules(_read_toml(content_dir / RULES_FILE), Where(str(content_dir / RULES_FILE)))
    exercises_where = Where(str(content_dir / EXERCISES_FILE))
    blocks, exercises, warmup, props = _parse_exercises_file(
        _read_toml(content_dir / EXERCISES_FILE), exercises_where
    )
    return Programme(blocks=blocks, exercises=exercises, rules=rules, warmup=warmup, props=props)


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
class Where:
    """Where in the content we are (shared by bot/pictures/loader.py), so errors read like "file: exercise 'x', stage 2: field 'y'"."""

    file: str
    parts: tuple[str, ...] = ()

    def inside(self, part: str) -> Where:
        return Where(self.file, (*self.parts, part))

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


def check_fields(
    table: dict[str, Any], required: tuple[str, ...], where: Where, optional: tuple[str, ...] = ()
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


def as_table(value: Any, field: str, where: Where) -> dict[str, Any]:
    """A TOML table, or an error naming the field (bot/pictures/loader.py reads with it too)."""
    if not isinstance(value, dict):
        raise where.error(field, f"must be a table, got {value!r}")
    return value


def _text(table: dict[str, Any], field: str, where: Where) -> str:
    value = table[field]
    if not isinstance(value, str) or not value.strip():
        raise where.error(field, f"must be non-empty text, got {value!r}")
    return value.strip()


def _texts(table: dict[str, Any], field: str, where: Where) -> tuple[str, ...]:
    value = table[field]
    if not isinstance(value, list) or not value:
        raise where.error(field, f"must be a non-empty list of text, got {value!r}")
    for item in value:
        if not isinstance(item, str) or not item.strip():
            raise where.error(field, f"must contain only non-empty text, got {item!r}")
    return tuple(item.strip() for item in value)


def _identifier(table: dict[str, Any], field: str, where: Where) -> str:
    value = table[field]
    if not isinstance(value, str) or not _ID_PATTERN.fullmatch(value):
        raise where.error(
            field, f"must be a snake_case id (a-z, 0-9, _; at most 40 characters), got {value!r}"
        )
    return value


def _integer(table: dict[str, Any], field: str, where: Where, *, minimum: int) -> int:
    """An int no smaller than minimum; booleans are refused although Python counts them as ints."""
    value = table[field]
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        kind = {0: "a non-negative integer", 1: "a positive integer"}.get(
            minimum, f"an integer >= {minimum}"
        )
        raise where.error(field, f"must be {kind}, got {value!r}")
    return value


def _one_of(table: dict[str, Any], field: str, options: tuple[str, ...], where: Where) -> str:
    value = table[field]
    if value not in options:
        allowed = ", ".join(f'"{option}"' for option in options)
        raise where.error(field, f"must be one of {allowed}, got {value!r}")
    return value


def _flag(table: dict[str, Any], field: str, where: Where) -> bool:
    """An optional true/false field; absent means false."""
    value = table.get(field, False)
    if not isinstance(value, bool):
        raise where.error(field, f"must be true or false, got {value!r}")
    return value


def _question(table: dict[str, Any], field: str, where: Where) -> str:
    """One question people answer yes / mostly / not yet, so it must read as a question."""
    value = _text(table, field, where)
    if not value.endswith("?"):
        raise where.error(field, f"must be one question ending with '?', got {value!r}")
    return value


def _our_choice(table: dict[str, Any], numbers: tuple[str, ...], where: Where) -> tuple[str, ...]:
    """Optional list naming the number fields of this table that are our own choice.

    Only fields that exist here and hold a number may be named, so the list cannot go stale.
    """
    if "our_choice" not in table:
        return ()
    value = table["our_choice"]
    if not isinstance(value, list) or not value:
        raise where.error("our_choice", f"must be a non-empty list of field names, got {value!r}")
    for name in value:
        if name not in numbers or name not in table:
            allowed = ", ".join(field for field in numbers if field in table)
            raise where.error(
                "our_choice",
                f"names {name!r}, which is not a number field here (expected: {allowed})",
            )
    if len(set(value)) != len(value):
        raise where.error("our_choice", f"must not repeat a field, got {value!r}")
    return tuple(value)


# --------------------------------------------------------------------------- exercises.toml


def _parse_exercises_file(
    data: dict[str, Any], where: Where
) -> tuple[tuple[tuple[str, str], ...], tuple[Exercise, ...], Warmup, tuple[Prop, ...]]:
    """Blocks, props, the warm-up and the exercises, checked against each other and against
    the required ids."""
    check_fields(data, ("blocks", "props", "warmup", "exercise"), where)
    blocks = _parse_blocks(as_table(data["blocks"], "blocks", where), where.inside("section 'blocks'"))
    props = _parse_props(as_table(data["props"], "props", where), where.inside("section 'props'"))
    warmup = _parse_warmup(as_table(data["warmup"], "warmup", where), props,
                           where.inside("section 'warmup'"))
    exercises = _parse_exercise_list(data["exercise"], props, where)
    _check_blocks_used_in_order(blocks, exercises, where)
    _check_required_exercises(exercises, where)
    return blocks, exercises, warmup, tuple(props.values())


def _parse_props(table: dict[str, Any], where: Where) -> dict[str, Prop]:
    """[props.<id>] tables: a display name, the words that name the prop, and whether it loads."""
    if not table:
        raise where.error(None, "must define at least one [props.<id>] table")
    props: dict[str, Prop] = {}
    for prop_id, value in table.items():
        if not _ID_PATTERN.fullmatch(prop_id):
            raise where.error(None, f"prop id must be a snake_case id, got {prop_id!r}")
        prop_where = where.inside(f"prop '{prop_id}'")
        prop_table = as_table(value, prop_id, where)
        check_fields(prop_table, _PROP_FIELDS, prop_where, optional=_PROP_OPTIONAL_FIELDS)
        words = _texts(prop_table, "words", prop_where)
        props[prop_id] = Prop(
            id=prop_id,
            name=_text(prop_table, "name", prop_where),
            words=tuple(word.lower() for word in words),
            adds_load=_flag(prop_table, "adds_load", prop_where),
        )
    return props


def _prop_ids(table: dict[str, Any], props: dict[str, Prop], where: Where) -> tuple[str, ...]:
    """The required props list of a stage or move: known ids, each once; may be empty."""
    value = table["props"]
    if not isinstance(value, list):
        raise where.error("props", f"must be a list of prop ids (possibly empty), got {value!r}")
    for prop_id in value:
        if prop_id not in props:
            raise where.error(
                "props", f"names unknown prop {prop_id!r} (known: {', '.join(props)})"
            )
    if len(set(value)) != len(value):
        raise where.error("props", f"must not repeat a prop, got {value!r}")
    return tuple(value)


def _parse_warmup(table: dict[str, Any], props: dict[str, Prop], where: Where) -> Warmup:
    """The warm-up: a name, why it helps, and one or more timed moves with unique ids."""
    check_fields(table, _WARMUP_FIELDS, where)
    moves_value = table["move"]
    if not isinstance(moves_value, list) or not moves_value:
        raise where.error("move", "must be one or more [[warmup.move]] tables")
    moves: list[WarmupMove] = []
    for number, move_table in enumerate(moves_value, start=1):
        move = _parse_move(as_table(move_table, "move", where), number, props, where)
        if any(earlier.id == move.id for earlier in moves):
            raise where.error("move", f"ids must be unique, but '{move.id}' appears twice")
        moves.append(move)
    return Warmup(
        id=_identifier(table, "id", where),
        name=_text(table, "name", where),
        purpose=_text(table, "purpose", where),
        moves=tuple(moves),
    )


def _parse_move(
    table: dict[str, Any], number: int, props: dict[str, Prop], where: Where
) -> WarmupMove:
    move_id = table.get("id")
    if isinstance(move_id, str) and _ID_PATTERN.fullmatch(move_id):
        where = where.inside(f"move {number} ('{move_id}')")
    else:
        where = where.inside(f"move {number}")
    check_fields(table, _MOVE_FIELDS, where, optional=_MOVE_OPTIONAL_FIELDS)
    return WarmupMove(
        id=_identifier(table, "id", where),
        name=_text(table, "name", where),
        how=_text(table, "how", where),
        cues=_texts(table, "cues", where),
        props=_prop_ids(table, props, where),
        plan=_parse_plan(table, where),
        our_choice=_our_choice(table, _TIMER_NUMBERS, where),
    )


def _parse_blocks(table: dict[str, Any], where: Where) -> tuple[tuple[str, str], ...]:
    """[blocks] order plus a display name for each, with no stray or missing names."""
    check_fields(table, ("order", "names"), where)
    order = _texts(table, "order", where)
    for block_id in order:
        if not _ID_PATTERN.fullmatch(block_id):
            raise where.error("order", f"must contain snake_case ids, got {block_id!r}")
    if len(set(order)) != len(order):
        raise where.error("order", f"must not repeat a block, got {list(order)!r}")
    names = as_table(table["names"], "names", where)
    names_where = where.inside("table 'names'")
    check_fields(names, order, names_where)
    return tuple((block_id, _text(names, block_id, names_where)) for block_id in order)


def _parse_exercise_list(value: Any, props: dict[str, Prop], where: Where) -> tuple[Exercise, ...]:
    if not isinstance(value, list) or not value:
        raise where.error("exercise", "must be one or more [[exercise]] tables")
    exercises: list[Exercise] = []
    for number, table in enumerate(value, start=1):
        exercise = _parse_exercise(as_table(table, "exercise", where), number, props, where)
        if any(earlier.id == exercise.id for earlier in exercises):
            raise where.error("id", f"must be unique, but exercise '{exercise.id}' appears twice")
        exercises.append(exercise)
    return tuple(exercises)


def _exercise_where(table: dict[str, Any], number: int, where: Where) -> Where:
    """Name the exercise by its id when it has a usable one, else by its position."""
    exercise_id = table.get("id")
    if isinstance(exercise_id, str) and _ID_PATTERN.fullmatch(exercise_id):
        return where.inside(f"exercise '{exercise_id}'")
    return where.inside(f"exercise {number}")


@dataclass(frozen=True)
class _StageDefaults:
    """An exercise's texts, which each of its stages inherits unless it sets its own."""

    steps: tuple[str, ...]
    cues: tuple[str, ...]
    avoid: tuple[str, ...]
    form: FormCheck


def _parse_exercise(
    table: dict[str, Any], number: int, props: dict[str, Prop], where: Where
) -> Exercise:
    where = _exercise_where(table, number, where)
    check_fields(table, _EXERCISE_FIELDS, where, optional=_EXERCISE_OPTIONAL_FIELDS)
    defaults = _StageDefaults(
        steps=_texts(table, "steps", where),
        cues=_texts(table, "cues", where),
        avoid=_texts(table, "avoid", where),
        form=FormCheck(_question(table, "form_question", where),
                       _text(table, "form_work_on", where)),
    )
    return Exercise(
        id=_identifier(table, "id", where),
        name=_text(table, "name", where),
        block=_identifier(table, "block", where),
        purpose=_text(table, "purpose", where),
        steps=defaults.steps,
        cues=defaults.cues,
        avoid=defaults.avoid,
        stages=_parse_stage_list(table["stage"], defaults, props, where),
        form=defaults.form,
        nerve_reminder=_flag(table, "nerve_reminder", where),
        nerve_hold_gentlest=_flag(table, "nerve_hold_gentlest", where),
    )


def _parse_stage_list(
    value: Any, defaults: _StageDefaults, props: dict[str, Prop], where: Where
) -> tuple[Stage, ...]:
    """At least one stage, ids unique within the exercise, kept in file order (easiest first)."""
    if not isinstance(value, list) or not value:
        raise where.error("stage", "must be one or more [[exercise.stage]] tables")
    stages: list[Stage] = []
    for number, table in enumerate(value, start=1):
        stage = _parse_stage(as_table(table, "stage", where), number, defaults, props, where)
        if any(earlier.id == stage.id for earlier in stages):
            raise where.error("stage", f"ids must be unique, but '{stage.id}' appears twice")
        stages.append(stage)
    return tuple(stages)


def _stage_where(table: dict[str, Any], number: int, where: Where) -> Where:
    stage_id = table.get("id")
    if isinstance(stage_id, str) and _ID_PATTERN.fullmatch(stage_id):
        return where.inside(f"stage {number} ('{stage_id}')")
    return where.inside(f"stage {number}")


def _parse_stage(
    table: dict[str, Any], number: int, defaults: _StageDefaults, props: dict[str, Prop],
    where: Where,
) -> Stage:
    where = _stage_where(table, number, where)
    check_fields(table, _STAGE_FIELDS, where, optional=_STAGE_OPTIONAL_FIELDS)
    prop_ids = _prop_ids(table, props, where)
    return Stage(
        id=_identifier(table, "id", where),
        name=_text(table, "name", where),
        how=_text(table, "how", where),
        plan=_parse_plan(table, where),
        steps=_texts(table, "steps", where) if "steps" in table else defaults.steps,
        cues=_texts(table, "cues", where) if "cues" in table else defaults.cues,
        avoid=_texts(table, "avoid", where) if "avoid" in table else defaults.avoid,
        props=prop_ids,
        form=FormCheck(
            _question(table, "form_question", where) if "form_question" in table
            else defaults.form.question,
            _text(table, "form_work_on", where) if "form_work_on" in table
            else defaults.form.work_on,
        ),
        loaded=any(props[prop_id].adds_load for prop_id in prop_ids),
        our_choice=_our_choice(table, _TIMER_NUMBERS, where),
    )


def _parse_plan(table: dict[str, Any], where: Where) -> TimerPlan:
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


def _parse_side_labels(table: dict[str, Any], sides: str, where: Where) -> tuple[str, str] | None:
    if "side_labels" not in table:
        return None
    if sides == "none":
        raise where.error("side_labels", 'is only allowed when sides is "each" or "alternate"')
    labels = _texts(table, "side_labels", where)
    if len(labels) != 2:
        raise where.error("side_labels", f"must name exactly 2 sides, got {list(labels)!r}")
    return (labels[0], labels[1])


def _check_plan_consistent(plan: TimerPlan, where: Where) -> None:
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
    blocks: tuple[tuple[str, str], ...], exercises: tuple[Exercise, ...], where: Where
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


def _check_required_exercises(exercises: tuple[Exercise, ...], where: Where) -> None:
    present = {exercise.id for exercise in exercises}
    missing = [exercise_id for exercise_id in REQUIRED_EXERCISE_IDS if exercise_id not in present]
    if missing:
        raise where.error("exercise", f"is missing required exercise(s): {', '.join(missing)}")


# --------------------------------------------------------------------------- rules.toml


_RULES_SECTIONS: dict[str, tuple[str, ...]] = {
    "progression": ("up_max_pain", "up_needs_good_workouts", "hold_max_pain", "down_above_pain",
                    "see_clinician_pain"),
    "morning": ("hold_rise", "down_rise"),
    "pain_limits": ("stop_for_today_above", "pause_step_ups_after", "pause_window_days",
                    "no_workout_from"),
    "timers": ("switch_s", "get_ready_s", "ready_wait_s", "add_time_max_s"),
}


def _parse_rules(data: dict[str, Any], where: Where) -> Rules:
    """The sections of rules.toml, each value in range and the thresholds in a sane order."""
    check_fields(data, tuple(_RULES_SECTIONS), where)
    sections: dict[str, dict[str, Any]] = {}
    our_choice: list[str] = []
    for name, fields in _RULES_SECTIONS.items():
        section = as_table(data[name], name, where)
        section_where = where.inside(f"section '{name}'")
        check_fields(section, fields, section_where, optional=("our_choice",))
        our_choice += [f"{name}.{field}" for field in _our_choice(section, fields, section_where)]
        sections[name] = section
    progression_where = where.inside("section 'progression'")
    morning_where = where.inside("section 'morning'")
    limits_where = where.inside("section 'pain_limits'")
    timers_where = where.inside("section 'timers'")
    progression, morning = sections["progression"], sections["morning"]
    limits, timers = sections["pain_limits"], sections["timers"]
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
        stop_for_today_above=_pain(limits, "stop_for_today_above", limits_where),
        pause_step_ups_after=_integer(limits, "pause_step_ups_after", limits_where, minimum=1),
        pause_window_days=_integer(limits, "pause_window_days", limits_where, minimum=1),
        no_workout_from=_pain(limits, "no_workout_from", limits_where),
        ready_wait_s=_integer(timers, "ready_wait_s", timers_where, minimum=0),
        add_time_max_s=_integer(timers, "add_time_max_s", timers_where, minimum=10),
        our_choice=tuple(our_choice),
    )
    _check_thresholds_ordered(rules, progression_where, morning_where)
    _check_pain_limits(rules, limits_where)
    return rules


def _pain(table: dict[str, Any], field: str, where: Where) -> int:
    value = _integer(table, field, where, minimum=0)
    if value > MAX_PAIN:
        raise where.error(field, f"must be a pain score from 0 to {MAX_PAIN}, got {value!r}")
    return value


def _check_thresholds_ordered(rules: Rules, progression: Where, morning: Where) -> None:
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


def _check_pain_limits(rules: Rules, limits: Where) -> None:
    """The stop-for-today advice only comes with a step down (never beside "stay" or "up"), and
    it must be reachable; a starting pain that would only hold a stage never cancels a workout."""
    if not rules.hold_max_pain <= rules.stop_for_today_above < MAX_PAIN:
        raise limits.error(
            "stop_for_today_above",
            f"must be from hold_max_pain ({rules.hold_max_pain}) to {MAX_PAIN - 1}, "
            f"got {rules.stop_for_today_above}",
        )
    if rules.no_workout_from <= rules.hold_max_pain:
        raise limits.error(
            "no_workout_from",
            f"must be greater than hold_max_pain ({rules.hold_max_pain}), "
            f"got {rules.no_workout_from}",
        )


URGENT, PRACTITIONER = "urgent", "practitioner"  # what a "yes" to a screen question means


@dataclass(frozen=True)
class Question:
    """One warning-sign question. `lifelong`: a fact of the person's history (not asked again
    once a clinician has cleared them); `since_cleared`: the question as asked after that
    check, about new or changed symptoms only ({date}); empty: asked as it is."""

    id: str
    severity: str
    text: str
    lifelong: bool = False
    since_cleared: str = ""


_QUESTION_FIELDS = ("id", "severity", "text", "lifelong", "since_cleared")


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
        where = f"{path}: question {number} ('{item['id']}')"
        unknown = sorted(set(item) - set(_QUESTION_FIELDS))
        if unknown:
            raise ContentError(f"{where}: field '{unknown[0]}' is not a known field "
                               f"(expected: {', '.join(_QUESTION_FIELDS)})")
        if item["severity"] not in (URGENT, PRACTITIONER):
            raise ContentError(f"{where}: field 'severity' "
                               f"must be '{URGENT}' or '{PRACTITIONER}'")
        lifelong = item.get("lifelong", False)
        if not isinstance(lifelong, bool):
            raise ContentError(f"{where}: field 'lifelong' must be true or false")
        since = item.get("since_cleared", "")
        if not isinstance(since, str):
            raise ContentError(f"{where}: field 'since_cleared' must be text")
        if since and (lifelong or item["severity"] == URGENT):
            raise ContentError(f"{where}: field 'since_cleared' is only for a practitioner "
                               "question that is not lifelong (urgent signs are asked as they are)")
        questions.append(Question(item["id"], item["severity"], item["text"].strip(), lifelong,
                                  since.strip()))
    if not questions:
        raise ContentError(f"{path}: no questions")
    return tuple(questions)
