"""Where every verb and every conversation state goes: one table, filled once when the coach
is built, from the core's own routes and from each feature's declaration.

Order of precedence, as the coach reads the table for each event:
0. Verbs the person's state answers first (`StateRoute.first`): onboarding reads "remind me at
   7:30am" as the answer to its time question, before the settings shortcut would.
1. ANYWHERE verbs (export, delete, settings, snooze, ...): in every state, even mid-onboarding,
   each handler deciding for itself what it allows.
2. SOCIAL verbs (hello, thanks, bye): a kind line, then the open question again.
3. AFTER_ONBOARDING verbs (help, start, rescreen): for anyone past onboarding, even when the
   safety check has stopped the programme.
4. IN_PROGRAMME verbs (progress, why): for people in the programme.
5. The state's own conversation (workout, pain question, morning check, settings, ...).
A state says which verb tiers come before it (`StateRoute.opens`): a new person's first words
let none through (they start onboarding), onboarding lets SOCIAL through (it answers help and
start itself), a red flag up to AFTER_ONBOARDING. A state with `reasks` asks its question again
after an ANYWHERE verb that left the person in it (an export mid-onboarding).

`describe()` prints the whole table (`python bot.py routes`). A verb or state claimed twice
is an error at build time: nothing is installed by wrapping what was there before.
"""
from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from bot.events import UserKey
from bot.intents import Intent
from bot.replies import Reply

if TYPE_CHECKING:
    import asyncio

    from bot.data.store import User

Handler = Callable[["User", Intent], Awaitable[list[Reply]]]
Prompt = Callable[["User"], list[Reply]]
Hook = Callable[[], Awaitable[None]]


class Tier(enum.IntEnum):
    """When a verb is tried, relative to the person's state (see the module docstring)."""

    ANYWHERE = 1
    SOCIAL = 2
    AFTER_ONBOARDING = 3
    IN_PROGRAMME = 4


@dataclass(frozen=True)
class VerbRoute:
    verb: str
    handler: Handler
    tier: Tier = Tier.ANYWHERE


@dataclass(frozen=True)
class StateRoute:
    """A conversation a feature owns: `answer` takes what the person says in it, `prompt`
    repeats its question. `match` is an exact state or, ending in ":" or "_", a prefix."""

    match: str
    answer: Handler
    prompt: Prompt
    opens: Tier | None = Tier.IN_PROGRAMME  # the last verb tier tried before this state
    first: frozenset[str] = frozenset()  # verbs this state answers before any tier
    reasks: bool = False  # its question again after an ANYWHERE verb that left it open

    def matches(self, state: str) -> bool:
        if self.match.endswith((":", "_")):
            return state.startswith(self.match)
        return state == self.match


@dataclass(frozen=True)
class Feature:
    """What one feature brings to the coach: its verbs, its states and its hooks."""

    name: str
    verbs: tuple[VerbRoute, ...] = ()
    states: tuple[StateRoute, ...] = ()
    holds_step_ups: Callable[[User], bool] | None = None  # next-morning rule
    # A workout was just opened: the replies that offer the player page instead of the chat's
    # timer (the feature then owns how it runs), or None to guide it in the chat as usual.
    offer_player: Callable[[User, int, list[Reply]], list[Reply] | None] | None = None
    offers_player: Callable[[User], bool] | None = None  # the page is there for this person
    on_start: Hook | None = None
    on_stop: Hook | None = None
    on_unreachable: Callable[[UserKey, str], Awaitable[None]] | None = None  # reminders off


class Conversation(Protocol):
    """What features may ask of the coach: the narrow surface, never its internals."""

    def prompt(self, user: User) -> list[Reply]: ...
    def menu(self) -> Reply: ...
    async def in_ready(self, user: User, intent: Intent) -> list[Reply]: ...
    def lock(self, user: UserKey) -> asyncio.Lock: ...
    def workout_running(self, user: UserKey) -> bool: ...
    def training(self, user: User) -> bool: ...
    def end_workout_quietly(self, user: UserKey) -> None: ...


class RoutingClash(Exception):
    """Two owners claimed the same verb or state: a wiring mistake, caught at build time."""


@dataclass
class RoutingTable:
    """Every verb and state with its owner; read by the coach, filled only by `add`."""

    verbs: dict[str, tuple[str, VerbRoute]] = field(default_factory=dict)
    states: list[tuple[str, StateRoute]] = field(default_factory=list)
    features: list[Feature] = field(default_factory=list)

    def add(self, feature: Feature) -> None:
        for route in feature.verbs:
            if route.verb in self.verbs:
                raise RoutingClash(f"verb {route.verb!r}: {self.verbs[route.verb][0]} "
                                   f"and {feature.name}")
            self.verbs[route.verb] = (feature.name, route)
        for state in feature.states:
            for owner, known in self.states:
                if known.match == state.match:
                    raise RoutingClash(f"state {state.match!r}: {owner} and {feature.name}")
            self.states.append((feature.name, state))
        self.features.append(feature)

    def verb(self, verb: str, tier: Tier) -> Handler | None:
        found = self.verbs.get(verb)
        return found[1].handler if found is not None and found[1].tier == tier else None

    def state(self, state: str) -> StateRoute | None:
        """The conversation that owns this state; the longest match wins ("set_" < "set_menu")."""
        found = [route for _, route in self.states if route.matches(state)]
        return max(found, key=lambda route: len(route.match)) if found else None

    def hooks(self, name: str) -> list[Callable[..., Awaitable[None]]]:
        """Every feature's hook of this name (on_start, on_stop, ...), in the order added."""
        return [hook for feature in self.features
                if (hook := getattr(feature, name)) is not None]

    def holds_step_ups(self, user: User) -> bool:
        return any(feature.holds_step_ups(user) for feature in self.features
                   if feature.holds_step_ups is not None)

    def offers_player(self, user: User) -> bool:
        return any(feature.offers_player(user) for feature in self.features
                   if feature.offers_player is not None)

    def offer_player(self, user: User, workout_id: int, opening: list[Reply]) -> list[Reply] | None:
        """The first feature that takes a just-opened workout away from the chat's timer."""
        for feature in self.features:
            if feature.offer_player is not None:
                offered = feature.offer_player(user, workout_id, opening)
                if offered is not None:
                    return offered
        return None

    def describe(self) -> Iterable[str]:
        """One line per verb and state: what it is, when it is tried, who handles it."""
        for verb, (owner, route) in sorted(self.verbs.items(),
                                           key=lambda item: (item[1][1].tier, item[0])):
            yield f"verb  {verb:<16} {route.tier.name.lower():<17} {owner}: " \
                  f"{_name(route.handler)}"
        for owner, route in self.states:
            opens = route.opens.name.lower() if route.opens else "no verbs first"
            first = f" (answers first: {', '.join(sorted(route.first))})" if route.first else ""
            yield f"state {route.match:<16} {opens:<17} {owner}: {_name(route.answer)}{first}"


def verbs(tier: Tier, handlers: Mapping[str, Handler]) -> tuple[VerbRoute, ...]:
    """Shorthand for several verbs of one tier."""
    return tuple(VerbRoute(verb, handler, tier) for verb, handler in handlers.items())


def _name(handler: Callable[..., object]) -> str:
    return getattr(handler, "__qualname__", repr(handler))
