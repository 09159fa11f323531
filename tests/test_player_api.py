"""The player's API over real HTTP on 127.0.0.1: who may ask, what they may send, what is kept."""
from __future__ import annotations

import asyncio
import logging
import time

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer
from player_world import ANA, BOB, BOT_TOKEN, DANA, SECRET, FakeCoach, launch_data, token_for

from bot.player.web import PlayerConfig, make_app, page_link, start_player


def telegram(user_id: int, **kwargs) -> dict[str, str]:
    return {"Authorization": f"tma {launch_data(user_id, **kwargs)}"}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


ANA_AUTH = telegram(1001)


@pytest.fixture
def coach() -> FakeCoach:
    return FakeCoach()


async def client_for(coach: FakeCoach, **config) -> TestClient:
    settings = {"token_secret": SECRET, "telegram_bot_token": BOT_TOKEN, **config}
    client = TestClient(TestServer(make_app(coach, coach.texts, PlayerConfig(**settings))))
    await client.start_server()
    return client


@pytest.fixture
async def api(coach: FakeCoach):
    client = await client_for(coach)
    yield client
    await client.close()


async def test_ana_opens_her_workout_from_telegram(api: TestClient, coach: FakeCoach) -> None:
    workout_id = coach.open_workout(ANA)
    answer = await api.get("/player/api/plan", headers=ANA_AUTH)
    assert answer.status == 200
    plan = await answer.json()
    assert plan["workout_id"] == workout_id
    assert len(plan["exercises"]) == 7 and plan["language"] == "en-GB"
    assert coach.plans_asked == [ANA]


@pytest.mark.parametrize("headers", [
    {}, {"Authorization": ""}, {"Authorization": "Basic YW5hOnB3"}, {"Authorization": "tma "},
    {"Authorization": "Bearer "}, {"Authorization": "Bearer v1.e30.AAAA"},
    telegram(1001, bot_token="999:another-bot"), telegram(1001, auth_date=time.time() - 86400),
    bearer(token_for(ANA, lifetime_s=-1)), bearer(token_for(ANA, secret=b"another-server-secret!!")),
])
async def test_without_a_genuine_fresh_credential_nothing_is_read(
        api: TestClient, coach: FakeCoach, headers: dict[str, str]) -> None:
    coach.open_workout(ANA)
    answer = await api.get("/player/api/plan", headers=headers)
    assert answer.status == 401
    assert await answer.json() == {"error": "auth", "message": coach.texts("player.error_auth")}
    assert coach.plans_asked == []


async def test_telegram_launch_data_is_refused_when_the_server_has_no_bot_token(
        coach: FakeCoach) -> None:
    coach.open_workout(ANA)
    client = await client_for(coach, telegram_bot_token=None)
    try:
        assert (await client.get("/player/api/plan", headers=ANA_AUTH)).status == 401
    finally:
        await client.close()


async def test_a_discord_link_token_opens_that_persons_workout(api: TestClient,
                                                                coach: FakeCoach) -> None:
    workout_id = coach.open_workout(DANA)
    answer = await api.get("/player/api/plan", headers=bearer(token_for(DANA)))
    assert (await answer.json())["workout_id"] == workout_id


async def test_bob_can_neither_read_nor_change_anas_workout(api: TestClient,
                                                            coach: FakeCoach) -> None:
    anas = coach.open_workout(ANA)
    bob = telegram(1002, first_name="Bob")
    answer = await api.get("/player/api/plan", headers=bob)
    assert answer.status == 404
    assert (await answer.json())["message"] == coach.texts("player.error_no_workout")
    for path, body in (("exercise", {"workout_id": anas, "index": 0, "outcome": "done"}),
                       ("end", {"workout_id": anas, "outcome": "stopped"})):
        answer = await api.post(f"/player/api/{path}", json=body, headers=bob)
        assert answer.status in (200, 409)
        assert (await answer.json()).get("recorded") is not True
    bobs = coach.open_workout(BOB)
    answer = await api.post("/player/api/exercise", headers=bob,
                            json={"workout_id": anas, "index": 0, "outcome": "done"})
    assert answer.status == 409 and (await answer.json())["error"] == "stale"
    assert coach.reports == [] and coach.endings == []
    assert (await (await api.get("/player/api/plan", headers=bob)).json())["workout_id"] == bobs


async def test_each_exercise_is_kept_once_however_often_it_is_reported(
        api: TestClient, coach: FakeCoach) -> None:
    workout_id = coach.open_workout(ANA)
    report = {"workout_id": workout_id, "index": 0, "outcome": "done"}
    first = await api.post("/player/api/exercise", json=report, headers=ANA_AUTH)
    assert await first.json() == {"recorded": True, "outcome": "done"}
    again = await api.post("/player/api/exercise", json=report, headers=ANA_AUTH)
    assert await again.json() == {"recorded": False, "outcome": "done"}
    second_opinion = await api.post("/player/api/exercise", headers=ANA_AUTH,
                                    json={**report, "outcome": "skipped"})
    assert await second_opinion.json() == {"recorded": False, "outcome": "done"}
    assert coach.outcomes(ANA) == [(0, "done")]


async def test_the_same_report_sent_twice_at_once_is_kept_once(api: TestClient,
                                                               coach: FakeCoach) -> None:
    workout_id = coach.open_workout(ANA)
    report = {"workout_id": workout_id, "index": 0, "outcome": "skipped"}
    answers = await asyncio.gather(*(api.post("/player/api/exercise", json=report,
                                              headers=ANA_AUTH) for _ in range(5)))
    assert sorted([(await answer.json())["recorded"] for answer in answers]) == [
        False, False, False, False, True]
    assert coach.outcomes(ANA) == [(0, "skipped")]


async def test_exercises_are_reported_in_workout_order(api: TestClient, coach: FakeCoach) -> None:
    workout_id = coach.open_workout(ANA)
    answer = await api.post("/player/api/exercise", headers=ANA_AUTH,
                            json={"workout_id": workout_id, "index": 2, "outcome": "done"})
    assert answer.status == 409
    assert await answer.json() == {"error": "order", "message": coach.texts("player.error_order")}
    assert coach.reports == []


async def test_a_workout_finishes_once_and_only_when_every_exercise_is_in(
        api: TestClient, coach: FakeCoach) -> None:
    workout_id = coach.open_workout(ANA, ["squat", "hip_hinge"])
    finish = {"workout_id": workout_id, "outcome": "done"}
    assert (await api.post("/player/api/end", json=finish, headers=ANA_AUTH)).status == 409
    for index in (0, 1):
        await api.post("/player/api/exercise", headers=ANA_AUTH,
                       json={"workout_id": workout_id, "index": index, "outcome": "done"})
    first = await api.post("/player/api/end", json=finish, headers=ANA_AUTH)
    assert await first.json() == {"recorded": True}
    again = await api.post("/player/api/end", json=finish, headers=ANA_AUTH)
    assert await again.json() == {"recorded": False}
    assert coach.endings == [(ANA, workout_id, "done")]


async def test_a_page_from_an_older_workout_cannot_end_the_new_one(api: TestClient,
                                                                   coach: FakeCoach) -> None:
    old = coach.open_workout(ANA)
    await coach.ended(ANA, old, "stopped")
    coach.open_workout(ANA)
    answer = await api.post("/player/api/end", json={"workout_id": old, "outcome": "stopped"},
                            headers=ANA_AUTH)
    assert answer.status == 409
    assert await answer.json() == {"error": "stale", "message": coach.texts("player.error_stale")}
    assert len(coach.endings) == 1


@pytest.mark.parametrize("body", [
    b"not json", b"[]", b"null", b'{"workout_id": 1, "index": 0}',
    b'{"workout_id": 1, "index": 0, "outcome": "done", "person": "telegram:1002"}',
    b'{"workout_id": "1", "index": 0, "outcome": "done"}',
    b'{"workout_id": 1, "index": true, "outcome": "done"}',
    b'{"workout_id": 1, "index": 0.5, "outcome": "done"}',
    b'{"workout_id": 1, "index": 0, "outcome": "finished-ish"}',
    b'{"workout_id": 1, "index": 99, "outcome": "done"}',
    b'{"workout_id": 1, "index": -1, "outcome": "done"}',
    b'\xff\xfe{',
])
async def test_malformed_reports_get_a_clear_refusal(api: TestClient, coach: FakeCoach,
                                                     body: bytes) -> None:
    coach._next_id = 0
    coach.open_workout(ANA)
    answer = await api.post("/player/api/exercise", data=body, headers={
        **ANA_AUTH, "Content-Type": "application/json"})
    assert answer.status == 400
    assert await answer.json() == {"error": "invalid",
                                   "message": coach.texts("player.error_invalid")}
    assert coach.reports == []


async def test_reports_must_be_json(api: TestClient, coach: FakeCoach) -> None:
    workout_id = coach.open_workout(ANA)
    answer = await api.post("/player/api/exercise", headers=ANA_AUTH,
                            data={"workout_id": str(workout_id), "index": "0", "outcome": "done"})
    assert answer.status == 415 and coach.reports == []


async def test_oversized_bodies_are_refused_unread(api: TestClient, coach: FakeCoach) -> None:
    workout_id = coach.open_workout(ANA)
    padded = {"workout_id": workout_id, "index": 0, "outcome": "done" + " " * 5000}
    answer = await api.post("/player/api/exercise", json=padded, headers=ANA_AUTH)
    assert answer.status == 413
    assert (await answer.json())["message"] == coach.texts("player.error_too_large")

    async def chunks():  # no Content-Length: the server stops reading at its limit
        yield b'{"workout_id": %d, "index": 0, "outcome": "done' % workout_id
        for _ in range(100):
            yield b" " * 1000

    answer = await api.post("/player/api/exercise", data=chunks(), headers={
        **ANA_AUTH, "Content-Type": "application/json"})
    assert answer.status == 413
    assert coach.reports == []


async def test_one_person_flooding_is_slowed_down_without_slowing_others(
        coach: FakeCoach) -> None:
    coach.open_workout(ANA)
    coach.open_workout(BOB)
    client = await client_for(coach, burst=5, refill_per_second=0.001)
    try:
        statuses = [(await client.get("/player/api/plan", headers=ANA_AUTH)).status
                    for _ in range(7)]
        assert statuses == [200] * 5 + [429] * 2
        flooded = await client.get("/player/api/plan", headers=ANA_AUTH)
        assert await flooded.json() == {"error": "limit",
                                        "message": coach.texts("player.error_limit")}
        assert flooded.headers["Retry-After"]
        bob = await client.get("/player/api/plan", headers=telegram(1002, first_name="Bob"))
        assert bob.status == 200
    finally:
        await client.close()


async def test_a_failing_coach_gives_a_plain_refusal_not_a_traceback(
        api: TestClient, coach: FakeCoach, caplog: pytest.LogCaptureFixture) -> None:
    workout_id = coach.open_workout(ANA)
    coach.failing = True
    answer = await api.post("/player/api/exercise", headers=ANA_AUTH,
                            json={"workout_id": workout_id, "index": 0, "outcome": "done"})
    assert answer.status == 500
    assert await answer.json() == {"error": "server", "message": coach.texts("player.error_server")}
    assert "the coach is down" in caplog.text  # the operator sees it ...
    assert launch_data(1001)[:40] not in caplog.text  # ... without the credential


async def test_the_page_carries_a_strict_content_security_policy(api: TestClient,
                                                                 coach: FakeCoach) -> None:
    page = await api.get("/player/")
    assert page.status == 200
    policy = page.headers["Content-Security-Policy"]
    for rule in ("default-src 'none'", "script-src 'self'", "style-src 'self'",
                 "connect-src 'self'", "base-uri 'none'", "form-action 'none'",
                 "frame-ancestors 'self' https://web.telegram.org",
                 "require-trusted-types-for 'script'"):
        assert rule in policy
    assert "unsafe" not in policy
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert page.headers["Referrer-Policy"] == "no-referrer"
    html = await page.text()
    assert '<html lang="en-GB">' in html
    assert f"<title>{coach.texts('player.title')}</title>" in html
    assert "{{" not in html and "<script>" not in html and "style=" not in html
    script = await api.get("/player/player.js")
    assert script.content_type == "text/javascript"
    assert (await api.get("/player/../content/texts.toml")).status == 404
    assert (await api.get("/player")).url.path == "/player/"


async def test_the_access_log_never_holds_a_credential(coach: FakeCoach,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    coach.open_workout(DANA)
    token = token_for(DANA)
    server = await start_player(make_app(coach, coach.texts, PlayerConfig(SECRET, BOT_TOKEN)))
    assert server.url.startswith("http://127.0.0.1:")
    caplog.set_level(logging.DEBUG)
    try:
        async with aiohttp.ClientSession() as session:
            async with session.get(server.url + f"api/plan?token={token}",
                                   headers=bearer(token)) as answer:
                assert answer.status == 200
            async with session.get(server.url + "api/plan", headers=ANA_AUTH) as answer:
                assert answer.status == 404
            async with session.get(page_link(server.url.removesuffix("/player/"), token)) as page:
                assert page.status == 200
    finally:
        await server.close()
    access = [record.getMessage() for record in caplog.records if record.name == "aiohttp.access"]
    assert any("GET /player/api/plan 200" in line for line in access)
    assert token not in caplog.text and token.split(".")[2] not in caplog.text
    assert launch_data(1001).split("hash=")[1][:20] not in caplog.text
