"""Every state answers anything a person can type or any payload a client can forge, helpfully,
without a traceback, and without losing what was already saved."""
from __future__ import annotations

import logging

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.events import MAX_NAME, Command, Picked, Text
from bot.intents import parse
from chat import Person

NASTY_TEXT = [
    "", " ", "\n\n", "🙂", "🔥" * 300, "x" * 20000, "\x00\x01\x02", "\u202eevil", "ｐａｕｓｅ",
    "-1", "11", "eleven", "3.5", "1e9", "9" * 100, "pain", "pain -3", "pain 99", "pain: ",
    "/", "//", "/start@SomeBot", "/unknown_command", "'; DROP TABLE users; --", "%s%s%n",
    "{0}{name}", "<b>bold</b>", "why", "why nothing", "null", "None", "yes no", "@@@",
]
NASTY_PAYLOADS = [
    "", ":", "@", "pain:99@after", "pain:-1@after", "pain:abc@after", "yes@s999", "ham:xyz@hm",
    "rt:9999@rt", "rt:@rt", "pause@w999999", "done@w0", "x" * 200, "DROP:TABLE",
    "resume_workout@int", "finish_now@int", "🙂:🙂", "verb:" + "a" * 100,
]


async def _feed_everything(person: Person, caplog) -> None:
    for text in NASTY_TEXT:
        replies = await person.says(text)
        assert replies, f"no answer to {text!r}"
        assert all(r.text.strip() for r in replies)
    for payload in NASTY_PAYLOADS:
        replies = await person.sends_payload(payload)
        assert replies, f"no answer to payload {payload!r}"
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, errors[0].getMessage()


def _snapshot(coach, person: Person):
    user = coach.services.store.find_user(person.key)
    if user is None:
        return None
    store = coach.services.store
    return (user.baseline_pain, user.reminder_time, user.timezone, store.stages(user.id),
            len(store.workouts(user.id)), len(store.stage_changes(user.id)))


async def _reach(state: str, person: Person, coach) -> None:
    if state == "intro":
        await person.says("/start")
    elif state == "screening":
        await person.says("/start")
        await person.presses("Got it, let's go")
        await person.presses("No")
    elif state == "red flag":
        await person.says("/start")
        await person.presses("Got it, let's go")
        await person.presses("Yes")
        await person.presses("Yes, that's right")
    elif state == "baseline":
        await person.says("/start")
        await person.presses("Got it, let's go")
        for _ in coach.services.questions:
            await person.presses("No")
    elif state in ("ready", "workout", "paced set", "pain question"):
        await person.onboards()
        if state == "workout":
            await person.starts_session()
            await person.waits_for("Hold 30 s")
            await person.says("pause")
        elif state == "paced set":
            await person.reaches(6)  # the squat: a set at the person's own pace
            await person.waits_for('Say "done"')
            await coach.settled(person.key)
        elif state == "pain question":
            await person.starts_session()
            await person.stops()


@pytest.mark.parametrize("state", ["new", "intro", "screening", "red flag", "baseline", "ready",
                                   "workout", "paced set", "pain question"])
async def test_every_state_answers_nasty_input_helpfully(state, ana: Person, coach, caplog):
    caplog.set_level(logging.ERROR)
    await _reach(state, ana, coach)
    before = _snapshot(coach, ana)
    user_state = coach.services.store.find_user(ana.key).state if before else None
    await _feed_everything(ana, caplog)
    user = coach.services.store.find_user(ana.key)
    if user is not None:  # whatever was forged, no pain score outside 0-10 is ever stored
        assert all(0 <= p.score <= 10 for p in coach.services.store.pain_reports(user.id))
    if before is not None and state not in ("new", "intro", "screening", "baseline"):
        after = _snapshot(coach, ana)
        # saved answers, stages and history are untouched by junk
        assert after[:4] == before[:4] and after[5] == before[5]
        if state != "pain question":
            assert coach.services.store.find_user(ana.key).state == user_state


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200), st.text(max_size=80))
def test_parsing_never_raises(text, payload):
    from bot.events import UserKey
    key = UserKey("test", "x")
    for event in (Text(key, text), Picked(key, payload), Command(key, text[:20], text)):
        intent = parse(event)
        assert isinstance(intent.verb, str)


@pytest.mark.parametrize("given, kept", [
    ("Ana", "Ana"),
    (" Ana\nMaria\t\x00 ", "Ana Maria"),  # one line, no control characters
    ("x" * 100_000, "x" * MAX_NAME),  # no longer than any platform allows
    ("Jo\ud800", "Jo\ufffd"),  # a lone surrogate, which SQLite refuses, replaced
    ("\ud83d\ude00 Li", "\U0001F600 Li"),  # a surrogate pair is one character again
])
async def test_a_name_is_stored_as_valid_text_on_one_line_and_trimmed(coach, adapter, given,
                                                                     kept):
    person = Person(coach, adapter, "someone", given)
    replies = await person.says("/start")
    assert replies and "not: a doctor" in replies[0].text  # answered as anyone else
    assert coach.services.store.find_user(person.key).name == kept
    assert (await person.presses("Got it, let's go"))[-1].text  # and the next message works too
