"""What the pictures keep: where they are cached, which stages each person has met (carried over
from the workouts people did before the pictures came), and the ids platforms gave the uploads."""
from __future__ import annotations

import sqlite3
from datetime import datetime, timezone
from pathlib import Path

import sqlite_utils

from bot.bootstrap import PICTURES_ENV, build_app, pictures_folder
from bot.data import store as store_module
from bot.data.platform_files import PlatformFiles
from bot.data.store import Store
from bot.events import UserKey

NOW = datetime(2026, 11, 30, 8, tzinfo=timezone.utc)


def test_pictures_are_cached_beside_the_database_unless_a_folder_is_chosen(tmp_path,
                                                                           monkeypatch):
    monkeypatch.delenv(PICTURES_ENV, raising=False)
    assert pictures_folder(tmp_path / "coach.db") == tmp_path / "backcoach-pictures"
    assert pictures_folder(tmp_path / "coach.db", tmp_path / "mine") == tmp_path / "mine"
    monkeypatch.setenv(PICTURES_ENV, str(tmp_path / "shared"))
    assert pictures_folder(tmp_path / "coach.db") == tmp_path / "shared"
    app = build_app(tmp_path / "coach.db", pictures_dir=tmp_path / "chosen")
    try:
        assert app.services.pictures.cache_dir == tmp_path / "chosen"
    finally:
        app.coach.close()


def test_stages_met_before_the_upgrade_count_as_met(tmp_path):
    """A database from before the pictures (schema 2): whoever did a stage then saw its full
    instructions on the old card, so they are not shown to them unasked again."""
    path = tmp_path / "old.db"
    db = sqlite_utils.Database(sqlite3.connect(path))
    for migration in store_module.MIGRATIONS[:2]:
        migration(db)
    db.execute("PRAGMA user_version=2")
    db["users"].insert({"id": 1, "platform": "console", "platform_id": "me", "state": "ready",
                        "created_at": NOW.isoformat()})
    db["workouts"].insert({"id": 1, "user_id": 1, "started_at": NOW.isoformat(),
                           "status": "done"})
    db["workout_exercises"].insert_all([
        {"workout_id": 1, "exercise_id": "squat", "stage_index": 0, "outcome": "done",
         "at": NOW.isoformat()},
        {"workout_id": 1, "exercise_id": "side_plank", "stage_index": 2, "outcome": "skipped",
         "at": NOW.isoformat()}])
    db.conn.commit()
    db.conn.close()

    store = Store(path)
    try:
        assert store.schema_version == len(store_module.MIGRATIONS)
        assert store.has_met_stage(1, "squat", 0) and store.has_met_stage(1, "side_plank", 2)
        assert not store.meet_stage(1, "squat", 0, NOW)
        assert store.meet_stage(1, "squat", 1, NOW)
        assert not store.meet_stage(1, "squat", 1, NOW)
    finally:
        store.close()


def test_the_stages_a_person_met_go_with_delete_my_data(tmp_path):
    store = Store(tmp_path / "coach.db")
    try:
        user = store.user(UserKey("console", "me"), NOW)
        store.meet_stage(user.id, "bird_dog", 0, NOW)
        assert store.export_user(user)["seen_stages"] == [
            {"user_id": user.id, "exercise_id": "bird_dog", "stage_index": 0,
             "first_at": NOW.isoformat()}]
        assert store.erase_user(user.id)["seen_stages"] == 1
        assert not store.has_met_stage(user.id, "bird_dog", 0)
    finally:
        store.close()


def test_file_ids_are_kept_per_platform_and_bot(tmp_path):
    store = Store(tmp_path / "coach.db")
    try:
        ours, other_bot = PlatformFiles(store, "telegram", "123"), PlatformFiles(store, "telegram",
                                                                              "456")
        assert ours.find("abc") is None
        ours.keep("abc", "FileIdOne")
        assert ours.find("abc") == "FileIdOne"
        assert other_bot.find("abc") is None, "a file_id belongs to the bot that uploaded it"
        ours.keep("abc", "FileIdTwo")  # uploaded again
        assert ours.find("abc") == "FileIdTwo"
        ours.forget("abc")
        assert ours.find("abc") is None
    finally:
        store.close()
