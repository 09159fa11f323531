import asyncio
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

import looptime
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bot.bootstrap import CONTENT_DIR, PICTURES_ENV, build_app  # noqa: E402
from bot.content import load_programme  # noqa: E402
from bot.pictures import Pictures, load_poses  # noqa: E402
from chat import Person, RecordingAdapter, TravelClock  # noqa: E402

# Loop turns with nothing ready before virtual time jumps to the next deadline. looptime's 42
# leave room for sockets and subprocesses; virtual-time tests have none (threads, such as chart
# drawing, are waited for by looptime itself), and one turn makes a workout 3x faster.
NOOP_CYCLES = 1


@pytest.fixture(scope="session")
def picture_folder(tmp_path_factory) -> Path:
    """One folder of exercise pictures for the whole run. Pictures are named by a hash of what
    they show, so every test's coach can share it and each stage is drawn at most once."""
    return tmp_path_factory.mktemp("pictures")


@pytest.fixture(autouse=True)
def pictures_drawn_once_per_run(picture_folder, monkeypatch):
    """Every coach a test builds (in this process or as `python bot.py`) uses the shared folder,
    unless the test chooses another; without it each test would draw every picture anew."""
    monkeypatch.setenv(PICTURES_ENV, str(picture_folder))


@pytest.fixture
def drawn_pictures(picture_folder) -> Path:
    """The shared folder with every stage drawn, so each exercise card carries its picture."""
    poses = load_poses(CONTENT_DIR, load_programme(CONTENT_DIR))
    pictures = Pictures(poses, picture_folder)
    for exercise_id, stages in poses.exercises:
        for index in range(len(stages)):
            pictures.files(exercise_id, index)
    return picture_folder


@dataclass
class HeldDrawing:
    """A coach whose pictures are not drawn until the test says so (`release`)."""

    app: object
    release: threading.Event


@pytest.fixture
async def held_drawing(tmp_path, monkeypatch):
    """Drawing held up on purpose, with an empty picture folder: every picture asked for is
    "being drawn" until `release.set()`, so a test can show the coach never waits for one."""
    from bot.pictures import library

    release = threading.Event()
    real_artist = library.StageArtist

    def held_artist(*args, **kwargs):
        release.wait(timeout=60)
        return real_artist(*args, **kwargs)

    monkeypatch.setattr(library, "StageArtist", held_artist)
    app = build_app(tmp_path / "coach.db", 1000.0, pictures_dir=tmp_path / "empty")
    try:
        yield HeldDrawing(app, release)
    finally:
        release.set()
        await app.coach.shutdown()
        app.coach.close()


@pytest.fixture
async def virtual_time():
    """The test's event loop on virtual time (looptime), from before its coach is built until
    after it is shut down: time moves only when every task waits, straight to the next
    deadline, so sleeps and timeouts end at once and in order however busy the machine is.
    A coach's Clock made meanwhile follows it (bot/clock.py). Not for tests with real sockets,
    subprocesses or APScheduler: their waits would time out at once in virtual time."""
    loop = asyncio.get_running_loop()
    loop.setup_looptime(noop_cycles=NOOP_CYCLES)
    with looptime.enabled(strict=True):
        yield loop


@pytest.fixture
async def app(tmp_path, virtual_time):
    """The built coach with its features, for tests that look inside one feature (on a
    scaled clock that `Person.next_day` can move a day ahead)."""
    app = build_app(tmp_path / "coach.db", 1000.0, clock=TravelClock(1000.0))
    yield app
    await app.coach.shutdown()
    app.coach.close()


@pytest.fixture
def coach(app):
    return app.coach


@pytest.fixture
def adapter(coach):
    return RecordingAdapter(coach)


@pytest.fixture
def ana(coach, adapter):
    return Person(coach, adapter, "ana", "Ana")
