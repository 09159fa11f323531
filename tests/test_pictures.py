"""Every exercise stage has a picture that a person can learn the exercise from.

The checks measure the drawn figure itself: joint angles are worked out again from the joint
positions (not read back from content/poses.toml), and what the words in exercises.toml say
(knees down, feet stacked, a stick touching head, upper back and tailbone...) is checked against
where the body parts actually are, in every frame of the animation.
"""
from __future__ import annotations

import math
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from PIL import Image

from bot.content import ContentError, Programme, load_programme
from bot.pictures import Pictures, PoseBook, StagePicture, load_poses
from bot.pictures import library
from bot.pictures.body import (
    FOREARM, LUMBAR, SHIN, THIGH, THORACIC, UPPER_ARM, Figure, Joint,
)
from bot.pictures.draw import INSET_SIZE, MARGIN_PX, SIZE, label_font
from bot.pictures.motion import FRAMES, frame_plan
from bot.pictures.scene import (
    DOWEL_RADIUS, ROLLER_RADIUS, Scene, dowel_line, scene_for, setting_for,
)

ROOT = Path(__file__).resolve().parent.parent
CONTENT_DIR = ROOT / "content"
TOUCH = 1.5  # body units (standing height ~97): about 2.5 cm on a person


@pytest.fixture(scope="module")
def programme() -> Programme:
    return load_programme(CONTENT_DIR)


@pytest.fixture(scope="module")
def poses(programme: Programme) -> PoseBook:
    return load_poses(CONTENT_DIR, programme)


def every_stage() -> list[StagePicture]:
    return list(load_poses(CONTENT_DIR, load_programme(CONTENT_DIR)).all_stages())


STAGES = every_stage()
STAGE_IDS = [f"{stage.exercise_id}/{stage.stage_id}" for stage in STAGES]


def stage_of(poses: PoseBook, exercise_id: str, stage_id: str) -> StagePicture:
    return next(stage for stage in poses.stages(exercise_id) if stage.stage_id == stage_id)


def key_scene(stage: StagePicture, pose_name: str) -> Scene:
    return scene_for(stage, setting_for(stage), stage.pose(pose_name))


def all_frames(stage: StagePicture) -> list[Scene]:
    """Every frame of the animation, in-betweens included."""
    setting = setting_for(stage)
    return [scene_for(stage, setting, spec.pose, spec.angles) for spec in frame_plan(stage)]


# --------------------------------------------------------------------------- geometry, again


def heading(start: Joint, end: Joint) -> float:
    return math.degrees(math.atan2(end.y - start.y, end.x - start.x))


def turn(from_degrees: float, to_degrees: float) -> float:
    """Signed turn from one heading to another, -180..180 (counter-clockwise positive)."""
    return (to_degrees - from_degrees + 180.0) % 360.0 - 180.0


def angle_between(a: Joint, b: Joint, c: Joint, d: Joint) -> float:
    """Unsigned angle between the 3-D vectors a->b and c->d."""
    u = (b.x - a.x, b.y - a.y, b.z - a.z)
    v = (d.x - c.x, d.y - c.y, d.z - c.z)
    cosine = sum(p * q for p, q in zip(u, v)) / (math.hypot(*u) * math.hypot(*v))
    return math.degrees(math.acos(max(-1.0, min(1.0, cosine))))


def knee_bend(figure: Figure, side: str) -> float:
    return angle_between(figure[f"{side}_hip"], figure[f"{side}_knee"],
                         figure[f"{side}_knee"], figure[f"{side}_ankle"])


def elbow_bend(figure: Figure, side: str) -> float:
    return angle_between(figure[f"{side}_shoulder"], figure[f"{side}_elbow"],
                         figure[f"{side}_elbow"], figure[f"{side}_hand"])


def hip_flexion(figure: Figure, side: str) -> float:
    """Thigh against the line of the lower trunk: 0 in line, positive in front (facing right)."""
    down_trunk = heading(figure["waist"], figure["pelvis"])
    return turn(down_trunk, heading(figure[f"{side}_hip"], figure[f"{side}_knee"]))


def knee_direction(figure: Figure, side: str) -> float:
    """Positive when the knee bends the normal way (shin turns back, clockwise)."""
    return turn(heading(figure[f"{side}_knee"], figure[f"{side}_ankle"]),
                heading(figure[f"{side}_hip"], figure[f"{side}_knee"]))


def spine_bend(figure: Figure) -> float:
    return abs(turn(heading(figure["pelvis"], figure["waist"]),
                    heading(figure["waist"], figure["chest"])))


def gap_to_floor(scene: Scene, joint_name: str) -> float:
    figure = scene.figure
    return figure[joint_name].y - figure.radius(joint_name) - scene.setting.floor


def rests(scene: Scene, *joint_names: str) -> bool:
    return all(abs(gap_to_floor(scene, name)) <= TOUCH for name in joint_names)


def distance_to_line(point: Joint, line: tuple[Joint, Joint]) -> float:
    start, end = line
    length = math.dist((start.x, start.y), (end.x, end.y))
    return abs((point.x - start.x) * (end.y - start.y)
               - (point.y - start.y) * (end.x - start.x)) / length


def distance_to_capsule(point: Joint, figure: Figure, start: str, end: str) -> float:
    """Distance from a point to the surface of the limb drawn between two joints."""
    a, b = figure[start], figure[end]
    length = math.dist((a.x, a.y), (b.x, b.y))
    share = max(0.0, min(1.0, ((point.x - a.x) * (b.x - a.x) + (point.y - a.y) * (b.y - a.y))
                         / length ** 2))
    nearest = (a.x + (b.x - a.x) * share, a.y + (b.y - a.y) * share)
    radius = figure.radius(start) + (figure.radius(end) - figure.radius(start)) * share
    return math.dist((point.x, point.y), nearest) - radius


def back_point(figure: Figure, joint_name: str, along: str) -> Joint:
    """The point on the back of the body at a joint: its circle's edge, away from the front."""
    direction = figure.directions[along] + 90.0
    radius = figure.radius(joint_name)
    joint = figure[joint_name]
    return Joint(joint.x + radius * math.cos(math.radians(direction)),
                 joint.y + radius * math.sin(math.radians(direction)))


# --------------------------------------------------------------------------- every stage


@pytest.fixture(scope="module")
def pictures(poses: PoseBook, tmp_path_factory: pytest.TempPathFactory) -> Pictures:
    return Pictures(poses, tmp_path_factory.mktemp("picture-cache"))


def test_every_stage_of_the_programme_has_a_picture(programme: Programme, poses: PoseBook) -> None:
    expected = [(e.id, s.id) for e in programme.exercises for s in e.stages]
    assert [(s.exercise_id, s.stage_id) for s in poses.all_stages()] == expected


@pytest.mark.parametrize("stage", STAGES, ids=STAGE_IDS)
def test_still_and_animation_decode_at_the_expected_size(pictures: Pictures,
                                                         stage: StagePicture) -> None:
    index = [s.stage_id for s in pictures.poses.stages(stage.exercise_id)].index(stage.stage_id)
    files = pictures.files(stage.exercise_id, index)
    with Image.open(files.still) as still:
        still.load()
        assert (still.format, still.size) == ("PNG", SIZE)
    with Image.open(files.animation) as animation:
        assert (animation.format, animation.size, animation.n_frames) == ("GIF", SIZE, FRAMES)
        assert animation.info["loop"] == 0  # plays forever, as chat apps expect
        frames, durations = [], []
        for number in range(animation.n_frames):
            animation.seek(number)
            durations.append(animation.info["duration"])
            frames.append(animation.convert("RGB").tobytes())
    assert len(set(frames)) > FRAMES // 2, "the figure should move between frames"
    assert 2000 <= sum(durations) <= 8000, "one loop lasts a few seconds"
    assert files.animation.stat().st_size < 150_000, "small enough to send on every workout"


@pytest.mark.parametrize("stage", STAGES, ids=STAGE_IDS)
def test_the_label_fits_on_the_picture_in_a_readable_size(stage: StagePicture) -> None:
    room = SIZE[0] - 2 * MARGIN_PX - (INSET_SIZE[0] + 8 if stage.top_inset else 0)
    assert label_font(stage.label, room).size >= 12
    assert label_font(stage.label, room).getlength(stage.label) <= room


@pytest.mark.parametrize("stage", STAGES, ids=STAGE_IDS)
def test_limbs_keep_their_length_in_every_frame(stage: StagePicture) -> None:
    expected = {("hip", "knee"): THIGH, ("knee", "ankle"): SHIN,
                ("shoulder", "elbow"): UPPER_ARM, ("elbow", "hand"): FOREARM}
    for scene in all_frames(stage):
        figure = scene.figure
        assert math.dist(*((j.x, j.y, j.z) for j in (figure["pelvis"], figure["waist"]))) == \
            pytest.approx(LUMBAR)
        assert math.dist(*((j.x, j.y, j.z) for j in (figure["waist"], figure["chest"]))) == \
            pytest.approx(THORACIC)
        for side in ("near", "far"):
            for (start, end), length in expected.items():
                a, b = figure[f"{side}_{start}"], figure[f"{side}_{end}"]
                assert math.dist((a.x, a.y, a.z), (b.x, b.y, b.z)) == pytest.approx(length), \
                    f"{side} {start}-{end}"


@pytest.mark.parametrize("stage", STAGES, ids=STAGE_IDS)
def test_joints_stay_in_a_human_range_in_every_frame(stage: StagePicture) -> None:
    for scene in all_frames(stage):
        figure = scene.figure
        for side in ("near", "far"):
            assert 0 <= knee_bend(figure, side) <= 160
            assert 0 <= elbow_bend(figure, side) <= 160
            assert -30 <= hip_flexion(figure, side) <= 140
            if stage.view == "side":
                assert knee_direction(figure, side) > -1.0, f"{side} knee bends the wrong way"


@pytest.mark.parametrize("stage", STAGES, ids=STAGE_IDS)
def test_resting_parts_touch_the_floor_and_nothing_sinks_into_it(stage: StagePicture) -> None:
    for pose in stage.keyframes:
        scene = key_scene(stage, pose.name)
        for part in pose.on_floor:
            for joint, radius in scene.figure.contact(part):
                assert abs(joint.y - radius - scene.setting.floor) <= TOUCH, (pose.name, part)
    for scene in all_frames(stage):
        lowest = min(joint.y - radius for joint, radius in scene.figure.circles())
        assert lowest >= scene.setting.floor - 0.01
        for _, hand in scene.dumbbells:
            assert hand.y - 4.5 >= scene.setting.floor - 0.01, "a weight sinks into the floor"


@pytest.mark.parametrize("stage", STAGES, ids=STAGE_IDS)
def test_planted_parts_stay_put_during_the_animation(stage: StagePicture) -> None:
    """A hand, knee or foot on the floor in the keyframes on both sides of an in-between frame
    stays on the floor, at the same place, all the way (the body does not hop or skate)."""
    setting = setting_for(stage)
    plan = frame_plan(stage)
    for number, spec in enumerate(plan):
        start, end = spec.pose, spec.toward
        scene = scene_for(stage, setting, start, spec.angles)
        reference = scene_for(stage, setting, start)
        for part in set(start.on_floor) & set(end.on_floor):
            for (joint, radius), (before, _) in zip(scene.figure.contact(part),
                                                    reference.figure.contact(part)):
                assert abs(joint.y - radius - setting.floor) <= TOUCH, (number, part, "lifts")
                assert abs(joint.x - before.x) <= 2 * TOUCH, (number, part, "slides")


# --------------------------------------------------------------------------- the spine


NEUTRAL_SPINE = ["hip_flexor_stretch", "hamstring_stretch", "side_plank", "dead_bug", "bird_dog",
                 "squat", "hip_hinge"]


@pytest.mark.parametrize("stage", [s for s in STAGES if s.exercise_id in NEUTRAL_SPINE],
                         ids=[i for s, i in zip(STAGES, STAGE_IDS) if s.exercise_id in NEUTRAL_SPINE])
def test_spine_stays_neutral_where_the_instructions_say_so(stage: StagePicture) -> None:
    """Flat back, steady spine, no rounding: the upper trunk stays in line with the lower."""
    for scene in all_frames(stage):
        assert spine_bend(scene.figure) <= 3.0
        assert abs(turn(heading(scene.figure["waist"], scene.figure["chest"]),
                        scene.figure.directions["head"])) <= 15.0, "the head stays in line"


@pytest.mark.parametrize("exercise_id", ["dead_bug", "bird_dog"])
def test_the_back_stays_still_while_the_limbs_move(poses: PoseBook, exercise_id: str) -> None:
    """"Your lower back stays still" / "Keep your back still. Only your arm and leg move.\""""
    for stage in poses.stages(exercise_id):
        frames = all_frames(stage)
        tilts = [frame.figure.directions["lumbar"] for frame in frames]
        pelvis = [(frame.figure["pelvis"].x, frame.figure["pelvis"].y) for frame in frames]
        assert max(tilts) - min(tilts) <= 1.0
        assert max(math.dist(pelvis[0], place) for place in pelvis) <= 1.0


# --------------------------------------------------------------------------- the words


def test_hip_flexor_stretch_kneels_on_the_back_knee_with_the_front_foot_flat(poses) -> None:
    for stage in poses.stages("hip_flexor_stretch"):
        first, second = (key_scene(stage, pose.name).figure for pose in stage.keyframes)
        assert second["pelvis"].x > first["pelvis"].x + 1, "the hips ease forward"
        for scene in all_frames(stage):
            assert rests(scene, "near_knee", "far_heel", "far_toe")
            assert hip_flexion(scene.figure, "near") < 0, "the kneeling thigh is behind the body"
            assert 70 <= hip_flexion(scene.figure, "far") <= 100
    reach = stage_of(poses, "hip_flexor_stretch", "reach_across_60")
    figure = key_scene(reach, reach.still).figure
    assert figure["near_hand"].y > figure["head"].y, "the kneeling-side arm reaches overhead"


def test_hamstring_stretch_lying_with_a_belt_and_standing_with_a_heel_on_a_step(poses) -> None:
    lying = stage_of(poses, "hamstring_stretch", "lying_belt_30")
    for scene in all_frames(lying):
        figure = scene.figure
        assert rests(scene, "pelvis", "chest", "head"), "lying on the back"
        assert knee_bend(figure, "near") <= 5 and hip_flexion(figure, "near") >= 60, "leg raised"
        assert scene.belt and all(
            distance_to_capsule(end, figure, "near_heel", "near_toe") <= 1.0
            for _, end in scene.belt), "the belt loops round the foot"
    for stage_id in ("standing_30", "standing_45", "standing_60"):
        stage = stage_of(poses, "hamstring_stretch", stage_id)
        for scene in all_frames(stage):
            figure = scene.figure
            left, right, top = scene.setting.step
            heel = figure["near_heel"]
            assert left <= heel.x <= right and abs(heel.y - figure.radius("near_heel") - top) <= TOUCH
            assert rests(scene, "far_heel", "far_toe")
            assert knee_bend(figure, "near") <= 5, "knee straight"
            assert 20 <= 90 - figure.directions["lumbar"] <= 45, "leaning forward from the hips"


def test_side_plank_on_knees_then_top_leg_straight_then_feet_stacked(poses) -> None:
    for stage in poses.stages("side_plank"):
        up = key_scene(stage, "up")
        figure = up.figure
        assert rests(up, "near_elbow", "near_hand"), "propped on the forearm"
        assert abs(figure["near_elbow"].x - figure["near_shoulder"].x) <= 3, "elbow under shoulder"
        assert gap_to_floor(up, "pelvis") > 5, "hips lifted"
        if stage.stage_id.startswith("knees_"):
            assert rests(up, "near_knee")
            assert knee_bend(figure, "near") >= 60 and knee_bend(figure, "far") >= 60
            assert abs(figure["far_knee"].x - figure["near_knee"].x) <= 3, "knees stacked"
            for side in ("near", "far"):  # lower legs tucked away behind, not out along the floor
                assert abs(figure[f"{side}_ankle"].x - figure[f"{side}_knee"].x) <= 3
                assert figure[f"{side}_ankle"].z <= figure[f"{side}_knee"].z - 15
            line = (figure["near_knee"], figure["near_shoulder"])
        elif stage.stage_id == "top_leg_straight":
            assert rests(up, "near_knee") and knee_bend(figure, "near") >= 60
            assert knee_bend(figure, "far") <= 5, "top leg straight"
            assert rests(up, "far_toe"), "weight through the top foot"
            line = (figure["near_knee"], figure["near_shoulder"])
        else:
            assert stage.stage_id == "feet_stacked"
            assert knee_bend(figure, "near") <= 5 and knee_bend(figure, "far") <= 5
            assert rests(up, "near_toe") and gap_to_floor(up, "near_knee") > 3
            bottom, top = figure["near_toe"], figure["far_toe"]
            assert math.dist((bottom.x, bottom.y), (top.x, top.y)) <= \
                figure.radius("near_toe") + figure.radius("far_toe") + TOUCH, "feet stacked"
            assert top.y > bottom.y and gap_to_floor(up, "far_toe") > 2
            line = (figure["near_toe"], figure["near_shoulder"])
        assert distance_to_line(figure["near_hip"], line) <= 3, "body in a straight line"


def test_dead_bug_toe_taps_bent_knee_hover_straight_legs_and_opposite_arm(poses) -> None:
    taps = stage_of(poses, "dead_bug", "toe_taps")
    for side, other in (("near", "far"), ("far", "near")):
        scene = key_scene(taps, f"{side}_tap")
        figure = scene.figure
        assert rests(scene, f"{side}_toe"), "the toes tap the floor"
        assert knee_bend(figure, side) >= 70, "knee stays bent"
        assert 80 <= hip_flexion(figure, other) <= 100 and 80 <= knee_bend(figure, other) <= 100
    rest = key_scene(taps, "rest").figure
    for side in ("near", "far"):
        assert abs(turn(heading(rest[f"{side}_shoulder"], rest[f"{side}_hand"]), 90)) <= 10, \
            "arms point at the ceiling"
    for stage_id in ("leg_hover", "straight_legs", "opposite_arm_leg"):
        stage = stage_of(poses, "dead_bug", stage_id)
        for side in ("near", "far"):
            scene = key_scene(stage, f"{side}_hover")
            figure = scene.figure
            assert knee_bend(figure, side) <= 5, "the leg straightens out"
            lowest = min(gap_to_floor(scene, f"{side}_{part}") for part in ("heel", "toe", "ankle"))
            assert 1.5 < lowest <= 10, f"{stage_id}: hovers just above the floor, got {lowest:.1f}"
    straight = key_scene(stage_of(poses, "dead_bug", "straight_legs"), "rest").figure
    for side in ("near", "far"):
        assert knee_bend(straight, side) <= 5
        assert abs(turn(heading(straight[f"{side}_hip"], straight[f"{side}_ankle"]), 90)) <= 15
    opposite = stage_of(poses, "dead_bug", "opposite_arm_leg")
    for leg, arm in (("near", "far"), ("far", "near")):
        scene = key_scene(opposite, f"{leg}_hover")
        hand = scene.figure[f"{arm}_hand"]
        assert hand.x < scene.figure["head"].x, f"the {arm} arm goes back over the head"
        assert 1.5 < gap_to_floor(scene, f"{arm}_hand") <= 10, "and hovers above the floor"


def test_bird_dog_reaches_opposite_arm_and_leg_from_a_tabletop(poses) -> None:
    for stage in poses.stages("bird_dog"):
        table = key_scene(stage, "table")
        assert rests(table, "near_hand", "far_hand", "near_knee", "far_knee")
        figure = table.figure
        assert abs(figure["near_hand"].x - figure["near_shoulder"].x) <= 5, "hands under shoulders"
        assert abs(figure["near_knee"].x - figure["pelvis"].x) <= 5, "knees under hips"
        for arm, leg in (("far", "near"), ("near", "far")):
            scene = key_scene(stage, f"{arm}_arm_{leg}_leg")
            reach = scene.figure
            assert abs(turn(heading(reach[f"{arm}_shoulder"], reach[f"{arm}_hand"]), 0)) <= 15
            assert abs(turn(heading(reach[f"{leg}_hip"], reach[f"{leg}_ankle"]), 180)) <= 15
            supporting_arm = "near" if arm == "far" else "far"
            supporting_leg = "near" if leg == "far" else "far"
            assert rests(scene, f"{supporting_arm}_hand", f"{supporting_leg}_knee")
    table = key_scene(stage_of(poses, "bird_dog", "tabletop"), "table").figure
    narrow = key_scene(stage_of(poses, "bird_dog", "narrow_base"), "table").figure
    assert abs(table["near_hand"].z - table["far_hand"].z) >= 15, "hands shoulder-width apart"
    assert abs(narrow["near_hand"].z - narrow["far_hand"].z) <= 2 * 3.3 + 1, "hands together"
    assert abs(narrow["near_knee"].z - narrow["far_knee"].z) <= 2 * 4.4 + 1, "knees together"


def test_bird_dog_foam_roller_stays_on_the_lower_back(poses) -> None:
    stage = stage_of(poses, "bird_dog", "foam_roller")
    for scene in all_frames(stage):
        figure = scene.figure
        gap = distance_to_capsule(scene.roller, figure, "pelvis", "waist")
        assert gap == pytest.approx(ROLLER_RADIUS, abs=0.3), "resting on the back"
        assert scene.roller.y > figure["waist"].y, "on top of it"


def test_squat_keeps_heels_down_and_sends_the_hips_back(poses) -> None:
    for stage in poses.stages("squat"):
        stand, bottom = key_scene(stage, "stand"), key_scene(stage, "bottom")
        assert rests(bottom, "near_heel", "near_toe"), "heels stay down"
        assert knee_bend(bottom.figure, "near") >= 75
        assert bottom.figure["pelvis"].x < stand.figure["pelvis"].x, "bottom goes back"
        depth = 6 if stage.stage_id == "single_leg" else 15  # "only as low as you can" on one leg
        assert bottom.figure["pelvis"].y < stand.figure["pelvis"].y - depth, "and down"
    single = stage_of(poses, "squat", "single_leg")
    for scene in all_frames(single):
        assert gap_to_floor(scene, "far_toe") > 3 and gap_to_floor(scene, "far_heel") > 3, \
            "the other foot is lifted"
    one_side = stage_of(poses, "squat", "one_side_weight")
    assert [side for side, _ in key_scene(one_side, "stand").dumbbells] == ["near"]


def test_hip_hinge_dowel_touches_head_upper_back_and_tailbone_all_the_way(poses) -> None:
    stage = stage_of(poses, "hip_hinge", "dowel")
    for scene in all_frames(stage):
        figure = scene.figure
        line = dowel_line(figure)
        touch_points = {
            "head": back_point(figure, "head", "head"),
            "upper back": back_point(figure, "chest", "thoracic"),
            "tailbone": back_point(figure, "pelvis", "lumbar"),
        }
        for name, point in touch_points.items():
            assert distance_to_line(point, line) == pytest.approx(DOWEL_RADIUS, abs=TOUCH), name
        waist_gap = distance_to_line(back_point(figure, "waist", "lumbar"), line) - DOWEL_RADIUS
        assert 0 < waist_gap <= 3, "a small hollow at the lower back, as in life"
        for hand in ("near_hand", "far_hand"):
            assert distance_to_line(figure[hand], line) <= 2.5, f"{hand} holds the stick"
    tall, hinge = key_scene(stage, "tall").figure, key_scene(stage, "hinge").figure
    assert hinge["pelvis"].x < tall["pelvis"].x - 8, "hips go back"
    assert 40 <= 90 - hinge.directions["lumbar"] <= 75, "trunk tips forward from the hips"
    for side in ("near", "far"):
        assert abs(turn(heading(hinge[f"{side}_ankle"], hinge[f"{side}_knee"]), 90)) <= 12, \
            "shins stay upright"


def test_hip_hinge_weights_and_single_leg(poses) -> None:
    rdl = stage_of(poses, "hip_hinge", "romanian_deadlift")
    for scene in all_frames(rdl):
        assert [side for side, _ in scene.dumbbells] == ["far", "near"], "a weight in each hand"
        hand, thigh_front = scene.figure["near_hand"], scene.figure["near_knee"]
        assert abs(hand.x - thigh_front.x) <= 12, "the weights stay close to the legs"
    for stage_id in ("single_leg_deadlift", "single_leg_deadlift_one_side"):
        stage = stage_of(poses, "hip_hinge", stage_id)
        bottom = key_scene(stage, "one_leg_hinge")
        figure = bottom.figure
        assert rests(bottom, "far_heel", "far_toe") and gap_to_floor(bottom, "near_toe") > 10
        assert abs(turn(figure.directions["lumbar"] + 180, heading(figure["near_hip"],
                                                                  figure["near_ankle"]))) <= 15, \
            "the free leg reaches back in line with the trunk"
    one_side = stage_of(poses, "hip_hinge", "romanian_deadlift_one_side")
    assert [side for side, _ in key_scene(one_side, "hang").dumbbells] == ["near"]


# --------------------------------------------------------------------------- broken content


@pytest.fixture
def content_copy(tmp_path: Path) -> Path:
    return Path(shutil.copytree(CONTENT_DIR, tmp_path / "content"))


def poses_error(content: Path) -> str:
    with pytest.raises(ContentError) as caught:
        load_poses(content, load_programme(content))
    return str(caught.value)


def edit_poses(content: Path, pattern: str, replacement: str) -> None:
    path = content / "poses.toml"
    text, count = re.subn(pattern, replacement, path.read_text(), count=1, flags=re.M | re.S)
    assert count == 1, pattern
    path.write_text(text)


def test_a_stage_without_a_picture_names_file_exercise_stage_and_field(content_copy) -> None:
    edit_poses(content_copy, r'^\[\[exercise\.stage\]\]\nid = "knees_20"\nlabel = [^\n]*\n', "")
    message = poses_error(content_copy)
    assert message.startswith(str(content_copy / "poses.toml"))
    assert "exercise 'side_plank', stage 'knees_20': field 'stage' is missing" in message


def test_a_knee_bent_beyond_human_range_is_refused(content_copy) -> None:
    edit_poses(content_copy, r'(id = "bird_dog".*?near_knee = )100', r"\g<1>200")
    message = poses_error(content_copy)
    assert "poses.toml: exercise 'bird_dog', stage 'tabletop', pose 'table': " in message
    assert "field 'near_knee' must be between 0 and 160 degrees for a knee, got 200 " \
           "(set in exercise 'bird_dog', pose 'table')" in message


def test_a_hip_bent_backwards_too_far_is_refused(content_copy) -> None:
    edit_poses(content_copy, r'(id = "hip_flexor_stretch".*?near_hip = )-11', r"\g<1>-45")
    message = poses_error(content_copy)
    assert "exercise 'hip_flexor_stretch', stage 'kneeling_30', pose 'ease': field 'near_hip'" \
        in message and "between -30 and 140" in message


def test_a_supporting_knee_in_the_air_is_refused(content_copy) -> None:
    edit_poses(content_copy, r'(\[exercise\.pose\.table\]\n.*?near_hip = )77', r"\g<1>60")
    message = poses_error(content_copy)
    assert "exercise 'bird_dog', stage 'tabletop', pose 'table': field 'on_floor' says " in message
    assert "rests on the floor, but it is" in message


def test_a_misspelt_angle_and_an_unknown_stage_are_refused(content_copy, tmp_path) -> None:
    edit_poses(content_copy, r'(id = "dead_bug".*?)near_elbow = 0', r"\g<1>near_elbw = 0")
    assert "exercise 'dead_bug', pose 'rest': field 'near_elbw' is not a known field" in \
        poses_error(content_copy)
    other = Path(shutil.copytree(CONTENT_DIR, tmp_path / "other"))
    edit_poses(other, r'id = "knees_25"', 'id = "knees_95"')
    message = poses_error(other)
    assert "exercise 'side_plank', stage 3: field 'id' must be a stage of this exercise" in message


def test_a_breath_that_is_really_a_movement_is_refused(content_copy) -> None:
    edit_poses(content_copy, r'(\[exercise\.pose\.deeper\]\n.*?trunk = )36', r"\g<1>50")
    message = poses_error(content_copy)
    assert "exercise 'hamstring_stretch', stage 'standing_30', pose 'deeper': field 'trunk' " \
           "changes by 20 degrees" in message


def test_a_missing_poses_file_is_named(content_copy) -> None:
    (content_copy / "poses.toml").unlink()
    assert poses_error(content_copy) == f"{content_copy / 'poses.toml'}: file not found"


# --------------------------------------------------------------------------- drawn once


def test_pictures_are_drawn_once_and_shared_by_identical_stages(poses, tmp_path) -> None:
    pictures = Pictures(poses, tmp_path / "cache")
    first = pictures.files("side_plank", 0)
    drawn_at = first.animation.stat().st_mtime_ns
    assert pictures.files("side_plank", 1) == first, "knees_20 looks just like knees_10"
    assert pictures.files("side_plank", 0).animation.stat().st_mtime_ns == drawn_at
    assert pictures.files("side_plank", 10) != first
    assert pictures.files("side_plank", 99) == pictures.files("side_plank", 11), "index clamped"
    assert first.key == first.still.stem == first.animation.stem, "one key names both files"
    with pytest.raises(KeyError):
        pictures.files("plank_jacks", 0)


def test_a_changed_pose_or_style_gets_a_new_picture(poses, content_copy, tmp_path,
                                                    monkeypatch) -> None:
    edit_poses(content_copy, r'(\[exercise\.pose\.table\]\n.*?neck = )0', r"\g<1>5")
    changed = load_poses(content_copy, load_programme(content_copy))
    original = Pictures(poses, tmp_path)
    assert Pictures(changed, tmp_path).key(changed.stage("bird_dog", 0)) != \
        original.key(poses.stage("bird_dog", 0))
    assert Pictures(changed, tmp_path).key(changed.stage("squat", 0)) == \
        original.key(poses.stage("squat", 0)), "other exercises keep their pictures"
    before = original.key(poses.stage("squat", 0))
    monkeypatch.setattr(library, "STYLE_VERSION", library.STYLE_VERSION + 1)
    assert original.key(poses.stage("squat", 0)) != before


async def test_drawing_happens_off_the_event_loop_and_warm_draws_everything(
        poses, tmp_path, monkeypatch) -> None:
    loop_thread = threading.get_ident()
    drawing_threads: set[int] = set()
    real_artist = library.StageArtist

    def recording_artist(*args, **kwargs):
        drawing_threads.add(threading.get_ident())
        return real_artist(*args, **kwargs)

    monkeypatch.setattr(library, "StageArtist", recording_artist)
    pictures = Pictures(poses, tmp_path / "cache")
    assert pictures.ready("squat", 0) is None
    path = await pictures.animation_async("squat", 0)
    assert path.exists() and pictures.ready("squat", 0) is not None
    warm = pictures.warm()
    assert pictures.warm() is warm, "one warm-up per process"
    # While warming, the loop still answers: a picture already drawn comes back at once.
    assert await pictures.still_async("squat", 0) == pictures.ready("squat", 0).still
    drawn = await warm
    unique = {pictures.key(stage) for stage in poses.all_stages()}
    assert drawn == len(unique) - 1, "everything but the squat drawn before"
    assert loop_thread not in drawing_threads
    assert all(pictures.ready(e, i) for e, stages in poses.exercises for i in range(len(stages)))
    again = Pictures(poses, tmp_path / "cache")
    assert await again.warm() == 0, "a restart finds the pictures on disk"


def test_pictures_of_changed_stages_are_pruned_and_others_kept(poses, tmp_path) -> None:
    pictures = Pictures(poses, tmp_path / "cache")
    kept = pictures.files("squat", 0)
    stale = [tmp_path / "cache" / f"{'0' * 24}.png", tmp_path / "cache" / f"{'0' * 24}.gif"]
    other = tmp_path / "cache" / "notes.txt"  # not ours: left alone
    for path in (*stale, other):
        path.write_bytes(b"old")
    assert pictures.prune() == 2
    assert kept.still.exists() and kept.animation.exists() and other.exists()
    assert not any(path.exists() for path in stale)


async def test_an_unwritable_cache_folder_ends_the_warm_up_quietly(poses, tmp_path,
                                                                   caplog) -> None:
    blocked = tmp_path / "a-file-not-a-folder"
    blocked.write_text("")
    pictures = Pictures(poses, blocked / "cache")
    assert await pictures.warm() == 0
    assert "cannot write" in caplog.text


async def test_a_request_during_warm_up_waits_for_that_stage_only(poses, tmp_path,
                                                                  monkeypatch) -> None:
    """The warm-up is held up on purpose; a workout asking for its stage still gets it."""
    release = threading.Event()
    real_artist = library.StageArtist

    def slow_warm_artist(*args, **kwargs):
        if threading.current_thread().name.startswith("pictures-warm"):
            release.wait(timeout=60)
        return real_artist(*args, **kwargs)

    monkeypatch.setattr(library, "StageArtist", slow_warm_artist)
    pictures = Pictures(poses, tmp_path / "cache")
    warm = pictures.warm()
    last_exercise, stages = poses.exercises[-1]
    files = await pictures.files_async(last_exercise, len(stages) - 1)
    assert files.still.exists() and files.animation.exists()
    assert not warm.done(), "it did not wait for the warm-up"
    release.set()
    await warm


def test_contact_sheet_has_every_stage_and_an_overview(poses, pictures, tmp_path) -> None:
    overview = pictures.contact_sheet(tmp_path / "sheet")
    names = {path.name for path in (tmp_path / "sheet").iterdir()}
    for stage in poses.all_stages():
        assert {f"{stage.exercise_id}-{stage.stage_id}.png",
                f"{stage.exercise_id}-{stage.stage_id}.gif"} <= names
    assert len(names) == 2 * len(poses.all_stages()) + 1  # and nothing else
    with Image.open(overview) as sheet:
        assert sheet.size == (6 * 240, 8 * (160 + 18)), "six across, a row or two per exercise"


def test_the_pictures_package_imports_no_platform_and_no_matplotlib() -> None:
    code = ("import sys, bot.pictures; print(sorted(m for m in sys.modules if m.split('.')[0] "
            "in ('telegram', 'discord', 'adapters', 'matplotlib')))")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_bot_py_pictures_writes_the_contact_sheet(tmp_path, drawn_pictures) -> None:
    result = subprocess.run([sys.executable, "bot.py", "pictures", "--out", str(tmp_path / "out"),
                             "--db", str(tmp_path / "coach.db")], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    stages = len(load_poses(CONTENT_DIR, load_programme(CONTENT_DIR)).all_stages())
    assert result.stdout == f"{stages} stages drawn into {tmp_path / 'out'}; overview: " \
                            f"{tmp_path / 'out' / 'overview.png'}\n"
    assert len(list((tmp_path / "out").iterdir())) == 2 * stages + 1
    assert not (tmp_path / "coach.db").exists(), "it opens no database"
