"""The form gate: a stage moves up only when the person says its form held in every rep.

Each stage's question and "what to work on" advice are content (Stage.form); this module holds
the few decisions around them, so the conversation and its tests agree on one policy.
"""
from __future__ import annotations

from bot.content import Stage

YES, MOSTLY, NOT_YET = "yes", "mostly", "not_yet"
ANSWERS = (YES, MOSTLY, NOT_YET)
# Button label keys in content/texts.toml, in the order the buttons are shown.
BUTTON_KEYS = {YES: "buttons.form_yes", MOSTLY: "buttons.form_mostly",
               NOT_YET: "buttons.form_not_yet"}
# How the answer is named in the stored reason for a stage that was kept.
ANSWER_KEYS = {MOSTLY: "form.answer_mostly", NOT_YET: "form.answer_not_yet"}
# What the coach says when the stage is kept ({name}, {stage}, {work_on}).
KEPT_KEYS = {MOSTLY: "form.mostly", NOT_YET: "form.not_yet"}
# The reason stored for a step up the form check held back (a stage change to the same stage).
KEPT_REASON = "form_kept"


def asks_form(stage: Stage, due_to_move_up: bool) -> bool:
    """Ask before every step up; a loaded stage (any weight) is asked after every workout, since
    form that slips under load is what the programme warns against most."""
    return due_to_move_up or stage.loaded


def allows_step_up(answer: str) -> bool:
    """Only "Yes, every rep" lets a stage move up; "Mostly" and "Not yet" keep it."""
    return answer == YES
