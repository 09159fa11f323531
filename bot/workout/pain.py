"""What the coach adds to any pain answer: high pain always brings the advice to see a clinician,
wherever the score was given (baseline, after a workout, next morning, or any time)."""
from __future__ import annotations

from bot.replies import Reply
from bot.services import Services


def clinician_advice(services: Services, score: int) -> list[Reply]:
    """The "see a clinician" note for a score at or above the threshold in content/rules.toml."""
    if score >= services.programme.rules.see_clinician_pain:
        return [Reply(services.texts("pain.clinician", score=score))]
    return []
