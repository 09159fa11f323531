"""The decisions behind "pain that acts", the form gate and nerve care, from the real content.

Each test is a small story: a person's scores or answers go in, and what the coach may do comes
out, with the thresholds read from content/rules.toml rather than repeated here.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

from bot.workout import form_gate, nerve_care
from bot.content import load_programme
from bot.workout.pain_limits import (blocks_workout_today, high_pain_workouts, step_ups_paused,
                             stops_for_today)
from bot.texts import Texts

CONTENT_DIR = Path(__file__).resolve().parent.parent / "content"
PROGRAMME = load_programme(CONTENT_DIR)
RULES = PROGRAMME.rules
TEXTS = Texts.load(CONTENT_DIR)
MONDAY = datetime(2026, 3, 2, 18, 0, tzinfo=timezone.utc)


def days_later(days: float) -> datetime:
    return MONDAY + timedelta(days=days)


# --------------------------------------------------------------------------- pain that acts


def test_a_starting_pain_of_8_to_10_means_no_workout_today() -> None:
    assert [score for score in range(11) if blocks_workout_today(RULES, score)] == [8, 9, 10]


def test_pain_above_the_hold_band_after_a_workout_says_stop_for_today() -> None:
    assert [score for score in range(11) if stops_for_today(RULES, score)] == [6, 7, 8, 9, 10]
    assert "stop the exercises for today" in TEXTS("pain.high")


def test_two_painful_workouts_in_a_week_pause_step_ups() -> None:
    reports = [(MONDAY, 7), (days_later(2), 3), (days_later(4), 6)]
    assert high_pain_workouts(RULES, reports, days_later(4)) == 2
    assert step_ups_paused(RULES, reports, days_later(4))
    text = TEXTS("pain.step_ups_paused", count=2, days=RULES.pause_window_days,
                 limit=RULES.stop_for_today_above)
    assert "2 workouts in the last 7 days with pain above 5/10" in text
    assert "health practitioner" in text


def test_the_pause_lifts_when_the_first_painful_workout_is_a_week_old() -> None:
    reports = [(MONDAY, 7), (days_later(4), 6)]
    assert step_ups_paused(RULES, reports, days_later(6.9))
    assert not step_ups_paused(RULES, reports, days_later(7))


def test_one_painful_workout_or_a_hold_band_score_does_not_pause() -> None:
    assert not step_ups_paused(RULES, [(MONDAY, 9)], days_later(1))
    assert not step_ups_paused(RULES, [(MONDAY, 5), (days_later(1), 5)], days_later(1))


def test_a_report_from_the_future_is_not_counted() -> None:
    assert high_pain_workouts(RULES, [(days_later(3), 8), (MONDAY, 8)], days_later(1)) == 1


def test_the_not_today_answer_explains_offers_movement_tomorrow_and_a_clinician() -> None:
    text = TEXTS("pain.not_today", score=9)
    assert "9/10" in text and "no workout today" in text
    assert "short walks" in text
    assert "tomorrow" in text
    assert "health practitioner" in text


# --------------------------------------------------------------------------- the form gate


def test_only_yes_every_rep_moves_a_stage_up() -> None:
    assert [form_gate.allows_step_up(a) for a in form_gate.ANSWERS] == [True, False, False]
    assert [TEXTS(form_gate.BUTTON_KEYS[a]) for a in form_gate.ANSWERS] == [
        "Yes, every rep", "Mostly", "Not yet"]


def test_unloaded_stages_ask_when_due_and_loaded_stages_always_ask() -> None:
    squat = PROGRAMME.exercise("squat")
    bodyweight, weighted = squat.stages[0], squat.stages[1]
    assert form_gate.asks_form(bodyweight, due_to_move_up=True)
    assert not form_gate.asks_form(bodyweight, due_to_move_up=False)
    assert form_gate.asks_form(weighted, due_to_move_up=False)


def test_not_yet_keeps_the_stage_and_says_what_to_work_on() -> None:
    hinge = PROGRAMME.exercise("hip_hinge")
    stage = hinge.stages[0]
    text = TEXTS(form_gate.KEPT_KEYS[form_gate.NOT_YET], name=hinge.name, stage=stage.name,
                 work_on=stage.form.work_on)
    assert text.startswith('Hip hinge stays at "With a broomstick, 2 sets of 10" for now')
    assert stage.form.work_on in text
    reason = TEXTS("form.reason_kept", scores="2, 1",
                   answer=TEXTS(form_gate.ANSWER_KEYS[form_gate.NOT_YET]))
    assert reason == 'pain 2, 1 was low enough to move up, but you answered "Not yet" to the form check'


def test_every_stage_has_one_short_form_question_and_advice() -> None:
    for exercise in PROGRAMME.exercises:
        for stage in exercise.stages:
            assert stage.form.question.endswith("?") and stage.form.question.count("?") == 1
            assert len(stage.form.question) <= 140, stage.id
            assert stage.form.work_on, stage.id


# --------------------------------------------------------------------------- nerve care


def test_calf_zinging_keeps_the_hamstring_stretch_at_its_gentlest_stage() -> None:
    hamstring = PROGRAMME.exercise("hamstring_stretch")
    assert nerve_care.stage_index(hamstring, 3, nerve_signs=True) == 0
    assert not nerve_care.may_move_up(hamstring, nerve_signs=True)
    assert nerve_care.stage_index(hamstring, 3, nerve_signs=False) == 3
    assert nerve_care.may_move_up(hamstring, nerve_signs=False)
    assert nerve_care.stage_index(hamstring, 99, nerve_signs=False) == len(hamstring.stages) - 1


def test_calf_zinging_brings_a_reminder_at_each_stretch_only() -> None:
    reminded = [e.id for e in PROGRAMME.exercises if nerve_care.reminds(e, nerve_signs=True)]
    assert reminded == ["hip_flexor_stretch", "hamstring_stretch"]
    assert not any(nerve_care.reminds(e, nerve_signs=False) for e in PROGRAMME.exercises)
    side_plank = PROGRAMME.exercise("side_plank")
    assert nerve_care.stage_index(side_plank, 2, nerve_signs=True) == 2


def test_the_onboarding_promise_matches_what_nerve_care_does() -> None:
    promise = TEXTS("onboarding.ham_nerve")
    assert "gentlest stage" in promise and "remind you to stop" in promise
    assert "it hurts" in TEXTS("nerve.stretch_reminder")
    held = TEXTS("nerve.hamstring_held", stage=PROGRAMME.exercise("hamstring_stretch").stages[0].name)
    assert '"Lying with a belt, 30 s each leg"' in held
    assert "both legs" in TEXTS("nerve.advice") and "urgent" in TEXTS("nerve.advice")
