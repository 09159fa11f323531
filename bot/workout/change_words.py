"""What changed after a workout, in words: one headline, then a compact list.

One exercise moving gets its own line with the reason; several get a headline saying what they
share and one short line each, so seven step-ups read as one message rather than seven.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.content import Programme
from bot.replies import Reply
from bot.texts import Texts
from bot.workout.form_gate import ANSWER_KEYS, KEPT_KEYS
from bot.workout.progression import Move


@dataclass(frozen=True)
class Kept:
    """A step up the form check held back: the move that was due and the answer given."""

    move: Move
    answer: str


@dataclass(frozen=True)
class Loaded:
    """A stage with a weight, checked although nothing was due: its answer."""

    exercise_id: str
    stage_index: int
    answer: str


def downs(texts: Texts, programme: Programme, score: int, moves: Sequence[Move]) -> list[Reply]:
    """Pain above the hold band: every exercise done eases off a stage."""
    if not moves:
        return []
    limit = programme.rules.down_above_pain
    if len(moves) == 1:
        exercise = programme.exercise(moves[0].exercise_id)
        return [Reply(texts("progression.down", name=exercise.name, score=score, limit=limit,
                            stage=exercise.stage_at(moves[0].to_index).name))]
    lines = [texts("changes.down_many", score=score, limit=limit, count=len(moves))]
    for move in moves:
        exercise = programme.exercise(move.exercise_id)
        lines.append(texts("changes.down_line", name=exercise.name,
                           stage=exercise.stage_at(move.to_index).name))
    return [Reply("\n".join(lines))]


def form_results(texts: Texts, programme: Programme, ups: Sequence[Move], kept: Sequence[Kept],
                 loaded: Sequence[Loaded]) -> list[Reply]:
    """After the form check: what moved up and what stayed, in one short message. What to work
    on was said with each answer (`kept_advice`), so one exercise kept needs no more words."""
    fine = [item for item in loaded if item.answer == "yes"]
    slipping = [item for item in loaded if item.answer != "yes"]
    lines: list[str] = []
    if len(ups) + len(kept) + len(slipping) > 1:
        lines = ([_headline(texts, ups, kept, slipping)]
                 + [_up_line(texts, programme, move) for move in ups]
                 + [_kept_line(texts, programme, item.move.exercise_id, item.move.from_index,
                               item.answer) for item in kept]
                 + [_kept_line(texts, programme, item.exercise_id, item.stage_index, item.answer)
                    for item in slipping])
    elif ups:
        lines = [_up_one(texts, programme, ups[0])]
    if len(fine) == 1 and not lines:
        lines = [texts("form.loaded_fine", name=programme.exercise(fine[0].exercise_id).name)]
    elif fine:
        lines += [texts("changes.loaded_line", name=programme.exercise(item.exercise_id).name)
                  for item in fine]
    return [Reply("\n".join(lines))] if lines else []


def kept_advice(texts: Texts, programme: Programme, exercise_id: str, index: int,
                answer: str) -> str:
    """"Side plank stays at ... for now. To work on: ...", said right after "Mostly" or "Not
    yet", while the exercise is still in mind."""
    exercise = programme.exercise(exercise_id)
    stage = exercise.stage_at(index)
    return texts(KEPT_KEYS[answer], name=exercise.name, stage=stage.name,
                 work_on=stage.form.work_on)


def _up_one(texts: Texts, programme: Programme, move: Move) -> str:
    exercise = programme.exercise(move.exercise_id)
    scores = move.detail.get("scores", [])
    return texts("changes.up_one", name=exercise.name, stage=exercise.stage_at(move.to_index).name,
                 count=move.detail.get("count", len(scores)), scores=", ".join(map(str, scores)))


def _headline(texts: Texts, ups: Sequence[Move], kept: Sequence[Kept],
              slipping: Sequence[Loaded]) -> str:
    staying = len(kept) + len(slipping)
    if not staying:
        return texts("changes.up_many", count=len(ups))
    if not ups:
        return texts("changes.kept_many")
    return texts("changes.mixed", ups=texts.plural("plural.exercises", len(ups)),
                 kept=texts.plural("plural.exercises", staying))


def _up_line(texts: Texts, programme: Programme, move: Move) -> str:
    exercise = programme.exercise(move.exercise_id)
    return texts("changes.up_line", name=exercise.name, stage=exercise.stage_at(move.to_index).name)


def _kept_line(texts: Texts, programme: Programme, exercise_id: str, index: int,
               answer: str) -> str:
    exercise = programme.exercise(exercise_id)
    return texts("changes.kept_line", name=exercise.name, stage=exercise.stage_at(index).name,
                 answer=texts(ANSWER_KEYS[answer]))
