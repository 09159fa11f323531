import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bot.bootstrap import build_app  # noqa: E402
from chat import Person, RecordingAdapter, TravelClock  # noqa: E402


@pytest.fixture
async def app(tmp_path):
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
