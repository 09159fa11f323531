"""The player wired into the coach: a workout offered in the chat, run on the page over real HTTP
on 127.0.0.1, and ended in the chat with the pain question, exactly as a chat workout would be.

The page is driven through its API the way the browser page does it (tests/player_world.Page);
tests/test_player_browser.py and tests/test_player_console.py run the page itself in Chromium.
"""
from __future__ import annotations

import logging
import re
from datetime import datetime
from dataclasses import dataclass

import aiohttp
import pytest
from player_world import SECRET, Page, token_for

from bot.bootstrap import App, build_app
from chat import ready_button
from bot.errors import ConfigError
from bot.player.auth import TOKEN_PATTERN
from bot.player.service import PlayerService
from bot.player.settings import Entrance, PlayerSettings, link_secret
from bot.replies import Choice, Reply
from bot.states import PLAYER, WORKOUT
from chat import Person, RecordingAdapter

SCALE = 1000.0


@dataclass
class World:
    """A coach with the player served on 127.0.0.1 for the test platform's people."""

    app: App
    adapter: RecordingAdapter
    player: PlayerService
    http: aiohttp.ClientSession

    def person(self, user_id: str, name: str) -> Person:
        return Person(self.app.coach, self.adapter, user_id, name)

    def texts(self, key: str, **values) -> str:
        return self.app.services.texts(key, **values)

    def state(self, person: Person) -> str:
        return self.app.services.store.find_user(person.key).state

    def record(self, person: Person) -> list[dict]:
        """Every workout of this person as the export shows it."""
        store = self.app.services.store
        return store.export_user(store.find_user(person.key))["workouts"]


async def served(app: App, adapter: RecordingAdapter | None = None) -> PlayerService:
    player = PlayerService(app.player, app.services.texts, PlayerSettings())
    await player.start([Entrance(RecordingAdapter.platform, None, with_token=True)], SECRET)
    return player


@pytest.fixture
async def world(tmp_path):
    app = build_app(tmp_path / "coach.db", SCALE)
    adapter = RecordingAdapter(app.coach)
    player = await served(app)
    async with aiohttp.ClientSession() as http:
        yield World(app, adapter, player, http)
    await player.stop()
    await app.coach.shutdown()
    app.coach.close()


def link_in(reply: Reply) -> Choice:
    return next(choice for choice in reply.choices if choice.is_link)


async def opens_the_player(world: World, person: Person) -> Page:
    """"Start session", then the offer's link opened on the page."""
    await person.onboards()
    offer = (await person.starts_session())[-1]
    page = Page.from_link(world.http, link_in(offer).url)
    status, plan = await page.opens()
    assert status == 200 and plan["pain_before"] is None  # the page asks it, not the chat
    status, noted = await page.answers_pain(3)
    assert status == 200 and noted["go_on"]
    return page


# -- the offer ---------------------------------------------------------------------------------

async def test_start_session_offers_the_player_beside_the_chat_and_times_nothing_yet(world):
    ana = world.person("ana", "Ana")
    await ana.onboards()
    replies = await ana.starts_session()

    offer = replies[-1]
    assert offer.text.startswith("Today's session: 7 exercises")
    assert offer.text.endswith(world.texts("player_offer.offer"))
    player, chat = offer.choices
    assert (player.label, player.web_app) == ("Open the player", True)
    assert player.url.startswith(f"{world.player.url}#token=")
    assert (chat.label, chat.action) == ("Guide me here in chat", "in_chat")
    token = player.url.partition("#token=")[2]
    assert re.fullmatch(TOKEN_PATTERN, token)
    await world.app.coach.settled(ana.key)
    assert world.state(ana) == PLAYER and world.app.coach.running(ana.key) is None
    assert ana.replies[-1] == offer  # no exercise card, no cue: the choice is Ana's


async def test_without_the_player_start_session_guides_in_the_chat_as_before(tmp_path):
    app = build_app(tmp_path / "coach.db", SCALE)
    ana = Person(app.coach, RecordingAdapter(app.coach))
    await ana.onboards()
    opening = (await ana.starts_session())[-1]
    thanks, plan = opening.text.split("\n\n", 1)  # the pain answer's thanks, in the same message
    assert thanks == "Thanks: 3/10 right now."
    assert plan.startswith("Today's session: warm-up and 7 exercises")
    assert "player" not in opening.text and not any(c.is_link for c in opening.choices)
    await ana.says("skip")  # the warm-up
    await ana.waits_for("1/7 · ")
    assert "isn't set up here" in (await ana.says("open the player"))[0].text
    await ana.stops()
    await app.coach.shutdown()
    app.coach.close()


# -- the pain right now, asked on the page ------------------------------------------------------

async def test_the_page_asks_the_pain_right_now_so_the_chat_sends_one_message(world):
    ana = world.person("ana", "Ana")
    await ana.onboards()
    [offer] = await ana.says("start session")  # no pain question in the chat: the page asks
    assert offer.text.startswith("Today's session: 7 exercises")
    page = Page.from_link(world.http, link_in(offer).url)
    status, plan = await page.opens()
    assert status == 200 and plan["pain_before"] is None
    assert plan["texts"]["pain_question"] == world.texts("pain_check.ask")
    assert (await page.reports(0))[0] == 409  # nothing is done before the pain is answered

    status, noted = await page.answers_pain(2)
    assert (status, noted["recorded"], noted["go_on"]) == (200, True, True)
    assert noted["message"].startswith("Thanks: 2/10 right now.")
    assert (await page.answers_pain(5))[1]["recorded"] is False  # the first answer stands
    assert (await page.opens())[1]["pain_before"] == 2  # a reopened page does not ask again
    await page.does_the_rest()
    await ana.waits_for("How is your back now")
    [answer] = await ana.says("2")  # the pain answer and what it changes: one message
    assert answer.text.startswith("Noted: pain 2/10, the same as before the workout.")
    assert [choice.label for choice in answer.choices] == ["Start session", "Progress", "Help"]
    [workout] = world.record(ana)
    assert (workout["pain_before"], workout["pain_after"]) == (2, 2)
    user = world.app.services.store.find_user(ana.key)
    assert [(p.score, p.kind) for p in world.app.services.store.pain_reports(user.id)][-2:] == [
        (2, "before"), (2, "after")]


async def test_a_pain_that_says_not_today_on_the_page_closes_the_workout_and_tells_the_chat(
        world):
    ana = world.person("ana", "Ana")
    await ana.onboards()
    [offer] = await ana.says("start session")
    page = Page.from_link(world.http, link_in(offer).url)
    await page.opens()
    status, noted = await page.answers_pain(9)
    assert (status, noted["go_on"]) == (200, False)
    assert world.texts("pain.not_today", score=9) in noted["message"]
    rest = await ana.waits_for(world.texts("pain_check.rest_menu"))  # told in the chat too
    assert [c.label for c in rest.choices] == ["Progress", "Help"]
    assert world.state(ana) == "ready" and world.record(ana) == []  # no workout was begun
    assert (await page.opens())[0] == 404
    [reply] = await ana.says("start session")  # today is a rest day now, in the chat too
    assert "Progress" in [choice.label for choice in reply.choices]
    assert "Start session" not in [choice.label for choice in reply.choices]


async def test_choosing_the_chat_first_asks_there_and_no_leaves_no_workout(world):
    ana = world.person("ana", "Ana")
    await ana.onboards()
    await ana.says("start session")
    [question] = await ana.presses("Guide me here in chat")
    assert question.text == world.texts("pain_check.ask")
    await ana.says("stop")  # not now after all
    assert world.state(ana) == "ready" and world.record(ana) == []


async def test_stop_before_the_page_asked_leaves_no_workout_behind(world):
    ana = world.person("ana", "Ana")
    await ana.onboards()
    await ana.says("start session")
    [reply] = await ana.says("stop")  # in the chat, before anything began
    assert reply.text.startswith(world.texts("pain_check.cancelled"))
    assert world.state(ana) == "ready" and world.record(ana) == []

    [offer] = await ana.says("start session")
    page = Page.from_link(world.http, link_in(offer).url)
    await page.opens()
    assert await page.ends("stopped") == (200, {"recorded": True})  # the page's Stop, early
    assert world.state(ana) == "ready" and world.record(ana) == []
    assert "How is your back now" not in "".join(r.text for r in ana.replies)


async def test_a_pain_score_typed_in_the_chat_before_the_page_asks_is_that_answer(world):
    ana, bob = world.person("ana", "Ana"), world.person("bob", "Bob")
    for person in (ana, bob):
        await person.onboards()
    [offer] = await ana.says("start session")
    [reply] = await ana.says("pain 3")
    assert reply.text.startswith("Thanks: 3/10 right now.")
    assert [c.label for c in reply.choices] == ["Open the player", "Guide me here in chat"]
    status, plan = await Page.from_link(world.http, link_in(offer).url).opens()
    assert plan["pain_before"] == 3  # the page does not ask again
    store = world.app.services.store
    user = store.find_user(ana.key)
    [workout] = store.workouts(user.id)
    answered = store.pain_reports(user.id)[-1]
    assert answered.kind == "before" and workout["pain_before"] == 3
    began = datetime.fromisoformat(workout["started_at"])
    assert began >= answered.at  # it begins with the answer, not with the offer

    await bob.says("start session")
    [reply] = await bob.says("9")
    assert world.texts("pain.not_today", score=9) in reply.text
    assert "Start session" not in [c.label for c in reply.choices]
    assert world.state(bob) == "ready" and world.record(bob) == []


async def test_a_warm_up_done_in_the_chat_is_not_repeated_on_the_page(world):
    ana = world.person("ana", "Ana")
    await ana.onboards()
    await ana.starts_session()
    await chooses_the_chat(world, ana)
    await ana.says("ready")  # the warm-up starts in the chat
    await ana.says("skip")  # and is skipped: behind, either way
    await ana.waits_for("1/7 · ")
    offer = await ana.says("open the player")
    status, plan = await Page.from_link(world.http, link_in(offer[0]).url).opens()
    assert status == 200 and plan["warmup"] == []


async def test_the_page_gets_each_exercises_animation_from_the_coach_signed_in_only(world):
    ana = world.person("ana", "Ana")
    page = await opens_the_player(world, ana)
    status, plan = await page.opens()
    pictures = [exercise["picture"] for exercise in plan["exercises"]]
    assert all(re.fullmatch(r"api/picture/[0-9a-f]{24}", picture) for picture in pictures)
    side_plank = world.app.services.pictures.files_named("side_plank", 0)
    assert pictures[2] == f"api/picture/{side_plank.key}"  # the chat's card shows the same
    base = world.player.url
    async with world.http.get(base + pictures[2], headers=page.headers) as answer:
        assert answer.status == 200 and answer.content_type == "image/gif"
        assert (await answer.read())[:4] == b"GIF8"
    async with world.http.get(base + pictures[2]) as answer:  # no credential
        assert answer.status == 401
    async with world.http.get(base + "api/picture/" + "0" * 24, headers=page.headers) as answer:
        assert answer.status == 404  # a key no stage has
    async with world.http.get(base + "api/picture/..%2F..%2Fcoach.db",
                              headers=page.headers) as answer:
        assert answer.status == 404


# -- a whole workout on the page ---------------------------------------------------------------

async def test_ana_does_the_workout_in_the_player_and_the_chat_asks_about_her_back(world):
    ana = world.person("ana", "Ana")
    page = await opens_the_player(world, ana)
    plan = await page.does_the_rest()
    assert len(plan["exercises"]) == 7 and plan["time_scale"] == SCALE

    question = await ana.waits_for("How is your back now")
    assert [choice.label for choice in question.choices] == [str(n) for n in range(11)]
    assert "skipped" not in question.text and "stopped" not in question.text  # all seven done
    assert any(reply.text.startswith("Noted: pain 2/10") for reply in await ana.says("2"))
    [workout] = world.record(ana)
    assert workout["status"] == "done" and workout["pain_after"] == 2
    assert [(e["exercise_id"], e["outcome"]) for e in workout["exercises"]] == [
        (exercise["id"], "done") for exercise in plan["exercises"]]
    assert (await page.reports(0)) == (409, {"error": "no_workout",
                                             "message": world.texts("player.error_no_workout")})


async def test_progression_pain_and_history_are_a_chat_workouts(world):
    """Ana trains on the page, Bob in the chat, twice each with the same answers: the coach
    keeps the same records and says the same things afterwards."""
    ana, bob = world.person("ana", "Ana"), world.person("bob", "Bob")
    await ana.onboards()
    await bob.onboards()
    after: dict[str, list[list[str]]] = {"ana": [], "bob": []}
    for _ in range(2):
        offer = (await ana.starts_session())[-1]
        await Page.from_link(world.http, link_in(offer).url).does_the_rest()
        await ana.waits_for("How is your back now")
        after["ana"].append([reply.text for reply in await ana.says("2")])

        bob.mark = len(world.adapter.sent)
        await bob.starts_session()
        await chooses_the_chat(world, bob)
        await trains_in_chat(world, bob)
        after["bob"].append([reply.text for reply in await bob.says("2")])

    assert after["ana"] == after["bob"]  # (step-ups need separate days: tests/test_form_check.py)
    store = world.app.services.store
    history = {}
    for person in (ana, bob):
        user = store.find_user(person.key)
        workouts = world.record(person)
        history[person.key.id] = (
            [(w["status"], w["pain_before"], w["pain_after"],
              [(e["exercise_id"], e["stage_index"], e["outcome"]) for e in w["exercises"]])
             for w in workouts],
            [(c.exercise_id, c.from_index, c.to_index, c.reason) for c in store.stage_changes(user.id)],
            [(p.score, p.kind) for p in store.pain_reports(user.id)],
            store.stages(user.id))
    assert history["ana"] == history["bob"]


async def chooses_the_chat(world: World, person: Person, pain: int = 3) -> list[Reply]:
    """"Guide me here in chat" before the page asked: the chat asks the pain right now, and
    the answer starts the workout here (its thanks and today's plan in one message)."""
    [question] = await person.presses("Guide me here in chat")
    assert question.text == world.texts("pain_check.ask")
    return await person.presses(str(pain))


async def trains_in_chat(world: World, person: Person) -> None:
    """The chat's timer runs: "Ready" on the plan and each card, "done" on each set at one's
    own pace, until the pain question."""
    while True:
        index = await person.adapter.wait(
            lambda s: s.user == person.key and (ready_button(s.reply) is not None
                                                or 'Say "done"' in s.reply.text
                                                or "How is your back now" in s.reply.text),
            30.0, person.mark)
        person.mark = index + 1
        reply = person.adapter.sent[index].reply
        if "How is your back now" in reply.text:
            return
        if ready_button(reply) is not None:
            await person.sends_payload(ready_button(reply))
            continue
        await world.app.coach.settled(person.key)
        await person.says("done")


# -- switching between page and chat -----------------------------------------------------------

async def test_opening_the_page_during_a_chat_workout_stops_the_chats_timer(world):
    ana = world.person("ana", "Ana")
    await ana.onboards()
    await ana.starts_session()
    assert (await chooses_the_chat(world, ana))[0].text.startswith("Thanks: 3/10 right now.")
    await ana.waits_for("✓ Half-kneeling hip flexor stretch done")
    assert world.state(ana) == WORKOUT
    offer = await ana.says("open the player")
    assert offer[0].text == world.texts("player_offer.open_during_chat")

    page = Page.from_link(world.http, link_in(offer[0]).url)
    status, plan = await page.opens()
    assert status == 200
    assert world.app.coach.running(ana.key) is None and world.state(ana) == PLAYER
    notice = await ana.waits_for(world.texts("player_offer.moved_to_page"))
    assert [choice.label for choice in notice.choices] == ["Guide me here in chat"]
    kept = {e["exercise_id"]: e["outcome"] for e in world.record(ana)[0]["exercises"]}
    assert kept["hip_flexor_stretch"] == "done"
    assert {e["id"]: e["outcome"] for e in plan["exercises"] if e["outcome"]} == kept
    quiet_from = len(ana.replies)
    await world.app.services.clock.sleep(120)  # two minutes: the chat's timer says nothing more
    assert ana.replies[quiet_from:] == []

    await page.does_the_rest()
    await ana.waits_for("How is your back now")
    [workout] = world.record(ana)
    assert sorted(e["exercise_id"] for e in workout["exercises"]) == sorted(
        e["id"] for e in plan["exercises"])  # each kept once, by the chat or by the page


async def test_guide_me_here_takes_the_workout_back_and_the_page_can_take_it_again(world):
    ana = world.person("ana", "Ana")
    page = await opens_the_player(world, ana)
    assert await page.reports(0) == (200, {"recorded": True, "outcome": "done"})
    assert await page.reports(1, "skipped") == (200, {"recorded": True, "outcome": "skipped"})

    assert (await ana.says("guide me here"))[0].text == world.texts("player_offer.to_chat")
    card = await ana.waits_for("3/7 · Side plank")
    assert world.state(ana) == WORKOUT and world.app.coach.running(ana.key) is not None
    refused = await page.reports(2)
    assert refused == (409, {"error": "in_chat", "message": world.texts("player.error_in_chat")})
    assert (await ana.says("guide me here in chat"))[0].text == \
        world.texts("player_offer.already_in_chat")

    status, plan = await page.opens()  # Ana opens the page again: it takes the workout back
    assert status == 200 and world.app.coach.running(ana.key) is None
    assert [e["outcome"] for e in plan["exercises"]][:2] == ["done", "skipped"]
    await page.does_the_rest()
    await ana.waits_for("How is your back now")
    outcomes = [(e["exercise_id"], e["outcome"]) for e in world.record(ana)[0]["exercises"]]
    assert outcomes[:2] == [("hip_flexor_stretch", "done"), ("hamstring_stretch", "skipped")]
    assert len(outcomes) == 7 and card.text.startswith("3/7")


async def test_what_ana_says_in_the_chat_while_the_page_runs_her_workout(world):
    ana = world.person("ana", "Ana")
    page = await opens_the_player(world, ana)
    for words in ("pause", "skip", "start session", "hmm"):
        [reply] = await ana.says(words)
        assert reply.text == world.texts("player_offer.on_page"), words
        assert [c.label for c in reply.choices] == ["Open the player", "Guide me here in chat"]
    assert (await ana.says("pain 4"))[0].text == world.texts("pain.noted_any", score=4)
    rescreen = await ana.says("rescreen")  # not now: the workout's answers would be lost
    assert rescreen[0].text.startswith("That's not something I can do right now")
    assert world.state(ana) == PLAYER

    await ana.says("stop")  # ends it from the chat, as "stop" ends a chat workout
    assert ana.replies[-1].text.startswith("Workout stopped")
    assert ana.replies[-1].text.endswith(world.texts("pain.ask_after"))
    assert await page.reports(0) == (409, {"error": "no_workout",
                                           "message": world.texts("player.error_no_workout")})
    assert await page.ends() == (200, {"recorded": False})
    assert world.record(ana)[0]["status"] == "stopped"


async def test_the_page_carries_on_while_the_chat_asks_delete_my_data(world):
    ana = world.person("ana", "Ana")
    page = await opens_the_player(world, ana)
    assert (await ana.says("delete my data"))[-1].text == world.texts("delete.confirm")
    assert await page.reports(0) == (200, {"recorded": True, "outcome": "done"})
    assert (await ana.says("no"))[0].text == world.texts("delete.kept")
    assert world.state(ana) == PLAYER
    await page.does_the_rest()
    await ana.waits_for("How is your back now")
    assert len(world.record(ana)[0]["exercises"]) == 7


# -- who may reach which workout ---------------------------------------------------------------

async def test_one_persons_link_never_reaches_anothers_workout(world):
    ana, bob = world.person("ana", "Ana"), world.person("bob", "Bob")
    ana_page = await opens_the_player(world, ana)
    await bob.onboards()
    bob_link = Page(world.http, world.player.url, f"Bearer {token_for(bob.key)}")
    status, refusal = await bob_link.opens()
    assert (status, refusal["error"]) == (404, "no_workout")  # Bob has none; Ana's stays hers
    bob_link.workout_id = ana_page.workout_id
    assert (await bob_link.reports(0))[0] == 409
    assert (await bob_link.ends("stopped"))[0] == 200 and world.state(ana) == PLAYER

    offer = (await bob.starts_session())[-1]
    bob_page = Page.from_link(world.http, link_in(offer).url)
    assert (await bob_page.opens())[1]["workout_id"] != ana_page.workout_id
    forged = Page(world.http, world.player.url,
                  f"Bearer {token_for(ana.key, secret=b'not-this-servers-secret!!')}")
    assert (await forged.opens())[0] == 401
    assert world.record(ana)[0]["exercises"] == [] and world.record(bob)[0]["exercises"] == []


async def test_no_token_or_secret_reaches_the_logs(world, caplog):
    caplog.set_level(logging.DEBUG)
    ana = world.person("ana", "Ana")
    page = await opens_the_player(world, ana)
    await page.does_the_rest()
    await ana.waits_for("How is your back now")
    await Page(world.http, world.player.url, "Bearer v1.forged.token").opens()
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "GET /player/api/plan 200" in logged and "POST /player/api/end 200" in logged
    assert "refused a credential (malformed)" in logged
    assert not re.search(TOKEN_PATTERN, logged) and "Bearer" not in logged
    assert SECRET.decode() not in logged


# -- a restart ---------------------------------------------------------------------------------

@pytest.mark.parametrize("player_after_restart", [True, False], ids=["with", "without"])
async def test_a_restart_keeps_the_pages_workout(tmp_path, player_after_restart: bool):
    app = build_app(tmp_path / "coach.db", SCALE)
    adapter = RecordingAdapter(app.coach)
    player = await served(app)
    ana = Person(app.coach, adapter)
    async with aiohttp.ClientSession() as http:
        page = await opens_the_player(World(app, adapter, player, http), ana)
        assert await page.reports(0) == (200, {"recorded": True, "outcome": "done"})
        await player.stop()
        await app.coach.shutdown()
        app.coach.close()

        again = build_app(tmp_path / "coach.db", SCALE)
        adapter = RecordingAdapter(again.coach)
        ana = Person(again.coach, adapter)
        player = await served(again) if player_after_restart else None
        await again.coach.start()
        try:
            user = again.services.store.find_user(ana.key)
            if player_after_restart:  # the timer is on the phone: nothing was cut off
                assert user.state == PLAYER and adapter.sent == []
                page.api = player.url + "api/"
                assert (await page.opens())[1]["exercises"][0]["outcome"] == "done"
                await page.does_the_rest()
                await ana.waits_for("How is your back now")
                assert again.services.store.export_user(user)["workouts"][0]["status"] == "done"
            else:  # no page to go back to: resume or finish, as after any cut-off workout
                question = await ana.waits_for("Your last workout was interrupted")
                assert [c.label for c in question.choices] == [
                    "Resume from Hamstring stretch", "Finish and report pain"]
                await ana.presses("Finish and report pain")
                await ana.waits_for("How is your back now")
        finally:
            if player is not None:
                await player.stop()
            await again.coach.shutdown()
            again.coach.close()


async def test_a_session_offered_but_never_begun_is_closed_by_a_restart_without_the_player(
        tmp_path):
    app = build_app(tmp_path / "coach.db", SCALE)
    adapter = RecordingAdapter(app.coach)
    player = await served(app)
    ana = Person(app.coach, adapter)
    await ana.onboards()
    await ana.says("start session")  # the offer; the page never opened
    await player.stop()
    await app.coach.shutdown()
    app.coach.close()

    again = build_app(tmp_path / "coach.db", SCALE)
    adapter = RecordingAdapter(again.coach)
    await again.coach.start()
    try:
        user = again.services.store.find_user(ana.key)
        assert user.state == "ready" and adapter.sent == []  # no "resume?" for nothing begun
        assert again.services.store.export_user(user)["workouts"] == []
    finally:
        await again.coach.shutdown()
        again.coach.close()


# -- settings ----------------------------------------------------------------------------------

@pytest.mark.parametrize("env, problem", [
    ({"BACKCOACH_PUBLIC_URL": "http://coach.example.org"}, "BACKCOACH_PUBLIC_URL must be an https"),
    ({"BACKCOACH_PUBLIC_URL": "https://"}, "BACKCOACH_PUBLIC_URL must be an https"),
    ({"BACKCOACH_PLAYER_PORT": "eighty"}, "BACKCOACH_PLAYER_PORT must be a port number"),
    ({"BACKCOACH_PLAYER_PORT": "70000"}, "BACKCOACH_PLAYER_PORT must be a port number"),
    ({"BACKCOACH_PLAYER_SECRET": "too-short"}, "at least 16 bytes"),
])
def test_a_setting_that_cannot_work_is_named_at_start_up(env, problem):
    with pytest.raises(ConfigError, match=problem):
        PlayerSettings.from_env(env)


def test_the_player_listens_on_loopback_unless_told_otherwise():
    assert PlayerSettings.from_env({}) == PlayerSettings(None, "127.0.0.1", None)
    public = PlayerSettings.from_env({"BACKCOACH_PUBLIC_URL": "https://coach.example.org/"})
    assert public.public_page == "https://coach.example.org/player/"
    assert public.port_for([Entrance("telegram", public.public_page, False)]) == 8088
    assert public.port_for([Entrance("console", None, True)]) == 0  # the terminal: a free port
    assert PlayerSettings.from_env({"BACKCOACH_PLAYER_HOST": "0.0.0.0",
                                    "BACKCOACH_PLAYER_PORT": "9000"}).port == 9000


def test_the_key_for_links_is_configured_or_made_once_and_kept_private(tmp_path):
    database = tmp_path / "coach.db"
    configured = link_secret({"BACKCOACH_PLAYER_SECRET": "sixteen-bytes-or-more"}, database)
    assert configured == b"sixteen-bytes-or-more"
    assert not (tmp_path / "coach.db.player-secret").exists()
    made = link_secret({}, database)
    kept = tmp_path / "coach.db.player-secret"
    assert len(made) >= 32 and kept.stat().st_mode & 0o777 == 0o600
    assert link_secret({}, database) == made  # the same after a restart: links keep working
    kept.write_text("short\n")
    with pytest.raises(ConfigError, match="too short a key"):
        link_secret({}, database)
