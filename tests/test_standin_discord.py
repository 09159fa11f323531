"""The Discord stand-in, exercised by the REAL discord.py client.

Nothing here reaches Discord: everything goes over 127.0.0.1 to
tests/standins/discord_api.py.  Every test has hard timeouts.
"""
from __future__ import annotations

import asyncio
import io

import discord
import pytest
from discord import app_commands

from tests.standins.discord_api import EPHEMERAL, LOADING, FakeDiscord, point_discord_at

T = 5.0  # generic timeout for any single wait


class PingView(discord.ui.View):
    """Persistent view: no timeout, fixed custom_id, registered in setup_hook."""

    def __init__(self) -> None:
        super().__init__(timeout=None)

    @discord.ui.button(label="Again", custom_id="ping:again", style=discord.ButtonStyle.primary)
    async def again(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        await interaction.response.edit_message(content=f"pong again for {interaction.user.name}", view=self)


class PainModal(discord.ui.Modal, title="How is your back?"):
    level = discord.ui.TextInput(label="Pain 0-10", custom_id="pain:level", max_length=2)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(f"noted pain {self.level.value}", ephemeral=True)


class StandinBot(discord.Client):
    def __init__(self, guild_id: int, *, intents: discord.Intents | None = None, **kw) -> None:
        if intents is None:
            intents = discord.Intents.default()
            intents.message_content = True
        super().__init__(intents=intents, guild_ready_timeout=0.05, **kw)
        self.tree = app_commands.CommandTree(self)
        self.seen: list[discord.Message] = []
        self.errors: list[BaseException] = []
        guild = discord.Object(guild_id)

        @self.tree.command(name="ping", description="Ping the bot")
        async def ping(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("pong", view=PingView())

        @self.tree.command(name="echo", description="Echo text back, privately")
        @app_commands.describe(text="what to echo", times="how often")
        async def echo(interaction: discord.Interaction, text: str, times: int = 1) -> None:
            await interaction.response.send_message(" ".join([text] * times), ephemeral=True)

        @self.tree.command(name="chart", description="Send a file after thinking")
        async def chart(interaction: discord.Interaction) -> None:
            await interaction.response.defer(thinking=True)
            await interaction.followup.send("your chart", file=discord.File(io.BytesIO(b"\x89PNG-fake"), filename="chart.png"))
            await interaction.followup.send("and a second message")

        @self.tree.command(name="pain", description="Log pain level")
        async def pain(interaction: discord.Interaction) -> None:
            await interaction.response.send_modal(PainModal())

        @self.tree.command(name="slow", description="Too slow to answer")
        async def slow(interaction: discord.Interaction) -> None:
            await asyncio.sleep(0.5)
            try:
                await interaction.response.send_message("late")
            except discord.HTTPException as exc:
                self.errors.append(exc)

        @self.tree.command(name="exercise", description="Pick an exercise")
        async def exercise(interaction: discord.Interaction, name: str) -> None:
            view = discord.ui.View(timeout=60)
            select = discord.ui.Select(custom_id="ex:pick", options=[discord.SelectOption(label=n, value=n) for n in ("cat-cow", "bridge")])

            async def picked(i: discord.Interaction) -> None:
                await i.response.defer()  # type 6: deferred update
                await i.edit_original_response(content=f"picked {select.values[0]}", view=None)

            select.callback = picked
            view.add_item(select)
            await interaction.response.send_message(f"exercise {name}", view=view)

        @exercise.autocomplete("name")
        async def exercise_names(interaction: discord.Interaction, current: str):
            return [app_commands.Choice(name=n, value=n) for n in ("cat-cow", "bridge") if n.startswith(current)]

        @self.tree.command(name="guildonly", description="A guild command", guild=guild)
        async def guildonly(interaction: discord.Interaction) -> None:
            await interaction.response.send_message(f"hello {interaction.guild.name}")

    async def setup_hook(self) -> None:
        self.add_view(PingView())

    async def on_message(self, message: discord.Message) -> None:
        if message.author.id == self.user.id:
            return
        self.seen.append(message)
        if message.content.startswith("!echo "):
            await message.channel.send(message.content[len("!echo "):])


@pytest.fixture
async def fake():
    async with FakeDiscord(interaction_timeout=3.0) as f, point_discord_at(f):
        yield f


async def start_bot(fake: FakeDiscord, bot: StandinBot, *, sync: bool = True):
    await asyncio.wait_for(bot.login(fake.token), T)
    task = asyncio.create_task(bot.connect())
    try:
        await asyncio.wait_for(bot.wait_until_ready(), T)
    except BaseException:
        task.cancel()
        await bot.close()
        raise
    if sync:
        await asyncio.wait_for(bot.tree.sync(), T)
        await asyncio.wait_for(bot.tree.sync(guild=discord.Object(fake.guild.id)), T)
    return task


async def stop_bot(bot: StandinBot, task: asyncio.Task, fake: FakeDiscord | None = None) -> None:
    await asyncio.wait_for(bot.close(), T)
    await asyncio.wait_for(task, T)  # connect() returns cleanly once closed
    assert task.exception() is None
    if fake is not None:
        # The gateway socket is gone.  (discord.py 2.7's poll loop races Client.close()
        # and puts 4000, not 1000, on the wire, so the code itself is not asserted.)
        await fake.wait_for(lambda: not fake.connected and fake.gateway_close_codes, timeout=T)


@pytest.fixture
async def bot(fake):
    client = StandinBot(fake.guild.id)
    task = await start_bot(fake, client)
    try:
        yield client
    finally:
        await stop_bot(client, task, fake)


# --------------------------------------------------------------------------- tests


async def test_login_identify_ready_and_guild_cache(fake, bot):
    assert bot.user.id == fake.bot_user_id
    assert bot.application_id == fake.application_id
    assert fake.message_content_intent
    assert fake.intents == bot.intents.value
    q = fake.gateway_queries[0]
    assert q["v"] == "10" and q["encoding"] == "json"  # compress=... is asked for, we answer plain text
    guild = bot.get_guild(fake.guild.id)
    assert guild is not None and guild.name == "Test Guild"
    assert guild.get_channel(fake.guild.channel("general")).name == "general"
    assert guild.me is not None and guild.me.id == fake.bot_user_id
    assert {c.name for c in (await bot.tree.fetch_commands())} == {"ping", "echo", "chart", "pain", "slow", "exercise"}
    assert set(fake.registered_commands()) == {"ping", "echo", "chart", "pain", "slow", "exercise"}
    assert set(fake.registered_commands(fake.guild.id)) == {"guildonly"}
    fake.assert_clean()


async def test_slash_reply_with_persistent_view_then_click_edits(fake, bot):
    alice = fake.add_user(name="alice")
    iid = await fake.slash(alice, "ping")
    resp = await fake.wait_for_response(iid, timeout=T)
    assert resp.kind == "callback" and resp.type == 4
    assert resp.content == "pong" and not resp.ephemeral
    rec = fake.interaction(iid)
    assert rec.ack_latency is not None and rec.ack_latency < 3.0

    dm = fake.dm_channel_of(alice)
    [msg] = fake.bot_messages_in(dm)
    assert msg["content"] == "pong" and msg["type"] == 20
    button = msg["components"][0]["components"][0]
    assert button["custom_id"] == "ping:again" and button["label"] == "Again"

    click = await fake.click(alice, int(msg["id"]), "ping:again")
    resp2 = await fake.wait_for_response(click, timeout=T)
    assert resp2.type == 7
    assert fake.message(int(msg["id"]))["content"] == "pong again for alice"
    assert len(fake.message_history[int(msg["id"])]) == 2
    fake.assert_clean()


async def test_persistent_view_survives_without_prior_send(fake, bot):
    """A click on an old message (sent before a restart) still reaches add_view's view."""
    bob = fake.add_user(name="bob")
    ch = fake.guild.channel()
    old = await bot.get_channel(ch).send("old", view=PingView())
    click = await fake.click(bob, old.id, "ping:again")
    await fake.wait_for_response(click, timeout=T)
    assert fake.message(old.id)["content"] == "pong again for bob"
    fake.assert_clean()


async def test_slash_options_and_ephemeral_in_guild(fake, bot):
    carol = fake.add_user(name="carol")
    ch = fake.guild.channel()
    iid = await fake.slash(carol, "echo", {"text": "hi", "times": 3}, channel=ch)
    resp = await fake.wait_for_response(iid, timeout=T)
    assert resp.content == "hi hi hi"
    assert resp.ephemeral and resp.flags & EPHEMERAL
    with pytest.raises(ValueError):
        await fake.slash(carol, "echo", {})  # required option missing: Discord's client would refuse
    iid2 = await fake.slash(carol, "guildonly", channel=ch)
    assert (await fake.wait_for_response(iid2, timeout=T)).content == "hello Test Guild"
    with pytest.raises(ValueError):
        await fake.slash(carol, "guildonly")  # guild command in DMs
    fake.assert_clean()


async def test_defer_then_followup_with_file(fake, bot):
    dave = fake.add_user()
    iid = await fake.slash(dave, "chart")
    await fake.wait_for(lambda: len(fake.interaction_responses(iid)) >= 3, timeout=T)
    cb, first, second = fake.interaction_responses(iid)
    assert cb.type == 5 and cb.elapsed < 3.0
    assert first.kind == "followup" and second.kind == "followup"
    msgs = fake.bot_messages_in(fake.dm_channel_of(dave))
    assert len(msgs) == 2  # first follow-up after a defer edits the "thinking" message
    original = msgs[0]
    assert int(original["id"]) == fake.interaction(iid).original_message_id
    assert original["content"] == "your chart" and not original["flags"] & LOADING
    assert fake.files_in(fake.dm_channel_of(dave)) == [("chart.png", b"\x89PNG-fake")]
    assert msgs[1]["content"] == "and a second message"
    fake.assert_clean()


async def test_modal_roundtrip(fake, bot):
    erin = fake.add_user()
    iid = await fake.slash(erin, "pain")
    resp = await fake.wait_for_response(iid, timeout=T)
    assert resp.type == 9 and resp.data["title"] == "How is your back?"
    sub = await fake.submit_modal(erin, iid, {"pain:level": "4"})
    r2 = await fake.wait_for_response(sub, timeout=T)
    assert r2.content == "noted pain 4" and r2.ephemeral
    fake.assert_clean()


async def test_dm_text_reaches_on_message_and_reply_is_recorded(fake, bot):
    frank = fake.add_user()
    await fake.dm_text(frank, "!echo hello there")
    reply = await fake.wait_for_message(fake.dm_channel_of(frank), timeout=T)
    assert reply["content"] == "hello there"
    assert bot.seen[-1].content == "!echo hello there"
    assert isinstance(bot.seen[-1].channel, discord.DMChannel)
    assert fake.dm_channel_of(frank) == bot.seen[-1].channel.id  # stable
    fake.assert_clean()


async def test_message_content_intent_blanks_guild_content_but_not_dms(fake):
    intents = discord.Intents.default()  # no message_content
    client = StandinBot(fake.guild.id, intents=intents)
    task = await start_bot(fake, client, sync=False)
    try:
        assert not fake.message_content_intent
        gina = fake.add_user()
        await fake.guild_text(gina, fake.guild.channel(), "secret words")
        await fake.wait_for(lambda: client.seen, timeout=T)
        assert client.seen[-1].content == ""
        await fake.guild_text(gina, fake.guild.channel(), f"<@{fake.bot_user_id}> hi")
        await fake.wait_for(lambda: len(client.seen) == 2, timeout=T)
        assert client.seen[-1].content.endswith("hi")  # mentions are exempt
        await fake.dm_text(gina, "dm words")
        await fake.wait_for(lambda: len(client.seen) == 3, timeout=T)
        assert client.seen[-1].content == "dm words"  # DMs are exempt (Discord docs)
    finally:
        await stop_bot(client, task)
    fake.assert_clean()


async def test_closed_dms_raise_forbidden(fake, bot):
    hank = fake.add_user()
    fake.close_dms(hank)
    user = await bot.fetch_user(hank)
    with pytest.raises(discord.Forbidden) as info:
        await asyncio.wait_for(user.send("reminder"), T)
    assert info.value.code == 50007
    assert fake.faults_hit and fake.faults_hit[-1].status == 403
    fake.assert_clean()


async def test_429_is_retried_then_delivered(fake, bot):
    ch = fake.guild.channel()
    fake.fail_next(rf"^/channels/{ch}/messages$", status=429, retry_after=0.2)
    sent = await asyncio.wait_for(bot.get_channel(ch).send("after the storm"), T)
    assert fake.message(sent.id)["content"] == "after the storm"
    statuses = [c.status for c in fake.calls_to(rf"^/channels/{ch}/messages$", "POST")]
    assert statuses == [429, 200]
    fake.assert_clean()


async def test_unknown_route_is_recorded(fake, bot):
    with pytest.raises(discord.NotFound):
        await asyncio.wait_for(bot.http.request(discord.http.Route("GET", "/guilds/{g}/bans", g=fake.guild.id)), T)
    assert [(c.method, c.path) for c in fake.unknown] == [("GET", f"/guilds/{fake.guild.id}/bans")]
    fake.unknown.clear()


async def test_content_too_long_is_rejected(fake, bot):
    with pytest.raises(discord.HTTPException) as info:
        await asyncio.wait_for(bot.get_channel(fake.guild.channel()).send("x" * 2001), T)
    assert info.value.code == 50035
    assert len(fake.rejected) == 1
    fake.rejected.clear()


async def test_late_callback_is_unknown_interaction(fake):
    async with FakeDiscord(interaction_timeout=0.2) as f, point_discord_at(f):
        client = StandinBot(f.guild.id)
        task = await start_bot(f, client)
        try:
            iid = await f.slash(f.add_user(), "slow")
            await f.wait_for(lambda: client.errors, timeout=T)
            assert isinstance(client.errors[0], discord.NotFound) and client.errors[0].code == 10062
            assert f.interaction(iid).late_callback and f.interaction(iid).acked_at is None
        finally:
            await stop_bot(client, task)


async def test_reconnect_resumes_session(fake, bot):
    await fake.request_reconnect()
    await fake.wait_for(lambda: fake.resumes == 1 and fake.connected, timeout=T)
    ivy = fake.add_user()
    await fake.dm_text(ivy, "still there?")
    await fake.wait_for(lambda: bot.seen, timeout=T)
    assert bot.seen[-1].content == "still there?"
    fake.assert_clean()


async def test_bad_token_fails_login(fake):
    client = StandinBot(fake.guild.id)
    try:
        with pytest.raises(discord.LoginFailure):
            await asyncio.wait_for(client.login("wrong-token"), T)
    finally:
        await client.close()


async def test_privileged_intent_not_enabled_closes_4014():
    async with FakeDiscord(enabled_privileged_intents=0) as f, point_discord_at(f):
        client = StandinBot(f.guild.id)  # asks for message_content
        await asyncio.wait_for(client.login(f.token), T)
        try:
            with pytest.raises(discord.PrivilegedIntentsRequired):
                await asyncio.wait_for(client.connect(), T)
        finally:
            await client.close()


async def test_select_autocomplete_and_deferred_update(fake, bot):
    jo = fake.add_user()
    ac = await fake.autocomplete(jo, "exercise", {"name": "ca"}, focused="name")
    r = await fake.wait_for_response(ac, timeout=T)
    assert r.type == 8 and [c["value"] for c in r.data["choices"]] == ["cat-cow"]
    iid = await fake.slash(jo, "exercise", {"name": "cat-cow"})
    await fake.wait_for_response(iid, timeout=T)
    msg_id = fake.interaction(iid).original_message_id
    pick = await fake.select(jo, msg_id, "ex:pick", ["bridge"])
    edit = await fake.wait_for_response(pick, kind="edit_original", timeout=T)
    assert fake.interaction_responses(pick)[0].type == 6
    assert edit.message_id == msg_id
    assert fake.message(msg_id)["content"] == "picked bridge" and fake.message(msg_id)["components"] == []
    fake.assert_clean()


async def test_channel_file_edit_and_user_upload(fake, bot):
    ch = bot.get_channel(fake.guild.channel())
    sent = await asyncio.wait_for(ch.send("plan", file=discord.File(io.BytesIO(b"PDF"), filename="plan.pdf")), T)
    assert sent.attachments[0].filename == "plan.pdf"
    assert await asyncio.wait_for(sent.attachments[0].read(), T) == b"PDF"
    edited = await asyncio.wait_for(sent.edit(content="plan v2"), T)
    assert edited.content == "plan v2" and len(edited.attachments) == 1  # attachments kept
    stored = fake.message(sent.id)
    assert stored["edited_timestamp"] and fake.attachment_data(stored["attachments"][0]) == b"PDF"

    kim = fake.add_user()
    await fake.dm_text(kim, "photo", files=[("back.jpg", b"JPEG")])
    await fake.wait_for(lambda: bot.seen, timeout=T)
    att = bot.seen[-1].attachments[0]
    assert att.filename == "back.jpg" and await asyncio.wait_for(att.read(), T) == b"JPEG"
    fake.assert_clean()
