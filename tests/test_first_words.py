"""The first words, told as conversations: what someone says before or during onboarding that
asks for the programme ("start session", "help", "progress", "pain 4", "settings", "pause",
...) gets one short line about what comes first and the open question again; never the
apology, never the whole introduction a second time."""
from __future__ import annotations

import pytest

import scripts
from bot.intents import Intent
from bot.onboarding import first_words
from chat import Person

APOLOGY = "Sorry, I didn't catch that"
WHOLE_INTRO = "What I do: guide you through"  # a sentence only the full introduction has

# Where someone can be in onboarding, named by the piece of the question that shows they are
# there (tests/scripts.py's steps, played up to that point).
STEPS = scripts.onboarding()
WHERE = {"the introduction": "not: a doctor", "safety question 3": "question 3 of",
         "the starting pain": "How much does your back hurt", "the hamstring test": "hamstrings",
         "the reminder time": "What time", "the time zone": "which time zone"}
FIRST_WORDS = {  # what they say -> a piece of the short line it gets
    "start session": "then we start", "/session": "then we start", "help": "getting you set up",
    "progress": "no progress to show yet", "why side plank": "no progress to show yet",
    "settings": "settings", "snooze": "settings", "skip today": "settings",
    "pause": "No workout is running yet", "stop": "No workout is running yet",
    "done": "No workout is running yet", "how do I do this": "No workout is running yet"}


async def reach(person: Person, where: str) -> None:
    """Play the shared onboarding script until the question `where` names is open."""
    for step in STEPS:
        replies = await (person.presses if step.gesture == "press" else person.says)(step.text)
        assert any(step.expect in reply.text for reply in replies), (step, replies)
        if WHERE[where] in step.expect:
            return
    raise AssertionError(where)


def state_of(coach, person: Person) -> str:
    return coach.services.store.find_user(person.key).state


# -- a brand-new person ----------------------------------------------------------------------

async def test_start_session_as_the_very_first_words_gets_the_introduction_once(ana, coach):
    replies = await ana.says("start session")
    assert replies[0].text.startswith("Glad you want to get going!")
    assert WHOLE_INTRO in replies[1].text and "clinician" in replies[1].text
    assert [c.label for c in replies[-1].choices] == ["Got it, let's go"]

    replies = await ana.says("start session")  # and again, impatiently
    texts = [reply.text for reply in replies]
    assert texts[0] == "First a quick safety check, then we start."
    assert not any(APOLOGY in text or WHOLE_INTRO in text for text in texts)
    assert "not a clinician" in texts[-1]  # the gist of the introduction, and its button
    assert [c.label for c in replies[-1].choices] == ["Got it, let's go"]

    replies = await ana.presses("Got it, let's go")
    assert "question 1 of" in replies[-1].text


@pytest.mark.parametrize("said, line", [
    ("help", "getting you set up"), ("progress", "no progress to show yet"),
    ("pain 4", "right after the safety check"), ("settings", "reminder time"),
    ("remind me at 7:30am", "reminder time"), ("pause", "No workout is running yet")])
async def test_other_first_words_get_their_line_then_the_introduction(ana, said, line):
    replies = await ana.says(said)
    assert line in replies[0].text
    assert WHOLE_INTRO in replies[-1].text
    assert not any(APOLOGY in reply.text for reply in replies)


async def test_a_plain_start_or_hello_gets_just_the_introduction(coach, adapter):
    for user_id, said in (("ana", "/start"), ("ben", "hello")):
        replies = await Person(coach, adapter, user_id).says(said)
        assert len(replies) == 1 and WHOLE_INTRO in replies[0].text


# -- during onboarding -----------------------------------------------------------------------

@pytest.mark.parametrize("where", list(WHERE))
@pytest.mark.parametrize("said", list(FIRST_WORDS))
async def test_first_words_mid_onboarding_get_a_short_line_and_the_question_again(
        ana, coach, where, said):
    await reach(ana, where)
    state = state_of(coach, ana)
    question = coach.prompt(coach.services.store.find_user(ana.key))[-1]
    replies = await ana.says(said)
    assert FIRST_WORDS[said] in replies[0].text, replies[0].text
    assert not any(APOLOGY in reply.text or WHOLE_INTRO in reply.text for reply in replies)
    assert replies[-1] == question  # the open question, asked again as it was
    assert len(replies) == 2
    assert state_of(coach, ana) == state  # nothing moved on


async def test_after_the_check_the_line_says_a_couple_more_questions(ana):
    await reach(ana, "the hamstring test")
    replies = await ana.says("start session")
    assert replies[0].text == "Nearly there: a couple more questions, then we start."
    assert "hamstrings" in replies[-1].text


async def test_a_pain_score_during_the_check_is_not_stored_but_high_pain_gets_the_advice(
        ana, coach):
    await reach(ana, "safety question 3")
    replies = await ana.says("pain 8")
    assert "right after the safety check" in replies[0].text
    assert "Pain at 8/10 is high" in replies[1].text
    assert "question 3 of" in replies[-1].text
    user = coach.services.store.find_user(ana.key)
    assert coach.services.store.pain_reports(user.id) == []
    assert user.baseline_pain is None  # asked for properly once the check is done


async def test_at_the_starting_pain_question_words_without_a_number_are_asked_for_one(ana):
    await reach(ana, "the starting pain")
    replies = await ana.says("my back hurts")
    assert replies[0].text.startswith("Please give it a whole number from 0")
    assert "How much does your back hurt" in replies[-1].text
    replies = await ana.says("pain 4")  # which answers it
    assert replies[0].text == "Thanks. I'll use 4/10 as your starting point."


async def test_pain_down_a_leg_during_the_check_gets_the_nerve_advice_at_once(ana):
    await reach(ana, "safety question 3")
    replies = await ana.says("I have pain down my leg")
    assert "irritated nerve" in replies[0].text and "urgent medical help" in replies[0].text
    assert "question 3 of" in replies[-1].text


async def test_start_again_mid_onboarding_carries_on_where_we_were(ana):
    await reach(ana, "safety question 3")
    replies = await ana.says("/start")
    assert replies[0].text.startswith("We were in the middle of getting you set up")
    assert "question 3 of" in replies[-1].text


async def test_an_export_mid_onboarding_is_sent_and_the_question_asked_again(ana):
    await reach(ana, "the hamstring test")
    replies = await ana.says("export")
    assert replies[0].files
    assert "hamstrings" in replies[-1].text


async def test_an_export_as_the_very_first_words_comes_with_the_introduction(ana, coach):
    replies = await ana.says("export")
    assert replies[0].files and WHOLE_INTRO in replies[-1].text
    assert state_of(coach, ana) == "intro"


# -- the reminder questions read sentences ---------------------------------------------------

@pytest.mark.parametrize("time_said, zone_said, time, zone", [
    ("remind me at 7:30am", "I'm in Berlin", "07:30", "Europe/Berlin"),
    ("7:30 please", "berlin please", "07:30", "Europe/Berlin"),
    ("can my reminder come at 6:45 pm", "I live in New York", "18:45", "America/New_York"),
    ("settings time 8am", "my time zone is Europe/Paris", "08:00", "Europe/Paris"),
])
async def test_reminder_time_and_zone_can_be_said_in_a_sentence(ana, coach, time_said,
                                                                zone_said, time, zone):
    await reach(ana, "the reminder time")
    replies = await ana.says(time_said)
    assert "which time zone" in replies[-1].text
    replies = await ana.says(zone_said)
    assert replies[0].text.startswith("You're all set! Reminders: every day at "
                                      f"{time} ({zone}).")
    user = coach.services.store.find_user(ana.key)
    assert (user.reminder_time, user.timezone, user.reminders_on) == (time, zone, 1)


async def test_a_bare_hour_or_an_unknown_place_is_asked_again(ana, coach):
    await reach(ana, "the reminder time")
    replies = await ana.says("remind me at 7")  # morning or evening?
    assert replies[0].text.startswith("I couldn't read that as a time")
    assert "What time" in replies[-1].text
    await ana.says("remind me at 7am")
    replies = await ana.says("I moved to Atlantis")
    assert replies[0].text.startswith("I don't know that place")
    assert state_of(coach, ana) == "remind_zone"


async def test_no_reminders_said_in_words_at_the_time_question(ana, coach):
    await reach(ana, "the reminder time")
    replies = await ana.says("no reminders")
    assert replies[0].text.startswith("No reminders, then.")
    assert "You're all set! Reminders: off." in replies[-1].text
    assert coach.services.store.find_user(ana.key).reminders_on == 0


async def test_after_onboarding_settings_in_a_sentence_are_the_settings_again(ana):
    await ana.onboards()
    replies = await ana.says("remind me at 6:45 pm")
    assert replies[0].text.startswith("Done: reminders at 18:45 (Europe/Berlin)")


@pytest.mark.parametrize("state", ["new", "intro", "screen:0", "baseline", "hamstring",
                                   "remind_time", "remind_zone"])
def test_every_first_word_has_a_line_at_every_step(coach, state):
    """content/texts.toml's [first_words] covers every verb at every step, so no first word
    can end in a missing text mid-onboarding."""
    for verb in first_words.GROUPS:
        replies = first_words.answer(coach.services, state, Intent(verb, "4"))
        assert replies is None or all(reply.text for reply in replies), (verb, state)
