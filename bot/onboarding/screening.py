"""The warning-sign screen: questions from content/screening.toml and what a "yes" means.

Urgent signs (bladder, bowel, saddle numbness, both legs, worsening weakness) send the person to
urgent care; any other sign sends them to a health practitioner first. Either stops the programme.
"Not sure" counts as a possible yes: a sign nobody can rule out is treated as present.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.content import PRACTITIONER, URGENT, Question

CLEAR = "clear"
NOT_SURE = "not_sure"  # the stored answer for "not sure" (others are true / false)

__all__ = ["CLEAR", "NOT_SURE", "PRACTITIONER", "URGENT", "flagged", "verdict"]


def flagged(questions: tuple[Question, ...], answers: Mapping[str, Any]) -> list[Question]:
    """The questions answered yes or not sure."""
    return [q for q in questions if answers.get(q.id) is True or answers.get(q.id) == NOT_SURE]


def verdict(questions: tuple[Question, ...], answers: Mapping[str, Any]) -> str | None:
    """URGENT or PRACTITIONER as soon as one sign is present (or possibly present), CLEAR when
    all are answered no, None while questions remain."""
    signs = flagged(questions, answers)
    if any(q.severity == URGENT for q in signs):
        return URGENT
    if signs:
        return PRACTITIONER
    if all(q.id in answers for q in questions):
        return CLEAR
    return None
