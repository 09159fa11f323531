"""Which exercise stages each person has met: the full instructions come unasked only the
first time, and stay one button away after that (bot/workout/card_picture.py).

Rows are about a person (`user_id`), so "export" and "delete my data" cover them by themselves
(bot/data/personal.py)."""
from __future__ import annotations

from datetime import datetime

from bot.data.store import Store


def first_meeting(store: Store, user_id: int, exercise_id: str, stage_index: int,
                  now: datetime) -> bool:
    """Note that the person meets this stage now; True only the first time they do."""
    cursor = store.db.conn.execute(
        "insert or ignore into seen_stages (user_id, exercise_id, stage_index, first_at) "
        "values (?, ?, ?, ?)", (user_id, exercise_id, stage_index, now.isoformat()))
    return cursor.rowcount == 1


def seen(store: Store, user_id: int) -> set[tuple[str, int]]:
    """(exercise id, stage index) of every stage the person has met."""
    rows = store.db.conn.execute(
        "select exercise_id, stage_index from seen_stages where user_id = ?", (user_id,))
    return {(exercise_id, stage_index) for exercise_id, stage_index in rows}
