import asyncio
import sys
from pathlib import Path

import looptime
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bot.bootstrap import build_app  # noqa: E402
from chat import Person, RecordingAdapter, TravelClock  # noqa: E402

# Loop turns with nothing ready before virtual time jumps to the next deadline. looptime's 42
# leave room for sockets and subprocesses; virtual-time tests have none (threads, such as chart
# drawing, are waited for by looptime itself), and one turn makes a workout 3x faster.
NOOP_CYCLES = 1


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
