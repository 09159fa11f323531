"""The README's list for clinical review keeps up with the numbers content/ marks as our choice."""
from __future__ import annotations

from pathlib import Path

from bot.content import load_programme

ROOT = Path(__file__).resolve().parent.parent


def review_section() -> str:
    readme = (ROOT / "README.md").read_text()
    start = readme.index("## What a clinician should review")
    end = readme.find("\n## ", start + 1)
    return readme[start:end if end != -1 else None]


def test_every_stage_marked_our_choice_is_listed_for_review() -> None:
    programme = load_programme(ROOT / "content")
    section = review_section()
    for exercise in programme.exercises:
        for stage in exercise.stages:
            if stage.our_choice:
                assert f"`{exercise.id}`" in section, exercise.id
                assert f"`{stage.id}`" in section, f"{exercise.id}.{stage.id}"
    assert f"`{programme.warmup.id}`" in section
    for move in programme.warmup.moves:
        assert f"`{move.id}`" in section, move.id
    if programme.rules.our_choice:
        assert "`content/rules.toml`" in section
