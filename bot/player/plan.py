"""Today's workout as plain data for the page: every phase with the words to show and say.

The page holds no words and no programme logic: the phases come from bot/timers.py (the same ones
the chat runs) and every sentence from content/texts.toml, so the browser only keeps time.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from bot.content import Exercise, Rules, Stage, TimerPlan, WarmupMove
from bot.texts import Texts
from bot.workout.timers import DONE, PACED, GET_READY, REST, SET_REST, SKIPPED, SWITCH, WORK, Phase, phases_for

EXERCISE_OUTCOMES = (DONE, SKIPPED)
ADD_SECONDS = 10  # what "+10 s" adds, as in the chat
# The control labels the chat's buttons use, shown on the page's buttons (key on the page: text key).
BUTTONS = {"pause": "buttons.pause", "resume": "buttons.resume", "add_time": "buttons.add_10",
           "skip_rest": "buttons.skip_rest", "skip": "buttons.skip", "stop": "buttons.stop",
           "done": "buttons.done"}
PAGE_TEXTS = ("paused", "voice", "beeps", "vibration", "screen", "finished", "stopped", "over",
              "offline")
_SAFE_PICTURE_PREFIXES = ("api/picture/", "/", "https://")  # ours (relative), ours, https


@dataclass(frozen=True)
class PlannedExercise:
    """One exercise of the open workout as the coach has it: its stage and how it went so far."""

    exercise: Exercise
    stage: Stage
    outcome: str | None = None  # DONE or SKIPPED once reported
    picture: str | None = None  # URL of its animation, when there is one


@dataclass(frozen=True)
class PhaseDTO:
    """One stretch of the timer with its words: the page shows `label` and says `cue`."""

    kind: str
    seconds: int
    label: str
    detail: str
    cue: str
    next: str


@dataclass(frozen=True)
class ExerciseDTO:
    """One exercise as the page shows it."""

    id: str
    name: str
    heading: str
    stage: str
    how: str
    picture: str | None
    outcome: str | None
    phases: tuple[PhaseDTO, ...]


@dataclass(frozen=True)
class PlanDTO:
    """Everything the page needs to run one workout; `texts` holds the page's fixed words."""

    workout_id: int
    language: str
    time_scale: float
    add_seconds: int
    texts: dict[str, str]
    exercises: tuple[ExerciseDTO, ...]
    pain_before: int | None = None  # None: the page asks "pain right now?" before it begins
    warmup: tuple[ExerciseDTO, ...] = ()  # its moves, run first; nothing of it is reported

    def next_index(self) -> int | None:
        """The first exercise not yet reported, where a reopened page carries on."""
        for index, exercise in enumerate(self.exercises):
            if exercise.outcome is None:
                return index
        return None

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def build_plan(workout_id: int, items: Sequence[PlannedExercise], rules: Rules, texts: Texts,
               minutes: int, time_scale: float = 1.0, pain_before: int | None = None,
               warmup: Sequence[WarmupMove] = ()) -> PlanDTO:
    """The page's plan for an open workout; `minutes` is the coach's own estimate of its length
    and `warmup` the moves that open it (none once an exercise is behind)."""
    if time_scale <= 0:
        raise ValueError("time scale must be positive")
    exercises = []
    for number, item in enumerate(items, start=1):
        following = items[number].exercise.name if number < len(items) else None
        exercises.append(_timed(texts, rules, _Item.of_exercise(item), texts(
            "player.heading", number=number, total=len(items)), following))
    moves = []
    for number, move in enumerate(warmup, start=1):
        following = warmup[number].name if number < len(warmup) else \
            (items[0].exercise.name if items else None)
        moves.append(_timed(texts, rules, _Item.of_move(move), texts(
            "player.heading_warmup", number=number, total=len(warmup)), following))
    return PlanDTO(workout_id, texts("player.language"), float(time_scale), ADD_SECONDS,
                   _page_texts(texts, exercises, minutes), tuple(exercises), pain_before,
                   tuple(moves))


@dataclass(frozen=True)
class _Item:
    """What the page times: an exercise at its stage, or a warm-up move."""

    id: str
    name: str
    stage: str
    how: str
    plan: TimerPlan
    picture: str | None = None
    outcome: str | None = None

    @classmethod
    def of_exercise(cls, item: PlannedExercise) -> _Item:
        return cls(item.exercise.id, item.exercise.name, item.stage.name, item.stage.how,
                   item.stage.plan, item.picture, item.outcome)

    @classmethod
    def of_move(cls, move: WarmupMove) -> _Item:
        return cls(move.id, move.name, "", move.how, move.plan)


def _page_texts(texts: Texts, exercises: list[ExerciseDTO], minutes: int) -> dict[str, str]:
    page = {key: texts(text_key) for key, text_key in BUTTONS.items()}
    page.update({key: texts(f"player.{key}") for key in PAGE_TEXTS})
    page["skip_warmup"] = texts("buttons.skip_warmup")
    page["warmup_item"] = texts("player.warmup_item")
    page["pain_question"] = texts("pain_check.ask")
    pending = [exercise for exercise in exercises if exercise.outcome is None]
    done = len(exercises) - len(pending)
    if done == 0 or not pending:
        page["intro"] = texts("workout.start", count=len(exercises), minutes=minutes)
        page["start"] = texts("player.start")
    else:
        page["intro"] = texts("player.intro_resume", done=done, total=len(exercises))
        page["start"] = texts("player.continue_from", name=pending[0].name)
    return page


def _timed(texts: Texts, rules: Rules, item: _Item, heading: str,
           following: str | None) -> ExerciseDTO:
    phases = phases_for(item.plan, rules)
    words = [_phase_words(texts, item.name, item.plan, phase) for phase in phases]
    after_last = texts("player.next", what=following or texts("player.next_end"))
    dtos = []
    for index, (phase, (label, detail, cue)) in enumerate(zip(phases, words)):
        if index + 1 < len(phases):  # "Next: Hold · right knee down": the kind and the side
            following_phase = phases[index + 1]
            side = _side_label(texts, item.plan, following_phase.side)
            upcoming = texts("player.next", what=_joined(texts, [words[index + 1][0], side]))
        else:
            upcoming = after_last
        dtos.append(PhaseDTO(phase.kind, phase.seconds, label, detail, cue, upcoming))
    return ExerciseDTO(id=item.id, name=item.name, heading=heading, stage=item.stage,
                       how=item.how, picture=_safe_picture(item.picture), outcome=item.outcome,
                       phases=tuple(dtos))


def _phase_words(texts: Texts, name: str, plan: TimerPlan,
                 phase: Phase) -> tuple[str, str, str]:
    """(label, detail, cue) for one phase, from the player's texts."""
    side = _side_label(texts, plan, phase.side)
    side_part = texts("player.say_side", side=side) if side else ""
    set_part = texts("player.say_set", set=phase.set, sets=phase.sets) if phase.sets > 1 else ""
    if phase.kind == GET_READY:
        return texts("player.phase_ready"), "", texts("player.say_ready", name=name)
    if phase.kind == WORK:
        kind = "move" if phase.mode == "move" else "hold"
        return (texts(f"player.phase_{kind}"), _detail(texts, phase, side),
                texts(f"player.say_{kind}", seconds=phase.seconds, side=side_part))
    if phase.kind == REST:
        return (texts("player.phase_rest"), _detail(texts, phase, side),
                texts("player.say_rest", seconds=phase.seconds))
    if phase.kind == SWITCH:
        return texts("player.phase_switch"), side, texts("player.say_switch", side=side)
    if phase.kind == SET_REST:
        return (texts("player.phase_set_rest"), _detail(texts, phase, ""),
                texts("player.say_set_rest", set=phase.set, sets=phase.sets))
    if phase.kind == PACED:
        detail = _joined(texts, [texts("player.detail_reps", reps=phase.reps),
                                 _detail(texts, phase, side)])
        return (texts("player.phase_paced"), detail,
                texts("player.say_paced", reps=phase.reps, side=side_part, set=set_part,
                      done=texts("buttons.done")))
    raise ValueError(f"unknown phase kind {phase.kind!r}")


def _detail(texts: Texts, phase: Phase, side: str) -> str:
    """"Rep 2 of 5 · Set 1 of 2 · left knee down", leaving out what does not apply."""
    parts = []
    if phase.reps > 1 and phase.rep:
        parts.append(texts("player.detail_rep", rep=phase.rep, reps=phase.reps))
    if phase.sets > 1:
        parts.append(texts("player.detail_set", set=phase.set, sets=phase.sets))
    parts.append(side)
    return _joined(texts, parts)


def _joined(texts: Texts, parts: list[str]) -> str:
    return f' {texts("player.detail_separator")} '.join(part for part in parts if part)


def _side_label(texts: Texts, plan: TimerPlan, side: int) -> str:
    if side == 0:
        return ""
    labels = plan.side_labels or (texts("workout.side_first"), texts("workout.side_second"))
    return labels[side - 1]


def _safe_picture(url: str | None) -> str | None:
    """Only our own pictures (the API's, or a path here) or https ones reach the page (its CSP
    narrows that further)."""
    if url and url.startswith(_SAFE_PICTURE_PREFIXES) and not url.startswith("//"):
        return url
    return None
