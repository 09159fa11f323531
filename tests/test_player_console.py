"""`python bot.py console --player --time-scale 60`: a whole workout done in a real browser.

The coach runs as a separate process, fed and read like a terminal (tests/bot_process.py). The
test reads the page's address the terminal prints, opens it in headless Chromium, does the
workout there (tapping "Done" on the sets at one's own pace) and sees the terminal ask how the
back feels. Nothing waits for wall-clock time: every wait is for something the page or the
terminal does, bounded by generous timeouts only a hang reaches.
"""
from __future__ import annotations

import asyncio
import json
import re

import aiohttp
import pytest
from bot_process import CoachProcess, run_bot
from test_player_browser import (  # the same browser, and the same reasons to skip
    CHROMIUM, PHONE, RECORDER, Player, async_api, pytestmark)

import scripts

PAGE_LINE = re.compile(r"http://127\.0\.0\.1:\d+/player/#token=[A-Za-z0-9._-]+")
ONBOARDING = scripts.typed(scripts.onboarding(), {"Got it, let's go": "1", "No": "no"})


async def in_a_thread(call, *args):
    return await asyncio.to_thread(call, *args)


def printed_links(coach: CoachProcess) -> list[str]:
    """The page's address wherever the terminal printed it on a line of its own."""
    return [line.strip() for line in coach.output if PAGE_LINE.fullmatch(line.strip())]


async def test_a_whole_workout_in_the_browser_from_the_terminal(tmp_path) -> None:
    db = tmp_path / "coach.db"
    coach = CoachProcess(db, "--player", "--no-browser", scale=60)
    try:
        coach.say(*ONBOARDING)
        await in_a_thread(coach.wait_for, "You're all set")
        coach.say("start session")  # the pain right now is asked on the page
        await in_a_thread(coach.wait_for, "Do it in the player")
        await in_a_thread(coach.wait_for, "2) Guide me here in chat")
        [offered] = printed_links(coach)  # shown under its choice
        coach.say("1")  # "Open the player"
        while len(printed_links(coach)) < 2:  # printed again, on its own line, when chosen
            await asyncio.sleep(0.05)
        link = printed_links(coach)[1]
        assert link == offered

        async with aiohttp.ClientSession() as http:  # the cues the page should say, in order
            page_url, _, token = link.partition("#token=")
            async with http.get(page_url + "api/plan",
                                headers={"Authorization": f"Bearer {token}"}) as answer:
                plan = await answer.json()
        assert plan["time_scale"] == 60
        assert plan["pain_before"] is None and plan["warmup"]
        cues = [phase["cue"] for exercise in plan["warmup"] + plan["exercises"]
                for phase in exercise["phases"]]

        async with async_api.async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=str(CHROMIUM),
                                                       args=["--no-sandbox"])
            phone = await browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
            tab = await phone.new_page()
            await tab.add_init_script(RECORDER)
            player = Player(tab)
            await tab.goto(link)
            await tab.locator("#pain-3").wait_for()
            await player.tap("pain-3")
            await tab.locator("#start").wait_for()
            assert (await player.text("pain-noted")).startswith("Thanks: 3/10 right now.")
            assert await player.text("intro") == plan["texts"]["intro"]
            await player.tap("start")
            await player.do_sets_until_the_end()
            question = await in_a_thread(coach.wait_for, "How is your back now")
            assert await player.cues() == cues + [plan["texts"]["finished"]]
            assert [spoken["text"] for spoken in await player.spoken()] == cues + [
                plan["texts"]["finished"]]
            assert player.errors == []
            await browser.close()

        terminal = "".join(coach.output)
        assert "That's all seven. Great work today!" in terminal and "How is your back now" in question
        assert "Hold 30 s" not in terminal  # the chat's timer never ran: the page did
        coach.say("2")
        await in_a_thread(coach.wait_for, "Noted: pain 2/10")
        coach.finish()
    finally:
        if coach.proc.poll() is None:
            coach.kill()

    [person] = json.loads(run_bot("export", "--db", str(db)).stdout)
    [workout] = person["workouts"]
    assert workout["status"] == "done" and workout["pain_after"] == 2
    assert [exercise["outcome"] for exercise in workout["exercises"]] == ["done"] * 7
