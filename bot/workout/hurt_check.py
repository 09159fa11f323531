"""The questions after "it hurts" during an exercise, and what the answers decide by the rules.

The exercise has already stopped. Two questions follow: how bad it is now (0-10), and whether
it travels down a leg (not asked when the person said "zinging" or "tingling": that is a nerve
sign already). A score above the step-down limit in content/rules.toml lowers the exercise one
stage; a travelling or zinging pain brings the nerve advice. The session saves and says it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from bot.content import Exercise, Rules
from bot.intents import button, pain_buttons
from bot.replies import Choice, Reply

PAIN_VERBS = frozenset({"pain", "number"})
YES_VERBS = frozenset({"yes"})
NO_VERBS = frozenset({"no"})


class TextLookup(Protocol):
    def __call__(self, key: str, **values: object) -> str: ...


def lowers_stage(rules: Rules, score: int, stage_index: int) -> bool:
    """Pain above the step-down limit lowers the exercise one stage, if there is one below."""
    return score > rules.down_above_pain and stage_index > 0


@dataclass
class HurtCheck:
    """Where the questions after "it hurts" are: what stopped, and the answers so far."""

    name: str  # what was stopped: an exercise, or the warm-up
    exercise: Exercise | None  # None during the warm-up: no stage to change
    nerve: bool = False  # zinging or tingling said, or "yes" it travels down a leg
    score: int | None = None
    travels_asked: bool = False
    suggested: int | None = None  # from vague words ("hurts a lot"), to be confirmed

    @property
    def complete(self) -> bool:
        return self.score is not None and (self.nerve or self.travels_asked)

    def first_question(self, texts: TextLookup, tag: str) -> Reply:
        return Reply(texts("hurts.stopped", name=self.name) + "\n" + texts("hurts.how_bad"),
                     pain_buttons(tag))

    def question(self, texts: TextLookup, tag: str) -> Reply:
        """The question still open (asked again after an answer that did not fit)."""
        if self.score is None:
            return Reply(texts("hurts.how_bad"), pain_buttons(tag))
        return Reply(texts("hurts.travels"), (
            Choice(texts("buttons.travels_yes"), button("travels", "yes", tag)),
            Choice(texts("buttons.travels_no"), button("travels", "no", tag))))

    def take(self, verb: str, arg: str, texts: TextLookup, tag: str) -> Reply | None:
        """Take one answer (a score, vague words, yes / no, a nerve sign); returns the next
        question, the same one again when the answer does not fit it, or None once both are
        answered."""
        if verb == "nerve":
            self.nerve = True
        elif self.score is None and verb in PAIN_VERBS and arg.isdigit():
            self.score = int(arg)
        elif self.score is None and verb == "pain_vague" and arg.isdigit():
            self.suggested = int(arg)
            return Reply(texts("answers.pain_vague_confirm", score=arg), pain_buttons(tag))
        elif self.score is None and self.suggested is not None and verb in YES_VERBS | {"ok"}:
            self.score = self.suggested
        elif self.score is not None and verb in ("travels", *YES_VERBS, *NO_VERBS):
            self.travels_asked = True
            self.nerve = self.nerve or verb in YES_VERBS or arg == "yes"
        else:
            return self.question(texts, tag)
        return None if self.complete else self.question(texts, tag)
