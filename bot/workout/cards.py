"""What a running workout says: today's plan, the exercise card, the full instructions, the live
cue lines and the summary at the end.

Only words here: no timers, no store. The card is built in ONE function that returns one Reply,
so whatever a card comes to carry later (a picture, an animation) is added in one place.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from bot.content import Exercise, Stage, TimerPlan, WarmupMove
from bot.replies import Choice, Reply
from bot.workout.plan_words import plan_line
from bot.workout.timers import GET_READY, REST, SET_REST, SWITCH, WORK, Phase

MAX_CARD_CUES = 3  # the short card keeps the key cues; "How exactly?" has the rest


class TextLookup(Protocol):
    """What this module needs from bot.texts.Texts."""

    def __call__(self, key: str, **values: object) -> str: ...


@dataclass(frozen=True)
class Card:
    """What one exercise card says: where the person is, the exercise at their stage, and how
    it starts."""

    number: int
    total: int
    exercise: Exercise
    stage: Stage
    minutes_left: int
    full: bool  # the first time at this stage: every step, cue and what to avoid
    halfway: bool
    starts_in: int | None  # seconds until it starts by itself; None: it waits for "ready"
    say_how_it_starts: bool  # the first card of a session explains "ready"
    notes: tuple[str, ...] = ()  # lines for this person (the nerve reminder)


def exercise_card(texts: TextLookup, card: Card, choices: tuple[Choice, ...]) -> Reply:
    """The card before an exercise: short, unless this stage is new to the person."""
    stage = card.stage
    lines = [texts("session.card", number=card.number, total=card.total,
                   name=card.exercise.name, stage=stage.name,
                   plan=plan_line(stage.plan, texts))]
    if card.full:
        lines.append(texts("session.card_steps", steps=_numbered(stage.steps),
                           stage_how=stage.how))
        lines += [texts("session.card_cue", cue=cue) for cue in stage.cues]
        lines.append(texts("session.card_avoid", avoid=" ".join(stage.avoid)))
    else:
        lines += [texts("session.card_cue", cue=cue) for cue in stage.cues[:MAX_CARD_CUES]]
    lines += card.notes
    key = "session.card_halfway" if card.halfway else "session.card_left"
    lines.append(texts(key, minutes=card.minutes_left))
    if card.starts_in is None:
        lines.append(texts("session.card_wait"))
    elif card.say_how_it_starts:
        lines.append(texts("session.card_go", seconds=card.starts_in))
    return Reply("\n".join(lines), choices)


def instructions(texts: TextLookup, exercise: Exercise, stage: Stage) -> str:
    """Every step, cue and thing to avoid of one stage ("How exactly?")."""
    return texts("session.instructions", name=exercise.name, stage=stage.name,
                 steps=_numbered(stage.steps), stage_how=stage.how,
                 cues="\n".join(texts("session.card_cue", cue=cue) for cue in stage.cues),
                 avoid=" ".join(stage.avoid))


def warmup_instructions(texts: TextLookup, move: WarmupMove) -> str:
    return texts("session.warmup_instructions", name=move.name, how=move.how,
                 cues="\n".join(texts("session.card_cue", cue=cue) for cue in move.cues))


def todays_plan(texts: TextLookup, plan: Sequence[tuple[Exercise, Stage]], first: int,
                minutes: int, warmup_minutes: int | None, starts_in: int,
                choices: tuple[Choice, ...]) -> Reply:
    """The session at a glance: the exercises still to do at their stages, and the minutes.
    With `warmup_minutes`, it also asks to start the warm-up (or skip it)."""
    if first == 0:
        lines = [texts("session.plan", count=len(plan), minutes=minutes)]
    else:
        lines = [texts("session.plan_resumed", count=len(plan) - first, minutes=minutes)]
    lines += [texts("session.plan_item", number=number, name=exercise.name, stage=stage.name)
              for number, (exercise, stage) in enumerate(plan, 1) if number > first]
    if warmup_minutes is not None:
        lines.append(texts("session.plan_go", minutes=warmup_minutes, seconds=starts_in))
    return Reply("\n".join(lines), choices)


def warmup_header(texts: TextLookup, number: int, total: int, move: WarmupMove) -> str:
    return texts("session.warmup_move", number=number, total=total, name=move.name,
                 plan=plan_line(move.plan, texts), how=move.how)


def cue_text(texts: TextLookup, plan: TimerPlan, phase: Phase) -> str:
    """One line for the phase that starts: "Hold 10 s · left side · rep 4/10"."""
    side = _side_label(texts, plan, phase.side)
    side_part = texts("workout.side_suffix", side=side) if side else ""
    set_part = texts("workout.set_suffix", set=phase.set, sets=phase.sets) if phase.sets > 1 else ""
    if phase.kind == GET_READY:  # the card or the move's name is just above
        return texts("session.get_ready", seconds=phase.seconds)
    if phase.kind == WORK and phase.mode == "move":
        return texts("workout.cue_work_move", seconds=phase.seconds, side=side_part, set=set_part)
    if phase.kind == WORK:
        return texts("workout.cue_work_hold", seconds=phase.seconds, side=side_part,
                     rep=_rep_part(texts, phase), set=set_part)
    if phase.kind == REST:
        return texts("workout.cue_rest", seconds=phase.seconds)
    if phase.kind == SWITCH:
        return texts("workout.cue_switch", side=side, seconds=phase.seconds)
    if phase.kind == SET_REST:
        return texts("workout.cue_set_rest", seconds=phase.seconds, set=phase.set,
                     sets=phase.sets)
    return texts("workout.cue_paced", set=phase.set, sets=phase.sets, side=side_part,
                 reps=phase.reps)


def countdown_text(texts: TextLookup, plan: TimerPlan, phase: Phase, seconds_left: int) -> str:
    """The live line while a phase runs: "Hold · left side · rep 4/10 · 7 s left"."""
    if phase.kind == GET_READY:
        label = "workout.countdown_ready"
    elif phase.kind == WORK:
        label = "workout.countdown_move" if phase.mode == "move" else "workout.countdown_hold"
    elif phase.kind == SWITCH:
        label = "workout.countdown_switch"
    else:
        label = "workout.countdown_rest"
    working = phase.kind == WORK
    side = _side_label(texts, plan, phase.side) if working else ""
    return texts("workout.countdown", label=texts(label),
                 side=texts("workout.side_suffix", side=side) if side else "",
                 rep=_rep_part(texts, phase) if working else "",
                 set=texts("workout.set_suffix", set=phase.set, sets=phase.sets)
                 if working and phase.sets > 1 else "",
                 seconds=seconds_left)


def summary(texts: TextLookup, total: int, done: Sequence[str], skipped: Sequence[str],
            hurt: Sequence[str], stopped: bool) -> str:
    """What happened, truthfully, with praise only where it was earned."""
    missed = []
    if skipped:
        missed.append(texts("session.missed_skipped", names=joined(texts, skipped)))
    if hurt:
        missed.append(texts("session.missed_hurt", names=joined(texts, hurt)))
    if stopped and not done and not missed:
        return texts("session.stopped_none")
    if stopped:
        extra = texts("session.missed_joined", missed=", ".join(missed)) if missed else ""
        return texts("session.stopped_some", done=len(done), total=total, missed=extra)
    if not missed:
        return texts("session.done_all")
    key = "session.done_some" if done else "session.done_none"
    return texts(key, done=len(done), total=total, missed=", ".join(missed))


def joined(texts: TextLookup, names: Sequence[str]) -> str:
    """"Squat", "Squat and Hip hinge", "Bird dog, Squat and Hip hinge"."""
    names = list(names)
    if len(names) <= 1:
        return "".join(names)
    return texts("session.and", first=", ".join(names[:-1]), last=names[-1])


def _numbered(steps: Sequence[str]) -> str:
    return "\n".join(f"{number}. {step}" for number, step in enumerate(steps, 1))


def _rep_part(texts: TextLookup, phase: Phase) -> str:
    return texts("workout.rep_suffix", rep=phase.rep, reps=phase.reps) if phase.reps > 1 else ""


def _side_label(texts: TextLookup, plan: TimerPlan, side: int) -> str:
    if side == 0:
        return ""
    labels = plan.side_labels or (texts("workout.side_first"), texts("workout.side_second"))
    return labels[side - 1]
