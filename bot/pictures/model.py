"""What a picture of an exercise stage is made of, as plain data: poses, props, motion, words.

Everything here comes from content/poses.toml (read by `bot.pictures.loader`) and is already
checked when these objects exist, so the drawing code never has to second-guess it.

Angles are in degrees and describe the figure as drawn, facing right:
- trunk: how far the lower trunk tips forward from upright (0 standing, 90 face-down level as on
  hands and knees, -90 lying on the back with the head to the left);
- spine: how much the upper trunk bends forward on the lower one (0 = neutral spine, negative
  arches back); neck: how much the head bends forward on the upper trunk (0 = in line);
- shoulder: 0 with the arm along the side, 90 pointing straight forward, 180 overhead, negative
  behind; elbow, knee: 0 straight, larger = more bent;
- hip: 0 with the thigh in line with the trunk, 90 thigh at a right angle in front, negative
  behind; ankle: 0 foot at a right angle to the shin, positive toes up, negative toes pointed.
"near" limbs are on the side closer to the viewer (drawn darker, in front); "far" limbs behind.
"""
from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Mapping

# Joint angle fields of a pose, in the order the loader reports them.
ANGLE_FIELDS = (
    "trunk", "spine", "neck",
    "near_shoulder", "near_elbow", "far_shoulder", "far_elbow",
    "near_hip", "near_knee", "near_ankle", "far_hip", "far_knee", "far_ankle",
)

# Human range of each joint, in degrees; a pose outside it is refused at load time.
JOINT_RANGES: Mapping[str, tuple[float, float]] = MappingProxyType({
    "trunk": (-180.0, 180.0),
    "spine": (-20.0, 45.0),
    "neck": (-40.0, 50.0),
    "shoulder": (-60.0, 180.0),
    "elbow": (0.0, 160.0),
    "hip": (-30.0, 140.0),
    "knee": (0.0, 160.0),
    "ankle": (-60.0, 35.0),
})

# Body parts that can bear weight or touch a prop; each names one or two circles of the figure.
CONTACT_PARTS = (
    "near_hand", "far_hand", "near_forearm", "far_forearm", "near_elbow", "far_elbow",
    "near_knee", "far_knee", "near_shin", "far_shin", "near_foot", "far_foot",
    "near_heel", "far_heel", "near_toes", "far_toes", "back", "pelvis", "head",
)
# Parts a figure can be anchored by: the one that stays put while the figure moves.
ANCHOR_PARTS = (*CONTACT_PARTS, "hips")

VIEWS = ("side", "front")
MOTIONS = ("cycle", "breathe", "alternate")
WEIGHT_HOLDS = ("near_hand", "far_hand", "both_hands")

# Words the pictures show besides each exercise's title and stage label (poses.toml [words]).
WORDS = ("from_above",)

# Largest change of any angle between the two keyframes of a "breathe" motion: a breath, not a move.
BREATHE_MAX_DEGREES = 8.0


def joint_of(field: str) -> str:
    """The joint an angle field belongs to, for range checks: "near_knee" -> "knee"."""
    return field.split("_", 1)[1] if field.startswith(("near_", "far_")) else field


@dataclass(frozen=True)
class Pose:
    """One keyframe: every joint angle, plus which parts rest on the floor, a step or a wall."""

    name: str
    angles: Mapping[str, float]
    on_floor: tuple[str, ...] = ()
    on_step: tuple[str, ...] = ()
    on_wall: tuple[str, ...] = ()

    def angle(self, field: str) -> float:
        return self.angles[field]


@dataclass(frozen=True)
class Props:
    """The things drawn with the figure; each is off (None/False) unless the stage uses it.

    step_under / wall_at name the part that rests on the step or touches the wall in the first
    keyframe: the prop is placed there once and stays put while the figure moves.
    """

    mat: bool = False
    belt: bool = False  # from both hands round the sole of the near foot
    dowel: bool = False  # along the back, touching the tailbone
    foam_roller: bool = False  # lying across the lower back
    step_under: str | None = None
    wall_at: str | None = None
    dumbbell: str | None = None  # one of WEIGHT_HOLDS: a dumbbell in that hand, or one in each


@dataclass(frozen=True)
class StagePicture:
    """Everything needed to draw one stage: its keyframes in order, and how they move.

    motion "cycle": keyframes[0] -> ... -> keyframes[-1] -> back (start -> end -> start);
    "breathe": two nearly equal keyframes, swayed between slowly (a hold);
    "alternate": keyframes [rest, side A, side B], played rest -> A -> rest -> B.
    still: the keyframe the PNG shows; ghost: a keyframe drawn faintly behind it, or None.
    top_inset: also draw a small view from above (for placements only visible from there).
    """

    exercise_id: str
    stage_id: str
    title: str  # the exercise, as the picture names it
    label: str  # the stage, in a few words
    view: str
    motion: str
    anchor: str
    keyframes: tuple[Pose, ...]
    still: str
    ghost: str | None
    props: Props
    hands_apart: float
    knees_apart: float
    top_inset: bool = False

    def pose(self, name: str) -> Pose:
        for pose in self.keyframes:
            if pose.name == name:
                return pose
        raise KeyError(name)


@dataclass(frozen=True)
class PoseBook:
    """Pictures for every stage of every exercise, in the programme's order."""

    source: str
    exercises: tuple[tuple[str, tuple[StagePicture, ...]], ...]
    words: Mapping[str, str]

    def stages(self, exercise_id: str) -> tuple[StagePicture, ...]:
        for known_id, stages in self.exercises:
            if known_id == exercise_id:
                return stages
        raise KeyError(exercise_id)

    def stage(self, exercise_id: str, stage_index: int) -> StagePicture:
        """The picture for a stored stage index, clamped like `Exercise.stage_at`."""
        stages = self.stages(exercise_id)
        return stages[max(0, min(stage_index, len(stages) - 1))]

    def all_stages(self) -> tuple[StagePicture, ...]:
        return tuple(stage for _, stages in self.exercises for stage in stages)
