"""The conversations every platform's end-to-end test plays, written once.

A step is what the person does (start, press a button, type) and a piece of the coach's answer
that shows the step landed. Each platform's driver turns a step into its own gestures (a
Telegram callback, a Discord component click, a typed line in the terminal). The number of
safety questions comes from content/, never written in here.
"""
from __future__ import annotations

from dataclasses import dataclass

from bot.bootstrap import CONTENT_DIR
from bot.content import load_questions

QUESTIONS = len(load_questions(CONTENT_DIR))


@dataclass(frozen=True)
class Step:
    gesture: str  # "start" (the platform's start command), "press" (a button), "say" (typed)
    text: str
    expect: str


def onboarding(baseline: int = 3, time: str = "07:30", zone: str = "Berlin",
               hamstring: str = "Reached it easily") -> list[Step]:
    """From the first /start to "You're all set", answering no to every warning sign."""
    steps = [Step("start", "/start", "not: a doctor"),
             Step("press", "Got it, let's go", f"question 1 of {QUESTIONS}")]
    steps += [Step("press", "No", f"question {number} of {QUESTIONS}")
              for number in range(2, QUESTIONS + 1)]
    steps += [Step("press", "No", "How much does your back hurt"),
              Step("press", str(baseline), "hamstrings"),
              Step("press", hamstring, "What time"),
              Step("say", time, "which time zone"),
              Step("say", zone, "You're all set")]
    return steps


PAIN_NOW = "how is your back right now"  # the one-tap question before every session


def session(before: int = 3, start: str = "start session") -> list[Step]:
    """Starting a workout: "start session" (or the platform's command), then the pain right
    now, one tap, before the session begins."""
    return [Step("say", start, PAIN_NOW), Step("press", str(before), f"Thanks: {before}/10")]


def typed(steps: list[Step], labels: dict[str, str] | None = None) -> list[str]:
    """The same steps as lines typed in the terminal, which greets by itself at launch (a
    button is typed by its label, or as `labels` says)."""
    labels = labels or {}
    return [labels.get(step.text, step.text) for step in steps if step.gesture != "start"]
