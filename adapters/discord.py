"""Discord: the coach as a bot on discord.py, with slash commands and buttons.

Set DISCORD_TOKEN (developer portal -> your application -> Bot -> token) in the environment or
in .env and run `python bot.py` (or `python bot.py discord` for Discord alone).

    DISCORD_MESSAGE_CONTENT=0   do not ask for the privileged Message Content intent (default 1).
                                Slash commands and buttons work without it; typed DMs still
                                reach the bot (Discord exempts DMs), plain server text does not.
    DISCORD_TEST_GUILD=<id>     sync the slash commands to that server only (they appear at
                                once there; for development). Otherwise they are synced globally.
    DISCORD_API_BASE_URL, DISCORD_GATEWAY_URL   point discord.py at a stand-in (tests).
    BACKCOACH_PUBLIC_URL        offer the workout player as a link button (bot/player/).

Privacy. In a direct message everything is between the person and the coach. In a server:
- a slash command or a button press is private: it is acknowledged ephemerally and every answer
  to it is an ephemeral follow-up only that person sees;
- workouts, their timer cues, reminders and anything else the coach says on its own go to the
  person's DMs, never to a server channel;
- a plain message that mentions the bot is *not* private: the coach only answers (in the
  channel) that it talks about health in private.

Closed DMs. When Discord refuses a DM (50007: the person closed their DMs, or shares no server
with the bot any more) the person is told how to open them, only to them: an ephemeral follow-up
on the interaction being answered, or on their latest one while its token lives; otherwise at
their next interaction. The core hears of it as a refusal that may pass (it keeps the reminders
until DMs have failed on two separate days).

Time limits. Every interaction is deferred before anything else (within Discord's 3 s); the
answers follow as follow-ups while the interaction token lives (15 min), after that in DMs.
Countdown edits change the cue message in the DM channel, within the per-channel budget.

Buttons are persistent: each carries its owner and the choice's action in its custom_id
("bc:<owner>:<action>"), and one DynamicItem registered at start-up answers every press, so the
buttons of old messages (a reminder from yesterday, anything sent before a restart) still work.
Only the owner may press them, and only buttons that are on the pressed message (a modified
client can send any custom_id): whose data is used is always decided by the interaction's user,
never by the channel or the payload.

Each event carries its interaction or message id: an event the gateway delivers again (a
replay after a resume) has no second effect (the core's ledger, bot/data/turns.py).

This file only translates: interactions and messages become Text, Picked or Command for the
coach, and a Reply becomes messages (buttons, files, edits). Every coaching decision, the pacing
and the retries live in the core.
"""
from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import io
import logging
import os
import re
import time
from collections import OrderedDict
from dataclasses import dataclass, field

import aiohttp
import discord  # the library (absolute import: this module is adapters.discord)
import yarl
from discord import app_commands

from adapters import _plumbing
from adapters._plumbing import Progress, Resume, redact
from bot.errors import ConfigError
from bot.coach import Coach
from bot.delivery import Delivery, Rate, RetryAfter, SendBudget, Transient, Unreachable
from bot.events import Command, Event, Picked, Text, UserKey
from bot.player.auth import TOKEN_MASK, TOKEN_PATTERN
from bot.player.settings import Entrance, PlayerSettings
from bot.replies import Choice, Reply

NAME = PLATFORM = "discord"
TOKEN_ENV = "DISCORD_TOKEN"
MASK = "<discord-token>"  # what the logs show instead of the token
# A bot token: three base64url parts joined by dots (the bot's id, a timestamp, a signature).
TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
# Loggers that may see the token (discord.py's, and ours, which log what they are given).
LOGGERS = ("discord", "aiohttp", "asyncio", "adapters", "bot", "backcoach", __name__)

MAX_TEXT = 2000  # characters in one message
MAX_LABEL = 80  # characters on a button
MAX_URL = 512  # characters in a link button's URL
MAX_ROWS, PER_ROW = 5, 5  # buttons: 5 rows of at most 5
FOLLOWUP_WINDOW = 14 * 60.0  # seconds an interaction token is used for (Discord: 15 min)
READY_TIMEOUT = 30.0  # seconds start() waits for the gateway before carrying on anyway
# The "/" menu, in this order; each description is the text commands.<name> in content/.
MENU = ("start", "session", "pain", "progress", "settings", "help", "stop")
BUTTON_PREFIX = "bc"
BAD_RECIPIENT = 50033  # "Invalid Recipient(s)"
AUTHENTICATION_FAILED = 4004  # gateway close code: the token was revoked or reset
DMS_CLOSED = 50007  # "Cannot send messages to this user": DMs closed, or no shared server
RECENT_INTERACTIONS = 1000  # people whose latest interaction is kept (for closed-DM advice)
ADVICE_EVERY = FOLLOWUP_WINDOW  # seconds between two closed-DM advices to one person
ACKNOWLEDGED_KEPT = 10_000  # interaction ids remembered, to acknowledge each only once

INTENT_HELP = (
    "Discord refused the Message Content intent (gateway close 4014). Either enable it: "
    "https://discord.com/developers/applications -> your application -> Bot -> Privileged "
    "Gateway Intents -> Message Content Intent; or set DISCORD_MESSAGE_CONTENT=0 to run with "
    "slash commands and buttons only.")

log = logging.getLogger(__name__)


# -- where answers go ---------------------------------------------------------------------------

@dataclass
class Origin:
    """Where the answers to one event go: the interaction's follow-ups (ephemeral in a server)
    while its token lives; a server channel for a message that mentioned the bot; else the
    person's DMs. The adapter passes it to the coach, which hands it back with every reply."""

    interaction: discord.Interaction | None = None
    ephemeral: bool = False  # answers only the person sees (an interaction in a server)
    thinking: bool = False  # a slash command shows "thinking..." until its first answer
    channel: discord.abc.Messageable | None = None  # a server channel: the "talk privately" note
    message: discord.Message | None = None  # ... posted as a reply to this message
    answered: int = 0  # follow-ups sent
    received: float = field(default_factory=time.monotonic)

    def live(self) -> bool:
        """An interaction whose token can still carry follow-ups."""
        return self.interaction is not None and \
            time.monotonic() - self.received < FOLLOWUP_WINDOW

    def follows_up(self, reply: Reply) -> bool:
        """Answer through the interaction: plain messages while the token lives. Cues and
        anything in a slot (edited later) go to the DM channel, where the bot can edit them."""
        return (self.interaction is not None and reply.kind == "message" and not reply.slot
                and time.monotonic() - self.received < FOLLOWUP_WINDOW)


# -- buttons: one persistent handler for every choice -------------------------------------------

BUTTON_ID = re.compile(rf"{BUTTON_PREFIX}:(?P<owner>[0-9]{{1,20}}):(?P<action>[ -~]{{1,64}})")


class ChoiceButton(discord.ui.DynamicItem[discord.ui.Button], template=BUTTON_ID):
    """A Choice as a button whose custom_id carries its owner and action. discord.py builds one
    from any pressed custom_id matching the template, on any message, old or new: registered
    once at start-up, it answers every button the bot has ever sent."""

    def __init__(self, owner: int, action: str, label: str,
                 style: discord.ButtonStyle = discord.ButtonStyle.secondary,
                 row: int | None = None) -> None:
        self.owner = owner
        self.action = action
        super().__init__(discord.ui.Button(label=label[:MAX_LABEL] or "·", style=style,
                                           custom_id=f"{BUTTON_PREFIX}:{owner}:{action}"),
                         row=row)

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Button,
                             match: re.Match[str], /) -> ChoiceButton:
        return cls(int(match["owner"]), match["action"], item.label or "", item.style)

    async def callback(self, interaction: discord.Interaction) -> None:
        await interaction.client.adapter.on_press(interaction, self.owner, self.action)


class ChoicesView(discord.ui.View):
    """A reply's choices as rows of buttons (at most 5 a row, 5 rows).

    Only rendered, never kept: discord.py does not store a view that is not dispatchable, so
    every press is routed by ChoiceButton's template alone. (A stored view would time out,
    ephemeral ones after 15 minutes, and take the registered template away with it.)"""

    def __init__(self, owner: int, choices: tuple[Choice, ...]) -> None:
        super().__init__(timeout=None)
        for row, group in enumerate(button_rows(usable(choices))):
            for choice in group:
                if choice.is_link:  # opens the page; Discord sends the bot nothing
                    self.add_item(discord.ui.Button(label=choice.label[:MAX_LABEL] or "·",
                                                    url=choice.url, row=row))
                    continue
                style = (discord.ButtonStyle.secondary if choice.label.isdigit()
                         else discord.ButtonStyle.primary)
                self.add_item(ChoiceButton(owner, choice.action, choice.label, style, row))

    def is_dispatchable(self) -> bool:
        return False


def buttons_on(message: discord.Message | None) -> set[str]:
    """The custom_ids of the buttons a message carries (Discord sends the message with every
    press), however deep in its layout."""
    found: set[str] = set()
    pending = list(message.components) if message is not None else []
    while pending:
        component = pending.pop()
        pending.extend(getattr(component, "children", ()) or ())
        accessory = getattr(component, "accessory", None)  # a section's button
        if accessory is not None:
            pending.append(accessory)
        custom_id = getattr(component, "custom_id", None)
        if custom_id:
            found.add(custom_id)
    return found


def usable(choices: tuple[Choice, ...]) -> list[Choice]:
    """Choices that can be buttons: a payload that cannot be a custom_id (not printable ASCII,
    longer than 64) or a repeated one, or a link Discord would refuse, is left out with a
    warning, never sent."""
    seen, out = set(), []
    for choice in choices:
        if choice.is_link:
            if choice.url.startswith(("https://", "http://")) and len(choice.url) <= MAX_URL:
                out.append(choice)
            else:
                log.warning("link button %r left out: not an http(s) URL of at most %d "
                            "characters", choice.label, MAX_URL)
            continue
        if not re.fullmatch(r"[ -~]{1,64}", choice.action) or choice.action in seen:
            log.warning("button %r left out: unusable or repeated payload", choice.label)
            continue
        seen.add(choice.action)
        out.append(choice)
    if len(out) > MAX_ROWS * PER_ROW:
        log.warning("%d buttons: only the first %d fit a message", len(out), MAX_ROWS * PER_ROW)
    return out[:MAX_ROWS * PER_ROW]


def button_rows(choices: list[Choice]) -> list[list[Choice]]:
    """Even rows: numbers (pain 0-10) up to 5 a row (4 + 4 + 3); other buttons 3 a row up to
    20 characters, 2 up to 40, else 1; never more than 5 rows."""
    return _plumbing.even_rows(choices, [c.label for c in choices], numbers=PER_ROW, short=20,
                               medium=40, max_rows=MAX_ROWS)


# -- the client: intents, slash commands, events ------------------------------------------------

class CoachClient(discord.Client):
    """discord.py's client with the coach's slash commands and the one persistent button
    handler; every event goes to the adapter."""

    def __init__(self, adapter: DiscordAdapter, message_content: bool, **options) -> None:
        intents = discord.Intents.none()
        intents.guilds = True  # servers and their channels
        intents.dm_messages = True  # typed DMs
        intents.guild_messages = True  # server messages that mention the bot
        intents.message_content = message_content  # privileged: see the module docstring
        for warning in ("warn_nacl", "warn_dave"):  # no voice here: no "not installed" warnings
            if hasattr(discord.VoiceClient, warning):
                setattr(discord.VoiceClient, warning, False)
        super().__init__(intents=intents, allowed_mentions=discord.AllowedMentions.none(),
                         **options)
        self.adapter = adapter
        self.session = asyncio.Event()  # set once the gateway session is up (READY received)
        self.tree = app_commands.CommandTree(self)
        self.tree.on_error = self.on_command_error
        for command in slash_commands(adapter):
            self.tree.add_command(command)

    async def setup_hook(self) -> None:
        """Before the gateway connects: buttons of every message ever sent are answered."""
        self.add_dynamic_items(ChoiceButton)

    async def on_connect(self) -> None:
        """Events flow from here on. (on_ready comes later: discord.py first waits for the
        servers' details, which the coach does not need.)"""
        self.session.set()

    async def on_message(self, message: discord.Message) -> None:
        await self.adapter.on_message(message)

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        await self.adapter.on_stray_press(interaction)

    async def on_error(self, event_method: str, /, *args, **kwargs) -> None:
        log.exception("error in the Discord event %s", event_method)

    async def on_command_error(self, interaction: discord.Interaction,
                               error: app_commands.AppCommandError) -> None:
        log.error("error in a slash command from %s", interaction.user.id,
                  exc_info=(type(error), error, error.__traceback__))


def slash_commands(adapter: DiscordAdapter) -> list[app_commands.Command]:
    """The "/" menu: each command is handed to the coach as a Command; /pain takes 0-10.
    Allowed in servers and in the bot's DMs."""
    texts = adapter.coach.texts

    def plain(name: str) -> app_commands.Command:
        async def command(interaction: discord.Interaction) -> None:
            await adapter.on_command(interaction, name)
        return _command(name, texts(f"commands.{name}"), command)

    async def pain(interaction: discord.Interaction,
                   level: app_commands.Range[int, 0, 10]) -> None:
        await adapter.on_command(interaction, "pain", str(level))

    app_commands.describe(level=texts("discord.pain_level"))(pain)
    return [_command(name, texts(f"commands.{name}"), pain) if name == "pain" else plain(name)
            for name in MENU]


def _command(name: str, description: str, callback) -> app_commands.Command:
    app_commands.allowed_contexts(guilds=True, dms=True, private_channels=False)(callback)
    app_commands.allowed_installs(guilds=True, users=False)(callback)
    return app_commands.Command(name=name, description=description[:100], callback=callback)


# -- the adapter --------------------------------------------------------------------------------

class DiscordAdapter:
    """One bot account; each Discord user is one person, wherever they talk to it."""

    platform = PLATFORM
    # Discord allows about 5 messages per 5 s in a channel and 50 requests a second overall.
    budget = SendBudget(per_chat=Rate(5, 5.0), overall=Rate(50, 1.0))
    can_edit = True

    def __init__(self, coach: Coach, token: str, *, message_content: bool = True,
                 test_guild: int | None = None, **client_options) -> None:
        _plumbing.protect(token, MASK, LOGGERS)  # before the client exists
        self.coach = coach
        self.token = token
        self.test_guild = test_guild
        self.client = CoachClient(self, message_content, **client_options)
        self._slots: dict[tuple[int, str], tuple[int, int]] = {}  # (user, slot) -> channel, msg
        self._resume = Resume(Delivery.MAX_TRIES)  # parts out before a fault
        self._in_order = InOrder()
        self._recent: dict[int, Origin] = {}  # user id -> their latest interaction, oldest first
        self._tell_dms_closed: set[int] = set()  # told at their next interaction
        self._told_dms_closed: dict[int, float] = {}  # user id -> when last told (monotonic)
        self._acknowledged: OrderedDict[int, None] = OrderedDict()  # interaction ids, newest last
        self._connection: asyncio.Task | None = None
        self._stopped = asyncio.Event()

    # -- lifecycle (the app starts and stops every adapter the same way) -----------------------

    async def start(self) -> None:
        """Log in, sync the slash commands, connect to the gateway and wait for its session;
        a refused token or intent is a ConfigError saying what to do."""
        try:
            try:
                await self.client.login(self.token)
            except discord.LoginFailure:
                raise ConfigError(f"Discord rejected the token in {TOKEN_ENV}: copy it again "
                                  "from the developer portal (Bot -> Reset Token)") from None
            except (aiohttp.ClientError, OSError) as exc:
                raise ConfigError(f"cannot reach Discord: {redact(str(exc))}") from None
            await self._sync_commands()
            self._connection = asyncio.create_task(self.client.connect(), name="discord-gateway")
            ready = asyncio.create_task(self.client.session.wait())
            done, _ = await asyncio.wait({ready, self._connection}, timeout=READY_TIMEOUT,
                                         return_when=asyncio.FIRST_COMPLETED)
            ready.cancel()
            if self._connection in done:
                raise explain(self._connection.exception()
                              or ConnectionError("the Discord gateway closed"))
            if not done:
                log.warning("Discord: no gateway session after %.0f s; still trying", READY_TIMEOUT)
        except BaseException:
            await self.stop()
            raise
        log.info("Discord bot %s is up", self.client.user)

    async def _sync_commands(self) -> None:
        """The slash commands, synced at every start: to the test server (instant), or
        globally (for DMs and every server)."""
        tree = self.client.tree
        guild = discord.Object(self.test_guild) if self.test_guild else None
        if guild is not None:
            tree.copy_global_to(guild=guild)
        try:
            await tree.sync(guild=guild)
        except discord.Forbidden as exc:
            raise ConfigError(
                "Discord refused the slash commands"
                + (f" for DISCORD_TEST_GUILD={self.test_guild}" if guild else "")
                + f" ({exc.text}): invite the bot with the bot and applications.commands "
                "scopes") from None
        except discord.HTTPException as exc:
            log.error("could not sync the slash commands: %s", exc)

    def player_entrance(self, settings: PlayerSettings) -> Entrance | None:
        """With a public https address, the workout player is a link button whose URL carries
        a signed token for that person alone (in its #fragment, which no server receives).
        discord.py logs request bodies at DEBUG, so tokens are masked in its logs."""
        if settings.public_page is None:
            return None
        _plumbing.protect_pattern(TOKEN_PATTERN, TOKEN_MASK, LOGGERS)
        return Entrance(PLATFORM, settings.public_page, with_token=True)

    async def finished(self) -> None:
        """A bot runs until the process is asked to stop (or the gateway gives up)."""
        stopping = asyncio.create_task(self._stopped.wait())
        waiting = {stopping} | ({self._connection} if self._connection else set())
        try:
            await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()
        if self._connection is not None and self._connection.done() and not self._stopped.is_set():
            error = None if self._connection.cancelled() else self._connection.exception()
            log.error("the Discord connection ended: %s", explain(error) if error else "closed")
            # a failure either way (nobody asked it to stop): the supervisor starts it again
            raise explain(error) if error is not None else ConnectionError("the Discord "
                                                                           "gateway closed")

    async def stop(self) -> None:
        """Close the gateway and the HTTP session."""
        self._stopped.set()
        with contextlib.suppress(Exception):
            await self.client.close()
        if self._connection is not None:
            with contextlib.suppress(BaseException):
                await asyncio.wait_for(self._connection, 10)

    # -- inbound: slash commands, buttons, messages --------------------------------------------

    async def on_command(self, interaction: discord.Interaction, name: str, args: str = "") -> None:
        """/start, /pain 4, ...: deferred at once ("thinking", ephemerally in a server), then
        handed to the coach."""
        await self._hand_over(interaction, lambda key: Command(key, name, args), thinking=True)

    async def on_press(self, interaction: discord.Interaction, owner: int, action: str) -> None:
        """A button: only its owner may press it (anyone else is told so, privately, and
        nothing changes); acknowledged at once, then its action goes to the coach as the
        pressing user's (which recognises a button from a question that has passed)."""
        if interaction.user.id != owner:
            with _logged("could not answer a press on someone else's button"):
                await interaction.response.send_message(self.coach.texts("discord.not_yours"),
                                                        ephemeral=True)
            return
        await self._hand_over(interaction, lambda key: Picked(key, action), thinking=False)

    async def on_stray_press(self, interaction: discord.Interaction) -> None:
        """A press discord.py drops without a word: a custom_id that is not a button on the
        message it came from (a modified client can send any, naming anyone), or not one of
        ours. The presser is told privately that it is not theirs; nothing else happens."""
        if interaction.type is not discord.InteractionType.component:
            return
        custom_id = str((interaction.data or {}).get("custom_id", ""))
        if BUTTON_ID.fullmatch(custom_id) and custom_id in buttons_on(interaction.message):
            return  # a real button: ChoiceButton answers it
        log.warning("refused a Discord button press from %s: not a button on the message it "
                    "came from", interaction.user.id)
        with _logged("could not answer a forged button press"):
            await interaction.response.send_message(self.coach.texts("discord.not_yours"),
                                                    ephemeral=True)

    async def on_message(self, message: discord.Message) -> None:
        """Typed text. In DMs: a message to the coach ("start session", "07:30", "Berlin"). In
        a server only a message that mentions the bot counts, and it is not private: the coach
        answers in the channel that it talks about health in private."""
        author = message.author
        if author.bot or message.webhook_id is not None or self.client.user is None:
            return
        key = UserKey(PLATFORM, str(author.id))
        if isinstance(message.channel, discord.DMChannel):
            if not message.content and not self.client.intents.message_content:
                origin = Origin()
                await self.coach.send(key, Reply(self.coach.texts("discord.no_content")),
                                                 origin)
                return
            event: Event = Text(key, message.content, private=True, update=str(message.id))
            origin = Origin()
        elif any(user.id == self.client.user.id for user in message.mentions):
            text = re.sub(rf"<@!?{self.client.user.id}>", "", message.content).strip()
            event = Text(key, text, private=False, update=str(message.id))
            origin = Origin(channel=message.channel, message=message)
        else:
            return
        async with self._in_order.turn(key):
            await self.coach.handle(event, origin, display_name(author))

    async def _hand_over(self, interaction: discord.Interaction, event_for, thinking: bool) -> None:
        """Acknowledge first (Discord allows 3 s), then give the event to the coach. One
        person's events reach the coach in the order they came, however the acks interleave."""
        key = UserKey(PLATFORM, str(interaction.user.id))
        origin = Origin(interaction, ephemeral=interaction.guild_id is not None, thinking=thinking)
        turn = self._in_order.turn(key)  # our place in line, taken before the first await
        if interaction.id in self._acknowledged:  # delivered again: Discord would refuse a
            origin.interaction = None  # second acknowledgement, and the core answers nothing new
        else:
            self._acknowledged[interaction.id] = None
            while len(self._acknowledged) > ACKNOWLEDGED_KEPT:
                self._acknowledged.popitem(last=False)
            try:
                await interaction.response.defer(ephemeral=origin.ephemeral, thinking=thinking)
            except discord.HTTPException as exc:  # 10062: too late; the answers go to the DMs
                log.warning("could not acknowledge an interaction from %s: %s", key, exc)
                origin.interaction = None
            self._remember(interaction.user.id, origin)
        event = dataclasses.replace(event_for(key), update=str(interaction.id))
        async with turn:
            if interaction.user.id in self._tell_dms_closed and origin.interaction is not None:
                await self._advise_open_dms(interaction.user.id, origin)
            await self.coach.handle(event, origin, display_name(interaction.user))
        if origin.interaction is not None and origin.thinking and not origin.answered:
            with _logged("could not remove an unanswered 'thinking' message"):
                await interaction.delete_original_response()

    # -- outbound -----------------------------------------------------------------------------

    async def send(self, user: UserKey, reply: Reply, context: object | None) -> None:
        """Deliver one Reply: an edit of the message in its slot, follow-ups to the interaction
        it answers, or messages in the DM channel. Discord's answers become the core's
        Unreachable / RetryAfter / Transient."""
        origin = context if isinstance(context, Origin) else Origin()
        with self._resume.sending(user, reply) as progress:
            await self._send(user, reply, origin, progress)

    async def _send(self, user: UserKey, reply: Reply, origin: Origin,
                    progress: Progress) -> None:
        if self._stopped.is_set():
            raise Transient("the Discord adapter is stopped")
        direct = origin.channel is None and not origin.follows_up(reply)
        try:
            if reply.edit and reply.slot and await self._edit(user, reply):
                return
            if reply.kind == "countdown":  # a countdown only ever edits its cue
                return
            if origin.follows_up(reply):
                if await self._follow_up(user, origin, reply, progress):
                    return
                direct = True
            if origin.channel is not None:
                await self._post(user, origin.channel, reply, progress, origin,
                                 reference=origin.message)
            else:
                await self._post(user, await self.client.create_dm(discord.Object(int(user.id))),
                                 reply, progress, origin)
                self._tell_dms_closed.discard(int(user.id))  # open again
                self._told_dms_closed.pop(int(user.id), None)
        except discord.Forbidden as exc:
            if direct:  # blocked, or DMs closed (50007)
                if exc.code == DMS_CLOSED:
                    await self._dms_closed(int(user.id), origin)
                raise Unreachable(f"Discord {exc.status} ({exc.code}): {exc.text}",
                                  lasting=exc.code != DMS_CLOSED) from None
            log.warning("Discord refused a message in a server channel for %s: %s", user, exc)
        except discord.HTTPException as exc:
            if direct and exc.code == BAD_RECIPIENT:
                raise Unreachable(f"Discord {exc.status} ({exc.code}): {exc.text}") from None
            if exc.status == 429:  # discord.py retried already; let the core wait too
                raise RetryAfter(1.0) from None
            if exc.status >= 500:
                raise Transient(f"Discord {exc.status}: {exc.text}") from None
            log.error("Discord refused a message to %s: %s", user, exc)  # a bug: not retried
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
            raise Transient(f"{type(exc).__name__}: {redact(str(exc))}") from None

    def chat_of(self, user: UserKey, context: object | None) -> str:
        """The channel a reply goes to, for the core's per-chat budget: a server channel is one
        chat for everyone in it; a person's DMs and their interactions' follow-ups are theirs."""
        origin = context if isinstance(context, Origin) else None
        if origin is not None and origin.channel is not None:
            return f"channel:{origin.channel.id}"
        return f"dm:{user.id}"

    # -- closed DMs ---------------------------------------------------------------------------

    async def _dms_closed(self, user_id: int, origin: Origin) -> None:
        """A DM was refused: tell the person how to open their DMs, only to them, on the
        interaction being answered or their latest live one; else at their next interaction.
        At most once in ADVICE_EVERY, however many DMs fail meanwhile (a workout's cues)."""
        told = self._told_dms_closed.get(user_id)
        if told is not None and time.monotonic() - told < ADVICE_EVERY:
            return
        for candidate in (origin, self._recent.get(user_id)):
            if candidate is not None and candidate.live() and \
                    await self._advise_open_dms(user_id, candidate):
                return
        self._tell_dms_closed.add(user_id)

    async def _advise_open_dms(self, user_id: int, origin: Origin) -> bool:
        """The advice as an ephemeral follow-up; False when the interaction cannot carry it."""
        assert origin.interaction is not None
        try:
            await origin.interaction.followup.send(self.coach.texts("discord.dms_closed"),
                                                   ephemeral=True, wait=True)
        except (discord.HTTPException, aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
            log.info("could not tell %s that their DMs are closed: %s", user_id, exc)
            return False
        origin.answered += 1
        self._told_dms_closed[user_id] = time.monotonic()
        self._tell_dms_closed.discard(user_id)
        return True

    def _remember(self, user_id: int, origin: Origin) -> None:
        """Keep the person's latest interaction while its token lives (bounded, oldest out)."""
        self._recent.pop(user_id, None)
        if origin.interaction is not None:
            self._recent[user_id] = origin
        while self._recent:
            oldest = next(iter(self._recent))
            if len(self._recent) <= RECENT_INTERACTIONS and self._recent[oldest].live():
                break
            del self._recent[oldest]

    async def _edit(self, user: UserKey, reply: Reply) -> bool:
        """Edit the slot's message in place, buttons included; False when there is none."""
        where = self._slots.get((int(user.id), reply.slot))
        if where is None:
            return False
        channel_id, message_id = where
        message = self.client.get_partial_messageable(
            channel_id, type=discord.ChannelType.private).get_partial_message(message_id)
        try:
            await message.edit(content=split_text(reply.text)[0] if reply.text else None,
                               view=ChoicesView(int(user.id), reply.choices))
        except discord.NotFound:  # deleted meanwhile
            del self._slots[(int(user.id), reply.slot)]
            return False
        return True

    async def _follow_up(self, user: UserKey, origin: Origin, reply: Reply,
                         progress: Progress) -> bool:
        """Answer through the interaction (ephemerally in a server); False when its token has
        expired, so the reply (what is left of it) goes to the DMs instead."""
        followup = origin.interaction.followup
        try:
            await self._deliver(user, lambda **kw: followup.send(
                ephemeral=origin.ephemeral, wait=True, **kw), reply, progress, origin)
        except discord.NotFound as exc:  # 10015 unknown webhook: the token has expired
            log.info("interaction expired for %s (%s); answering in DMs", user, exc)
            origin.interaction = None
            return False
        origin.answered += 1
        return True

    async def _post(self, user: UserKey, channel: discord.abc.Messageable, reply: Reply,
                    progress: Progress, origin: Origin,
                    reference: discord.Message | None = None) -> None:
        """Messages in a channel; a reply with a slot remembers its message for later edits."""
        def send(**kw):
            if reference is not None:
                kw.update(reference=reference, mention_author=False)
            return channel.send(**kw)
        message = await self._deliver(user, send, reply, progress, origin)
        if reply.slot and message is not None:
            self._slots[(int(user.id), reply.slot)] = (message.channel.id, message.id)

    async def _deliver(self, user: UserKey, send, reply: Reply, progress: Progress,
                       origin: Origin) -> discord.Message | None:
        """One Reply as messages through `send`: text in parts of at most 2,000 characters; the
        picture, files and buttons go on the last one. The core's retry after a fault sends only
        the parts that did not go out."""
        texts = split_text(reply.text) or [""]
        attachments = ((reply.image,) if reply.image else ()) + reply.files
        view = ChoicesView(int(user.id), reply.choices) if reply.choices else None
        message = None
        first = progress.done  # a retry starts where the last try stopped, on a place of its own
        for index, text in enumerate(texts):
            if index < first:
                continue
            if index > first:
                await self.coach.services.delivery.next_message(user, origin)
            options: dict = {"content": text} if text else {}
            if index == len(texts) - 1:
                if attachments:  # a GIF attached is shown animated, in the message
                    options["files"] = [discord.File(io.BytesIO(a.data), filename=a.name,
                                                     description=a.description or None)
                                        for a in attachments]
                if view is not None and view.children:
                    options["view"] = view
            if options:
                message = await send(**options)
            progress.done = index + 1
        return message


# -- in order, per person -----------------------------------------------------------------------

class InOrder:
    """Hands one person's events to the coach in the order they arrived: `turn(key)` takes a
    place in line at once; `async with` waits until the events before it are handled."""

    def __init__(self) -> None:
        self._last: dict[UserKey, asyncio.Future] = {}

    def turn(self, key: UserKey) -> _Turn:
        before = self._last.get(key)
        mine = asyncio.get_running_loop().create_future()
        self._last[key] = mine
        return _Turn(self, key, before, mine)


@dataclass
class _Turn:
    line: InOrder
    key: UserKey
    before: asyncio.Future | None
    mine: asyncio.Future

    async def __aenter__(self) -> None:
        try:
            if self.before is not None:
                await asyncio.shield(self.before)
        except BaseException:
            self._done()
            raise

    async def __aexit__(self, *exc) -> None:
        self._done()

    def _done(self) -> None:
        if not self.mine.done():
            self.mine.set_result(None)
        if self.line._last.get(self.key) is self.mine:
            del self.line._last[self.key]


# -- text ---------------------------------------------------------------------------------------

def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Parts of at most `limit` characters, cut at a paragraph, line or word when possible."""
    return _plumbing.split_text(text, limit)


def display_name(user: discord.abc.User) -> str:
    """The person's own name (not a server nickname)."""
    return getattr(user, "global_name", None) or user.name or ""


# -- errors -------------------------------------------------------------------------------------

def explain(error: BaseException) -> BaseException:
    """A gateway failure as something a person can act on; a ConfigError is one that trying
    again cannot mend (the supervisor gives the platform up at once)."""
    if isinstance(error, discord.PrivilegedIntentsRequired):
        return ConfigError(INTENT_HELP)
    if isinstance(error, discord.LoginFailure):
        return ConfigError(f"Discord rejected the token in {TOKEN_ENV}")
    if isinstance(error, discord.ConnectionClosed) and error.code == AUTHENTICATION_FAILED:
        return ConfigError(f"Discord closed the gateway with {error.code} (authentication "
                           f"failed): the token in {TOKEN_ENV} is no longer valid; copy it "
                           "again from the developer portal (Bot -> Reset Token)")
    return error


@contextlib.contextmanager
def _logged(what: str):
    try:
        yield
    except discord.HTTPException as exc:
        log.info("%s: %s", what, exc)


# -- configuration ------------------------------------------------------------------------------

def point_at(api_base: str | None, gateway: str | None) -> None:
    """Send discord.py to another server (a stand-in), for this whole process."""
    if api_base:
        discord.http.Route.BASE = api_base.rstrip("/")
    if gateway:
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway)


def _flag(value: str) -> bool:
    return value.strip().lower() not in ("0", "false", "no", "off", "")


def create(coach: Coach, args) -> DiscordAdapter:
    token = os.environ.get(TOKEN_ENV, "").strip()
    if not token:
        raise ConfigError(f"{TOKEN_ENV} is not set. Create an application at "
                          "https://discord.com/developers/applications, add a bot, and put its "
                          f"token in the environment or in a .env file: {TOKEN_ENV}=...")
    if not TOKEN_SHAPE.fullmatch(token):  # caught here, before any request carries it
        raise ConfigError(f"{TOKEN_ENV} cannot be a Discord bot token: those are three parts "
                          "of letters, digits, '-' or '_' joined by dots, with no 'Bot ' in "
                          "front. Copy it again from the developer portal (Bot -> Reset Token)")
    guild = os.environ.get("DISCORD_TEST_GUILD", "").strip()
    if guild and not guild.isdigit():
        raise ConfigError("DISCORD_TEST_GUILD must be a server id (a number)")
    point_at(os.environ.get("DISCORD_API_BASE_URL"), os.environ.get("DISCORD_GATEWAY_URL"))
    return DiscordAdapter(coach, token,
                          message_content=_flag(os.environ.get("DISCORD_MESSAGE_CONTENT", "1")),
                          test_guild=int(guild) if guild else None)
