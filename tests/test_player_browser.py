"""The player in a real browser: headless Chromium runs workouts against the real web server.

The coach side is `FakeCoach` (real content, real plan builder, workouts in memory). Nothing here
waits for wall-clock time to pass: whole workouts run at a large time scale and the test waits
for what the page does (its cue events, the reports reaching the coach); the controls are tried
on Playwright's virtual clock, which moves only when the test says so.
"""
from __future__ import annotations

import io
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import quote

import pytest
from PIL import Image
from player_world import ANA, BOB, BOT_TOKEN, DANA, SECRET, FakeCoach, launch_data, token_for

from bot.player.web import PlayerConfig, make_app, start_player

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="the player's browser tests need Debian's Chromium at /usr/bin/chromium "
           "(apt-get install chromium; .ci/run installs it when run as root)")
async_api = pytest.importorskip("playwright.async_api",
                                reason="the player's browser tests need playwright (pip install "
                                       "-e '.[test]')")

PHONE = {"width": 390, "height": 844}
START = datetime(2025, 3, 3, 7, 30, tzinfo=timezone.utc)
# Recorded on every page before its own script runs: what it says, shows and reports.
RECORDER = """
window.__spoken = [];
window.__cues = [];
window.__reports = [];
window.__beeps = [];
const realSpeak = window.speechSynthesis.speak.bind(window.speechSynthesis);
window.speechSynthesis.speak = (utterance) => {
  window.__spoken.push({ text: utterance.text, lang: utterance.lang });
  realSpeak(utterance);
};
document.addEventListener("player:cue", (event) => window.__cues.push(event.detail));
document.addEventListener("player:report", (event) => window.__reports.push(event.detail));
document.addEventListener("player:beep", (event) => window.__beeps.push(event.detail.seconds));
window.__vibrations = 0;
navigator.vibrate = () => { window.__vibrations += 1; return true; };
window.__wakeLocks = 0;
if (navigator.wakeLock) {
  const realRequest = navigator.wakeLock.request.bind(navigator.wakeLock);
  navigator.wakeLock.request = (type) => { window.__wakeLocks += 1; return realRequest(type); };
}
"""


@pytest.fixture
def coach() -> FakeCoach:
    return FakeCoach()


@pytest.fixture
async def server(coach: FakeCoach):
    server = await start_player(make_app(coach, coach.texts, PlayerConfig(SECRET, BOT_TOKEN)))
    yield server
    await server.close()


@pytest.fixture
async def browser():
    async with async_api.async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM),
                                                   args=["--no-sandbox"])
        yield browser
        await browser.close()


@pytest.fixture
async def phone(browser):
    """One phone: pages opened in it share its storage, as tabs of one browser do."""
    context = await browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    yield context
    await context.close()


class Player:
    """One open page of the player, with every console error it logs."""

    def __init__(self, page) -> None:
        self.page = page
        self.errors: list[str] = []
        page.on("console", lambda message: self._console(message))
        page.on("pageerror", lambda error: self.errors.append(f"page error: {error}"))

    def _console(self, message) -> None:
        if message.type == "error":
            self.errors.append(message.text)

    async def cues(self) -> list[str]:
        return [cue["text"] for cue in await self.page.evaluate("window.__cues")]

    async def spoken(self) -> list[dict[str, str]]:
        return await self.page.evaluate("window.__spoken")

    async def text(self, element_id: str) -> str:
        return await self.page.locator(f"#{element_id}").inner_text()

    async def tap(self, element_id: str) -> None:
        await self.page.locator(f"#{element_id}").click()

    async def wait_for_cue(self, count: int) -> None:
        await self.page.wait_for_function(f"window.__cues.length >= {count}")

    async def do_sets_until_the_end(self) -> None:
        """Tap "Done" whenever a set at one's own pace waits for it, until the workout ends."""
        waiting = self.page.locator("#done:visible, #end:visible").first
        while True:
            await waiting.wait_for()
            if await self.page.locator("#end").is_visible():
                return
            await self.tap("done")


async def open_player(phone, url: str, fragment: str, virtual_clock: bool = False) -> Player:
    page = await phone.new_page()
    await page.add_init_script(RECORDER)
    if virtual_clock:
        await page.clock.install(time=START)
    player = Player(page)
    await page.goto(f"{url}#{fragment}")
    await page.locator("#pain:visible, #welcome:visible, #message:visible, #end:visible"
                       ).first.wait_for()
    return player


def telegram_fragment(user_id: int, **kwargs) -> str:
    """What Telegram puts after the # when it opens a Mini App."""
    return f"tgWebAppData={quote(launch_data(user_id, **kwargs))}&tgWebAppVersion=8.0" \
           "&tgWebAppPlatform=android"


async def expected_cues(coach: FakeCoach, person, first: int = 0) -> list[str]:
    plan = await coach.plan_for(person)
    return [phase.cue for exercise in plan.exercises[first:] for phase in exercise.phases]


async def test_ana_does_a_whole_workout_in_the_telegram_player(coach, server, phone) -> None:
    coach.time_scale = 200.0
    workout_id = coach.open_workout(ANA)
    cues = await expected_cues(coach, ANA) + [coach.texts("player.finished")]
    player = await open_player(phone, server.url, telegram_fragment(1001))
    assert await player.text("intro") == "Today's session: 7 exercises, about 13 minutes. " \
                                         "Find a bit of floor space. Let's begin!"
    await player.tap("start")
    await player.do_sets_until_the_end()
    await coach.wait_until(lambda: coach.endings)

    assert await player.cues() == cues
    spoken = await player.spoken()
    assert [utterance["text"] for utterance in spoken] == cues
    assert {utterance["lang"] for utterance in spoken} == {"en-GB"}
    assert coach.outcomes(ANA) == [(index, "done") for index in range(7)]
    assert coach.endings == [(ANA, workout_id, "done")]
    assert await player.text("end-text") == coach.texts("player.finished")
    assert await player.page.evaluate("window.__vibrations") > 0
    assert await player.page.evaluate("window.__wakeLocks") == 1
    assert player.errors == []


async def test_voice_beeps_vibration_and_screen_can_each_be_switched_off(coach, server,
                                                                          phone) -> None:
    coach.time_scale = 50.0
    coach.open_workout(ANA, ["hip_flexor_stretch", "side_plank"])
    cues = await expected_cues(coach, ANA) + [coach.texts("player.finished")]
    player = await open_player(phone, server.url, telegram_fragment(1001))
    labels = [await player.text(f"{name}-label") for name in ("voice", "beeps", "vibration",
                                                              "screen")]
    assert labels == ["Voice", "Beeps", "Vibration", "Keep screen on"]
    for name in ("voice", "beeps", "vibration", "screen"):
        await player.page.locator(f"#{name}").uncheck()
    await player.tap("start")
    await player.do_sets_until_the_end()

    assert await player.cues() == cues  # still shown, in order
    recorded = await player.page.evaluate(
        "[window.__spoken, window.__beeps, window.__vibrations, window.__wakeLocks]")
    assert recorded == [[], [], 0, 0]
    coach.open_workout(ANA, ["squat"])  # the next day's session
    reopened = await open_player(phone, server.url, telegram_fragment(1001))
    assert not await reopened.page.locator("#voice").is_checked()  # the choice is remembered
    assert player.errors == [] and reopened.errors == []


async def test_pause_add_time_skip_rest_skip_and_stop_on_a_virtual_clock(coach, server,
                                                                          phone) -> None:
    workout_id = coach.open_workout(ANA, ["hip_flexor_stretch", "side_plank", "squat"])
    player = await open_player(phone, server.url, telegram_fragment(1001), virtual_clock=True)
    clock = player.page.clock
    await player.page.locator("#start").wait_for()
    await clock.pause_at(datetime(2025, 3, 3, 8, 0, tzinfo=timezone.utc))
    await player.tap("start")
    assert (await player.text("phase"), await player.text("count")) == ("Get ready", "5")
    await clock.run_for(2000)
    assert await player.text("count") == "3"
    await player.tap("skip_rest")
    assert (await player.text("phase"), await player.text("count")) == ("Hold", "30")
    assert await player.text("detail") == "left knee down"
    assert await player.text("next") == "Next: Switch sides · right knee down"

    await clock.run_for(10_000)
    assert await player.text("count") == "20"
    await player.tap("pause")
    assert await player.text("paused") == "Paused"
    await clock.run_for(120_000)  # two minutes paused: nothing moves
    assert await player.text("count") == "20" and len(await player.cues()) == 2
    await player.tap("add_time")
    assert await player.text("count") == "30"
    await player.tap("resume")
    await player.page.evaluate("window.__beeps = []")  # (the get-ready phase beeped at 3 s)
    await clock.run_for(27_000)
    assert await player.text("count") == "3"
    assert await player.page.evaluate("window.__beeps") == [3]
    await clock.run_for(3_000)  # the deadline passes: switch sides
    assert await player.page.evaluate("window.__beeps") == [3, 2, 1]
    assert (await player.text("phase"), await player.text("detail")) == (
        "Switch sides", "right knee down")
    assert await player.page.locator("#pause").is_visible()

    await player.tap("skip")  # the stretch's second side is skipped
    await coach.wait_until(lambda: coach.reports)
    assert coach.outcomes(ANA) == [(0, "skipped")]
    assert await player.text("name") == "Side plank"
    assert await player.text("phase") == "Get ready"
    await player.tap("skip")
    await coach.wait_until(lambda: len(coach.reports) == 2)
    await player.tap("skip_rest")
    assert await player.text("phase") == "At your own pace"
    assert not await player.page.locator("#pause").is_visible()
    assert not await player.page.locator("#add_time").is_visible()
    await clock.run_for(600_000)  # a set at one's own pace waits for the person
    assert await player.text("phase") == "At your own pace"
    await player.tap("done")
    assert await player.text("phase") == "Rest between sets"
    await player.tap("stop")
    await coach.wait_until(lambda: coach.endings)

    assert coach.endings == [(ANA, workout_id, "stopped")]
    assert coach.outcomes(ANA) == [(0, "skipped"), (1, "skipped")]
    assert await player.text("end-text") == coach.texts("player.stopped")
    assert (await player.cues())[-1] == coach.texts("player.stopped")
    assert player.errors == []


async def test_closing_and_reopening_the_page_carries_on_where_it_was(coach, server,
                                                                       phone) -> None:
    coach.time_scale = 200.0
    workout_id = coach.open_workout(ANA, ["hip_flexor_stretch", "squat", "hamstring_stretch"])
    cues_from_squat = await expected_cues(coach, ANA, first=1) + [coach.texts("player.finished")]
    first = await open_player(phone, server.url, telegram_fragment(1001))
    await first.tap("start")
    await first.page.locator("#done").wait_for()  # the squat's first set waits for Ana
    await coach.wait_until(lambda: coach.reports)
    await first.page.close()

    again = await open_player(phone, server.url, telegram_fragment(1001))
    assert await again.text("intro") == "Welcome back: 1 of 3 exercises are behind you."
    assert await again.text("start") == "Continue with Squat"
    await again.tap("start")
    await again.do_sets_until_the_end()
    await coach.wait_until(lambda: coach.endings)

    assert await again.cues() == cues_from_squat
    assert coach.outcomes(ANA) == [(0, "done"), (1, "done"), (2, "done")]
    assert coach.endings == [(ANA, workout_id, "done")]
    assert first.errors == [] and again.errors == []



async def test_a_report_the_coach_missed_is_kept_and_sent_when_the_page_reopens(
        coach, server, phone) -> None:
    coach.time_scale = 200.0
    workout_id = coach.open_workout(ANA, ["hip_flexor_stretch", "squat"])
    coach.failing = True  # the coach is unreachable while the stretch ends
    first = await open_player(phone, server.url, telegram_fragment(1001))
    await first.tap("start")
    await first.page.locator("#done").wait_for()
    await first.page.locator("#offline").wait_for()
    assert await first.text("offline") == coach.texts("player.offline")
    assert coach.reports == []
    await first.page.close()

    coach.failing = False
    again = await open_player(phone, server.url, telegram_fragment(1001))
    assert await again.text("start") == "Continue with Squat"
    assert coach.outcomes(ANA) == [(0, "done")]
    await again.tap("start")
    await again.do_sets_until_the_end()
    await coach.wait_until(lambda: coach.endings)
    assert coach.outcomes(ANA) == [(0, "done"), (1, "done")]
    assert coach.endings == [(ANA, workout_id, "done")]
    assert all("status of 500" in error for error in first.errors) and again.errors == []


REFUSED = "Failed to load resource: the server responded with a status of 401"


@pytest.mark.parametrize("fragment", [
    pytest.param(telegram_fragment(1001, bot_token="999:another-bot"), id="forged launch data"),
    pytest.param(telegram_fragment(1001).replace("1001", "1002", 1), id="user swapped"),
    pytest.param(telegram_fragment(1001, auth_date=1_700_000_000), id="stale launch data"),
    pytest.param("token=" + token_for(ANA, lifetime_s=-60), id="expired token"),
    pytest.param("token=" + token_for(ANA, secret=b"another-server-secret-123"), id="foreign token"),
    pytest.param("", id="no credential"),
])
async def test_forged_stale_or_missing_credentials_are_refused(coach, server, phone,
                                                               fragment: str) -> None:
    coach.open_workout(ANA)
    player = await open_player(phone, server.url, fragment)
    await player.page.locator("#message-text").wait_for()
    assert await player.text("message-text") == coach.texts("player.error_auth")
    assert not await player.page.locator("#start").is_visible()
    assert coach.plans_asked == [] and coach.reports == []
    assert player.errors and all(error.startswith(REFUSED) for error in player.errors)


@pytest.mark.parametrize("fragment", [
    pytest.param(telegram_fragment(1002, first_name="Bob"), id="Bob's launch data"),
    pytest.param("token=" + token_for(BOB), id="Bob's token"),
])
async def test_someone_elses_credential_never_shows_anas_workout(coach, server, phone,
                                                                 fragment: str) -> None:
    coach.open_workout(ANA)
    player = await open_player(phone, server.url, fragment)
    await player.page.locator("#message-text").wait_for()
    assert await player.text("message-text") == coach.texts("player.error_no_workout")
    assert coach.plans_asked == [BOB]


def tiny_gif() -> bytes:
    """A real two-frame GIF, standing in for a stage's animation from the picture cache."""
    frames = [Image.new("RGB", (48, 32), colour) for colour in ("#1f8a70", "#3b73b9")]
    out = io.BytesIO()
    frames[0].save(out, format="GIF", save_all=True, append_images=frames[1:], loop=0)
    return out.getvalue()


async def test_the_page_shows_each_exercises_animation_fetched_with_its_credential(
        coach, server, phone) -> None:
    key = "0123456789abcdef01234567"  # the picture cache's key of the squat's stage
    coach.pictures[key] = tiny_gif()
    coach.open_workout(DANA, ["squat", "hip_hinge"],
                       pictures={"squat": f"api/picture/{key}"})
    player = await open_player(phone, server.url, "token=" + token_for(DANA))
    await player.tap("start")
    image = player.page.locator("#picture")
    await image.wait_for()
    assert await image.get_attribute("alt") == "Squat"
    assert (await image.get_attribute("src")).startswith("blob:")  # fetched with the token
    await player.page.wait_for_function("document.getElementById('picture').naturalWidth > 0")
    assert coach.pictures_asked == [key]  # the server only answers a signed-in page
    await player.tap("skip")
    assert await player.text("name") == "Hip hinge"
    assert not await player.page.locator("#picture-frame").is_visible()
    assert player.errors == []


async def test_the_page_asks_the_pain_right_now_then_runs_the_warm_up_first(coach, server,
                                                                            phone) -> None:
    coach.time_scale = 200.0
    workout_id = coach.open_workout(ANA, ["hip_flexor_stretch", "squat"], pain_before=None,
                                    warmup=True)
    player = await open_player(phone, server.url, telegram_fragment(1001))
    assert await player.text("pain-question") == coach.texts("pain_check.ask")
    assert not await player.page.locator("#start").is_visible()  # the answer comes first
    await player.tap("pain-2")
    await player.page.locator("#start").wait_for()
    assert await player.text("pain-noted") == coach.texts("pain_check.noted", score=2)
    assert coach.pains == [(ANA, workout_id, 2)]
    assert (await player.page.locator("#overview li").all_inner_texts())[:2] == [
        "Warm-up", "Half-kneeling hip flexor stretch"]

    await player.tap("start")
    moves = coach.programme.warmup.moves
    assert await player.text("heading") == f"Warm-up 1 of {len(moves)}"
    assert await player.text("name") == moves[0].name
    assert await player.text("skip") == coach.texts("buttons.skip_warmup")
    await player.do_sets_until_the_end()
    await coach.wait_until(lambda: coach.endings)
    warm_cues = [phase.cue for move in (await built_plan(coach, warmup=True)).warmup
                 for phase in move.phases]
    cues = await player.cues()
    assert cues[:len(warm_cues)] == warm_cues  # the warm-up first, in order, nothing reported
    assert cues[len(warm_cues)] == coach.texts("player.say_ready",
                                               name="Half-kneeling hip flexor stretch")
    assert coach.outcomes(ANA) == [(0, "done"), (1, "done")]
    assert player.errors == []


async def built_plan(coach: FakeCoach, warmup: bool):
    """The plan a fresh workout of the same exercises has (for the cues it should say)."""
    coach.open_workout(BOB, ["hip_flexor_stretch", "squat"], warmup=warmup)
    plan = await coach.plan_for(BOB)
    del coach.workouts[BOB]
    return plan


async def test_skip_warm_up_goes_straight_to_the_first_exercise(coach, server, phone) -> None:
    coach.open_workout(ANA, ["hip_flexor_stretch", "squat"], warmup=True)
    player = await open_player(phone, server.url, telegram_fragment(1001), virtual_clock=True)
    await player.page.clock.pause_at(datetime(2025, 3, 3, 8, 0, tzinfo=timezone.utc))
    await player.tap("start")
    assert (await player.text("heading")).startswith("Warm-up 1 of")
    await player.tap("skip")
    assert (await player.text("heading"), await player.text("name")) == (
        "Exercise 1 of 2", "Half-kneeling hip flexor stretch")
    assert await player.text("skip") == coach.texts("buttons.skip")
    assert coach.outcomes(ANA) == []  # the warm-up is not an exercise: nothing reported
    reopened = await open_player(phone, server.url, telegram_fragment(1001))
    await reopened.tap("start")  # a reload does not warm up again
    assert await reopened.text("heading") == "Exercise 1 of 2"
    assert player.errors == [] and reopened.errors == []


async def test_a_pain_that_says_not_today_ends_it_on_the_page(coach, server, phone) -> None:
    coach.open_workout(ANA, pain_before=None)
    player = await open_player(phone, server.url, telegram_fragment(1001))
    await player.tap("pain-9")
    await player.page.locator("#message-text").wait_for()
    shown = await player.page.locator("#message-text").text_content()
    assert shown == coach.texts("pain.not_today", score=9)
    assert ANA not in coach.workouts and coach.reports == []
    assert not await player.page.locator("#start").is_visible()
    assert player.errors == []
