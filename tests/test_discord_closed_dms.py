"""Discord with closed DMs, over 127.0.0.1 against the stand-in: the person is told, only
them, how to open their DMs (on the interaction being answered, or at their next one), and
their reminders stay on until DMs have failed on two separate days of theirs.

The coach runs on a ManualClock here, so "the next day" is a clock move, not a wait."""
from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

from adapters.discord import DiscordAdapter
from bot.bootstrap import App, build_app
from bot.clock import ManualClock
from bot.replies import Reply
from harness import running
from reminder_world import REMINDER, berlin
from test_discord import ANA, Discord, fake  # noqa: F401  (fake: the stand-in fixture)

try:
    from standins.discord_api import EPHEMERAL, FakeDiscord
except ImportError:
    from tests.standins.discord_api import EPHEMERAL, FakeDiscord

TUE, WED, THU = (2026, 3, 10), (2026, 3, 11), (2026, 3, 12)
OPEN_DMS = "Privacy Settings"  # a piece of the advice on opening DMs


@contextlib.asynccontextmanager
async def discord_on(fake: FakeDiscord, tmp_path: Path,
                     start: datetime) -> AsyncIterator[tuple[Discord, App, ManualClock]]:
    """`python bot.py discord` against the stand-in, with a coach on a manual clock."""
    clock = ManualClock(start)
    app = build_app(tmp_path / "coach.db", clock=clock)
    make = lambda coach: [DiscordAdapter(coach, fake.token,  # noqa: E731
                                         guild_ready_timeout=0.05)]
    async with running(tmp_path, make, coach=app.coach) as (coach, (adapter,)):
        yield Discord(fake, coach, adapter), app, clock
    fake.assert_clean()


async def morning(app: App, clock: ManualClock, when: datetime) -> None:
    """Move the clock to `when` and let the reminders due by then go out."""
    clock.set(when)
    await app.reminders.run_due()


def refused_dms(fake: FakeDiscord) -> int:
    dm = fake.dm_channel_of(ANA)
    return sum(1 for call in fake.calls_to(rf"^/channels/{dm}/messages$", "POST")
               if call.status == 403)


def advice_in(fake: FakeDiscord, channel: int) -> list[dict]:
    return [m for m in fake.bot_messages_in(channel) if OPEN_DMS in m["content"]]


def reminders_on(d: Discord) -> bool:
    return d.coach.services.store.find_user(d.key(ANA)).reminders_on


async def test_a_workout_started_in_a_server_with_closed_dms_tells_only_that_person(
        fake, tmp_path):
    async with discord_on(fake, tmp_path, berlin(*TUE, 6, 0)) as (d, app, clock):
        await d.onboards(ANA)
        fake.close_dms(ANA)
        general = fake.guild.channel("general")
        await d.slash(ANA, "session", "how is your back right now", channel=general)
        iid, _ = await d.presses(ANA, "3", "Today's session", general)
        advice = await fake.wait_for(lambda: advice_in(fake, general), timeout=10)
        assert len(advice) == 1  # once, however many cues were refused
        assert advice[0]["flags"] & EPHEMERAL  # only Ana sees it
        assert int(advice[0]["id"]) in fake.interaction(iid).followup_ids
        assert refused_dms(fake) >= 1
        assert all(m["flags"] & EPHEMERAL for m in fake.bot_messages_in(general))
        assert reminders_on(d)  # one refused day does not end the reminders
        await fake.slash(ANA, "stop", channel=general)
        await d.coach.settled(d.key(ANA))
        assert len(advice_in(fake, general)) == 1  # not again a minute later


async def test_a_reminder_refused_is_explained_at_the_next_interaction(fake, tmp_path):
    async with discord_on(fake, tmp_path, berlin(*TUE, 6, 0)) as (d, app, clock):
        await d.onboards(ANA)
    fake.close_dms(ANA)
    # the next morning, after a restart: no interaction of Ana's is open any more
    async with discord_on(fake, tmp_path, berlin(*TUE, 7, 0)) as (d, app, clock):
        general = fake.guild.channel("general")
        await morning(app, clock, berlin(*TUE, 7, 30))
        assert refused_dms(fake) == 1 and not advice_in(fake, general)
        assert reminders_on(d)

        iid, _ = await d.slash(ANA, "progress", "Your progress", channel=general)
        advice = advice_in(fake, general)
        assert len(advice) == 1 and advice[0]["flags"] & EPHEMERAL
        # first: it takes the place of the "thinking..." message; the answer follows it
        assert fake.interaction(iid).original_message_id == int(advice[0]["id"])
        await d.slash(ANA, "help", "Here's what I understand", channel=general)
        assert len(advice_in(fake, general)) == 1  # told once


async def test_reminders_stop_only_after_dms_failed_on_two_separate_days(fake, tmp_path):
    async with discord_on(fake, tmp_path, berlin(*TUE, 6, 0)) as (d, app, clock):
        await d.onboards(ANA)
        fake.close_dms(ANA)
        await morning(app, clock, berlin(*TUE, 7, 30))
        clock.set(berlin(*TUE, 21, 0))  # the same evening, another refusal: still one day
        assert await d.coach.services.delivery.send(d.key(ANA), Reply("Weekly summary")) is False
        assert refused_dms(fake) == 2 and reminders_on(d)

        await morning(app, clock, berlin(*WED, 7, 30))  # tried again the next morning
        assert refused_dms(fake) == 3
        assert not reminders_on(d)
        user = d.coach.services.store.find_user(d.key(ANA))
        reason = d.coach.services.store.db["users"].get(user.id)["unreachable_reason"]
        assert "50007" in reason

        await morning(app, clock, berlin(*THU, 7, 30))
        assert refused_dms(fake) == 3  # nothing more is tried


async def test_a_dm_that_gets_through_again_starts_the_count_afresh(fake, tmp_path):
    async with discord_on(fake, tmp_path, berlin(*TUE, 6, 0)) as (d, app, clock):
        await d.onboards(ANA)
        dm = d.dm(ANA)
        fake.close_dms(ANA)
        await morning(app, clock, berlin(*TUE, 7, 30))
        fake.open_dms(ANA)  # Ana read the advice
        await morning(app, clock, berlin(*WED, 7, 30))
        assert any(REMINDER in m["content"] for m in fake.bot_messages_in(dm))
        fake.close_dms(ANA)  # and closed them again, another week
        await morning(app, clock, berlin(*THU, 7, 30))
        assert refused_dms(fake) == 2
        assert reminders_on(d)  # Tuesday no longer counts: Thursday is the first day
