"""The figure's body: fixed proportions, and where every joint lands for a pose's angles.

Lengths are in body units (standing height is about 97). Every limb is a capsule between two
joint circles, so "touching the floor" and "resting on a step" are questions about circles.
The figure is built around its pelvis; `bot.pictures.scene` then sets it on the floor.

Besides the picture plane (x to the right, y up) each joint has a depth z (towards the viewer),
used only by the view from above: hands and knees can be placed closer together than the
shoulders and hips (e.g. the narrow-base bird dog). The limbs' lengths in 3-D stay fixed; a limb
that angles inwards is correspondingly shorter in the side view.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Iterator, Mapping

from bot.pictures.model import Pose

# Segment lengths, body units.
LUMBAR = 14.0  # pelvis -> waist
THORACIC = 12.0  # waist -> chest
CHEST_TO_NECK = 4.5
SHOULDER_ABOVE_CHEST = 1.5
NECK = 2.5
UPPER_ARM = 17.0
FOREARM = 15.0
THIGH = 24.0
SHIN = 23.0
HEEL_BEHIND_ANKLE = 2.5
TOE_AHEAD_OF_ANKLE = 10.0

# Radii of the joint circles the limbs are drawn between, body units.
RADII: Mapping[str, float] = {
    "pelvis": 8.5, "waist": 7.6, "chest": 8.5, "neck": 3.2, "head": 7.0,
    "shoulder": 4.2, "elbow": 3.3, "hand": 3.3,
    "hip": 5.8, "knee": 4.4, "ankle": 3.0, "heel": 2.8, "toe": 2.4,
}

# Half the distance between the two shoulders and the two hips, seen from above.
HALF_SHOULDERS = 9.0
HALF_HIPS = 7.0
SHOULDER_WIDTH = 2 * HALF_SHOULDERS
HIP_WIDTH = 2 * HALF_HIPS

# The front view shows a person lying on their side (side plank) from the side their chest
# faces: the top limbs start FRONT_VIEW_STACK above the bottom ones, so the top leg lies on the
# bottom one; the trunk is seen across its width; a bent knee sends the shin away from the
# viewer, and the camera, a little above, sees things further away a little higher up.
FRONT_VIEW_STACK = 9.0
FRONT_VIEW_RADII: Mapping[str, float] = {"pelvis": 9.5, "waist": 8.0, "chest": 10.0}
FRONT_VIEW_ELEVATION = 0.35  # picture rise per unit of distance away from the viewer
FRONT_VIEW_FOOT = 3.5  # a foot pointing at the viewer looks this long

SIDES = ("near", "far")

Angles = Callable[[str], float]  # a pose's angle by field name


def direction(degrees: float) -> tuple[float, float]:
    """Unit vector for an angle measured counter-clockwise from "to the right"."""
    radians = math.radians(degrees)
    return math.cos(radians), math.sin(radians)


@dataclass(frozen=True)
class Joint:
    """A joint's place: x to the right, y up (picture plane), z towards the viewer."""

    x: float
    y: float
    z: float = 0.0

    def moved(self, dx: float, dy: float) -> Joint:
        return Joint(self.x + dx, self.y + dy, self.z)

    def toward(self, degrees: float, length: float, z: float | None = None) -> Joint:
        dx, dy = direction(degrees)
        return Joint(self.x + dx * length, self.y + dy * length, self.z if z is None else z)


@dataclass(frozen=True)
class Limb:
    """One capsule to draw: between two joints, with a radius at each end."""

    start: str
    end: str
    layer: str  # "far", "trunk" or "near": far limbs are drawn first, near ones last


@dataclass(frozen=True)
class Figure:
    """A posed body: every joint's position, and the segment angles it was built from."""

    joints: Mapping[str, Joint]
    directions: Mapping[str, float]  # segment name -> angle in the picture plane, degrees
    view: str = "side"

    def __getitem__(self, name: str) -> Joint:
        return self.joints[name]

    def moved(self, dx: float, dy: float) -> Figure:
        return Figure({name: joint.moved(dx, dy) for name, joint in self.joints.items()},
                      self.directions, self.view)

    def radius(self, joint_name: str) -> float:
        """Radius of a joint's circle: "near_knee" -> the knee's (the trunk is wider from the front)."""
        if self.view == "front" and joint_name in FRONT_VIEW_RADII:
            return FRONT_VIEW_RADII[joint_name]
        return radius_of(joint_name)

    def circles(self) -> Iterator[tuple[Joint, float]]:
        """Every joint circle: the figure's outline is the union of capsules between them."""
        for name, joint in self.joints.items():
            yield joint, self.radius(name)

    def contact(self, part: str) -> tuple[tuple[Joint, float], ...]:
        """The circles a weight-bearing part touches a surface with."""
        names = CONTACT_JOINTS[part]
        if self.view == "front" and part.endswith("_foot"):
            names = names[1:]  # a foot seen from the front stands on its edge: the toe circle
        if self.view == "front" and part == "pelvis":
            names = ("near_hip",)  # lying on one side, the pelvis rests on the bottom hip
        return tuple((self.joints[name], self.radius(name)) for name in names)

    def drawn_at(self, joint_name: str) -> tuple[float, float]:
        """Where a joint appears in the picture (body units): the front view's camera is a
        little above, so what lies further away appears a little higher."""
        joint = self.joints[joint_name]
        if self.view == "front":
            return joint.x, joint.y - joint.z * FRONT_VIEW_ELEVATION
        return joint.x, joint.y


def radius_of(joint_name: str) -> float:
    """Radius of a joint's circle in the side view: "near_knee" -> the knee's."""
    return RADII[joint_name.split("_", 1)[1] if joint_name.startswith(SIDES) else joint_name]


# Which joint circles each contact part of the content (see model.CONTACT_PARTS) stands for.
CONTACT_JOINTS: Mapping[str, tuple[str, ...]] = {
    **{f"{side}_hand": (f"{side}_hand",) for side in SIDES},
    **{f"{side}_forearm": (f"{side}_elbow", f"{side}_hand") for side in SIDES},
    **{f"{side}_elbow": (f"{side}_elbow",) for side in SIDES},
    **{f"{side}_knee": (f"{side}_knee",) for side in SIDES},
    **{f"{side}_shin": (f"{side}_knee", f"{side}_ankle") for side in SIDES},
    **{f"{side}_foot": (f"{side}_heel", f"{side}_toe") for side in SIDES},
    **{f"{side}_heel": (f"{side}_heel",) for side in SIDES},
    **{f"{side}_toes": (f"{side}_toe",) for side in SIDES},
    "back": ("pelvis", "chest"),
    "pelvis": ("pelvis",),
    "head": ("head",),
    "hips": ("pelvis",),
}

# The capsules of the figure, in drawing order within each layer.
LIMBS: tuple[Limb, ...] = (
    *(limb for side in ("far", "near") for limb in (
        Limb(f"{side}_hip", f"{side}_knee", side),
        Limb(f"{side}_knee", f"{side}_ankle", side),
        Limb(f"{side}_heel", f"{side}_toe", side),
        Limb(f"{side}_shoulder", f"{side}_elbow", side),
        Limb(f"{side}_elbow", f"{side}_hand", side),
    )),
    Limb("pelvis", "waist", "trunk"),
    Limb("waist", "chest", "trunk"),
)


def build_figure(pose: Pose, view: str, hands_apart: float, knees_apart: float,
                 angles: Mapping[str, float] | None = None) -> Figure:
    """Joint positions for a pose, with the pelvis at the origin.

    `angles` replaces the pose's own (used for in-between frames of an animation).
    """
    angle = (angles or pose.angles).__getitem__
    lumbar = 90.0 - angle("trunk")
    thoracic = lumbar - angle("spine")
    head_direction = thoracic - angle("neck")
    pelvis = Joint(0.0, 0.0)
    waist = pelvis.toward(lumbar, LUMBAR)
    chest = waist.toward(thoracic, THORACIC)
    neck = chest.toward(thoracic, CHEST_TO_NECK)
    # The back of the head lines up with the upper back when the neck is in line.
    head = neck.toward(head_direction, NECK + RADII["head"]).toward(
        head_direction + 90.0, RADII["chest"] - RADII["head"])
    joints = {"pelvis": pelvis, "waist": waist, "chest": chest, "neck": neck, "head": head}
    directions = {"lumbar": lumbar, "thoracic": thoracic, "head": head_direction}
    for side in SIDES:
        if view == "front":
            lift = FRONT_VIEW_STACK / 2 * (1.0 if side == "far" else -1.0)
            shoulder = chest.toward(thoracic, SHOULDER_ABOVE_CHEST).toward(thoracic + 90.0, lift)
            hip = pelvis.toward(lumbar + 90.0, lift)
            arm_joints, arm_directions = _arm(side, shoulder, thoracic, angle, 0.0)
            leg_joints, leg_directions = _front_leg(side, hip, lumbar, angle)
        else:
            sign = 1.0 if side == "near" else -1.0
            shoulder = chest.toward(thoracic, SHOULDER_ABOVE_CHEST)
            shoulder = Joint(shoulder.x, shoulder.y, sign * HALF_SHOULDERS)
            hip = Joint(pelvis.x, pelvis.y, sign * HALF_HIPS)
            arm_joints, arm_directions = _arm(side, shoulder, thoracic, angle,
                                              sign * hands_apart / 2)
            leg_joints, leg_directions = _leg(side, hip, lumbar, angle, sign * knees_apart / 2)
        joints.update(arm_joints)
        joints.update(leg_joints)
        directions.update(arm_directions)
        directions.update(leg_directions)
    return Figure(joints, directions, view)


def _arm(side: str, shoulder: Joint, thoracic: float, angle: Angles, hand_z: float
         ) -> tuple[dict[str, Joint], dict[str, float]]:
    """Shoulder, elbow and hand; an arm reaching inwards is shorter in the side view."""
    upper = thoracic - 180.0 + angle(f"{side}_shoulder")
    fore = upper + angle(f"{side}_elbow")
    scale = _in_plane(hand_z - shoulder.z, UPPER_ARM + FOREARM)
    elbow_z = shoulder.z + (hand_z - shoulder.z) * UPPER_ARM / (UPPER_ARM + FOREARM)
    elbow = shoulder.toward(upper, UPPER_ARM * scale, elbow_z)
    hand = elbow.toward(fore, FOREARM * scale, hand_z)
    joints = {f"{side}_shoulder": shoulder, f"{side}_elbow": elbow, f"{side}_hand": hand}
    return joints, {f"{side}_upper_arm": upper, f"{side}_forearm": fore}


def _leg(side: str, hip: Joint, lumbar: float, angle: Angles, knee_z: float
         ) -> tuple[dict[str, Joint], dict[str, float]]:
    """Hip, knee, ankle, heel and toe; a thigh angling inwards is shorter in the side view."""
    thigh = lumbar - 180.0 + angle(f"{side}_hip")
    shin = thigh - angle(f"{side}_knee")
    foot = shin + 90.0 + angle(f"{side}_ankle")
    knee = hip.toward(thigh, THIGH * _in_plane(knee_z - hip.z, THIGH), knee_z)
    ankle = knee.toward(shin, SHIN)
    heel = ankle.toward(foot, -HEEL_BEHIND_ANKLE)
    toe = ankle.toward(foot, TOE_AHEAD_OF_ANKLE)
    joints = {f"{side}_hip": hip, f"{side}_knee": knee, f"{side}_ankle": ankle,
              f"{side}_heel": heel, f"{side}_toe": toe}
    return joints, {f"{side}_thigh": thigh, f"{side}_shin": shin, f"{side}_foot": foot}


def _front_leg(side: str, hip: Joint, lumbar: float, angle: Angles
               ) -> tuple[dict[str, Joint], dict[str, float]]:
    """A leg of a person lying on their side, seen from their front.

    The hip angle moves the thigh in the picture; a bent knee sends the shin away from the
    viewer (its depth), and the foot points at the viewer, standing on its outer edge.
    The ankle angle does not show from here.
    """
    thigh = lumbar - 180.0 + angle(f"{side}_hip")
    bend = math.radians(angle(f"{side}_knee"))
    knee = hip.toward(thigh, THIGH)
    ankle = knee.toward(thigh, SHIN * math.cos(bend), z=knee.z - SHIN * math.sin(bend))
    heel = ankle.toward(thigh, -HEEL_BEHIND_ANKLE / 2)
    toe = Joint(ankle.x, ankle.y - 1.0, ankle.z + FRONT_VIEW_FOOT)
    joints = {f"{side}_hip": hip, f"{side}_knee": knee, f"{side}_ankle": ankle,
              f"{side}_heel": heel, f"{side}_toe": toe}
    return joints, {f"{side}_thigh": thigh, f"{side}_shin": thigh, f"{side}_foot": thigh}


def _in_plane(depth: float, length: float) -> float:
    """Share of a limb's length seen in the side view when its ends differ by `depth`."""
    return math.sqrt(max(0.0, 1.0 - (depth / length) ** 2))


def segment_length(figure: Figure, start: str, end: str) -> float:
    """True (3-D) distance between two joints, for the constant-limb-length checks."""
    a, b = figure[start], figure[end]
    return math.dist((a.x, a.y, a.z), (b.x, b.y, b.z))
