"""What the coach says when someone not yet set up asks for the programme ("start session",
"help", "progress", "pain 4", "settings", "pause", ...): one short line saying what comes
first, so they are neither apologised to nor shown the whole introduction again; the caller
then asks the open question again.

Which words get which line is decided here by verb; the lines are in content/texts.toml
([first_words]), looked up from the most specific to the most general: the step's own
("pain_baseline"), then its part of onboarding ("pain_check" before and during the safety
check, "pain_setup" after it), then the group's ("help").
"""
from __future__ import annotations

from bot.intents import Intent
from bot.replies import Reply
from bot.services import Services
from bot.states import BASELINE, INTRO, NEW, REMIND_TIME, REMIND_ZONE, SCREEN_PREFIX
from bot.workout.pain import clinician_advice

WORKOUT_WORDS = ("pause", "resume", "skip_rest", "add_time", "skip", "stop", "done", "next",
                 "how_long", "whats_next", "how_to", "show_me", "what_is")
# Each verb's group: the line it gets. A bare number is read as pain only before and during
# the safety check; later it may be an attempt at a reminder time.
GROUPS = {"session": "start", "resume_workout": "start", "help": "help",
           "progress": "progress", "why": "progress",
           "pain": "pain", "pain_invalid": "pain", "pain_vague": "pain", "hurts": "pain",
           "number": "pain", "number_invalid": "pain", "nerve": "nerve",
           "settings": "reminders", "snooze": "reminders", "skip_today": "reminders",
           **{verb: "workout" for verb in WORKOUT_WORDS}}
_BARE_NUMBERS = frozenset({"number", "number_invalid"})
_STEP_NAMES = {BASELINE: "baseline", REMIND_TIME: "reminder", REMIND_ZONE: "reminder"}


def welcome(services: Services, intent: Intent) -> list[Reply]:
    """Before the introduction of someone brand new: a line acknowledging what they asked
    for ("start session": glad you want to start), or nothing for a plain hello or /start."""
    if intent.verb == "session":
        return [Reply(services.texts("first_words.welcome_session"))]
    return answer(services, NEW, intent) or []


def answer(services: Services, state: str, intent: Intent) -> list[Reply] | None:
    """The short line for these words at this onboarding step; None for words that are not
    a request for the programme (the caller answers those as it always did)."""
    group = GROUPS.get(intent.verb)
    if group is None or (intent.verb in _BARE_NUMBERS and not _before_the_check_ends(state)):
        return None
    if group == "nerve":  # a warning sign is never put off until later
        return [Reply(services.texts("nerve.advice"))]
    replies = [Reply(services.texts(_key(services, group, state)))]
    if intent.verb in ("pain", "number") and intent.arg.isdigit():
        replies += clinician_advice(services, int(intent.arg))
    return replies


def _key(services: Services, group: str, state: str) -> str:
    part = "check" if _before_the_check_ends(state) else "setup"
    candidates = [f"{group}_{part}", group]
    if state in _STEP_NAMES:
        candidates.insert(0, f"{group}_{_STEP_NAMES[state]}")
    for name in candidates:
        if services.texts.has(f"first_words.{name}"):
            return f"first_words.{name}"
    raise KeyError(f"no first_words text for {group!r} at {state!r}")


def _before_the_check_ends(state: str) -> bool:
    return state in (NEW, INTRO) or state.startswith(SCREEN_PREFIX)
