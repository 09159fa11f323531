"""What the coach adds to any pain answer: high pain always brings the advice to see a clinician,
wherever the score was given (baseline, after a workout, next morning, or any time); a change
since the last score is named ("down from 7 to 4 since last time"); vague words get a number
to confirm."""
from __future__ import annotations

from bot.intents import pain_buttons
from bot.replies import Reply
from bot.services import Services
from bot.texts import Texts


def clinician_advice(services: Services, score: int) -> list[Reply]:
    """The "see a clinician" note for a score at or above the threshold in content/rules.toml."""
    if score >= services.programme.rules.see_clinician_pain:
        return [Reply(services.texts("pain.clinician", score=score))]
    return []


def change_since(texts: Texts, before: int | None, score: int) -> str:
    """"That's down from 7 to 4 since last time." (empty when there is no earlier score, or no
    change): a drop is worth hearing, and a rise worth knowing about."""
    if before is None or before == score:
        return ""
    key = "pain_change.since_down" if score < before else "pain_change.since_up"
    return texts(key, before=before, score=score)


def noted_after(texts: Texts, before: int | None, score: int) -> str:
    """"Noted: pain 2/10, down from 4 before the workout."""
    if before is None:
        return texts("pain.noted", score=score)
    key = ("pain_change.after_down" if score < before else
           "pain_change.after_up" if score > before else "pain_change.after_same")
    return texts(key, before=before, score=score)


def previous_score(services: Services, user_id: int, baseline: int | None) -> int | None:
    """The person's last pain score of any kind (their starting pain before any report)."""
    latest = services.store.latest_pain(user_id)
    return latest.score if latest is not None else baseline


def vague(texts: Texts, suggested: str, tag: str) -> Reply:
    """"Hurts a lot" at a pain question: a number to confirm with one tap, never used unasked."""
    score = max(0, min(10, int(suggested))) if suggested.isdigit() else 5
    return Reply(texts("answers.pain_vague_confirm", score=score), pain_buttons(tag))
