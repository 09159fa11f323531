"""Every conversation state a person can be in, in one place, with the rules that read them.

The state is saved in `users.state`. Most are plain names; a few are prefixes that carry a
detail: "screen:3" (safety question 3), "redflag:urgent", "set_time" (a settings step),
"delete:ready" (the delete question, asked from "ready").
"""
from __future__ import annotations

# Onboarding, in order.
NEW, INTRO, BASELINE, HAMSTRING, REMIND_TIME, REMIND_ZONE = (
    "new", "intro", "baseline", "hamstring", "remind_time", "remind_zone")
SCREEN_PREFIX = "screen:"
# An urgent "yes" (or "not sure") waits to be confirmed: "screen:3:sure".
SURE_SUFFIX = ":sure"
# Stopped by the safety check until rescreened.
RED_FLAG_PREFIX = "redflag:"
# Between workouts, and around one.
READY, WORKOUT, PAIN_AFTER, INTERRUPTED = "ready", "workout", "pain_after", "interrupted"
# "Pain right now?" before a session; the form questions before a step up.
PAIN_BEFORE, FORM_CHECK = "pain_before", "form_check"
# A workout open for the player page (bot/player/): the chat's timer is not running, either
# because the person has the choice of page or chat in front of them or because the page runs it.
PLAYER = "player"
# The next-morning pain question a reminder asks.
MORNING = "morning"
# The settings conversation: every step starts with the prefix.
SETTINGS_PREFIX = "set_"
SET_MENU, SET_TIME, SET_ZONE, SET_DAYS, SET_PAUSE, SET_SUMMARY_DAY = (
    "set_menu", "set_time", "set_zone", "set_days", "set_pause", "set_sumday")
# "Delete my data?" waits for an answer: DELETE_PREFIX + the state it was asked from.
DELETE_PREFIX = "delete:"

_ONBOARDING = frozenset({NEW, INTRO, BASELINE, HAMSTRING, REMIND_TIME, REMIND_ZONE})


def is_onboarding(state: str) -> bool:
    """Still being introduced and screened: nothing of the programme applies yet."""
    return state in _ONBOARDING or state.startswith(SCREEN_PREFIX)


def underneath(state: str) -> str:
    """The state a pending delete question was asked from (the state itself otherwise)."""
    while state.startswith(DELETE_PREFIX):
        state = state[len(DELETE_PREFIX):]
    return state


def in_programme(state: str) -> bool:
    """Onboarded and not stopped by the safety check: the one rule for who gets reminders and
    summaries, so the two can never disagree."""
    state = underneath(state)
    return not (is_onboarding(state) or state.startswith(RED_FLAG_PREFIX))


def tag_for(state: str) -> str:
    """The short tag buttons of this step carry, to recognise presses on old buttons."""
    if state.startswith(SCREEN_PREFIX):
        return "s" + state[len(SCREEN_PREFIX):].replace(SURE_SUFFIX, "c")
    return {INTRO: "in", BASELINE: "bl", HAMSTRING: "hm", REMIND_TIME: "rt",
            REMIND_ZONE: "rz", PAIN_AFTER: "after", INTERRUPTED: "int", PAIN_BEFORE: "before",
            FORM_CHECK: "form"}.get(state, state[:6])
