import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from chat import Person, RecordingAdapter, make_coach  # noqa: E402


@pytest.fixture
async def coach(tmp_path):
    coach = make_coach(tmp_path)
    yield coach
    await coach.shutdown()
    coach.s.store.close()


@pytest.fixture
def adapter(coach):
    return RecordingAdapter(coach)


@pytest.fixture
def ana(coach, adapter):
    return Person(coach, adapter, "ana", "Ana")
