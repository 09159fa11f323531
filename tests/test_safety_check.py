"""The safety check as a person meets it: "answer as best you can" said once, "Not sure" on
every question, an urgent "yes" confirmed before it stops everything, a slip put right without
starting again, and the path for someone a clinician has already checked."""
from __future__ import annotations

from chat import Person

QUESTIONS = 11


async def _to_the_check(ana: Person) -> None:
    await ana.says("/start")
    await ana.presses("Got it, let's go")


async def test_answer_honestly_is_said_once_not_at_every_question(ana: Person, coach):
    await ana.says("/start")
    replies = await ana.presses("Got it, let's go")
    texts = [replies[-1].text]
    for _ in range(QUESTIONS - 1):
        texts.append((await ana.presses("No"))[-1].text)
    assert [t.split("\n")[0] for t in texts[:2]] == [
        'Safety check, question 1 of 11. Answer as best you can: there\'s no wrong answer, and '
        '"Not sure" is a fine answer too.',
        "Safety check, question 2 of 11."]
    assert sum("no wrong answer" in t for t in texts) == 1


async def test_not_sure_is_offered_at_every_question_and_counts_as_a_possible_yes(
        ana: Person, coach):
    await _to_the_check(ana)
    for number in range(1, 5):  # the urgent signs: no
        assert [c.label for c in ana.last.choices] == ["Yes", "No", "Not sure"], number
        await ana.presses("No")
    assert "fall, accident or other injury" in ana.last.text
    replies = await ana.says("I don't know")  # not sure, typed, on a practitioner question
    assert replies[0].text.startswith('To be on the safe side, I\'ve counted "not sure" as a '
                                      "possible yes.")
    assert "see a health practitioner" in replies[0].text
    user = coach.services.store.find_user(ana.key)
    assert user.state == "redflag:practitioner" and coach.services.store.stages(user.id) == {}


async def test_an_urgent_yes_is_confirmed_and_keeps_its_urgent_wording_when_asked_again(
        ana: Person, coach):
    await _to_the_check(ana)
    replies = await ana.presses("Yes")  # bladder or bowel control
    question = replies[-1]
    assert "You answered yes to" in question.text and "emergency department" in question.text
    assert [c.label for c in question.choices] == ["Yes, that's right", "No, I meant no"]
    assert coach.services.store.find_user(ana.key).screen_result is None  # no verdict yet
    replies = await ana.says("hmm what")
    assert replies[-1].text == question.text  # asked again, urgency and all
    replies = await ana.presses("Yes, that's right")
    assert replies[-1].text.startswith("Please stop here and get medical help today")
    user = coach.services.store.find_user(ana.key)
    assert (user.state, user.screen_result) == ("redflag:urgent", "urgent")


async def test_an_urgent_not_sure_is_confirmed_with_the_same_urgency(ana: Person, coach):
    await _to_the_check(ana)
    await ana.presses("No")
    replies = await ana.presses("Not sure")  # numbness around the saddle area
    assert "You're not sure about" in replies[-1].text
    assert "emergency department" in replies[-1].text
    replies = await ana.presses("Yes, that's right")
    assert "possible yes" in replies[-1].text and "emergency" in replies[-1].text
    assert coach.services.store.find_user(ana.key).state == "redflag:urgent"


async def test_oops_i_meant_no_goes_on_from_that_question_not_from_the_start(ana: Person, coach):
    await _to_the_check(ana)
    await ana.presses("Yes")  # a slip on question 1
    replies = await ana.says("oops I meant no")
    assert replies[0].text == "Thanks for putting that right: noted as no."
    assert "question 2 of 11" in replies[-1].text
    for _ in range(QUESTIONS - 1):
        replies = await ana.presses("No")
    assert "How much does your back hurt" in replies[-1].text
    user = coach.services.store.find_user(ana.key)
    assert user.screen_result == "clear"


async def test_a_slip_on_a_practitioner_question_is_asked_again_keeping_earlier_answers(
        ana: Person, coach):
    await _to_the_check(ana)
    for _ in range(4):
        await ana.presses("No")
    replies = await ana.presses("Yes")  # started after a fall: see a practitioner first
    assert "health practitioner" in replies[-1].text
    replies = await ana.says("sorry, I meant no")
    assert replies[0].text.startswith("No problem, let's fix that.")
    assert "question 5 of 11" in replies[-1].text and "fall" in replies[-1].text
    for _ in range(QUESTIONS - 4):
        replies = await ana.presses("No")
    assert "How much does your back hurt" in replies[-1].text


async def test_a_clinician_cleared_person_is_not_asked_lifelong_history_again(ana: Person, coach):
    await _to_the_check(ana)
    for _ in range(9):
        await ana.presses("No")
    replies = await ana.presses("Yes")  # "Have you ever had cancer?"
    assert "health practitioner" in replies[-1].text
    assert [c.label for c in replies[-1].choices] == ["A clinician has checked me",
                                                      "Re-take the check"]
    replies = await ana.presses("A clinician has checked me")
    assert replies[0].text.startswith("Thanks. I've noted today, ")
    user = coach.services.store.find_user(ana.key)
    assert user.cleared_at is not None and user.cleared_at.startswith(
        coach.services.clock.now().date().isoformat())
    asked = [replies[-1].text]
    for _ in range(10):
        asked.append((await ana.presses("No"))[-1].text)
    assert asked[0].startswith("Safety check since your clinician's go-ahead, question 1 of 10.")
    assert not any("cancer" in text for text in asked)  # lifelong history: not asked again
    trauma = next(text for text in asked if "fall" in text)
    assert "Since the clinician checked you, have you had a fall" in trauma  # a new injury
    assert "How much does your back hurt" in asked[-1]

    await ana.presses("3")
    await ana.presses("Reached it easily")
    await ana.says("07:30")
    await ana.says("Berlin")
    replies = await ana.says("rescreen")  # later checks skip it too
    assert "question 1 of 10" in replies[-1].text


async def test_a_new_symptom_after_clearance_still_stops_the_programme(ana: Person, coach):
    await _to_the_check(ana)
    for _ in range(4):
        await ana.presses("No")
    await ana.presses("Yes")  # a fall
    await ana.says("my doctor cleared me")
    for _ in range(5):
        replies = await ana.presses("No")
    assert "Since the clinician checked you, has pain, numbness or tingling down one leg" in \
        replies[-1].text
    replies = await ana.presses("Yes")
    assert "new or has changed since you were checked" in replies[-1].text
    assert coach.services.store.find_user(ana.key).state == "redflag:practitioner"
