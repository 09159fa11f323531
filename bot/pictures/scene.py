"""A figure set in its surroundings: standing on the floor, with its props placed around it.

Gravity decides the height: the figure is lowered until its lowest point rests on the floor
(the top of the mat when there is one). The stage's anchor part decides the left-right place and
stays put from frame to frame, so a planted foot or a kneeling knee does not slide. A step or a
wall is placed once, where the first keyframe's heel or hand meets it, and then stays there;
the dowel, foam roller, dumbbell and belt move with the body parts that hold them.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping

from bot.pictures.body import (
    CHEST_TO_NECK, CONTACT_JOINTS, LUMBAR, NECK, RADII, THORACIC, Figure, Joint, build_figure,
)
from bot.pictures.model import Pose, StagePicture

MAT_THICKNESS = 3.0
# How far a resting part may be from its surface and still count as touching it, body units.
TOUCH_TOLERANCE = 1.5

DOWEL_RADIUS = 1.3
DOWEL_BELOW_TAILBONE = 8.0
ROLLER_RADIUS = 5.5
ROLLER_ALONG_LUMBAR = 0.45  # share of the way from pelvis to waist
DUMBBELL_RADIUS = 4.5  # its plates, seen from the side
DUMBBELL_HALF_BAR = 5.5
STEP_BEHIND_HEEL = 12.0
STEP_AHEAD_OF_HEEL = 14.0
WALL_THICKNESS = 5.0


@dataclass(frozen=True)
class Setting:
    """What stays fixed for the whole stage: the floor's height and where a step or wall is."""

    floor: float
    step: tuple[float, float, float] | None  # left x, right x, top y
    wall_x: float | None  # the wall's face, on the figure's front


@dataclass(frozen=True)
class Scene:
    """One frame: the placed figure and its props' geometry, in body units."""

    figure: Figure
    setting: Setting
    dowel: tuple[Joint, Joint] | None
    roller: Joint | None
    dumbbells: tuple[tuple[str, Joint], ...]  # (side, hand) for each dumbbell, centred in the hand
    belt: tuple[tuple[Joint, Joint], ...]  # strands, from a hand to the sole of the foot


def place(figure: Figure, anchor: str, floor: float) -> Figure:
    """Lower the figure onto the floor and slide its anchor part to x = 0."""
    lowest = min(joint.y - radius for joint, radius in figure.circles())
    anchor_joint = figure[CONTACT_JOINTS[anchor][0]]
    return figure.moved(-anchor_joint.x, floor - lowest)


def posed(stage: StagePicture, pose: Pose, floor: float,
          angles: Mapping[str, float] | None = None) -> Figure:
    """The figure for a pose (or in-between angles), placed for this stage."""
    figure = build_figure(pose, stage.view, stage.hands_apart, stage.knees_apart, angles)
    return place(figure, stage.anchor, floor)


def setting_for(stage: StagePicture) -> Setting:
    """Floor height, and the step and wall placed where the first keyframe meets them."""
    floor = MAT_THICKNESS if stage.props.mat else 0.0
    step = wall_x = None
    if stage.props.step_under:
        pose = _first_with(stage, stage.props.step_under, "on_step")
        joint, radius = posed(stage, pose, floor).contact(stage.props.step_under)[0]
        step = (joint.x - STEP_BEHIND_HEEL, joint.x + STEP_AHEAD_OF_HEEL, joint.y - radius)
    if stage.props.wall_at:
        pose = _first_with(stage, stage.props.wall_at, "on_wall")
        joint, radius = posed(stage, pose, floor).contact(stage.props.wall_at)[0]
        wall_x = joint.x + radius
    return Setting(floor=floor, step=step, wall_x=wall_x)


def _first_with(stage: StagePicture, part: str, surface: str) -> Pose:
    for pose in stage.keyframes:
        if part in getattr(pose, surface):
            return pose
    return stage.keyframes[0]


def scene_for(stage: StagePicture, setting: Setting, pose: Pose,
              angles: Mapping[str, float] | None = None) -> Scene:
    """Figure and props for one frame."""
    figure = posed(stage, pose, setting.floor, angles)
    props = stage.props
    return Scene(
        figure=figure,
        setting=setting,
        dowel=dowel_line(figure) if props.dowel else None,
        roller=roller_centre(figure) if props.foam_roller else None,
        dumbbells=_dumbbells(figure, props.dumbbell),
        belt=_belt(figure) if props.belt else (),
    )


def tailbone(figure: Figure) -> Joint:
    """The back of the pelvis, where a dowel along the back rests at the bottom."""
    lumbar = figure.directions["lumbar"]
    return figure["pelvis"].toward(lumbar + 90.0, RADII["pelvis"])


def dowel_line(figure: Figure) -> tuple[Joint, Joint]:
    """A straight stick laid from the tailbone along the lower back, past the head.

    It follows the lower back only; whether the upper back and head still touch it is what
    shows a neutral spine (tested, not assumed).
    """
    lumbar = figure.directions["lumbar"]
    start = tailbone(figure).toward(lumbar + 90.0, DOWEL_RADIUS)
    reach = LUMBAR + THORACIC + CHEST_TO_NECK + NECK + 2 * RADII["head"] + 6.0
    return start.toward(lumbar, -DOWEL_BELOW_TAILBONE), start.toward(lumbar, reach)


def roller_centre(figure: Figure) -> Joint:
    """A foam roller lying across the lower back, resting on its surface."""
    lumbar = figure.directions["lumbar"]
    pelvis, waist = figure["pelvis"], figure["waist"]
    share = ROLLER_ALONG_LUMBAR
    along = Joint(pelvis.x + (waist.x - pelvis.x) * share, pelvis.y + (waist.y - pelvis.y) * share)
    back_radius = RADII["pelvis"] + (RADII["waist"] - RADII["pelvis"]) * share
    return along.toward(lumbar + 90.0, back_radius + ROLLER_RADIUS)


def _dumbbells(figure: Figure, held_in: str | None) -> tuple[tuple[str, Joint], ...]:
    """A dumbbell in one hand or in each, held with the bar pointing forward."""
    if held_in is None:
        return ()
    sides = ("far", "near") if held_in == "both_hands" else (held_in.removesuffix("_hand"),)
    return tuple((side, figure[f"{side}_hand"]) for side in sides)


def sole_point(figure: Figure, side: str = "near") -> Joint:
    """Under the ball of the foot: where a belt loops round it."""
    foot = figure.directions[f"{side}_foot"]
    return figure[f"{side}_ankle"].toward(foot, 6.0).toward(foot - 90.0, RADII["toe"] + 0.5)


def _belt(figure: Figure) -> tuple[tuple[Joint, Joint], ...]:
    """Two strands: each hand to the sole, a little apart, like a loop round the foot."""
    sole = sole_point(figure)
    foot = figure.directions["near_foot"]
    return ((figure["near_hand"], sole.toward(foot, 2.0)),
            (figure["far_hand"], sole.toward(foot, -2.0)))


# --------------------------------------------------------------------------- checks


def contact_gaps(scene: Scene, pose: Pose) -> list[tuple[str, str, float]]:
    """(field, part, gap) for every resting part that does not touch its surface.

    gap > 0: above the surface (or off the step, or away from the wall); gap < 0: sunk into it.
    """
    figure, setting = scene.figure, scene.setting
    problems: list[tuple[str, str, float]] = []
    for part in pose.on_floor:
        for joint, radius in figure.contact(part):
            gap = joint.y - radius - setting.floor
            if abs(gap) > TOUCH_TOLERANCE:
                problems.append(("on_floor", part, gap))
                break
    for part in pose.on_step:
        for joint, radius in figure.contact(part):
            gap = _step_gap(setting, joint, radius)
            if abs(gap) > TOUCH_TOLERANCE:
                problems.append(("on_step", part, gap))
                break
    for part in pose.on_wall:
        for joint, radius in figure.contact(part):
            gap = (setting.wall_x - joint.x - radius) if setting.wall_x is not None else math.inf
            if abs(gap) > TOUCH_TOLERANCE:
                problems.append(("on_wall", part, gap))
                break
    return problems


def _step_gap(setting: Setting, joint: Joint, radius: float) -> float:
    if setting.step is None:
        return math.inf
    left, right, top = setting.step
    if not left <= joint.x <= right:
        return math.inf
    return joint.y - radius - top


def lowest_point(scene: Scene) -> float:
    """The lowest point of the figure and anything it holds, for "nothing sinks into the floor"."""
    lowest = min(joint.y - radius for joint, radius in scene.figure.circles())
    for _, hand in scene.dumbbells:
        lowest = min(lowest, hand.y - DUMBBELL_RADIUS)
    return lowest


def part_x(figure: Figure, part: str) -> float:
    """Left-right place of a part (its first circle), to check that planted parts stay put."""
    return figure[CONTACT_JOINTS[part][0]].x
