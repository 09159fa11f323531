"""The database as a file on disk: created private, checked before SQLite writes to it, and held
by one coach at a time.

It holds health data, so a new file is created with mode 0600; SQLite gives its -wal and -shm
files the database's own mode, and `make_private` tightens them when an older version left them
readable by others. A file that is not a SQLite database, or was written by a newer version of
the coach, is refused before anything is written to it, so the refusal leaves it byte-identical.

One coach per database: the coach holds an exclusive `flock` on `<db>.lock` for as long as it
runs. The kernel drops the lock when the process ends, however it ends (a SIGKILL included), so
a lock left behind by a killed coach is simply taken by the next one; the file's content (pid,
host, since when) only explains a refusal, it never decides one. Commands that only read
(export, stats, backup) take no lock: SQLite's WAL lets them read while the coach writes.
"""
from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import socket
import sqlite3
import stat
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

PRIVATE = 0o600
SIDE_FILES = ("-wal", "-shm", "-journal")  # what SQLite writes beside the database
LOCK_SUFFIX = ".lock"
SQLITE_MAGIC = b"SQLite format 3\x00"
HEADER_SIZE = 100  # SQLite's file header; the user_version is the 4 bytes at offset 60
USER_VERSION_OFFSET = 60

log = logging.getLogger(__name__)


class DatabaseFileError(Exception):
    """The file cannot be used as it is; the message names it and says what to do."""


class DatabaseInUse(DatabaseFileError):
    """Another coach holds the database."""


class StorageLost(Exception):
    """The database file the coach writes to was deleted or replaced while it ran: whatever
    it writes now is lost, so it must stop (and say so) rather than carry on."""


def is_file_path(path: str | Path) -> bool:
    """False for SQLite's in-memory database and URIs, which have no file of ours to guard."""
    text = str(path)
    return text != ":memory:" and text != "" and not text.startswith("file:")


# -- before SQLite opens it ---------------------------------------------------------------------

def prepare(path: str | Path, newest_version: int) -> None:
    """Make a missing database file private; refuse one this code must not write to."""
    if not is_file_path(path):
        return
    file = Path(path)
    if not file.exists():
        _create_private(file)
        return
    check(file, newest_version)


def check(path: str | Path, newest_version: int | None) -> None:
    """Raise DatabaseFileError when the file is not a SQLite database or its schema is newer
    than `newest_version` (None: any schema will do, as for a copy). Reads only: no byte of the
    file, nor any file beside it, changes."""
    file = Path(path)
    if file.is_dir():
        raise DatabaseFileError(f"{file} is a directory, not a database file: point --db at a "
                                "file inside it, e.g. --db " + str(file / "backcoach.db"))
    try:
        with open(file, "rb") as stream:
            header = stream.read(HEADER_SIZE)
    except FileNotFoundError:
        return  # SQLite will create it
    except OSError as exc:
        raise DatabaseFileError(f"cannot read {file}: {exc.strerror}; check its permissions "
                                "or point --db at another file") from None
    if not header:
        return  # an empty file is an empty database to SQLite
    if len(header) < HEADER_SIZE or not header.startswith(SQLITE_MAGIC):
        raise DatabaseFileError(f"{file} is not a SQLite database (it was left unchanged): "
                                "point --db at the coach's database, or at a new file name "
                                "to start afresh")
    if newest_version is None:
        return
    version = schema_version(file, header)
    if version > newest_version:
        raise newer_schema(file, version, newest_version)


def newer_schema(file: str | Path, version: int, newest_version: int) -> DatabaseFileError:
    """The refusal of a file whose schema this code does not know: writing would damage it."""
    return DatabaseFileError(f"{file} was written by a newer version of the coach (schema "
                             f"{version}, this one knows up to {newest_version}; the file was "
                             "left unchanged): run the newer coach, or restore a backup made "
                             "with this version")


def schema_version(file: Path, header: bytes) -> int:
    """PRAGMA user_version as the file says it: from the WAL when one holds newer pages (a
    running or crashed coach), else straight from the header without opening SQLite at all."""
    wal = Path(f"{file}-wal")
    if wal.exists() and wal.stat().st_size > 0:
        try:
            with contextlib.closing(sqlite3.connect(f"{file.resolve().as_uri()}?mode=ro",
                                                    uri=True)) as conn:
                return int(conn.execute("PRAGMA user_version").fetchone()[0])
        except sqlite3.Error as exc:
            raise DatabaseFileError(f"cannot read {file}: {exc}; point --db at another file, or "
                                    "restore a backup") from None
    return struct.unpack_from(">i", header, USER_VERSION_OFFSET)[0]


def _create_private(file: Path) -> None:
    """An empty file with mode 0600, which SQLite then fills (and copies to -wal and -shm)."""
    try:
        os.close(os.open(file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE))
    except FileExistsError:
        pass  # someone made it just now: it is checked when SQLite opens it
    except OSError as exc:
        raise DatabaseFileError(f"cannot create {file}: {exc.strerror}; check that its folder "
                                "exists and is writable, or point --db elsewhere") from None


# -- after SQLite opened it ---------------------------------------------------------------------

def make_private(path: str | Path) -> None:
    """Tighten the database and its side files to 0600 where an older version (or a copy)
    left them readable by others; a file we may not chmod is reported, not fatal."""
    if not is_file_path(path):
        return
    for name in (str(path), *(f"{path}{suffix}" for suffix in SIDE_FILES)):
        with contextlib.suppress(FileNotFoundError):
            mode = stat.S_IMODE(os.stat(name).st_mode)
            if mode & 0o077:
                try:
                    os.chmod(name, mode & ~0o077)
                    log.warning("%s was readable by other users; it holds health data, so it "
                                "is now private (mode %o)", name, mode & ~0o077)
                except OSError as exc:
                    log.warning("%s is readable by other users and cannot be made private "
                                "(%s): chmod 600 it", name, exc.strerror)


# -- while the coach runs -------------------------------------------------------------------------

@dataclass(frozen=True)
class FileIdentity:
    """Which file the open database is: its device and inode. SQLite keeps writing to the file
    it opened even after someone deletes it or puts another file at its path (a restore gone
    wrong, a cleanup script), so everything written after that would silently be lost."""

    path: str
    device: int
    inode: int

    @classmethod
    def of(cls, path: str | Path) -> FileIdentity | None:
        """The identity of the file at `path` now (just opened); None without a file."""
        if not is_file_path(path):
            return None
        found = os.stat(path)
        return cls(str(path), found.st_dev, found.st_ino)

    def check(self) -> None:
        """Raise StorageLost when the path no longer leads to the file that was opened."""
        try:
            found = os.stat(self.path)
        except FileNotFoundError:
            raise StorageLost(f"the database file {self.path} was deleted while the coach "
                              "ran; nothing written after that is kept. Restore it from a "
                              "backup (README: Backups) and start the coach again") from None
        except OSError as exc:
            raise StorageLost(f"the database file {self.path} cannot be reached "
                              f"({exc.strerror}); check its disk and folder, then start the "
                              "coach again") from None
        if (found.st_dev, found.st_ino) != (self.device, self.inode):
            raise StorageLost(f"the database file {self.path} was replaced by another file "
                              "while the coach ran; to restore a backup, stop the coach first "
                              "(README: Backups), then start it again")


# -- one coach per database ---------------------------------------------------------------------

@dataclass(frozen=True)
class Holder:
    """Who holds a database: shown to a second coach that is refused."""

    pid: int
    host: str
    since: str  # local time with its offset, as the holder wrote it

    def describe(self) -> str:
        return f"pid {self.pid} on {self.host}, running since {self.since}"

    def encode(self) -> bytes:
        return (json.dumps({"pid": self.pid, "host": self.host, "since": self.since}) + "\n"
                ).encode()

    @classmethod
    def decode(cls, data: bytes) -> Holder | None:
        """None for an empty file (released cleanly) or one half-written at this instant."""
        try:
            fields = json.loads(data.decode())
            return cls(int(fields["pid"]), str(fields["host"]), str(fields["since"]))
        except (ValueError, KeyError, TypeError, AttributeError):
            return None

    @classmethod
    def me(cls) -> Holder:
        return cls(os.getpid(), socket.gethostname(),
                   datetime.now().astimezone().isoformat(timespec="seconds"))


def lock_path(db: str | Path) -> Path:
    """`<db>.lock` beside the real file: two spellings of one database share one lock."""
    return Path(os.path.realpath(db) + LOCK_SUFFIX)


class CoachLock:
    """An exclusive flock on `<db>.lock` for as long as the coach runs."""

    def __init__(self, db: str | Path) -> None:
        self.db = str(db)
        self.path = lock_path(db)
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock or raise DatabaseInUse naming who has it; never waits."""
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, PRIVATE)
        except OSError as exc:
            raise DatabaseFileError(f"cannot create the lock file {self.path}: {exc.strerror}; "
                                    "check that the folder exists and is writable") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = Holder.decode(os.pread(fd, 4096, 0))
            os.close(fd)
            who = holder.describe() if holder else "a process that is starting up right now"
            raise DatabaseInUse(
                f"{self.db} is in use by another coach ({who}): one coach per database. Stop "
                f"that one first, or give this one its own --db (export, stats and backup work "
                "while it runs)") from None
        previous = Holder.decode(os.pread(fd, 4096, 0))
        if previous is not None:  # a clean release empties the file: this one was killed
            log.warning("%s: the previous coach (%s) ended without releasing it; its lock is "
                        "free, taking over", self.db, previous.describe())
        os.ftruncate(fd, 0)
        os.pwrite(fd, Holder.me().encode(), 0)
        self._fd = fd

    def release(self) -> None:
        """Empty the file (a clean end) and drop the lock. The file stays: removing it would let
        a coach that opened it a moment ago lock a file no one else can see."""
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
        os.close(fd)  # closing drops the flock

    def holder(self) -> Holder | None:
        """Who is written in the lock file now (for tests and messages)."""
        try:
            return Holder.decode(self.path.read_bytes())
        except OSError:
            return None


@contextlib.contextmanager
def one_coach(db: str | Path, newest_version: int) -> Iterator[CoachLock | None]:
    """For a command that runs the coach: refuse an unusable file before touching anything,
    then hold the database for as long as the block runs."""
    if not is_file_path(db):
        yield None
        return
    check(db, newest_version)
    lock = CoachLock(db)
    lock.acquire()
    try:
        yield lock
    finally:
        lock.release()
