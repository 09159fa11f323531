"""Drawing scenes with Pillow: one flat, friendly style for every exercise picture.

Thick rounded limbs (tapered capsules between joint circles), a round head with a small nose to
show which way the face points, near limbs darker than far ones, a soft mat, plain props and a
two-line label. Shapes are drawn at SUPERSAMPLE times the size and reduced, which smooths their
edges; text is drawn afterwards at the final size so it stays crisp. Pillow only: a frame takes
a few milliseconds, where matplotlib would take tens.

Bump STYLE_VERSION whenever the look changes, so cached pictures are drawn again.
"""
from __future__ import annotations

import importlib.util
import io
import math
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping, Sequence

from PIL import Image, ImageDraw, ImageFont

from bot.pictures.body import HALF_HIPS, HALF_SHOULDERS, LIMBS, RADII, Figure, Joint
from bot.pictures.model import StagePicture
from bot.pictures.motion import FrameSpec, frame_plan
from bot.pictures.scene import (
    DOWEL_RADIUS, DUMBBELL_HALF_BAR, DUMBBELL_RADIUS, MAT_THICKNESS, ROLLER_RADIUS,
    WALL_THICKNESS, Scene, scene_for, setting_for,
)

STYLE_VERSION = 1
SIZE = (480, 320)
SUPERSAMPLE = 3
GIF_COLOURS = 64

HEADER_PX = 52  # room for the two-line label
MARGIN_PX = 14
GROUND_PX = 25  # the band of floor below the floor line
MAX_SCALE = 4.0  # pixels per body unit at the final size: a lying figure is not drawn huge
INSET_SIZE = (170, 110)

BACKGROUND = (248, 246, 241)
GROUND = (236, 231, 222)
GROUND_LINE = (196, 188, 175)
MAT = (166, 211, 192)
MAT_EDGE = (128, 183, 160)
NEAR = (31, 59, 99)
TRUNK = (46, 82, 131)
FAR = (137, 163, 199)
GHOST = (219, 225, 234)
WOOD = (214, 180, 138)
WOOD_EDGE = (176, 141, 98)
DOWEL = (168, 118, 66)
WALL = (226, 220, 209)
WALL_EDGE = (200, 192, 179)
ROLLER = (242, 180, 68)
ROLLER_RING = (214, 149, 40)
IRON = (59, 63, 70)
IRON_FAR = (120, 126, 136)
BELT = (226, 112, 58)
TITLE = (31, 41, 55)
LABEL = (75, 85, 99)
INSET_BACKGROUND = (255, 255, 255)
INSET_EDGE = (214, 208, 198)


def _font_file(name: str) -> str:
    """DejaVu Sans ships inside matplotlib (already a dependency): nothing is downloaded."""
    spec = importlib.util.find_spec("matplotlib")
    assert spec is not None and spec.origin is not None
    return str(Path(spec.origin).parent / "mpl-data" / "fonts" / "ttf" / name)


_fonts = threading.local()


def font(bold: bool, size: int) -> ImageFont.FreeTypeFont:
    """A font, loaded once per thread: FreeType faces are not safe to share between threads."""
    loaded = _fonts.__dict__.setdefault("loaded", {})
    if (bold, size) not in loaded:
        name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
        loaded[(bold, size)] = ImageFont.truetype(_font_file(name), size)
    return loaded[(bold, size)]


# --------------------------------------------------------------------------- viewport


@dataclass(frozen=True)
class Viewport:
    """Maps body units (y up) to pixels of the supersampled canvas (y down)."""

    scale: float  # pixels per unit, supersampled
    left: float  # body x at pixel 0
    ground_px: float  # pixel row of body y = 0

    def px(self, x: float, y: float) -> tuple[float, float]:
        return (x - self.left) * self.scale, self.ground_px - y * self.scale


def _extent(scene: Scene) -> tuple[float, float, float, float]:
    """Left, bottom, right, top of everything in a scene, body units."""
    xs, ys = [], []
    figure = scene.figure
    for name in figure.joints:
        (x, y), radius = figure.drawn_at(name), figure.radius(name)
        xs += [x - radius, x + radius]
        ys += [y - radius, y + radius]
    for _, hand in scene.dumbbells:
        ys.append(hand.y - DUMBBELL_RADIUS)
    if scene.dowel:
        for end in scene.dowel:
            xs.append(end.x)
            ys.append(end.y)
    if scene.roller:
        ys.append(scene.roller.y + ROLLER_RADIUS)
    if scene.setting.step:
        left, right, _ = scene.setting.step
        xs += [left, right]
    if scene.setting.wall_x is not None:
        xs.append(scene.setting.wall_x + WALL_THICKNESS)
    ys.append(0.0)
    return min(xs), min(ys), max(xs), max(ys)


def fit(scenes: Iterable[Scene], inset: bool) -> Viewport:
    """One viewport for all frames of a stage, so the picture never zooms or jumps."""
    extents = [_extent(scene) for scene in scenes]
    left = min(e[0] for e in extents) - 4.0
    right = max(e[2] for e in extents) + 4.0
    top = max(e[3] for e in extents) + 2.0
    width_px, height_px = SIZE
    ground_px = height_px - GROUND_PX
    header_px = INSET_SIZE[1] + 16 if inset else HEADER_PX
    room_w = width_px - 2 * MARGIN_PX
    room_h = ground_px - header_px - MARGIN_PX / 2
    scale = min(room_w / (right - left), room_h / top, MAX_SCALE)
    centre = (left + right) / 2
    left_px = width_px / 2 - centre * scale  # centre the figure
    return Viewport(scale=scale * SUPERSAMPLE, left=-left_px / scale,
                    ground_px=ground_px * SUPERSAMPLE)


# --------------------------------------------------------------------------- shapes


def capsule(start: tuple[float, float], start_radius: float,
            end: tuple[float, float], end_radius: float, arc_points: int = 14
            ) -> list[tuple[float, float]]:
    """Outline of two circles joined by their outer tangents (a limb), as a polygon."""
    (x1, y1), (x2, y2) = start, end
    distance = math.hypot(x2 - x1, y2 - y1)
    if distance <= abs(start_radius - end_radius) + 1e-6:
        big, radius = (start, start_radius) if start_radius >= end_radius else (end, end_radius)
        return _arc(big, radius, 0.0, 2 * math.pi, arc_points * 2)
    heading = math.atan2(y2 - y1, x2 - x1)
    spread = math.acos(max(-1.0, min(1.0, (start_radius - end_radius) / distance)))
    points = _arc(start, start_radius, heading + spread, heading + 2 * math.pi - spread, arc_points)
    points += _arc(end, end_radius, heading - spread, heading + spread, arc_points)
    return points


def _arc(centre: tuple[float, float], radius: float, start: float, stop: float, count: int
         ) -> list[tuple[float, float]]:
    return [(centre[0] + radius * math.cos(start + (stop - start) * i / count),
             centre[1] + radius * math.sin(start + (stop - start) * i / count))
            for i in range(count + 1)]


def _xy(point: Joint | tuple[float, float]) -> tuple[float, float]:
    return (point.x, point.y) if isinstance(point, Joint) else point


class _Painter:
    """Draws body-unit shapes onto one supersampled canvas."""

    def __init__(self, canvas: ImageDraw.ImageDraw, view: Viewport) -> None:
        self.canvas = canvas
        self.view = view

    def limb(self, a: Joint | tuple[float, float], ra: float,
             b: Joint | tuple[float, float], rb: float, colour) -> None:
        scale = self.view.scale
        self.canvas.polygon(capsule(self.view.px(*_xy(a)), ra * scale,
                                    self.view.px(*_xy(b)), rb * scale), fill=colour)

    def disc(self, centre: Joint | tuple[float, float], radius: float, colour, outline=None,
             width: float = 0) -> None:
        x, y = self.view.px(*_xy(centre))
        r = radius * self.view.scale
        self.canvas.ellipse((x - r, y - r, x + r, y + r), fill=colour, outline=outline,
                            width=round(width * self.view.scale))

    def box(self, left: float, bottom: float, right: float, top: float, colour,
            outline=None, corner: float = 1.5) -> None:
        x1, y1 = self.view.px(left, top)
        x2, y2 = self.view.px(right, bottom)
        self.canvas.rounded_rectangle((x1, y1, x2, y2), radius=corner * self.view.scale,
                                      fill=colour, outline=outline,
                                      width=max(1, round(0.5 * self.view.scale)))


# --------------------------------------------------------------------------- the figure


def _draw_figure(paint: _Painter, scene: Scene, colours: Mapping[str, tuple],
                 with_props: bool) -> None:
    """Far limbs, then the trunk and what rests on it, then near limbs and what they hold."""
    figure = scene.figure
    if with_props:
        _draw_dumbbells(paint, scene, "far")
    _draw_limbs(paint, figure, "far", colours["far"])
    _draw_trunk(paint, figure, colours["trunk"])
    if with_props:
        _draw_on_back(paint, scene)
    _draw_limbs(paint, figure, "near", colours["near"])
    if with_props:
        _draw_dumbbells(paint, scene, "near")
        for start, end in scene.belt:
            paint.limb(start, 0.8, end, 0.8, BELT)


def _draw_limbs(paint: _Painter, figure: Figure, layer: str, colour) -> None:
    for limb in LIMBS:
        if limb.layer == layer:
            paint.limb(figure.drawn_at(limb.start), figure.radius(limb.start),
                       figure.drawn_at(limb.end), figure.radius(limb.end), colour)
            if limb.end.endswith("_hand"):
                paint.disc(figure.drawn_at(limb.end), RADII["hand"], colour)


def _draw_trunk(paint: _Painter, figure: Figure, colour) -> None:
    for start, end in (("pelvis", "waist"), ("waist", "chest"), ("chest", "head")):
        start_radius = figure.radius(start) if end != "head" else RADII["neck"]
        end_radius = figure.radius(end) if end != "head" else RADII["neck"]
        paint.limb(figure[start], start_radius, figure[end], end_radius, colour)
    head = figure["head"]
    paint.disc(head, RADII["head"], colour)
    if figure.view == "side":  # a nose shows which way the face points; seen from the front, none
        face = figure.directions["head"] - 90.0 + 12.0
        paint.disc(head.toward(face, RADII["head"] - 0.4), 1.7, colour)


FIGURE_COLOURS = {"near": NEAR, "trunk": TRUNK, "far": FAR}
GHOST_COLOURS = {"near": GHOST, "trunk": GHOST, "far": GHOST}


# --------------------------------------------------------------------------- props


def _draw_setting(paint: _Painter, scenes: Sequence[Scene], stage: StagePicture) -> None:
    """What does not move: the floor, the wall, the mat under every frame, the step."""
    width, height = SIZE[0] * SUPERSAMPLE, SIZE[1] * SUPERSAMPLE
    _, ground = paint.view.px(0.0, 0.0)
    paint.canvas.rectangle((0, ground, width, height), fill=GROUND)
    paint.canvas.line((0, ground, width, ground), fill=GROUND_LINE, width=2 * SUPERSAMPLE)
    setting = scenes[0].setting
    if setting.wall_x is not None:
        top = (paint.view.ground_px - HEADER_PX * SUPERSAMPLE) / paint.view.scale + 4
        paint.box(setting.wall_x, 0.0, setting.wall_x + WALL_THICKNESS, top, WALL,
                  outline=WALL_EDGE, corner=0.5)
    if stage.props.mat:
        left = min(min(j.x - r for j, r in s.figure.circles()) for s in scenes) - 6.0
        right = max(max(j.x + r for j, r in s.figure.circles()) for s in scenes) + 6.0
        paint.box(left, -0.4, right, MAT_THICKNESS, MAT, outline=MAT_EDGE, corner=1.0)
    if setting.step is not None:
        left, right, top = setting.step
        paint.box(left, 0.0, right, top, WOOD, outline=WOOD_EDGE, corner=1.2)


def _draw_on_back(paint: _Painter, scene: Scene) -> None:
    """The foam roller and the dowel rest on the back, in front of it but behind the near arm."""
    if scene.roller is not None:
        paint.disc(scene.roller, ROLLER_RADIUS, ROLLER, outline=ROLLER_RING, width=0.9)
        paint.disc(scene.roller, ROLLER_RADIUS * 0.35, ROLLER_RING)
    if scene.dowel is not None:
        start, end = scene.dowel
        paint.limb(start, DOWEL_RADIUS, end, DOWEL_RADIUS, DOWEL)


def _draw_dumbbells(paint: _Painter, scene: Scene, side: str) -> None:
    """A bar through the hand with a plate at each end, seen from the side."""
    colour = IRON if side == "near" else IRON_FAR
    for held_by, hand in scene.dumbbells:
        if held_by != side:
            continue
        front, back = hand.moved(DUMBBELL_HALF_BAR, 0.0), hand.moved(-DUMBBELL_HALF_BAR, 0.0)
        paint.limb(back, 1.0, front, 1.0, colour)
        for end in (front, back):
            paint.box(end.x - 1.4, end.y - DUMBBELL_RADIUS, end.x + 1.4, end.y + DUMBBELL_RADIUS,
                      colour, corner=1.0)
        paint.disc(hand, RADII["hand"], NEAR if side == "near" else FAR)


def _draw_scene(paint: _Painter, scene: Scene, ghost: Scene | None) -> None:
    if ghost is not None:
        _draw_figure(paint, ghost, GHOST_COLOURS, with_props=False)
    _draw_figure(paint, scene, FIGURE_COLOURS, with_props=True)


# --------------------------------------------------------------------------- view from above


def top_inset(scene: Scene, caption: str) -> Image.Image:
    """A small view from above of the trunk: where the hands and knees go on the floor.

    The trunk is see-through, so the hands and knees under it show as dots, each joined to
    its shoulder or hip; legs and feet behind are left out to keep the point plain.
    """
    width, height = INSET_SIZE
    big = Image.new("RGBA", (width * SUPERSAMPLE, height * SUPERSAMPLE), (*INSET_BACKGROUND, 255))
    figure = scene.figure
    pelvis, chest, head = figure["pelvis"], figure["chest"], figure["head"]
    left, right = pelvis.x - 12.0, head.x + RADII["head"] + 6.0
    scale = min((width - 12) / (right - left), (height - 24) / (2 * HALF_SHOULDERS + 10)) * SUPERSAMPLE
    centre_x = (left + right) / 2

    def px(joint: Joint) -> tuple[float, float]:
        return (width * SUPERSAMPLE / 2 + (joint.x - centre_x) * scale,
                (height + 14) / 2 * SUPERSAMPLE + joint.z * scale)

    see_through = Image.new("RGBA", big.size, (0, 0, 0, 0))
    trunk = ImageDraw.Draw(see_through)
    trunk.polygon(capsule(px(Joint(pelvis.x, 0.0)), HALF_HIPS * 1.25 * scale,
                          px(Joint(chest.x, 0.0)), HALF_SHOULDERS * 1.15 * scale), fill=(*FAR, 150))
    trunk.ellipse(_circle(px(Joint(head.x, 0.0)), RADII["head"] * scale), fill=(*TRUNK, 255))
    big = Image.alpha_composite(big, see_through)
    canvas = ImageDraw.Draw(big)
    for part in scene_resting_parts(scene):  # the usual place, under shoulders and hips, faintly
        joint, radius = figure.contact(part)[0]
        root = figure[part.replace("hand", "shoulder").replace("knee", "hip")]
        canvas.ellipse(_circle(px(Joint(joint.x, 0.0, root.z)), radius * scale), fill=GHOST)
    for part in scene_resting_parts(scene):
        joint, radius = figure.contact(part)[0]
        root = figure[part.replace("hand", "shoulder").replace("knee", "hip")]
        canvas.line((px(root), px(joint)), fill=NEAR, width=round(2.2 * scale))
        canvas.ellipse(_circle(px(root), 1.4 * scale), fill=NEAR)
        canvas.ellipse(_circle(px(joint), radius * scale), fill=NEAR,
                       outline=INSET_BACKGROUND, width=SUPERSAMPLE)
    inset = big.convert("RGB").reduce(SUPERSAMPLE)
    draw = ImageDraw.Draw(inset)
    draw.text((6, 3), caption, font=font(False, 11), fill=LABEL)
    draw.rectangle((0, 0, width - 1, height - 1), outline=INSET_EDGE)
    return inset


def scene_resting_parts(scene: Scene) -> tuple[str, ...]:
    """Hands and knees that rest on the floor in this scene (for the view from above)."""
    figure, floor = scene.figure, scene.setting.floor
    parts = ("near_hand", "far_hand", "near_knee", "far_knee")
    return tuple(part for part in parts
                 if all(abs(joint.y - radius - floor) <= 1.5 for joint, radius in figure.contact(part)))


def _circle(centre: tuple[float, float], radius: float) -> tuple[float, float, float, float]:
    return centre[0] - radius, centre[1] - radius, centre[0] + radius, centre[1] + radius


# --------------------------------------------------------------------------- pictures


class StageArtist:
    """Draws one stage: its still and its animation frames, with one viewport for both."""

    def __init__(self, stage: StagePicture, words: Mapping[str, str]) -> None:
        self.stage = stage
        self.words = words
        self.setting = setting_for(stage)
        self.plan: list[FrameSpec] = frame_plan(stage)
        self.frames = [scene_for(stage, self.setting, spec.pose, spec.angles) for spec in self.plan]
        self.keyframes = {pose.name: scene_for(stage, self.setting, pose)
                          for pose in stage.keyframes}
        self.view = fit([*self.frames, *self.keyframes.values()], stage.top_inset)
        first = self.keyframes[stage.keyframes[0].name]
        self.inset = top_inset(first, words["from_above"]) if stage.top_inset else None
        self.background = Image.new("RGB", (SIZE[0] * SUPERSAMPLE, SIZE[1] * SUPERSAMPLE),
                                    BACKGROUND)
        _draw_setting(_Painter(ImageDraw.Draw(self.background), self.view), self.frames, stage)

    def still(self) -> Image.Image:
        ghost = self.keyframes[self.stage.ghost] if self.stage.ghost else None
        return self._picture(self.keyframes[self.stage.still], ghost)

    def animation(self) -> list[tuple[Image.Image, int]]:
        return [(self._picture(scene, None), spec.duration_ms)
                for scene, spec in zip(self.frames, self.plan)]

    def _picture(self, scene: Scene, ghost: Scene | None) -> Image.Image:
        big = self.background.copy()
        _draw_scene(_Painter(ImageDraw.Draw(big), self.view), scene, ghost)
        image = big.reduce(SUPERSAMPLE)
        self._label(image)
        if self.inset is not None:
            image.paste(self.inset, (SIZE[0] - INSET_SIZE[0] - 8, 8))
        return image

    def _label(self, image: Image.Image) -> None:
        """Title and label, top left; a long label gets a smaller font rather than cut off."""
        draw = ImageDraw.Draw(image)
        room = SIZE[0] - 2 * MARGIN_PX - (INSET_SIZE[0] + 8 if self.inset is not None else 0)
        draw.text((MARGIN_PX, 10), self.stage.title, font=font(True, 17), fill=TITLE)
        draw.text((MARGIN_PX, 32), self.stage.label, font=label_font(self.stage.label, room),
                  fill=LABEL)


def label_font(text: str, room_px: int) -> ImageFont.FreeTypeFont:
    """The largest label font, 14 px down to 10 px, that fits the text in the room."""
    for size in range(14, 10, -1):
        if font(False, size).getlength(text) <= room_px:
            return font(False, size)
    return font(False, 10)


def png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def gif_bytes(frames: Sequence[tuple[Image.Image, int]]) -> bytes:
    """An endlessly looping GIF; one shared palette keeps colours steady and the file small."""
    palette = frames[0][0].quantize(colors=GIF_COLOURS, method=Image.Quantize.MEDIANCUT)
    images = [image.quantize(palette=palette, dither=Image.Dither.NONE) for image, _ in frames]
    buffer = io.BytesIO()
    images[0].save(buffer, format="GIF", save_all=True, append_images=images[1:],
                   duration=[duration for _, duration in frames], loop=0, disposal=1,
                   optimize=False)
    return buffer.getvalue()
