"""The warning-sign screen: questions from content/screening.toml and what a "yes" means.

Urgent signs (bladder, bowel, saddle numbness, both legs, worsening weakness) send the person to
urgent care; any other sign sends them to a health practitioner first. Either stops the programme.
"""
from __future__ import annotations

from bot.content import PRACTITIONER, URGENT, Question

CLEAR = "clear"


def verdict(questions: tuple[Question, ...], answers: dict[str, bool]) -> str | None:
    """URGENT or PRACTITIONER as soon as one sign is present, CLEAR when all are answered no,
    None while questions remain."""
    flagged = [q for q in questions if answers.get(q.id)]
    if any(q.severity == URGENT for q in flagged):
        return URGENT
    if flagged:
        return PRACTITIONER
    if all(q.id in answers for q in questions):
        return CLEAR
    return None
