"""How a stage's keyframes become the frames of its animation, and how long each is shown.

Every animation has FRAMES frames, so a chat platform gets small files of a known length:
- "cycle" (a movement): start -> ... -> end -> ... back, easing in and out of each keyframe;
- "alternate" (bird dog, dead bug): rest -> side A -> rest -> side B;
- "breathe" (a hold): a slow sway between two nearly equal keyframes, like breathing.
The keyframe the still picture shows (for "alternate", both sides) is held longest, so the eye
rests on the position to learn.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping

from bot.pictures.model import ANGLE_FIELDS, Pose, StagePicture

FRAMES = 24
HELD_MS = 900  # the still's keyframe
KEY_MS = 450  # any other keyframe
BETWEEN_MS = 70  # an in-between frame
BREATHE_MS = 150  # each frame of a breath (24 frames: a slow 3.6 s breath)


@dataclass(frozen=True)
class FrameSpec:
    """One frame: the angles to draw, the keyframes it moves from and towards, its duration."""

    angles: Mapping[str, float]
    pose: Pose
    toward: Pose
    duration_ms: int
    is_keyframe: bool


def frame_plan(stage: StagePicture) -> list[FrameSpec]:
    """The animation's frames, exactly FRAMES of them, in playing order (it loops)."""
    if stage.motion == "breathe":
        return _breathe(stage)
    keys = list(stage.keyframes)
    if stage.motion == "alternate":
        rest, side_a, side_b = keys
        visits = [rest, side_a, rest, side_b]
    else:  # cycle: there and back again, each keyframe once per pass
        visits = keys + keys[-2:0:-1]
    betweens = (FRAMES - len(visits)) // len(visits)
    frames: list[FrameSpec] = []
    for number, start in enumerate(visits):
        end = visits[(number + 1) % len(visits)]
        held = HELD_MS if start.name == stage.still or (
            stage.motion == "alternate" and start is not visits[0]) else KEY_MS
        frames.append(FrameSpec(dict(start.angles), start, end, held, True))
        for step in range(1, betweens + 1):
            share = _ease(step / (betweens + 1))
            frames.append(FrameSpec(_blend(start, end, share), start, end, BETWEEN_MS, False))
    while len(frames) < FRAMES:  # only when the division above is not exact
        frames.append(FrameSpec(dict(visits[0].angles), visits[0], visits[1], BETWEEN_MS, True))
    return frames


def _breathe(stage: StagePicture) -> list[FrameSpec]:
    exhale, inhale = stage.keyframes
    frames = []
    for number in range(FRAMES):
        share = (1.0 - math.cos(2.0 * math.pi * number / FRAMES)) / 2.0
        frames.append(FrameSpec(_blend(exhale, inhale, share), exhale, inhale, BREATHE_MS,
                                number in (0, FRAMES // 2)))
    return frames


def _ease(share: float) -> float:
    """Slow out of one position, slow into the next."""
    return (1.0 - math.cos(math.pi * share)) / 2.0


def _blend(start: Pose, end: Pose, share: float) -> dict[str, float]:
    return {field: start.angle(field) + (end.angle(field) - start.angle(field)) * share
            for field in ANGLE_FIELDS}
