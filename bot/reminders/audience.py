"""Who the programme's own messages are for: the daily reminder and the weekly summary.

One rule, used by both (bot/reminder_chat.py and bot/summary.py), so they can never disagree:
only people who finished onboarding and whom the safety check has not stopped.
"""
from __future__ import annotations

from bot.data.mydata import CONFIRM as DELETE_PREFIX
from bot.onboarding.flow import RED_FLAG_PREFIX, is_onboarding


def in_programme(state: str) -> bool:
    """True for a person in the programme, judged by their conversation state.

    While "delete my data?" waits for an answer, the state is "delete:" + the state before
    (bot/mydata.py), e.g. "delete:redflag:urgent": the state underneath is what counts.
    """
    while state.startswith(DELETE_PREFIX):
        state = state[len(DELETE_PREFIX):]
    return not (is_onboarding(state) or state.startswith(RED_FLAG_PREFIX))
