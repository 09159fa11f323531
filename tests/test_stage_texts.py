"""Every stage reads right for what it does: the words on its card and its timer agree.

Walks every stage of every exercise, and every warm-up move, as the person sees them: the plan
line read back gives the stage's own timer plan, a stage's name only quotes numbers its plan has,
instructions carry no numbers of their own, and no text names a prop (belt, stick, weight...) the
stage does not use, while every prop it uses is named.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.content import Programme, Prop, TimerPlan, load_programme
from bot.workout.plan_words import duration, plan_line
from bot.texts import Texts

CONTENT_DIR = Path(__file__).resolve().parent.parent / "content"
PROGRAMME = load_programme(CONTENT_DIR)
TEXTS = Texts.load(CONTENT_DIR)


@dataclass(frozen=True)
class Card:
    """One stage or warm-up move as it is shown: its plan, props and every text of it."""

    label: str
    name: str
    plan: TimerPlan
    props: tuple[str, ...]
    instructions: tuple[str, ...]  # texts that must leave numbers to the plan line

    @property
    def line(self) -> str:
        return plan_line(self.plan, TEXTS)

    @property
    def everything(self) -> str:
        labels = self.plan.side_labels or ()
        return "\n".join((self.name, *self.instructions, *labels, self.line))


def cards(programme: Programme) -> list[Card]:
    found = []
    for exercise in programme.exercises:
        for stage in exercise.stages:
            found.append(Card(
                f"{exercise.id}.{stage.id}", stage.name, stage.plan, stage.props,
                (exercise.purpose, stage.how, *stage.steps, *stage.cues, *stage.avoid,
                 stage.form.question, stage.form.work_on)))
    for move in programme.warmup.moves:
        found.append(Card(f"{programme.warmup.id}.{move.id}", move.name, move.plan, move.props,
                          (programme.warmup.purpose, move.how, *move.cues)))
    return found


ALL_CARDS = cards(PROGRAMME)
by_label = pytest.mark.parametrize("card", ALL_CARDS, ids=lambda card: card.label)


# --------------------------------------------------------------------------- the plan line

_SECONDS = r"(\d+ (?:s|min))"


def seconds(text: str) -> int:
    number, unit = text.split()
    return int(number) * (60 if unit == "min" else 1)


def read_back(line: str) -> dict[str, object]:
    """The timer plan a person would understand from the plan line, read independently of
    bot/plan_words.py; fields the line does not mention keep their plain defaults."""
    read: dict[str, object] = {"reps": 1, "sets": 1, "rest_s": 0, "set_rest_s": 0, "sides": "none"}
    if line.endswith(" each side") or " each side," in line:
        read["sides"] = "each"
    if ", alternating sides" in line:
        read["sides"] = "alternate"
    core = re.sub(r"( each side|, alternating sides)", "", line)
    if match := re.fullmatch(r"(\d+) sets of (\d+)(?:, " + _SECONDS + " rest between sets)?", core):
        read.update(mode="paced", sets=int(match[1]), reps=int(match[2]))
        read["set_rest_s"] = seconds(match[3]) if match[3] else 0
        return read
    if match := re.fullmatch(r"(\d+) reps?", core):
        read.update(mode="paced", reps=int(match[1]))
        return read
    pattern = (r"(?:(\d+) (holds|rounds) of )?" + _SECONDS
               + r"(?:, " + _SECONDS + r" rest between (?:holds|rounds))?"
               + r"(?:, (\d+) sets(?:, " + _SECONDS + r" rest between sets)?)?")
    match = re.fullmatch(pattern, core)
    assert match, f"cannot read the plan line {line!r}"
    read["mode"] = {"holds": "hold", "rounds": "move", None: "timed"}[match[2]]
    read["work_s"] = seconds(match[3])
    if match[1]:
        read["reps"] = int(match[1])
    if match[4]:
        read["rest_s"] = seconds(match[4])
    if match[5]:
        read["sets"] = int(match[5])
    if match[6]:
        read["set_rest_s"] = seconds(match[6])
    return read


@by_label
def test_the_plan_line_reads_back_as_the_timer_plan(card: Card) -> None:
    plan, read = card.plan, read_back(card.line)
    if plan.mode == "paced":
        assert read["mode"] == "paced"
    else:
        assert read["mode"] in ("timed", plan.mode), card.line
        assert read["work_s"] == plan.work_s, card.line
        assert read["rest_s"] == (plan.rest_s if plan.reps > 1 else 0), card.line
    assert (read["reps"], read["sets"], read["sides"]) == (plan.reps, plan.sets, plan.sides), \
        card.line
    assert read["set_rest_s"] == (plan.set_rest_s if plan.sets > 1 else 0), card.line


@by_label
def test_a_stage_name_quotes_only_numbers_its_plan_line_has(card: Card) -> None:
    line_numbers = set(re.findall(r"\d+", card.line))
    for number in re.findall(r"\d+", card.name):
        assert number in line_numbers, f"{card.name!r} vs plan {card.line!r}"


@by_label
def test_instructions_leave_the_numbers_to_the_plan_line(card: Card) -> None:
    for text in card.instructions:
        assert not re.search(r"\d", text), f"{card.label}: {text!r}"


# --------------------------------------------------------------------------- props


def names(prop: Prop, text: str) -> str | None:
    """The first word of this prop that the text uses, if any."""
    for word in prop.words:
        if re.search(rf"\b{re.escape(word)}\b", text, flags=re.IGNORECASE):
            return word
    return None


@by_label
def test_no_text_names_a_prop_the_stage_does_not_use(card: Card) -> None:
    for prop in PROGRAMME.props:
        if prop.id not in card.props:
            word = names(prop, card.everything)
            assert word is None, f"{card.label} says {word!r} but does not use {prop.id}"


@by_label
def test_every_prop_a_stage_uses_is_named_in_its_text(card: Card) -> None:
    for prop_id in card.props:
        assert names(PROGRAMME.prop(prop_id), card.everything), f"{card.label}: {prop_id}"


# --------------------------------------------------------------------------- sides and sets


@by_label
def test_a_stage_done_side_by_side_says_what_the_timer_does(card: Card) -> None:
    if card.plan.sides == "each":
        assert re.search(r"\bthe other (side|leg|hand)\b", card.everything), card.label


@by_label
def test_a_stage_at_your_own_pace_says_how_to_finish_a_set(card: Card) -> None:
    if card.plan.mode == "paced":
        assert 'say "done"' in card.everything.lower(), card.label


# --------------------------------------------------------------------------- the cases in issue 14


def stage_text(exercise_id: str, stage_id: str) -> str:
    return next(c.everything for c in ALL_CARDS if c.label == f"{exercise_id}.{stage_id}")


def test_the_lying_hamstring_stage_is_lying_down() -> None:
    stage = PROGRAMME.exercise("hamstring_stretch").stages[0]
    assert stage.steps[0].startswith("Lie on your back")
    assert not re.search(r"\bstand", " ".join(stage.steps).lower())


def test_the_full_side_plank_is_not_on_its_knees() -> None:
    text = stage_text("side_plank", "feet_stacked")
    assert not re.search(r"\bknees?\b", text)


def test_weighted_hinges_do_not_describe_the_broomstick() -> None:
    for stage in PROGRAMME.exercise("hip_hinge").stages:
        if stage.loaded:
            assert "stick" not in stage_text("hip_hinge", stage.id).lower(), stage.id


def test_the_single_leg_squat_does_not_place_both_feet() -> None:
    text = stage_text("squat", "single_leg").lower()
    assert "hip width" not in text and "wider than your hips" not in text


def test_the_close_paraphrases_are_gone() -> None:
    everything = "\n".join(c.everything for c in ALL_CARDS).lower()
    for phrase in ("from your hips, not your back", "shoulders over hips", "roll off"):
        assert phrase not in everything, phrase


# --------------------------------------------------------------------------- the words themselves


@pytest.mark.parametrize(("plan", "line"), [
    (TimerPlan("hold", 30, 1, 0, 1, 0, "each", None), "30 s each side"),
    (TimerPlan("move", 120, 1, 0, 1, 0, "none", None), "2 min"),
    (TimerPlan("hold", 10, 10, 3, 1, 0, "each", None),
     "10 holds of 10 s each side, 3 s rest between holds"),
    (TimerPlan("hold", 5, 18, 2, 1, 0, "alternate", None),
     "18 holds of 5 s, alternating sides, 2 s rest between holds"),
    (TimerPlan("move", 20, 2, 0, 1, 0, "alternate", None), "2 rounds of 20 s, alternating sides"),
    (TimerPlan("paced", 0, 10, 0, 2, 60, "none", None), "2 sets of 10, 60 s rest between sets"),
    (TimerPlan("paced", 0, 10, 0, 2, 60, "each", None),
     "2 sets of 10 each side, 60 s rest between sets"),
    (TimerPlan("paced", 0, 1, 0, 1, 0, "none", None), "1 rep"),
    (TimerPlan("paced", 0, 8, 0, 1, 0, "each", None), "8 reps each side"),
    (TimerPlan("hold", 20, 3, 10, 2, 180, "none", None),
     "3 holds of 20 s, 10 s rest between holds, 2 sets, 3 min rest between sets"),
])
def test_plan_lines_read_naturally(plan: TimerPlan, line: str) -> None:
    assert plan_line(plan, TEXTS) == line


def test_minutes_only_for_whole_minutes_from_two_minutes() -> None:
    assert [duration(s, TEXTS) for s in (45, 60, 90, 120, 150, 180)] == [
        "45 s", "60 s", "90 s", "2 min", "150 s", "3 min"]
