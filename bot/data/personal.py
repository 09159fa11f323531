"""Which rows in the database are about one person, found from the schema itself.

Export and erasure must stay complete as features add tables (reminders, settings, ...), so
nothing here lists tables by name. A table is about a person when it has a `user_id` column or a
foreign key to `users`, or (transitively) a foreign key to rows that are about them, like
`workout_exercises` -> `workouts`. A new table is covered the moment it is created.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlite_utils

USERS = "users"
USER_COLUMN = "user_id"
_MAX_DEPTH = 6  # chains of foreign keys deeper than this would be a schema smell, not data


@dataclass(frozen=True)
class OwnedTable:
    """A table holding rows about people: `where` selects one person's rows (param :uid).

    `depth` is how many foreign-key hops the table is from `users` (1 = it names the person
    directly); erasing deepest first means every child is found while its parents still exist.
    """

    name: str
    where: str
    depth: int


def owned_tables(db: sqlite_utils.Database) -> list[OwnedTable]:
    """Every table with rows about a person, nearest to `users` first, in a stable order."""
    names = sorted(t for t in db.table_names() if t != USERS and not t.startswith("sqlite_"))
    tables = {name: db[name] for name in names}
    found: dict[str, OwnedTable] = {}
    for name, table in tables.items():
        conditions = []
        if USER_COLUMN in table.columns_dict:
            conditions.append(f"{_q(USER_COLUMN)} = :uid")
        for fk in table.foreign_keys:
            if fk.other_table == USERS and fk.column != USER_COLUMN:
                conditions.append(f"{_q(fk.column)} in (select {_q(fk.other_column)} "
                                  f"from {_q(USERS)} where id = :uid)")
        if conditions:
            found[name] = OwnedTable(name, " or ".join(conditions), 1)
    for depth in range(2, _MAX_DEPTH + 1):
        parents = {n: t for n, t in found.items() if t.depth == depth - 1}
        if not parents:
            break
        for name, table in tables.items():
            if name in found:
                continue
            conditions = [
                f"{_q(fk.column)} in (select {_q(fk.other_column)} from {_q(fk.other_table)} "
                f"where {parents[fk.other_table].where})"
                for fk in table.foreign_keys if fk.other_table in parents
            ]
            if conditions:
                found[name] = OwnedTable(name, " or ".join(conditions), depth)
    return sorted(found.values(), key=lambda t: (t.depth, t.name))


def rows_about(db: sqlite_utils.Database, user_id: int) -> dict[str, list[dict[str, Any]]]:
    """One person's rows in every owned table (the `users` row included), table by table."""
    result = {USERS: list(db[USERS].rows_where("id = ?", [user_id]))}
    for table in owned_tables(db):
        result[table.name] = list(db[table.name].rows_where(
            table.where, {"uid": user_id}))
    return result


def erase(db: sqlite_utils.Database, user_id: int) -> dict[str, int]:
    """Delete every row about the person, then their `users` row, in one transaction.

    Returns how many rows went from each table. Children go before their parents, and foreign
    keys are checked at commit, so the order of unrelated tables cannot make it fail halfway.
    """
    deleted: dict[str, int] = {}
    with db.atomic():  # its own transaction, or a savepoint inside the turn's
        db.execute("PRAGMA defer_foreign_keys = ON")  # reset by SQLite at commit
        for table in sorted(owned_tables(db), key=lambda t: (-t.depth, t.name)):
            cursor = db.execute(f"delete from {_q(table.name)} where {table.where}",
                                {"uid": user_id})
            deleted[table.name] = cursor.rowcount
        deleted[USERS] = db.execute(f"delete from {_q(USERS)} where id = ?", [user_id]).rowcount
    return deleted


def _q(identifier: str) -> str:
    """Quote a table or column name taken from the schema."""
    return '"' + identifier.replace('"', '""') + '"'
