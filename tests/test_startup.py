"""Start-up as the operator sees it: a token that cannot be valid stops `python bot.py` at once,
before any request leaves the machine; a platform that fails for good ends the process with a
non-zero exit code."""
from __future__ import annotations

import asyncio
import contextlib
import socket
import subprocess
import sys
from collections.abc import Iterator

import pytest

from bot_process import PATIENCE, ROOT, environment, run_bot

try:  # tests/ is on sys.path (pytest's default "prepend" import mode)
    from standins.discord_api import FakeDiscord
    from standins.telegram_api import DEFAULT_TOKEN as GOOD_TELEGRAM_TOKEN
except ImportError:  # tests is a package
    from tests.standins.discord_api import FakeDiscord
    from tests.standins.telegram_api import DEFAULT_TOKEN as GOOD_TELEGRAM_TOKEN

GOOD_DISCORD_TOKEN = "MTEwMDAwMDAwMDAwMDAwMDAy.GxYzAb.abcdefghijklmnopqrstuvwxyz0123456789AB"


@contextlib.contextmanager
def listener() -> Iterator[tuple[str, socket.socket]]:
    """A loopback port that accepts nothing by itself: any connection the bot made waits in
    its backlog, where the test finds it after the bot has exited."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(16)
        yield f"127.0.0.1:{server.getsockname()[1]}", server


def connections(server: socket.socket) -> int:
    server.setblocking(False)
    count = 0
    with contextlib.suppress(BlockingIOError):
        while True:
            connection, _ = server.accept()
            connection.close()
            count += 1
    return count


def network_at(address: str) -> dict[str, str]:
    """Point both platforms' every request and websocket at `address`."""
    return {"TELEGRAM_API_BASE_URL": f"http://{address}/bot",
            "DISCORD_API_BASE_URL": f"http://{address}/api/v10",
            "DISCORD_GATEWAY_URL": f"ws://{address}/gateway"}


@pytest.mark.parametrize(("command", "env", "expected"), [
    (["telegram"], {"TELEGRAM_TOKEN": "123456:short"},
     "Cannot start: TELEGRAM_TOKEN cannot be a Telegram bot token"),
    (["telegram"], {"TELEGRAM_TOKEN": "bot123456:" + "A" * 35},
     "Cannot start: TELEGRAM_TOKEN cannot be a Telegram bot token"),
    (["discord"], {"DISCORD_TOKEN": "Bot " + GOOD_DISCORD_TOKEN},
     "Cannot start: DISCORD_TOKEN cannot be a Discord bot token"),
    (["discord"], {"DISCORD_TOKEN": "just-one-part"},
     "Cannot start: DISCORD_TOKEN cannot be a Discord bot token"),
    # No subcommand: every platform with a token; one bad token stops both before either calls.
    ([], {"TELEGRAM_TOKEN": GOOD_TELEGRAM_TOKEN, "DISCORD_TOKEN": "a.b"},
     "Cannot start: DISCORD_TOKEN cannot be a Discord bot token"),
])
def test_a_token_of_the_wrong_shape_stops_start_up_before_any_request(tmp_path, command, env,
                                                                       expected):
    with listener() as (address, server):
        result = run_bot(*command, "--db", str(tmp_path / "coach.db"), cwd=tmp_path,
                         **network_at(address), **env)
        assert connections(server) == 0  # not one request left with the token
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(expected)
    assert "Copy it again from" in line  # what to do
    for token in env.values():
        assert token not in line  # a secret, even a wrong one, is not printed


def test_a_well_shaped_token_does_reach_the_network(tmp_path):
    """The other side of the test above: the listener does see a bot that gets that far."""
    with listener() as (address, server):
        # The bot retries a silent server with backoff on its own clock (scaled here), each
        # try waiting out the request timeout: it gives up within PATIENCE all the same.
        result = run_bot("telegram", "--db", str(tmp_path / "coach.db"), "--time-scale", "1000",
                         cwd=tmp_path, TELEGRAM_TOKEN=GOOD_TELEGRAM_TOKEN, **network_at(address))
        assert connections(server) >= 1
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "Telegram Bot API kept failing getMe" in result.stderr  # a silent server, not a token


async def test_a_platform_that_fails_for_good_ends_the_process_with_an_error_code(tmp_path):
    async with FakeDiscord() as fake:
        env = environment(DISCORD_TOKEN=fake.token, DISCORD_API_BASE_URL=fake.api_base,
                          DISCORD_GATEWAY_URL=fake.gateway_url, LOG_LEVEL="INFO")
        log_file = tmp_path / "stderr.log"
        with open(log_file, "wb") as sink:
            process = await asyncio.create_subprocess_exec(
                sys.executable, str(ROOT / "bot.py"), "discord", "--db",
                str(tmp_path / "coach.db"), cwd=tmp_path, env=env,
                stdout=subprocess.DEVNULL, stderr=sink)
        try:
            # Once the platform is up (its start-up done): a 4004 during start-up is a
            # "Cannot start" (exit 2, tests elsewhere), one after it a platform that stopped.
            await fake.wait_for(lambda: "Discord bot" in log_file.read_text()
                                and " is up" in log_file.read_text(), timeout=PATIENCE)
            await fake.drop_connection(4004)  # "authentication failed": no reconnecting
            await asyncio.wait_for(process.wait(), PATIENCE)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
    stderr = log_file.read_text()
    assert process.returncode == 1, stderr
    assert "a platform stopped" in stderr and "4004" in stderr
    assert "Traceback" not in stderr and fake.token not in stderr
