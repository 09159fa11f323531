import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bot.bootstrap import CONTENT_DIR, PICTURES_ENV, build_app  # noqa: E402
from bot.content import load_programme  # noqa: E402
from bot.pictures import Pictures, load_poses  # noqa: E402
from chat import Person, RecordingAdapter  # noqa: E402


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


@pytest.fixture
async def app(tmp_path):
    """The built coach with its features, for tests that look inside one feature."""
    app = build_app(tmp_path / "coach.db", 1000.0)
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
