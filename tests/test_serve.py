"""`python bot.py` with several platforms (adapters/cli.py's serve): a platform that fails is
logged and started again with growing waits while the others keep answering their people, and
the process ends with exit code 1 only when it stops because every platform failed.

The waits between restarts go through a Backoff whose sleep the test holds and releases, so
nothing here depends on how long anything takes."""
from __future__ import annotations

import argparse
import asyncio
import logging
import types

import pytest

from adapters import cli
from adapters import discord as discord_platform
from adapters.supervisor import Backoff
from bot.bootstrap import build_app
from bot.delivery import SendBudget
from bot.events import Text, UserKey
from bot.replies import Reply
from test_discord import ANA, fake  # noqa: F401  (fake: the Discord stand-in fixture)

STEP = 10.0  # generous bound on every wait
ARGS = argparse.Namespace(db="unused.db")


class Platform:
    """A platform stand-in: counts starts; each run fails while `failures` lasts, else runs
    until `finish` is set (finished by design, like the terminal at end of input)."""

    def __init__(self, name: str, failures: int = 0, refusals: int = 0) -> None:
        self.name = name
        self.failures = failures  # runs that end in an error
        self.refusals = refusals  # starts that fail (after the first)
        self.starts = 0
        self.running = asyncio.Event()
        self.finish = asyncio.Event()
        self.sent: list[tuple[UserKey, Reply]] = []

    def module(self) -> types.SimpleNamespace:
        return types.SimpleNamespace(NAME=self.name, create=lambda coach, args: Adapter(self))


class Adapter:
    budget = SendBudget()
    can_edit = False

    def __init__(self, world: Platform) -> None:
        self.world = world
        self.platform = world.name

    async def start(self) -> None:
        self.world.starts += 1
        if self.world.starts > 1 and self.world.refusals:
            self.world.refusals -= 1
            raise ConnectionError("connection refused")

    async def finished(self) -> None:
        if self.world.failures:
            self.world.failures -= 1
            raise ConnectionError("the gateway closed (4000)")
        self.world.running.set()
        await self.world.finish.wait()

    async def stop(self) -> None:
        self.world.running.clear()

    async def send(self, user: UserKey, reply: Reply, context: object | None) -> None:
        self.world.sent.append((user, reply))


class HeldBackoff:
    """The waits between restarts, recorded; each one lasts until the test releases it."""

    def __init__(self) -> None:
        self.asked: list[float] = []
        self.waiting = asyncio.Event()
        self.release = asyncio.Event()

    async def sleep(self, seconds: float) -> None:
        self.asked.append(seconds)
        self.waiting.set()
        await self.release.wait()


async def eventually(condition, timeout: float = STEP) -> None:
    async def poll():
        while not condition():
            await asyncio.sleep(0.005)
    await asyncio.wait_for(poll(), timeout)


async def talk_to(coach, platform: Platform, text: str) -> str:
    """A person on `platform` says `text`; the coach's first answer."""
    mark = len(platform.sent)
    await coach.handle(Text(UserKey(platform.name, "ana"), text), name="Ana")
    return platform.sent[mark][1].text


async def test_a_failing_platform_is_restarted_with_growing_waits_while_the_other_answers(
        tmp_path, caplog):
    app = build_app(tmp_path / "coach.db", 600)
    steady, flaky = Platform("steady"), Platform("flaky", failures=2, refusals=1)
    held = HeldBackoff()
    backoff = Backoff(first=1, factor=2, longest=300, tries=5, sleep=held.sleep)
    with caplog.at_level(logging.WARNING, logger="backcoach"):
        serving = asyncio.create_task(cli.serve(app, [steady.module(), flaky.module()], ARGS,
                                                backoff))
        await asyncio.wait_for(held.waiting.wait(), STEP)  # flaky failed: waiting to restart
        assert "not: a doctor" in await talk_to(app.coach, steady, "hello")  # steady answers meanwhile
        held.release.set()
        await asyncio.wait_for(flaky.running.wait(), STEP)
        assert held.asked == [1, 2, 4]  # run failed, run failed, a start refused
        assert flaky.starts == 4
        assert "not: a doctor" in await talk_to(app.coach, flaky, "hello")  # flaky answers again
        steady.finish.set()  # e.g. end of input: finished by design
        assert await asyncio.wait_for(serving, STEP) == 0
    logged = [r.getMessage() for r in caplog.records]
    assert sum("a platform stopped: flaky: ConnectionError" in line for line in logged) == 2
    assert any("platform flaky could not start again" in line for line in logged)
    assert any("starting again in 4.0 s (try 3 of 5)" in line for line in logged)
    assert any("platform flaky is running again" in line for line in logged)
    assert not any("steady" in line for line in logged)


async def test_a_platform_given_up_leaves_the_others_running(tmp_path, caplog):
    app = build_app(tmp_path / "coach.db", 600)
    steady, broken = Platform("steady"), Platform("broken", failures=1, refusals=10**6)
    backoff = Backoff(first=0, tries=3, sleep=lambda seconds: asyncio.sleep(0))
    with caplog.at_level(logging.WARNING, logger="backcoach"):
        serving = asyncio.create_task(cli.serve(app, [steady.module(), broken.module()], ARGS,
                                                backoff))
        await eventually(lambda: any("given up" in r.getMessage() for r in caplog.records))
        assert broken.starts == 4  # the first start, then three tries
        assert "not: a doctor" in await talk_to(app.coach, steady, "hello")
        assert not serving.done()
        steady.finish.set()
        assert await asyncio.wait_for(serving, STEP) == 0


async def test_the_process_exits_with_an_error_when_every_platform_has_failed(tmp_path,
                                                                              caplog):
    app = build_app(tmp_path / "coach.db", 600)
    first, second = Platform("first", failures=10**6), Platform("second", failures=10**6)
    backoff = Backoff(first=0, tries=2, sleep=lambda seconds: asyncio.sleep(0))
    with caplog.at_level(logging.WARNING, logger="backcoach"):
        code = await asyncio.wait_for(
            cli.serve(app, [first.module(), second.module()], ARGS, backoff), STEP)
    assert code == 1
    assert (first.starts, second.starts) == (3, 3)
    assert any("every platform has failed" in r.getMessage() for r in caplog.records)


async def test_asked_to_stop_while_a_platform_waits_to_restart_exits_cleanly(tmp_path):
    app = build_app(tmp_path / "coach.db", 600)
    flaky = Platform("flaky", failures=1)
    held = HeldBackoff()
    serving = asyncio.create_task(cli.serve(app, [flaky.module()], ARGS,
                                            Backoff(sleep=held.sleep)))
    await asyncio.wait_for(held.waiting.wait(), STEP)
    serving.cancel()  # as Ctrl-C does to asyncio.run
    with pytest.raises(asyncio.CancelledError):
        await serving
    assert flaky.starts == 1 and not flaky.running.is_set()


async def test_a_discord_gateway_that_ends_in_an_error_is_restarted_and_answers_again(
        fake, tmp_path, monkeypatch, caplog):
    """The real adapter against the stand-in: the gateway closes with 4012, which discord.py
    does not resume; the supervisor starts a fresh adapter, which answers the next /start."""
    monkeypatch.setenv("DISCORD_TOKEN", fake.token)
    app = build_app(tmp_path / "coach.db", 600)
    backoff = Backoff(first=0, sleep=lambda seconds: asyncio.sleep(0))
    with caplog.at_level(logging.WARNING):
        serving = asyncio.create_task(cli.serve(app, [discord_platform], ARGS, backoff))
        await fake.wait_for(lambda: fake.connected, timeout=STEP)
        await fake.drop_connection(4012)
        await fake.wait_for(lambda: any("platform discord is running again" in r.getMessage()
                                        for r in caplog.records), timeout=STEP)
        await fake.wait_for(lambda: fake.connected, timeout=STEP)
        await fake.slash(ANA, "start")
        await fake.wait_for_message(fake.dm_channel_of(ANA),
                                    lambda m: "not: a doctor" in m["content"], timeout=STEP)
        serving.cancel()
        with pytest.raises(asyncio.CancelledError):
            await serving
    assert any("a platform stopped: discord: ConnectionClosed" in r.getMessage()
               for r in caplog.records)


async def test_a_revoked_discord_token_is_given_up_at_once_while_the_other_runs(
        fake, tmp_path, monkeypatch, caplog):
    """Gateway close 4004 (authentication failed): trying again cannot mend it, so Discord is
    given up without hammering the gateway; the other platform keeps answering."""
    monkeypatch.setenv("DISCORD_TOKEN", fake.token)
    app = build_app(tmp_path / "coach.db", 600)
    steady = Platform("steady")
    held = HeldBackoff()
    with caplog.at_level(logging.WARNING):
        serving = asyncio.create_task(cli.serve(app, [steady.module(), discord_platform],
                                                ARGS, Backoff(sleep=held.sleep)))
        await fake.wait_for(lambda: fake.connected, timeout=STEP)
        await fake.drop_connection(4004)
        await fake.wait_for(lambda: any("not started again" in r.getMessage()
                                        for r in caplog.records), timeout=STEP)
        assert held.asked == []  # no restart was even tried
        assert "not: a doctor" in await talk_to(app.coach, steady, "hello")
        steady.finish.set()
        assert await asyncio.wait_for(serving, STEP) == 0
    [line] = [r.getMessage() for r in caplog.records if "not started again" in r.getMessage()]
    assert "4004" in line and "Reset Token" in line and fake.token not in line
