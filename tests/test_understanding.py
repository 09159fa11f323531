"""What people type, read into intents: every phrase of issue 15's "Why" list, the catalogue's
groups, numbers, times and places inside sentences, negation, typos, and the old words.

The tables read as "a person types X, the coach takes it as verb (arg)". The conversations at
the end show the replies the coach gives today to the new small talk, "next" in a paced set,
and reminder times and places typed as sentences."""
from __future__ import annotations

import shutil
import tomllib
from pathlib import Path

import pytest
from legacy_words import LEGACY_WORDS

from bot import understanding
from bot.content import ContentError
from bot.events import Command, Text, UserKey
from bot.intents import parse
from bot.understanding import catalogue as catalogue_module
from bot.understanding.words import phrase_tokens
from chat import Person
from reminder_world import World, berlin

KEY = UserKey("test", "reader")
CONTENT = Path(__file__).resolve().parent.parent / "content"


def read(text: str) -> tuple[str, str]:
    intent = parse(Text(KEY, text))
    return intent.verb, intent.arg


# Issue 15, "Why": every phrase the coach did not understand, and what it means now.
WHY_LIST = [
    ("i'm done", "done", ""),
    ("I don't know", "not_sure", ""),  # on a safety question: a possible yes
    ("almost", "almost", ""),
    ("my back hurts a lot", "pain_vague", "7"),
    ("better, maybe a 4", "number", "4"),
    ("add 10 seconds", "add_time", "10"),
    ("how long is left?", "how_long", ""),
    ("what's next?", "whats_next", ""),
    ("how do I do this?", "how_to", ""),
    ("show me a picture", "show_me", ""),
    ("thanks", "thanks", ""),
    ("exit", "quit", ""),
    ("change the time to 6:45 pm", "settings", "time 18:45"),
    ("I moved to berlin", "settings", "zone Europe/Berlin"),
    ("next", "next", ""),  # the engine decides by state: a paced set ends, else skip
    ("skip", "skip", ""),
    ("stop", "stop", ""),
    ("oops I meant no", "no", ""),
    ("not sure", "not_sure", ""),
    ("a clinician has checked me and said exercise is fine", "cleared", ""),
    ("why side plank", "why", "side plank"),
    ("help", "help", ""),
    ("quit", "quit", ""),
    ("start session", "session", ""),
    ("yes", "yes", ""),
]


@pytest.mark.parametrize("typed, verb, arg", WHY_LIST)
def test_every_phrase_from_the_issue_is_understood(typed, verb, arg):
    assert read(typed) == (verb, arg)


# The groups of the brief, several ways each.
GROUPS = [
    # done
    ("done", "done", ""), ("finished", "done", ""), ("I'm done!", "done", ""),
    ("that's it", "done", ""), ("ok I'm done now", "done", ""), ("all done", "done", ""),
    ("did them all", "done", ""),
    # skip, skip rest, stop, pause, resume
    ("skip this one please", "skip", "exercise"), ("next exercise", "skip", "exercise"),
    ("skip it", "skip", ""),  # alone, "skip" in a rest skips the rest
    ("skip rest", "skip_rest", ""), ("can we skip the break", "skip_rest", ""),
    ("no need to rest", "skip_rest", ""),
    ("stop the workout", "stop", ""), ("I want to stop", "stop", ""),
    ("that's enough for today", "stop", ""), ("I'm done for today", "stop", ""),
    ("pause", "pause", ""), ("hold on a sec", "pause", ""), ("wait", "pause", ""),
    ("stop the timer", "pause", ""),  # a phrase inside a longer one does not count alone
    ("resume", "resume", ""), ("ok, let's continue", "resume", ""), ("I'm back", "resume", ""),
    # add time
    ("+10", "add_time", "10"), ("+20s", "add_time", "20"), ("more time", "add_time", ""),
    ("give me 30 more seconds", "add_time", "30"), ("add a minute", "add_time", "60"),
    ("can I have a bit longer", "add_time", ""),
    # questions
    ("how much longer?", "how_long", ""), ("how many exercises are left", "how_long", ""),
    ("what comes next", "whats_next", ""), ("what's the next exercise?", "whats_next", ""),
    ("how do I do a side plank", "how_to", "side plank"), ("I don't understand", "how_to", ""),
    ("show me", "show_me", ""), ("show me a picture of the squat", "show_me", "squat"),
    ("what is this?", "what_is", ""), ("what is this exercise for", "what_is", ""),
    ("what is a dead bug", "what_is", "dead bug"),
    # help, progress, settings
    ("?", "help", ""), ("what can you do", "help", ""), ("I need help", "help", ""),
    ("progress", "progress", ""), ("how am I doing?", "progress", ""),
    ("show me my progress", "progress", ""),
    ("settings", "settings", ""), ("I want to change my reminder", "settings", ""),
    ("please turn off the reminders", "settings", "reminders off"),
    ("turn my reminders back on", "settings", "reminders on"),
    ("can you pause my reminders for a week", "settings", "pause reminders for 7 days"),
    ("pause reminders for 2 weeks", "settings", "pause reminders for 14 days"),
    # start session, many ways
    ("Start session", "session", ""), ("/session", "session", ""), ("let's go", "session", ""),
    ("start a workout", "session", ""), ("I want to train", "session", ""),
    ("ready to train", "session", ""), ("can we do today's session", "session", ""),
    ("let's do my exercises", "session", ""), ("time to work out", "session", ""),
    # yes, no, not sure, almost
    ("yeah", "yes", ""), ("yes please", "yes", ""), ("y", "yes", ""), ("i think so", "yes", ""),
    ("nope", "no", ""), ("no thanks", "no", ""), ("n", "no", ""), ("not really", "no", ""),
    ("maybe", "not_sure", ""), ("I have no idea", "not_sure", ""), ("idk", "not_sure", ""),
    ("can't remember", "not_sure", ""),
    ("nearly", "almost", ""), ("not quite", "almost", ""), ("sort of", "almost", ""),
    # small talk
    ("thank you!", "thanks", ""), ("cheers", "thanks", ""), ("ok thanks", "thanks", ""),
    ("hi", "hello", ""), ("hello there", "hello", ""), ("good morning", "hello", ""),
    ("bye", "bye", ""), ("see you tomorrow", "bye", ""), ("thanks, bye", "bye", ""),
    ("that's all for now", "bye", ""),
    # quit
    ("q", "quit", ""), ("let me out", "quit", ""),
    # it hurts, nerve signs
    ("it hurts", "hurts", ""), ("ouch", "hurts", ""),
    ("zinging into my calves", "nerve", ""), ("tingling", "nerve", ""),
    ("pins and needles in my foot", "nerve", ""), ("it's shooting down my leg", "nerve", ""),
    # rescreen, export, delete
    ("rescreen", "rescreen", ""), ("can I retake the safety check", "rescreen", ""),
    ("my doctor cleared me", "cleared", ""),
    ("export", "export", ""), ("send me a copy of my data", "export", ""),
    ("delete my data", "delete", ""), ("please forget me", "delete", ""),
    # why X
    ("why is my side plank harder?", "why", "side plank"),
    ("but why did the squat get easier", "why", "squat"),
]


@pytest.mark.parametrize("typed, verb, arg", GROUPS)
def test_the_ways_people_say_each_thing(typed, verb, arg):
    assert read(typed) == (verb, arg)


NUMBERS = [
    ("maybe a 4", "number", "4"), ("about 6/10", "number", "6"), ("seven", "number", "7"),
    ("better, maybe a 4", "number", "4"), ("pain is like 3 out of 10", "pain", "3"),
    ("it's a seven", "number", "7"), ("seven out of ten", "number", "7"),
    ("my back is about a 5 today", "pain", "5"), ("it hurts, like a 6", "pain", "6"),
    ("yes, about 2", "number", "2"), ("not sure, maybe 3", "number", "3"),
    ("4", "number", "4"), ("pain 4", "pain", "4"), ("4/10", "number", "4"),
    ("pain 11", "pain_invalid", "11"), ("my pain is 15", "pain_invalid", "15"),
    ("3 or 4", "pain_vague", "4"), ("3-4", "pain_vague", "4"), ("3.5", "pain_vague", "4"),
    ("somewhere between three or four", "pain_vague", "4"),
    # vague words: a suggested score, to be confirmed
    ("hurts a lot", "pain_vague", "7"), ("not bad", "pain_vague", "2"),
    ("a bit sore", "pain_vague", "3"), ("killing me", "pain_vague", "8"),
    ("no pain at all", "pain_vague", "0"), ("quite sore, maybe really sore", "pain_vague", "5"),
    # not scores
    ("6:45", "text", "6:45"), ("add 10 seconds", "add_time", "10"),
    ("I did 3 sets", "text", "i did 3 sets"), ("exercise 3 is hard", "text", "exercise 3 is hard"),
    ("I'm 45", "text", "i'm 45"), ("the next one", "text", "the next one"),
    ("one more", "text", "one more"), ("3 and 5", "text", "3 and 5"),
]


@pytest.mark.parametrize("typed, verb, arg", NUMBERS)
def test_numbers_inside_sentences(typed, verb, arg):
    assert read(typed) == (verb, arg)


TIMES_AND_PLACES = [
    ("change the time to 6:45 pm", "time 18:45"), ("remind me at 7", "time 7"),
    ("remind me at 7 in the morning", "time 07:00"), ("remind me at 7 tonight", "time 19:00"),
    ("can my reminder come at 7.30am instead", "time 07:30"),
    ("move the reminder to 19:30 please", "time 19:30"), ("reminders at noon", "time 12:00"),
    ("I moved to berlin", "zone Europe/Berlin"), ("I'm in New York now", "zone America/New_York"),
    ("we moved to São Paulo last year", "zone America/Sao_Paulo"),
    ("my time zone is EST", "zone America/New_York"),
    ("I'm in London for a week", "zone Europe/London"),
    ("change my time zone to europe/paris", "zone Europe/Paris"),
    ("I moved to atlantis", "zone atlantis"),  # the settings say they don't know it
]


@pytest.mark.parametrize("typed, arg", TIMES_AND_PLACES)
def test_times_and_places_inside_sentences(typed, arg):
    assert read(typed) == ("settings", arg)


@pytest.mark.parametrize("typed", ["I'm in pain", "I'm in agony", "what time is it",
                                   "I'm in the gym", "it's time"])
def test_pain_and_plain_time_words_are_no_settings(typed):
    assert read(typed)[0] != "settings"


def test_times_and_places_for_steps_that_ask_for_them():
    assert understanding.find_time("at 7:30am please") == "07:30"
    assert understanding.find_time("whenever") is None
    assert understanding.find_place("I'm in New York now") == "America/New_York"
    assert understanding.find_place("berlin please") == "Europe/Berlin"
    assert understanding.find_place("nowhere") is None


NEGATION = [
    ("don't stop", "negated", "stop"), ("I'm not done yet", "negated", "done"),
    ("do not skip this one", "negated", "skip"), ("I don't want to stop", "negated", "stop"),
    ("I can't continue", "negated", "resume"), ("no, don't delete my data", "negated", "delete"),
    ("not tingling", "negated", "nerve"),
    # negators inside a phrase, or in another clause, negate nothing
    ("not sure", "not_sure", ""), ("not bad", "pain_vague", "2"), ("not today", "skip_today", ""),
    ("I don't know, stop", "stop", ""), ("I don't know why", "not_sure", ""),
]


@pytest.mark.parametrize("typed, verb, arg", NEGATION)
def test_negation(typed, verb, arg):
    assert read(typed) == (verb, arg)


TYPOS = [
    ("finsihed", "done"), ("pasue", "pause"), ("paus", "pause"), ("hlep", "help"),
    ("contineu", "resume"), ("stpo", "stop"), ("setings", "settings"),
    ("strat session", "session"), ("progres", "progress"), ("i'm dnoe", "done"),
    ("skpi", "skip"), ("tingeling", "nerve"),
]


@pytest.mark.parametrize("typed, verb", TYPOS)
def test_typos_are_forgiven(typed, verb):
    assert read(typed)[0] == verb


# Real words a slip away from a catalogue word: never "corrected" into it.
NOT_TYPOS = ["comfortable", "the cause of it", "reaching", "I stoop", "gone", "dont",
             "store", "sing", "state", "party", "bearable", "incomplete", "in", "on", "go on?"]


@pytest.mark.parametrize("typed", NOT_TYPOS)
def test_real_words_are_not_corrected_into_commands(typed):
    verb = read(typed)[0]
    assert verb in ("text", "resume"), verb  # "go on?" is resume by the catalogue itself


@pytest.mark.parametrize("typed", ["yes no", "pause or stop", "skip or pause", "skip, resume"])
def test_two_different_meanings_are_not_guessed(typed):
    assert read(typed)[0] == "text"


# Every word the parser knew before issue 15 and what it meant; all still mean the same,
# except three the issue asked to tell apart: hi/hello/hey (a greeting, not /start), next
# (decided by state) and quit (leave, not only stop).
OLD_WORDS = {**LEGACY_WORDS, "hi": "hello", "hello": "hello", "hey": "hello", "next": "next",
             "quit": "quit"}


@pytest.mark.parametrize("typed, verb", sorted(OLD_WORDS.items()))
def test_the_old_words_keep_their_meaning(typed, verb):
    assert read(typed)[0] == verb
    assert read(typed.upper() + "!")[0] == verb


@pytest.mark.parametrize("typed, intent", [
    ("pain 4", ("pain", "4")), ("4/10", ("number", "4")), ("pain: four", ("pain", "4")),
    ("pain -3", ("pain_invalid", "-3")), ("pain", ("pain_invalid", "")),
    ("settings time 8am", ("settings", "time 8am")), ("snooze 30 min", ("snooze", "30 min")),
    ("why", ("why", "")), ("why nothing", ("why", "nothing")),
    ("pause reminders for 3 days", ("settings", "pause reminders for 3 days")),
])
def test_the_old_strict_forms_come_first(typed, intent):
    assert read(typed) == intent


def test_commands_are_read_like_text():
    assert parse(Command(KEY, "session")).verb == "session"
    assert parse(Command(KEY, "pain", "4")) .arg == "4"


# -- the catalogue ----------------------------------------------------------------------------

def test_every_phrase_typed_alone_means_its_own_intent():
    cat = understanding.current_catalogue()
    data = tomllib.loads((CONTENT / "phrases.toml").read_text(encoding="utf-8"))
    wrong = []
    for verb, table in data["intent"].items():
        for key in ("alone", "say"):
            value = table.get(key, [])
            for arg, texts in (value.items() if isinstance(value, dict) else [("", value)]):
                for text in texts:
                    if "#" in text:
                        continue
                    got = read(text)[0]
                    if got != verb:
                        wrong.append((text, verb, got))
    assert not wrong, wrong
    assert len(cat.whole) > 900  # many ways to say each thing


def test_every_phrase_inside_a_sentence_keeps_its_meaning():
    """A `say` phrase with words around it ("well ... then") means what it means alone."""
    data = tomllib.loads((CONTENT / "phrases.toml").read_text(encoding="utf-8"))
    wrong = []
    for verb, table in data["intent"].items():
        value = table.get("say", [])
        for arg, texts in (value.items() if isinstance(value, dict) else [("", value)]):
            for text in texts:
                if "#" in text or verb in ("why", "how_to", "show_me", "what_is"):
                    continue
                got = read(f"well {text} then")[0]
                if got != verb:
                    wrong.append((text, verb, got))
    assert not wrong, wrong


def _content_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "content"
    shutil.copytree(CONTENT, folder)
    return folder


def test_a_new_phrase_needs_no_code(tmp_path):
    folder = _content_copy(tmp_path)
    path = folder / "phrases.toml"
    path.write_text(path.read_text(encoding="utf-8").replace(
        'say = ["done", "finished",', 'say = ["done", "finished", "nailed it",'), encoding="utf-8")
    assert read("ha, nailed it") == ("text", "ha, nailed it")
    try:
        understanding.use_content(folder)
        assert read("ha, nailed it") == ("done", "")
    finally:
        understanding.use_content(CONTENT)
    assert read("ha, nailed it")[0] == "text"


def test_a_phrase_under_two_intents_is_a_content_error(tmp_path):
    folder = _content_copy(tmp_path)
    path = folder / "phrases.toml"
    path.write_text(path.read_text(encoding="utf-8").replace(
        'say = ["done", "finished",', 'say = ["done", "finished", "skip it",'), encoding="utf-8")
    with pytest.raises(ContentError, match=r"\"skip it\" is also under \[intent\.done\]|"
                                           r"\"skip it\" is also under \[intent\.skip\]"):
        catalogue_module.load(folder)


@pytest.mark.parametrize("change, message", [
    (("rank = 10\nalone = [\"ok\"", "rank = 10\nspeak = [\"x\"]\nalone = [\"ok\""), "allowed keys"),
    (("[words]", "[wordz]"), "unknown section"),
    (("[intent.ok]\nrank = 10", "[intent.ok]\nrank = \"high\""), "whole number"),
    (("negatable = [\"pause\",", "negatable = [\"paws\","), "negatable names no intent"),
])
def test_mistakes_in_the_catalogue_are_named(tmp_path, change, message):
    folder = _content_copy(tmp_path)
    path = folder / "phrases.toml"
    text = path.read_text(encoding="utf-8")
    assert change[0] in text
    path.write_text(text.replace(change[0], change[1]), encoding="utf-8")
    with pytest.raises(ContentError, match=message):
        catalogue_module.load(folder)


def test_phrases_are_cut_into_words_like_messages():
    assert phrase_tokens("I'm done!") == ("im", "done")
    assert phrase_tokens("add # seconds") == ("add", "#", "seconds")
    assert understanding.split("Done. Stop").tokens == ("done", "|", "stop")
    assert understanding.split("6:45 pm, 4/10 or 3-4").tokens == (
        "6:45", "pm", "|", "4/10", "or", "3", "to", "4")


# -- conversations: what the coach answers today -----------------------------------------------

async def test_hello_thanks_and_bye_get_a_kind_line(ana: Person):
    await ana.onboards()
    replies = await ana.says("hi")
    assert replies[0].text == "Hi, Ana!"
    assert [c.label for c in replies[1].choices] == ["Start session", "Progress", "Help"]
    replies = await ana.says("thanks!")
    assert [r.text for r in replies] == ["You're welcome, Ana! I'm here whenever you need me."]
    replies = await ana.says("ok bye")
    assert [r.text for r in replies] == ["Bye for now, Ana! I'll be here when you come back."]


async def test_small_talk_on_a_safety_question_repeats_only_that_question(ana: Person):
    await ana.says("/start")
    await ana.presses("Got it, let's go")
    replies = await ana.says("thank you")
    assert replies[0].text.startswith("You're welcome")
    assert "question 1 of 11" in replies[1].text
    assert len(replies) == 2


async def test_a_hello_from_someone_new_starts_the_introduction(ana: Person):
    replies = await ana.says("hey there")
    assert "back-care exercise coach" in replies[0].text


async def test_next_ends_a_set_at_ones_own_pace_not_the_exercise(ana: Person, coach):
    await ana.onboards()
    await ana.reaches(6)  # the squat, the first exercise paced by the person
    await ana.waits_for('Say "done"')
    await coach.settled(ana.key)
    first = coach.running(ana.key).position.exercise
    await ana.says("next")
    await coach.settled(ana.key)
    session = coach.running(ana.key)
    assert session is not None and session.position.exercise == first  # same exercise
    assert "Set 2 of" in (await ana.waits_for("Set 2 of")).text


async def test_thanks_during_a_workout_leaves_the_timer_alone(ana: Person, coach):
    await ana.onboards()
    await ana.starts_session()
    await ana.waits_for("Hold")
    replies = await ana.says("thanks coach")
    assert [r.text for r in replies] == ["You're welcome, Ana! I'm here whenever you need me."]
    assert coach.running(ana.key).stopping is False


async def test_dont_stop_during_a_workout_changes_nothing(ana: Person, coach):
    await ana.onboards()
    await ana.starts_session()
    await ana.waits_for("Hold")
    replies = await ana.says("no no, don't stop!")
    assert [r.text for r in replies] == ["Okay, carrying on."]
    assert coach.running(ana.key).stopping is False
    assert coach.services.store.find_user(ana.key).state == "workout"


async def test_a_new_time_said_in_a_sentence_at_the_settings_menu(tmp_path):
    world = await World.open(tmp_path, berlin(2026, 3, 10, 6, 0))
    ana = await world.onboards("ana", "07:30", "Europe/Berlin", name="Ana")
    await ana.says("settings")
    replies = await ana.says("change the time to 6:45 pm")
    assert replies[0].text == ("Done: reminders at 18:45 (Europe/Berlin), every day. "
                               "Next reminder: Tue 10 Mar at 18:45 (Europe/Berlin).")
    replies = await ana.says("I moved to new york")
    assert replies[0].text.startswith("Done: reminders at 18:45 (America/New_York)")
    await world.close()


async def test_a_bare_hour_is_asked_about_at_the_time_question(tmp_path):
    world = await World.open(tmp_path, berlin(2026, 3, 10, 6, 0))
    ana = await world.onboards("ana", "07:30", "Europe/Berlin", name="Ana")
    replies = await ana.says("remind me at 7")
    assert replies[0].text.startswith("I couldn't read that as a time.")
    assert replies[1].text.startswith("What time should I remind you?")
    replies = await ana.says("7am")
    assert replies[0].text.startswith("Done: reminders at 07:00 (Europe/Berlin)")
    replies = await ana.says("I moved to atlantis")
    assert replies[0].text.startswith("I don't know that place.")
    replies = await ana.says("Tokyo")
    assert "(Asia/Tokyo)" in replies[0].text
    await world.close()
