"""Stage pictures drawn once, kept on disk, and handed out without holding up the event loop.

Each stage's still (PNG) and animation (GIF) are drawn together and stored under a name made
from a hash of everything that shapes them (the stage's poses, props, words and the drawing
style), so a change in content/poses.toml or in the style draws them again, and stages that
look the same (e.g. the ten knees-down side plank stages) share one file. Drawing takes about
a tenth of a second per stage (bench/pictures.py), too long for the event loop: the async
methods draw in a worker thread, and `warm()` draws every stage in the background at start-up,
first stages first, so the first workout finds its pictures ready.
"""
from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
import logging
import os
import re
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from PIL import Image, ImageDraw

from bot.pictures.draw import SIZE, STYLE_VERSION, StageArtist, font, gif_bytes, png_bytes
from bot.pictures.model import PoseBook, StagePicture
from bot.pictures.motion import FRAMES

log = logging.getLogger(__name__)

CACHE_FOLDER = "backcoach-pictures"
KEY_LENGTH = 24
_CACHED_FILE = re.compile(rf"[0-9a-f]{{{KEY_LENGTH}}}\.(png|gif)")
OVERVIEW_FILE = "overview.png"
THUMBNAIL = (240, 160)
OVERVIEW_COLUMNS = 6
CAPTION_PX = 18


def cache_dir_beside(database: Path) -> Path:
    """The usual cache folder: next to the SQLite file, so one data folder holds everything."""
    return Path(database).resolve().parent / CACHE_FOLDER


@dataclass(frozen=True)
class StageFiles:
    """The two files of one stage, and the key they are cached under.

    The key changes whenever the picture would change, so a platform that uploads a file once
    and re-sends it by an id (Telegram's file_id) can keep key -> id.
    """

    key: str
    still: Path  # PNG, SIZE pixels
    animation: Path  # GIF, FRAMES frames, loops forever


class Pictures:
    """Pictures of every exercise stage: `Pictures(load_poses(...), cache_dir)`.

    still(exercise_id, stage_index) / animation(...) return the file's Path, drawing it first
    if needed (blocking: call from a worker thread, or use the async variants on the loop).
    ready(...) returns the Path only if already drawn and never blocks, for callers that would
    rather send the text now than wait. stage_index is a stored index and is clamped like
    `Exercise.stage_at`. Unknown exercise ids raise KeyError.
    """

    def __init__(self, poses: PoseBook, cache_dir: Path) -> None:
        self.poses = poses
        self.cache_dir = Path(cache_dir)
        self._locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()
        self._warm_executor: ThreadPoolExecutor | None = None
        self._warm_task: asyncio.Task[int] | None = None
        self._keys: dict[int, tuple[StagePicture, str]] = {}  # id(stage) -> (stage, its key)
        self._drawing: dict[str, asyncio.Task[StageFiles]] = {}  # key -> drawing asked by soon()
        self._read: dict[Path, bytes] = {}  # cached files already read, one copy each
        for stage in poses.all_stages():  # ~0.1 ms each: now, not on the loop mid-workout
            self._paths(stage)

    # ------------------------------------------------------------------ blocking

    def still(self, exercise_id: str, stage_index: int) -> Path:
        """The stage's still picture (PNG), drawn now if not cached."""
        return self.files(exercise_id, stage_index).still

    def animation(self, exercise_id: str, stage_index: int) -> Path:
        """The stage's animation (GIF), drawn now if not cached."""
        return self.files(exercise_id, stage_index).animation

    def files(self, exercise_id: str, stage_index: int) -> StageFiles:
        return self._ensure(self.poses.stage(exercise_id, stage_index))

    def files_named(self, exercise_id: str, stage_index: int) -> StageFiles:
        """The stage's file names and key, drawn or not; never draws, never blocks."""
        return self._paths(self.poses.stage(exercise_id, stage_index))

    def ready(self, exercise_id: str, stage_index: int) -> StageFiles | None:
        """The stage's files if they are already drawn, else None; never draws, never blocks."""
        files = self._paths(self.poses.stage(exercise_id, stage_index))
        return files if files.still.exists() and files.animation.exists() else None

    def soon(self, exercise_id: str, stage_index: int) -> StageFiles | None:
        """The stage's files if drawn; else None, and drawing starts in a worker thread (once
        per picture however often asked), so the next call finds them. For callers on the loop
        that send what is ready now rather than wait: a workout's exercise card."""
        files = self.ready(exercise_id, stage_index)
        if files is not None:
            return files
        stage = self.poses.stage(exercise_id, stage_index)
        key = self.key(stage)
        if key not in self._drawing:
            task = asyncio.get_running_loop().create_task(asyncio.to_thread(self._ensure, stage),
                                                          name=f"picture-{key}")
            self._drawing[key] = task
            task.add_done_callback(lambda done: self._drawn(key, done))
        return None

    def _drawn(self, key: str, task: asyncio.Task[StageFiles]) -> None:
        self._drawing.pop(key, None)
        if not task.cancelled() and task.exception() is not None:
            log.warning("pictures: could not draw %s (%s); the card goes without it",
                        key, task.exception())

    async def animation_by_key(self, key: str) -> bytes | None:
        """The animation cached under `key` (as a page asks for it), drawn first if need be;
        None for a key no stage has now: only pictures of the programme are ever served."""
        stage = next((known for known, known_key in self._keys.values() if known_key == key),
                     None)
        if stage is None:
            return None
        files = self._paths(stage)
        if not files.animation.exists():
            files = await asyncio.to_thread(self._ensure, stage)
        return self.data(files.animation)

    def data(self, path: Path) -> bytes:
        """A cached file's bytes, read once: every card that shows it shares one copy."""
        data = self._read.get(path)
        if data is None:
            data = self._read[path] = path.read_bytes()
        return data

    async def close(self) -> None:
        """Stop the warm-up and any drawing asked for by soon() (at shutdown). A stage being
        drawn in the warm-up's thread is finished first (at most a few tenths of a second), so
        no drawing outlives the coach and nothing is left half-written."""
        tasks = [task for task in (self._warm_task, *self._drawing.values())
                 if task is not None and not task.done()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._warm_executor is not None:
            await asyncio.to_thread(self._warm_executor.shutdown, wait=True)

    # ------------------------------------------------------------------ async

    async def still_async(self, exercise_id: str, stage_index: int) -> Path:
        return (await self.files_async(exercise_id, stage_index)).still

    async def animation_async(self, exercise_id: str, stage_index: int) -> Path:
        return (await self.files_async(exercise_id, stage_index)).animation

    async def files_async(self, exercise_id: str, stage_index: int) -> StageFiles:
        """Both files, drawn in a worker thread if needed; the loop keeps serving others."""
        stage = self.poses.stage(exercise_id, stage_index)
        files = self._paths(stage)
        if files.still.exists() and files.animation.exists():
            return files
        return await asyncio.to_thread(self._ensure, stage)

    def warm(self) -> asyncio.Task[int]:
        """Start drawing every stage in the background (call once, from the running loop).

        Every exercise's first stage goes first, since new people start there; then pictures
        of stages that no longer exist are removed. Returns the task; its result is how many
        stages it drew (0 when the cache was already complete). A folder that cannot be
        written is logged once and ends the warm-up; pictures are then drawn on first use.
        Cancelling the task stops it after the stage being drawn.
        """
        if self._warm_task is None:
            self._warm_executor = ThreadPoolExecutor(max_workers=1,
                                                     thread_name_prefix="pictures-warm")
            loop = asyncio.get_running_loop()
            self._warm_task = loop.create_task(self._warm(loop))
        return self._warm_task

    async def _warm(self, loop: asyncio.AbstractEventLoop) -> int:
        drawn = 0
        try:
            for stage in self._warm_order():
                if not self._cached(stage):
                    await loop.run_in_executor(self._warm_executor, self._ensure, stage)
                    drawn += 1
            await loop.run_in_executor(self._warm_executor, self.prune)
        except OSError as error:
            log.warning("pictures: cannot write to %s (%s); drawing on first use instead",
                        self.cache_dir, error)
        finally:
            assert self._warm_executor is not None
            self._warm_executor.shutdown(wait=False)
        return drawn

    def _warm_order(self) -> list[StagePicture]:
        firsts = [stages[0] for _, stages in self.poses.exercises]
        rest = [stage for _, stages in self.poses.exercises for stage in stages[1:]]
        return firsts + rest

    # ------------------------------------------------------------------ the cache

    def key(self, stage: StagePicture) -> str:
        """Hash of everything that shapes a stage's pictures, but not its ids."""
        described = dataclasses.asdict(stage)
        del described["exercise_id"], described["stage_id"]
        words = dict(self.poses.words) if stage.top_inset else {}
        payload = json.dumps({"stage": described, "words": words, "style": STYLE_VERSION,
                              "size": SIZE, "frames": FRAMES}, sort_keys=True)
        return hashlib.sha256(payload.encode()).hexdigest()[:KEY_LENGTH]

    def _paths(self, stage: StagePicture) -> StageFiles:
        known = self._keys.get(id(stage))
        if known is not None and known[0] is stage:
            key = known[1]
        else:  # hashing a stage takes ~0.1 ms: once per stage is enough
            key = self.key(stage)
            self._keys[id(stage)] = (stage, key)
        return StageFiles(key, self.cache_dir / f"{key}.png", self.cache_dir / f"{key}.gif")

    def _cached(self, stage: StagePicture) -> bool:
        files = self._paths(stage)
        return files.still.exists() and files.animation.exists()

    def _ensure(self, stage: StagePicture) -> StageFiles:
        """Draw a stage's files unless cached; one drawing per key even across threads."""
        files = self._paths(stage)
        with self._lock_for(files.still.stem):
            if files.still.exists() and files.animation.exists():
                return files
            artist = StageArtist(stage, self.poses.words)
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            _write_atomically(files.animation, gif_bytes(artist.animation()))
            _write_atomically(files.still, png_bytes(artist.still()))
        return files

    def prune(self) -> int:
        """Remove cached pictures of stages that changed or went away; returns how many."""
        current = {self._paths(stage).key for stage in self.poses.all_stages()}
        removed = 0
        if not self.cache_dir.is_dir():
            return 0
        for path in self.cache_dir.iterdir():
            if _CACHED_FILE.fullmatch(path.name) and path.stem not in current:
                path.unlink(missing_ok=True)
                removed += 1
        return removed

    def _lock_for(self, key: str) -> threading.Lock:
        with self._locks_guard:
            return self._locks.setdefault(key, threading.Lock())

    # ------------------------------------------------------------------ review

    def contact_sheet(self, out_dir: Path) -> Path:
        """Write every stage's PNG and GIF, named exercise-stage, plus one overview of all stills.

        For review by eye: `python bot.py pictures --out DIR` calls this. Returns the
        overview's path.
        """
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        entries = []
        for exercise_id, stages in self.poses.exercises:
            for index, stage in enumerate(stages):
                files = self._ensure(stage)
                name = f"{exercise_id}-{stage.stage_id}"
                for source, suffix in ((files.still, ".png"), (files.animation, ".gif")):
                    _write_atomically(out_dir / f"{name}{suffix}", source.read_bytes())
                entries.append((f"{exercise_id} {index + 1}: {stage.stage_id}", files.still))
        overview = out_dir / OVERVIEW_FILE
        overview_image(self.poses, entries).save(overview, format="PNG", optimize=True)
        return overview


def overview_image(poses: PoseBook, entries: Iterable[tuple[str, Path]]) -> Image.Image:
    """All stills as thumbnails in a grid, each exercise starting a new row, with a caption."""
    by_exercise: dict[str, list[tuple[str, Path]]] = {}
    for caption, path in entries:
        by_exercise.setdefault(caption.split(" ", 1)[0], []).append((caption, path))
    rows: list[list[tuple[str, Path]]] = []
    for exercise_id, _ in poses.exercises:
        items = by_exercise.get(exercise_id, [])
        rows += [items[i:i + OVERVIEW_COLUMNS] for i in range(0, len(items), OVERVIEW_COLUMNS)]
    cell_w, cell_h = THUMBNAIL[0], THUMBNAIL[1] + CAPTION_PX
    sheet = Image.new("RGB", (cell_w * OVERVIEW_COLUMNS, cell_h * len(rows)), "white")
    draw = ImageDraw.Draw(sheet)
    for row_number, row in enumerate(rows):
        for column, (caption, path) in enumerate(row):
            x, y = column * cell_w, row_number * cell_h
            with Image.open(path) as still:
                sheet.paste(still.convert("RGB").resize(THUMBNAIL, Image.Resampling.LANCZOS),
                            (x, y))
            draw.text((x + 4, y + THUMBNAIL[1] + 2), caption, font=font(False, 11),
                      fill=(55, 65, 81))
            draw.rectangle((x, y, x + cell_w - 1, y + cell_h - 1), outline=(229, 231, 235))
    return sheet


def _write_atomically(path: Path, data: bytes) -> None:
    """Readers see the old file or the whole new one, never half a picture."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=path.suffix)
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
