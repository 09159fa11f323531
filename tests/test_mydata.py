"""The person's data in their hands: "export" sends all of it, "delete my data" erases all of it.

"All" is checked against the database itself, table by table, including tables that features
add later (reminders here), so these tests fail if a new table escapes export or erasure.
"""
from __future__ import annotations

import asyncio
import csv
import io
import json

import sqlite_utils

from bot.data.personal import owned_tables
from chat import Person

EXERCISES = {"hip_flexor_stretch", "hamstring_stretch", "side_plank", "dead_bug", "bird_dog",
             "squat", "hip_hinge"}


def add_a_later_feature(db: sqlite_utils.Database) -> None:
    """Tables a later feature might add: one naming the person, and one that doesn't but hangs
    off it by a foreign key (a diary with photos, say)."""
    db["diary"].create({"id": int, "user_id": int, "text": str}, pk="id",
                       foreign_keys=[("user_id", "users", "id")])
    db["diary_photos"].create({"id": int, "entry_id": int, "caption": str}, pk="id",
                              foreign_keys=[("entry_id", "diary", "id")])


def write_diary(db: sqlite_utils.Database, user_id: int) -> int:
    entry = db["diary"].insert({"user_id": user_id, "text": f"entry of {user_id}"}).last_pk
    db["diary_photos"].insert({"entry_id": entry, "caption": f"photo of {user_id}"})
    return entry


def rows_naming(db: sqlite_utils.Database, user_id: int) -> dict[str, int]:
    """How many rows name the person directly, in every table with a user_id column."""
    return {name: db.execute(f'select count(*) from "{name}" where user_id = ?',
                             [user_id]).fetchone()[0]
            for name in db.table_names() if "user_id" in db[name].columns_dict}


def user_id(coach, person: Person) -> int:
    return coach.services.store.find_user(person.key).id


# -- export --------------------------------------------------------------------------------------


async def test_export_sends_the_whole_record_and_nothing_about_anyone_else(coach, adapter,
                                                                          ana: Person):
    bob = Person(coach, adapter, "bob", "Bob")
    await ana.onboards(baseline=3)
    await bob.onboards(baseline=6)
    await ana.trains(pain=2)
    await bob.trains(pain=5)
    await ana.says("pain 4")
    db = coach.services.store.db
    add_a_later_feature(db)
    ana_id, bob_id = user_id(coach, ana), user_id(coach, bob)
    write_diary(db, ana_id)
    write_diary(db, bob_id)

    replies = await ana.says("export")

    reply = replies[0]
    assert reply.text.startswith("Here is everything I hold about you")
    as_json, as_csv = reply.files
    assert as_json.mime == "application/json" and as_json.name.endswith(".json")
    assert as_csv.mime == "text/csv" and as_csv.name.endswith(".csv")
    record = json.loads(as_json.data)

    # Every row about Ana, table by table, as the database holds them: a table added later
    # (the reminders' tables, the diary here) is in the export under its own name.
    in_db = rows_naming(db, ana_id)
    assert {"reminders", "diary"} <= set(in_db)
    assert in_db == {name: len(record.get(name, [])) for name in in_db}
    assert record["user"] == {"platform": "test", "id": "ana"}
    assert record["profile"]["baseline_pain"] == 3 and record["profile"]["name"] == "Ana"
    assert set(record["stages"]) == EXERCISES
    [workout] = record["workouts"]
    assert {e["exercise_id"] for e in workout["exercises"]} == EXERCISES
    assert [(p["score"], p["kind"]) for p in record["pain_reports"]] == [(3, "before"),
                                                                         (2, "after"),
                                                                         (4, "adhoc")]
    assert record["diary_photos"] == [{"id": 1, "entry_id": 1, "caption": f"photo of {ana_id}"}]

    # ...and nothing about Bob.
    assert all(w["user_id"] == ana_id for w in record["workouts"])
    assert all(r["user_id"] == ana_id for name in in_db if name not in ("stages", "workouts",
               "pain_reports", "stage_changes") for r in record[name])
    assert [r["user_id"] for r in record["diary"]] == [ana_id]
    text = as_json.data.decode()
    assert "Bob" not in text and '"bob"' not in text

    rows = list(csv.DictReader(io.StringIO(as_csv.data.decode())))
    assert [(r["score"], r["kind"]) for r in rows] == [("3", "before"), ("2", "after"),
                                                       ("4", "adhoc")]
    assert rows[1]["workout_id"] == str(workout["id"]) and rows[2]["workout_id"] == ""


async def test_export_works_at_any_step_even_mid_onboarding(ana: Person):
    await ana.says("/start")
    await ana.presses("Got it, let's go")
    replies = await ana.says("my data")
    record = json.loads(replies[0].files[0].data)
    assert record["profile"]["state"] == "screen:0"
    assert record["workouts"] == [] and record["pain_reports"] == []


# -- delete --------------------------------------------------------------------------------------


async def test_delete_asks_first_and_no_keeps_everything(ana: Person, coach):
    await ana.onboards()
    await ana.trains(pain=2)

    replies = await ana.says("delete my data")
    question = replies[-1]
    assert "can't be undone" in question.text and '"export"' in question.text
    assert [c.label for c in question.choices] == ["Yes, delete everything", "No, keep my data"]

    replies = await ana.presses("No, keep my data")
    assert replies[0].text == "Okay, nothing was deleted."
    assert replies[-1].text.startswith("What would you like to do?")

    # The old "Yes" has passed: pressing it now deletes nothing.
    replies = await ana.sends_payload(question.choices[0].action)
    assert replies[0].text.startswith("That question has passed")
    user = coach.services.store.find_user(ana.key)
    assert user.state == "ready"
    assert len(coach.services.store.workouts(user.id)) == 1


async def test_delete_erases_every_row_about_the_person_and_their_reminders(app, coach, adapter,
                                                                           ana: Person):
    bob = Person(coach, adapter, "bob", "Bob")
    await ana.onboards()
    await bob.onboards()
    await ana.trains(pain=2)
    await ana.next_day()
    await ana.trains(pain=2)  # stage changes (and their form checks) too
    await bob.trains(pain=3)
    db = coach.services.store.db
    add_a_later_feature(db)
    ana_id, bob_id = user_id(coach, ana), user_id(coach, bob)
    entry = write_diary(db, ana_id)
    write_diary(db, bob_id)
    ana_workouts = [w["id"] for w in coach.services.store.workouts(ana_id)]
    bob_before = rows_naming(db, bob_id)
    dropped = []

    async def reminder_service_forgets(key):
        dropped.append(key)

    app.mydata.on_delete.append(reminder_service_forgets)

    await ana.says("delete my data")
    replies = await ana.presses("Yes, delete everything")

    assert replies[-1].text.startswith("Done: everything I held about you is erased")
    assert set(rows_naming(db, ana_id).values()) == {0}
    assert db["users"].count_where("id = ?", [ana_id]) == 0
    assert db["workout_exercises"].count_where(
        f"workout_id in ({','.join('?' * len(ana_workouts))})", ana_workouts) == 0
    assert db["diary_photos"].count_where("entry_id = ?", [entry]) == 0
    assert list(db.execute("PRAGMA foreign_key_check")) == []
    # No reminder is left to fire (its rows are gone: see rows_naming above, which includes
    # the reminders tables), and the reminder service was told to drop its in-memory state.
    assert db["reminders"].count_where("user_id = ?", [ana_id]) == 0
    assert dropped == [ana.key]
    # Bob is untouched.
    assert rows_naming(db, bob_id) == bob_before
    # Delivery forgets Ana once the goodbye is out.
    await asyncio.sleep(0)
    assert ana.key not in coach.services.delivery._locks

    replies = await ana.says("hello")
    assert "I'm a back-care exercise coach" in replies[0].text
    assert coach.services.store.find_user(ana.key).state == "intro"


async def test_delete_during_a_workout_asks_to_stop_first_and_the_timer_keeps_its_controls(
        ana: Person, coach):
    await ana.onboards()
    await ana.starts_session()
    await ana.waits_for("Hold")
    replies = await ana.says("delete my data")
    assert "finish or stop this workout first" in replies[0].text
    assert (await ana.says("pause"))[0].text.startswith("Paused")  # the controls still work
    await ana.stops()
    await ana.says("3")
    await ana.says("delete my data")
    await ana.presses("Yes, delete everything")
    assert coach.services.store.find_user(ana.key) is None
    assert coach.services.store.db["workouts"].count == 0


async def test_keeping_the_data_mid_onboarding_returns_to_the_same_question(ana: Person):
    await ana.says("/start")
    await ana.presses("Got it, let's go")
    await ana.presses("No")
    await ana.says("forget me")
    replies = await ana.says("no")
    assert replies[0].text == "Okay, nothing was deleted."
    assert "question 2 of 11" in replies[-1].text


async def test_a_typed_yes_erases_too_and_anything_else_asks_again(ana: Person, coach):
    await ana.onboards()
    await ana.says("delete")
    replies = await ana.says("hmm, not sure")
    assert replies[0].text.startswith("Please pick one of the choices")
    assert [c.label for c in replies[-1].choices] == ["Yes, delete everything",
                                                     "No, keep my data"]
    replies = await ana.says("yes")
    assert "erased" in replies[-1].text
    assert coach.services.store.find_user(ana.key) is None
    # A press on the old question afterwards deletes nothing more: it has passed.
    replies = await ana.presses("Yes, delete everything")
    assert replies[0].text.startswith("That question has passed")
    assert "I'm a back-care exercise coach" in replies[-1].text


async def test_someone_stopped_by_the_safety_check_can_still_delete(ana: Person, coach):
    await ana.says("/start")
    await ana.presses("Got it, let's go")
    await ana.presses("Yes")  # a red flag
    await ana.says("delete my data")
    replies = await ana.presses("Yes, delete everything")
    assert "erased" in replies[-1].text
    assert coach.services.store.find_user(ana.key) is None


# -- finding the rows from the schema -----------------------------------------------------------


async def test_tables_about_people_are_found_from_the_schema(coach):
    db = coach.services.store.db
    add_a_later_feature(db)
    db["notes"].create({"id": int, "owner": int, "text": str}, pk="id",
                       foreign_keys=[("owner", "users", "id")])  # names the person otherwise
    db["exercise_tips"].create({"id": int, "text": str}, pk="id")  # about nobody
    found = {t.name: t.depth for t in owned_tables(db)}
    assert {name: found.get(name) for name in (
        "stages", "workouts", "pain_reports", "stage_changes", "diary", "notes",
        "workout_exercises", "diary_photos", "exercise_tips")} == {
        "stages": 1, "workouts": 1, "pain_reports": 1, "stage_changes": 1, "diary": 1,
        "notes": 1, "workout_exercises": 2, "diary_photos": 2, "exercise_tips": None}
    assert all(depth for depth in found.values())
