"""`python bot.py backup --db X --to Y`: a consistent copy of the database, safe while the coach
runs.

Copying the file with `cp` while the coach runs can catch a half-written page, and misses what
is still in the -wal file. SQLite's online backup API copies the database as one transaction
sees it, from the WAL too, while the coach goes on writing. The copy is one self-contained file
(no -wal beside it), created with mode 0600 because it holds the same health data, and never
written over an existing file. To restore: stop the coach, remove X-wal and X-shm if they are
there, copy Y over X (README, "Backups").
"""
from __future__ import annotations

import argparse
import contextlib
import os
import sqlite3
import sys
from dataclasses import dataclass
from pathlib import Path

from bot.data import dbfile
from bot.data.dbfile import PRIVATE, SIDE_FILES, DatabaseFileError


@dataclass(frozen=True)
class Copy:
    """What a backup made, for the one line the command prints."""

    path: Path
    size: int
    tables: int


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--to", required=True, type=Path,
                        help="the new file to write (must not exist yet; created mode 0600)")


def command(db: str | Path, to: Path) -> int:
    """The subcommand: one line on success, one line and exit code 2 when it cannot."""
    try:
        made = backup(db, to)
    except DatabaseFileError as exc:
        print(f"Cannot back up: {exc}", file=sys.stderr)
        return 2
    print(f"Backed up {db} to {made.path} ({made.size:,} bytes, {made.tables} tables).")
    return 0


def backup(db: str | Path, to: str | Path) -> Copy:
    """Copy the database at `db` to the new file `to`, consistently, while others may write."""
    source, target = Path(db), Path(to)
    if not dbfile.is_file_path(db) or not source.is_file():
        raise DatabaseFileError(f"there is no database at {source}: nothing to back up")
    dbfile.check(source, None)  # any schema can be copied; a text file cannot
    if os.path.realpath(source) == os.path.realpath(target):
        raise DatabaseFileError(f"--to {target} is the database itself: choose a new file name")
    _reserve(target)
    try:
        tables = _copy(source, target)
    except (sqlite3.Error, OSError) as exc:
        _remove(target)
        raise DatabaseFileError(f"the copy to {target} failed and was removed: {exc}") from None
    except BaseException:
        _remove(target)
        raise
    return Copy(target, target.stat().st_size, tables)


def _reserve(target: Path) -> None:
    """Create the empty target, private, failing if anything is already there."""
    try:
        os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE))
    except FileExistsError:
        raise DatabaseFileError(f"{target} already exists: a backup never writes over a file; "
                                "choose a new name or remove it first") from None
    except OSError as exc:
        raise DatabaseFileError(f"cannot create {target}: {exc.strerror}") from None


def _copy(source: Path, target: Path) -> int:
    """The online backup in one step (one read transaction: a consistent snapshot), then the
    copy made a single file and checked. The source is opened read-write but only read: a
    read-only connection would leave empty -wal/-shm files behind when no coach runs."""
    with contextlib.closing(sqlite3.connect(source, timeout=30)) as src, \
            contextlib.closing(sqlite3.connect(target)) as dst:
        src.execute("PRAGMA query_only=ON")
        src.backup(dst)  # pages=-1: all at once, so writers in between cannot restart it
        dst.execute("PRAGMA journal_mode=DELETE")  # everything in the one file
        verdict = dst.execute("PRAGMA quick_check").fetchone()[0]
        if verdict != "ok":
            raise sqlite3.DatabaseError(f"the copy does not check out: {verdict}")
        return dst.execute("select count(*) from sqlite_master where type = 'table'").fetchone()[0]


def _remove(target: Path) -> None:
    for name in (str(target), *(f"{target}{suffix}" for suffix in SIDE_FILES)):
        with contextlib.suppress(FileNotFoundError):
            os.remove(name)
