"""Where a time-scaled clock starts: never before the latest instant already stored.

`--time-scale 600` makes ten minutes pass in a second, so a quick tour stores workouts and pain
scores hours "ahead" of real time. A restart that started the scaled clock from real time again
would put all of that in the future: the chart would leave it out and ordering by time would lie.
So a scaled clock starts at max(real now, the latest instant the database records as having
happened). At scale 1 the clock is real time and nothing is read: reminders must fire at the
real 07:30.
"""
from __future__ import annotations

from datetime import datetime, timezone

import sqlite_utils

from bot.clock import Clock
from bot.data.store import Store

# Columns named like instants that hold a time still to come, not one that has happened.
PLANNED = frozenset({"due_at"})


def scaled_clock(scale: float, store: Store) -> Clock:
    """The coach's clock: real time at scale 1; otherwise scaled, from no earlier than the
    latest stored instant."""
    if scale == 1:
        return Clock(scale)
    now = datetime.now(timezone.utc)
    latest = latest_instant(store.db)
    return Clock(scale, start=max(now, latest) if latest is not None else now)


def latest_instant(db: sqlite_utils.Database) -> datetime | None:
    """The latest instant in any column that records something that happened (`at`, or a name
    ending in `_at`, except the PLANNED ones). Compared as instants, not as text: the store
    writes "+00:00" and the reminder tables "Z"."""
    latest: datetime | None = None
    for table, column in happened_columns(db):
        row = db.execute(
            f'select "{column}" from "{table}" where "{column}" is not null '
            f'and julianday("{column}") is not null '
            f'order by julianday("{column}") desc limit 1').fetchone()
        if row is None:
            continue
        instant = _parse(row[0])
        if instant is not None and (latest is None or instant > latest):
            latest = instant
    return latest


def happened_columns(db: sqlite_utils.Database) -> list[tuple[str, str]]:
    """(table, column) of every stored instant of something that happened, from the schema:
    a table a feature adds later is covered without a change here."""
    return [(table.name, column.name)
            for table in db.tables for column in table.columns
            if (column.name == "at" or column.name.endswith("_at"))
            and column.name not in PLANNED]


def _parse(text: str) -> datetime | None:
    """An aware UTC instant; a value without an offset is taken as UTC, as the store writes."""
    try:
        instant = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=timezone.utc)
    return instant.astimezone(timezone.utc)
