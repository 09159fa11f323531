"""Read content/poses.toml and refuse, at start-up, any picture that could not be drawn right.

Like the rest of content/, a mistake here must not surface mid-workout as a broken picture, so
every stage of the programme needs an entry, every angle must be within a human joint's range,
every part said to rest on the floor (or a step, or a wall) must touch it, and planted parts must
not slide between keyframes. Errors are `ContentError`s naming file, exercise, stage and field.
"""
from __future__ import annotations

import math
import tomllib
from pathlib import Path
from typing import Any

from bot.content import ContentError, Programme, Where, as_table, check_fields
from bot.pictures.body import HIP_WIDTH, SHOULDER_WIDTH
from bot.pictures.model import (
    ANCHOR_PARTS, ANGLE_FIELDS, BREATHE_MAX_DEGREES, CONTACT_PARTS, JOINT_RANGES, MOTIONS,
    VIEWS, WEIGHT_HOLDS, WORDS, Pose, PoseBook, Props, StagePicture, joint_of,
)
from bot.pictures.scene import TOUCH_TOLERANCE, contact_gaps, lowest_point, part_x, scene_for, setting_for

POSES_FILE = "poses.toml"
MAX_TITLE = 28  # characters that fit on the picture in the title's bold font
MAX_LABEL = 56  # and in the label's (a smaller font is used for the longest ones)

_EXERCISE_FIELDS = ("id", "title", "view", "motion", "anchor", "keyframes", "pose", "stage")
# A stage may override any of these exercise-wide choices.
_SHARED_OPTIONAL = ("props", "still", "ghost", "hands_apart", "knees_apart", "top_inset")
_STAGE_FIELDS = ("id", "label")
_STAGE_OPTIONAL = ("keyframes", "pose", "view", "motion", "anchor", *_SHARED_OPTIONAL)
_POSE_CONTACTS = ("on_floor", "on_step", "on_wall")
_POSE_FIELDS = (*ANGLE_FIELDS, *_POSE_CONTACTS, "like")
_PROP_FIELDS = ("mat", "belt", "dowel", "foam_roller", "step", "wall", "dumbbell")
_KEYFRAME_COUNTS = {"cycle": (2, 4), "breathe": (2, 2), "alternate": (3, 3)}


def load_poses(content_dir: Path, programme: Programme) -> PoseBook:
    """Read content_dir/poses.toml and check it covers exactly the programme's stages."""
    path = Path(content_dir) / POSES_FILE
    where = Where(str(path))
    data = _read_toml(path)
    check_fields(data, ("words", "exercise"), where)
    words = _words(data["words"], where.inside("section 'words'"))
    tables = data["exercise"]
    if not isinstance(tables, list) or not tables:
        raise where.error("exercise", "must be one or more [[exercise]] tables")
    by_id = _exercise_tables_by_id(tables, programme, where)
    exercises = []
    for exercise in programme.exercises:
        if exercise.id not in by_id:
            raise where.inside(f"exercise '{exercise.id}'").error(
                "exercise", "is missing: every exercise in exercises.toml needs pictures")
        stage_ids = [stage.id for stage in exercise.stages]
        stages = _parse_exercise(by_id[exercise.id], exercise.id, stage_ids,
                                 where.inside(f"exercise '{exercise.id}'"))
        exercises.append((exercise.id, stages))
    return PoseBook(source=str(path), exercises=tuple(exercises), words=words)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ContentError(f"{path}: file not found") from None
    except tomllib.TOMLDecodeError as err:
        raise ContentError(f"{path}: not valid TOML: {err}") from None


def _words(value: Any, where: Where) -> dict[str, str]:
    """The few words a picture shows besides its title and label."""
    table = as_table(value, "words", where)
    check_fields(table, WORDS, where)
    return {key: _text(table, key, where) for key in WORDS}


def _exercise_tables_by_id(tables: list[Any], programme: Programme, where: Where
                           ) -> dict[str, dict[str, Any]]:
    known = sorted(exercise.id for exercise in programme.exercises)
    return _tables_by_id(tables, "exercise", known, "an exercise of exercises.toml", where)


def _tables_by_id(tables: list[Any], kind: str, allowed: list[str], allowed_are: str,
                  where: Where) -> dict[str, dict[str, Any]]:
    """The tables by their id: each id one of `allowed` (what `allowed_are` names), none twice."""
    by_id: dict[str, dict[str, Any]] = {}
    for number, table in enumerate(tables, start=1):
        table = as_table(table, kind, where)
        table_id = table.get("id")
        if table_id not in allowed:
            raise where.inside(f"{kind} {number}").error(
                "id", f"must be {allowed_are} ({', '.join(allowed)}), got {table_id!r}")
        if table_id in by_id:
            raise where.inside(f"{kind} '{table_id}'").error("id", "appears twice")
        by_id[table_id] = table
    return by_id


# --------------------------------------------------------------------------- one exercise


def _parse_exercise(table: dict[str, Any], exercise_id: str, stage_ids: list[str],
                    where: Where) -> tuple[StagePicture, ...]:
    """Every stage's picture, in the programme's stage order."""
    check_fields(table, _EXERCISE_FIELDS, where, optional=_SHARED_OPTIONAL)
    poses = as_table(table["pose"], "pose", where)
    stage_tables = table["stage"]
    if not isinstance(stage_tables, list):
        raise where.error("stage", "must be one or more [[exercise.stage]] tables")
    by_id = _tables_by_id(stage_tables, "stage", stage_ids,
                          "a stage of this exercise in exercises.toml", where)
    pictures = []
    for stage_id in stage_ids:
        stage_where = where.inside(f"stage '{stage_id}'")
        if stage_id not in by_id:
            raise stage_where.error(
                "stage", "is missing: every stage in exercises.toml needs an [[exercise.stage]] "
                         "entry here with its id and label")
        pictures.append(_parse_stage(table, poses, by_id[stage_id], exercise_id, stage_where))
    return tuple(pictures)


def _parse_stage(exercise: dict[str, Any], exercise_poses: dict[str, Any],
                 stage: dict[str, Any], exercise_id: str, where: Where) -> StagePicture:
    """One stage: the exercise's choices with the stage's overrides, then checked as a whole."""
    check_fields(stage, _STAGE_FIELDS, where, optional=_STAGE_OPTIONAL)

    def choice(field: str, default: Any = None) -> tuple[Any, Where]:
        if field in stage:
            return stage[field], where
        if field in exercise:
            return exercise[field], Where(where.file, where.parts[:1])
        return default, where

    view = _one_of(*choice("view"), "view", VIEWS)
    motion = _one_of(*choice("motion"), "motion", MOTIONS)
    anchor = _one_of(*choice("anchor"), "anchor", ANCHOR_PARTS)
    names = _names(*choice("keyframes"), "keyframes")
    low, high = _KEYFRAME_COUNTS[motion]
    if not low <= len(names) <= high:
        count = str(low) if low == high else f"{low} to {high}"
        raise where.error("keyframes", f'must name {count} poses for motion "{motion}", '
                                       f"got {list(names)!r}")
    stage_poses = as_table(stage.get("pose", {}), "pose", where)
    for name in stage_poses:
        if name not in names:
            raise where.inside(f"pose '{name}'").error(
                None, f"is not one of this stage's keyframes {list(names)!r}")
    keyframes = tuple(_resolve_pose(name, exercise_poses, stage_poses, where) for name in names)
    still = _one_of(*choice("still", names[-1] if motion != "alternate" else names[1]),
                    "still", names)
    ghost_value, ghost_where = choice("ghost")
    ghost = None if ghost_value is None else _one_of(ghost_value, ghost_where, "ghost", names)
    props = _props(exercise.get("props"), stage.get("props"), where)
    picture = StagePicture(
        exercise_id=exercise_id,
        stage_id=stage["id"],
        title=_text(exercise, "title", Where(where.file, where.parts[:1]), MAX_TITLE),
        label=_text(stage, "label", where, MAX_LABEL),
        view=view,
        motion=motion,
        anchor=anchor,
        keyframes=keyframes,
        still=still,
        ghost=ghost,
        props=props,
        hands_apart=_number(*choice("hands_apart", SHOULDER_WIDTH), "hands_apart",
                            (0.0, SHOULDER_WIDTH * 1.5)),
        knees_apart=_number(*choice("knees_apart", HIP_WIDTH), "knees_apart",
                            (0.0, HIP_WIDTH * 1.5)),
        top_inset=_flag(*choice("top_inset", False), "top_inset"),
    )
    _check_motion(picture, where)
    _check_contacts(picture, where)
    return picture


# --------------------------------------------------------------------------- poses


def _resolve_pose(name: str, exercise_poses: dict[str, Any], stage_poses: dict[str, Any],
                  where: Where) -> Pose:
    """A keyframe with `like` chains followed: the stage's own version first, else the exercise's."""
    chain: list[tuple[dict[str, Any], Where]] = []
    if name in stage_poses:
        table = as_table(stage_poses[name], name, where)
        chain.append((table, where.inside(f"pose '{name}'")))
        current = table.get("like")
    else:
        current = name
    seen: set[str] = set()
    exercise_where = Where(where.file, where.parts[:1])
    while current is not None:
        if not isinstance(current, str) or current not in exercise_poses:
            known = ", ".join(exercise_poses)
            raise (chain[-1][1] if chain else where).error(
                "like" if chain else "keyframes",
                f"must name a pose of this exercise ({known}), got {current!r}")
        if current in seen:
            raise exercise_where.inside(f"pose '{current}'").error("like", "goes round in a circle")
        seen.add(current)
        table = as_table(exercise_poses[current], current, exercise_where)
        chain.append((table, exercise_where.inside(f"pose '{current}'")))
        current = table.get("like")
    values: dict[str, Any] = {}
    origin: dict[str, Where] = {}
    for table, table_where in reversed(chain):  # the base first, overrides on top
        check_fields(table, (), table_where, optional=_POSE_FIELDS)
        for field, value in table.items():
            values[field] = value
            origin[field] = table_where
    pose_where = where.inside(f"pose '{name}'")
    angles = {}
    for field in ANGLE_FIELDS:
        if field not in values:
            raise pose_where.error(field, "is missing (give it here or in the pose named by 'like')")
        angles[field] = _angle(values[field], pose_where, field, origin[field])
    contacts = {field: _parts(values.get(field, []), pose_where, field) for field in _POSE_CONTACTS}
    return Pose(name=name, angles=angles, **contacts)


def _angle(value: Any, where: Where, field: str, set_in: Where) -> float:
    """A joint angle within its human range; the error says which table to edit."""
    low, high = JOINT_RANGES[joint_of(field)]
    source = "" if set_in == where else f" (set in {', '.join(set_in.parts)})"
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise where.error(field, f"must be a number of degrees, got {value!r}{source}")
    if not low <= value <= high:
        raise where.error(field, f"must be between {low:g} and {high:g} degrees for a "
                                 f"{joint_of(field)}, got {value!r}{source}")
    return float(value)


def _parts(value: Any, where: Where, field: str) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise where.error(field, f"must be a list of body parts, got {value!r}")
    for part in value:
        if part not in CONTACT_PARTS:
            raise where.error(field, f"must list body parts among {', '.join(CONTACT_PARTS)}; "
                                     f"got {part!r}")
    return tuple(value)


# --------------------------------------------------------------------------- props


def _props(exercise_props: Any, stage_props: Any, where: Where) -> Props:
    """The exercise's props with the stage's changes on top (e.g. dowel off, dumbbell on)."""
    merged: dict[str, Any] = {}
    for table in (exercise_props, stage_props):
        if table is None:
            continue
        table = as_table(table, "props", where)
        check_fields(table, (), where.inside("props"), optional=_PROP_FIELDS)
        merged.update(table)
    props_where = where.inside("props")
    flags = {name: _flag(merged.get(name, False), props_where, name)
             for name in ("mat", "belt", "dowel", "foam_roller")}
    # false turns off a step, wall or dumbbell the exercise has, for one stage
    step = merged.get("step") or None
    wall = merged.get("wall") or None
    dumbbell = merged.get("dumbbell") or None
    if step is not None:
        _one_of(step, props_where, "step", CONTACT_PARTS)
    if wall is not None:
        _one_of(wall, props_where, "wall", CONTACT_PARTS)
    if dumbbell is not None:
        _one_of(dumbbell, props_where, "dumbbell", WEIGHT_HOLDS)
    return Props(step_under=step, wall_at=wall, dumbbell=dumbbell, **flags)


# --------------------------------------------------------------------------- whole-stage checks


def _check_motion(picture: StagePicture, where: Where) -> None:
    """A breath moves a little; anything bigger is a movement and should say so."""
    if picture.motion != "breathe":
        return
    first, second = picture.keyframes
    for field in ANGLE_FIELDS:
        change = abs(first.angle(field) - second.angle(field))
        if change > BREATHE_MAX_DEGREES:
            raise where.inside(f"pose '{second.name}'").error(
                field, f'changes by {change:g} degrees from pose \'{first.name}\', more than a '
                       f'"breathe" motion allows ({BREATHE_MAX_DEGREES:g}); use "cycle"')


def _check_contacts(picture: StagePicture, where: Where) -> None:
    """Resting parts touch their surfaces, nothing sinks into the floor, planted parts stay."""
    for pose in picture.keyframes:
        pose_where = where.inside(f"pose '{pose.name}'")
        if pose.on_step and not picture.props.step_under:
            raise pose_where.error("on_step", "needs a step: set props.step to the part on it")
        if pose.on_wall and not picture.props.wall_at:
            raise pose_where.error("on_wall", "needs a wall: set props.wall to the part on it")
    setting = setting_for(picture)
    previous = None
    for pose in picture.keyframes:
        pose_where = where.inside(f"pose '{pose.name}'")
        scene = scene_for(picture, setting, pose)
        for field, part, gap in contact_gaps(scene, pose):
            how = "above" if gap > 0 else "into"
            surface = field.removeprefix("on_")
            amount = "off" if math.isinf(gap) else f"{abs(gap):.1f} units {how}"
            raise pose_where.error(field, f"says {part} rests on the {surface}, but it is "
                                          f"{amount} it; change the angles or the list")
        if lowest_point(scene) < setting.floor - TOUCH_TOLERANCE:
            raise pose_where.error("props", "the dumbbell would sink into the floor")
        if previous is not None:
            _check_planted(previous, (pose, scene), picture, pose_where)
        previous = (pose, scene)


def _check_planted(before: tuple[Pose, Any], after: tuple[Pose, Any], picture: StagePicture,
                   where: Where) -> None:
    """A part resting on the floor in two keyframes in a row must not slide between them."""
    (pose_a, scene_a), (pose_b, scene_b) = before, after
    for part in set(pose_a.on_floor) & set(pose_b.on_floor):
        shift = part_x(scene_b.figure, part) - part_x(scene_a.figure, part)
        if abs(shift) > TOUCH_TOLERANCE:
            raise where.error("on_floor", f"{part} rests on the floor in '{pose_a.name}' and "
                                          f"'{pose_b.name}' but slides {shift:+.1f} units between "
                                          f"them; anchor is {picture.anchor}")


# --------------------------------------------------------------------------- field readers


def _text(table: dict[str, Any], field: str, where: Where, longest: int = 200) -> str:
    value = table.get(field)
    if not isinstance(value, str) or not value.strip():
        raise where.error(field, f"must be non-empty text, got {value!r}")
    if len(value.strip()) > longest:
        raise where.error(field, f"must be at most {longest} characters to fit on the picture, "
                                 f"got {len(value.strip())}")
    return value.strip()


def _names(value: Any, where: Where, field: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise where.error(field, f"must be a list of pose names, got {value!r}")
    if len(set(value)) != len(value):
        raise where.error(field, f"must not repeat a pose, got {value!r}")
    return tuple(value)


def _one_of(value: Any, where: Where, field: str, options: tuple[str, ...]) -> str:
    if value not in options:
        raise where.error(field, f"must be one of {', '.join(options)}; got {value!r}")
    return value


def _number(value: Any, where: Where, field: str, bounds: tuple[float, float]) -> float:
    low, high = bounds
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise where.error(field, f"must be a number from {low:g} to {high:g}, got {value!r}")
    return float(value)


def _flag(value: Any, where: Where, field: str) -> bool:
    if not isinstance(value, bool):
        raise where.error(field, f"must be true or false, got {value!r}")
    return value

