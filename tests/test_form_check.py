"""Form before load: when the pain rule says an exercise may move up, the coach first asks the
stage's form question, and only "Yes, every rep" moves it up. Stages with a weight are asked
after every workout. What was decided is kept with its reason: the pain and the answer."""
from __future__ import annotations

from chat import FORM_YES, Person, paragraphs

EXERCISES = ["hip_flexor_stretch", "hamstring_stretch", "side_plank", "dead_bug", "bird_dog",
             "squat", "hip_hinge"]


async def _due_to_move_up(ana: Person) -> list:
    """Two comfortable days: every exercise is due to move up; returns the replies to the
    second day's pain answer (the first form question last)."""
    await ana.onboards(baseline=3)
    await ana.trains(pain=2)
    await ana.next_day()
    await ana.trains()
    return await ana.says("2")


async def _answer(ana: Person, by_name: dict[str, str]) -> list:
    """Answer the form questions one by one: by exercise name, else "Yes, every rep"."""
    replies = []
    while ana.last.choices and ana.last.choices[0].label == FORM_YES:
        asking = ana.last.text.rsplit("\n", 1)[-1]
        label = next((answer for name, answer in by_name.items() if f"· {name} (" in asking),
                     FORM_YES)
        replies += await ana.presses(label)
    return replies


async def test_a_step_up_is_asked_with_the_form_question_and_refused_on_not_yet(ana: Person,
                                                                                coach):
    replies = await _due_to_move_up(ana)
    first = replies[-1]
    assert paragraphs([first])[1].startswith("Before anything moves up, a quick check on your form today: "
                                 "7 exercises, one answer each.")
    hip_flexor = coach.services.programme.exercise("hip_flexor_stretch").stages[0]
    assert hip_flexor.form.question in first.text
    assert [c.label for c in first.choices] == ["Yes, every rep", "Mostly", "Not yet"]
    user = coach.services.store.find_user(ana.key)
    assert user.state == "form_check" and set(coach.services.store.stages(user.id).values()) == {0}

    replies = await _answer(ana, {name: "Not yet" for name in (
        "Half-kneeling hip flexor stretch", "Hamstring stretch", "Side plank", "Dead bug march",
        "Bird dog", "Squat", "Hip hinge")})
    side_plank = coach.services.programme.exercise("side_plank").stages[0]
    assert any(f"To work on: {side_plank.form.work_on}" in r.text for r in replies)
    assert any(text.startswith("Nothing moves up today: good form comes first.") for text in paragraphs(replies))
    assert set(coach.services.store.stages(user.id).values()) == {0}  # every stage kept
    changes = coach.services.store.stage_changes(user.id)
    assert [(c.reason, c.from_index, c.to_index) for c in changes] == [("form_kept", 0, 0)] * 7
    assert changes[2].detail["scores"] == [2, 2] and changes[2].detail["form"] == "not_yet"
    replies = await ana.says("why side plank")
    assert replies[0].text.split("\n")[0].endswith(
        ': pain 2, 2 was low enough to move up, but you answered "Not yet" to the form check.')


async def test_only_yes_every_rep_moves_up_and_the_result_is_one_headline_and_a_list(
        ana: Person, coach):
    await _due_to_move_up(ana)
    replies = await _answer(ana, {"Squat": "Mostly", "Hip hinge": "Not yet"})
    [result] = [text for text in paragraphs(replies) if text.startswith("Your form check")]
    assert result.split("\n") == [
        "Your form check: 5 exercises up a stage, 2 exercises staying where they are for now:",
        '• Half-kneeling hip flexor stretch: up to "Kneeling, 45 s each side"',
        '• Hamstring stretch: up to "Standing, 30 s each leg"',
        '• Side plank: up to "Knees down, 20 s holds"',
        '• Dead bug march: up to "Straight-leg hover, 2 min"',
        '• Bird dog: up to "With a foam roller on your back"',
        '• Squat stays at "Bodyweight, 2 sets of 10" (Mostly)',
        '• Hip hinge stays at "With a broomstick, 2 sets of 10" (Not yet)']
    user = coach.services.store.find_user(ana.key)
    stages = coach.services.store.stages(user.id)
    assert stages == {**{e: 1 for e in EXERCISES[:5]}, "squat": 0, "hip_hinge": 0}
    up = next(c for c in coach.services.store.stage_changes(user.id)
              if c.exercise_id == "side_plank")
    assert (up.reason, up.detail["scores"], up.detail["form"]) == ("up", [2, 2], "yes")
    assert replies[-1].choices[0].label == "Start session"  # the menu, once it is all settled
    replies = await ana.says("why side plank")
    assert ("pain 2, 2 after sessions on 2 separate days, no higher than before each one, and "
            "you said your form held in every rep") in replies[0].text


async def test_a_stage_with_a_weight_is_checked_after_every_workout(ana: Person, coach):
    await ana.onboards(baseline=3)
    user = coach.services.store.find_user(ana.key)
    squat = coach.services.programme.exercise("squat")
    assert squat.stages[1].loaded and not squat.stages[0].loaded
    coach.services.store.change_stage(user.id, "squat", 0, 1, "up", {}, coach.clock.now(), None)
    replies = await ana.trains(pain=4, form="Not yet")  # pain 4: nothing is due to move up
    asked = [text for text in paragraphs(replies)
             if text.startswith("You trained Squat with a weight today")]
    assert asked and squat.stages[1].form.question in asked[0]
    assert any(r.text.startswith(f'Squat stays at "{squat.stages[1].name}" for now')
               and squat.stages[1].form.work_on in r.text for r in replies)
    assert coach.services.store.stages(user.id)["squat"] == 1
    replies = await ana.trains(pain=4)
    assert any(r.text == "Good: Squat keeps its form under load." for r in replies)


async def test_form_answers_can_be_typed_and_an_old_button_is_stale(ana: Person, coach):
    await _due_to_move_up(ana)
    first_yes = ana.last.choices[0].action
    replies = await ana.says("yes")  # hip flexor: yes
    assert replies[-1].text.startswith("2 of 7 · Hamstring stretch")
    replies = await ana.sends_payload(first_yes)  # the first question's button, pressed again
    assert replies[0].text.startswith("That question has passed")
    assert replies[-1].text.startswith("2 of 7 · Hamstring stretch")
    replies = await ana.says("start session")
    assert replies[0].text == "Let's finish the form check first: it decides what moves up."
    replies = await ana.says("mostly")
    assert replies[-1].text.startswith('Hamstring stretch stays at "Lying with a belt')
    replies = await ana.says("not yet")
    assert replies[-1].text.startswith('Side plank stays at "Knees down, 10 s holds"')
    replies = await ana.says("banana")
    assert replies[0].text.startswith("Please pick one:")
    user = coach.services.store.find_user(ana.key)
    assert coach.services.store.stages(user.id)["hip_flexor_stretch"] == 0  # decided at the end
    await _answer(ana, {})
    stages = coach.services.store.stages(user.id)
    assert (stages["hip_flexor_stretch"], stages["hamstring_stretch"], stages["side_plank"]) == \
        (1, 0, 0)
