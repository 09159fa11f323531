"""The warning-sign screen: questions from content/screening.toml and what a "yes" means.

Urgent signs (bladder, bowel, saddle numbness, both legs, worsening weakness) send the person to
urgent care; any other sign sends them to a health practitioner first. Either stops the programme.
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from bot.content import ContentError

URGENT, PRACTITIONER, CLEAR = "urgent", "practitioner", "clear"


@dataclass(frozen=True)
class Question:
    id: str
    severity: str
    text: str


def load_questions(content_dir: Path) -> tuple[Question, ...]:
    path = content_dir / "screening.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ContentError(f"{path}: cannot read the screen: {exc}") from exc
    questions = []
    for number, item in enumerate(data.get("question", []), start=1):
        for field in ("id", "severity", "text"):
            if not isinstance(item.get(field), str) or not item[field].strip():
                raise ContentError(f"{path}: question {number}: field '{field}' must be text")
        if item["severity"] not in (URGENT, PRACTITIONER):
            raise ContentError(f"{path}: question {number} ('{item['id']}'): field 'severity' "
                               f"must be '{URGENT}' or '{PRACTITIONER}'")
        questions.append(Question(item["id"], item["severity"], item["text"].strip()))
    if not questions:
        raise ContentError(f"{path}: no questions")
    return tuple(questions)


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
