"""The coach's side of the workout player: the open workout as the page's plan, the page's reports
kept exactly as a chat workout keeps them, and the switch between page and chat.

A workout is run by the chat or by the page, never both at once (the person's state says which):
- where the player is offered (an `Entrance` for the person's platform), "start session" opens
  the workout in state PLAYER with "Open the player" beside "Guide me here in chat", and nothing
  is timed in the chat;
- opening the page takes the workout over (`opened`), also from a chat timer that was running
  (or a workout a restart cut off): that timer stops quietly, and the exercise it was in starts
  again from its beginning on the page;
- "Guide me here in chat" hands it back: the chat's timer carries on from the first exercise the
  page had not reported, and the page's later reports are refused until it is opened again;
- each report is recorded with the chat's own `keep_outcome`, and the end with the chat's own
  `workout_ended` (status, then the pain question in the chat), so progression and history are
  those of any workout.
Every change happens under the coach's per-person lock, so a page report and a chat message from
the same person never interleave.
"""
from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import time
from collections.abc import Callable
from typing import Protocol

from bot.content import Exercise, Stage
from bot.data.store import User
from bot.events import UserKey
from bot.intents import Intent, button
from bot.player.auth import issue_token
from bot.player.backend import PageRefused, PainNoted
from bot.player.plan import PlanDTO, PlannedExercise, build_plan
from bot.player.settings import LINK_LIFETIME_S
from bot.replies import Choice, Reply, in_one
from bot.routing import Feature, StateRoute, Tier, verbs
from bot.services import Services
from bot.states import INTERRUPTED, PLAYER, READY, WORKOUT, underneath
from bot.workout.pain import clinician_advice
from bot.workout.session import Position, estimated_minutes, keep_outcome, todays_plan
from bot.workout.timers import DONE, SKIPPED, STOPPED

log = logging.getLogger(__name__)
TAKEN_OVER_FROM = (WORKOUT, INTERRUPTED)  # a page that opens takes these workouts over
PICTURES_PATH = "api/picture/"  # + a stage's picture key: relative to the page (bot/player/web.py)
STOP_VERBS = frozenset({"stop", "quit", "finish_now"})
CONTROLS = frozenset({"pause", "resume", "skip_rest", "add_time", "skip", "done", "next"})


class ChatWorkouts(Protocol):
    """What the player needs of the coach: its per-person lock and its chat workouts."""

    def lock(self, user: UserKey) -> asyncio.Lock: ...
    def workout_running(self, user: UserKey) -> bool: ...
    def end_workout_quietly(self, user: UserKey) -> None: ...
    def run_in_chat(self, user: User, workout_id: int, position: Position) -> list[Reply]: ...
    async def workout_ended(self, user: User, workout_id: int, outcome: str,
                            summary: str | None = None) -> None: ...
    def prompt(self, user: User) -> list[Reply]: ...
    def menu(self) -> Reply: ...
    def ask_pain_before(self, user: User) -> list[Reply]: ...
    def note_pain_before(self, user: User, score: int) -> tuple[str, bool]: ...


@dataclasses.dataclass(frozen=True)
class Doorway:
    """Where one platform's people open the page, and whether their link carries our token."""

    page_url: str
    with_token: bool


class CoachBackend:
    """The core's PlayerBackend, and the chat feature that offers the page and switches back."""

    def __init__(self, services: Services, chat: ChatWorkouts,
                 wall_time: Callable[[], float] = time.time) -> None:
        self.services = services
        self.texts = services.texts
        self.chat = chat
        self.wall_time = wall_time  # tokens expire in real time, not on the scaled clock
        self.doorways: dict[str, Doorway] = {}
        self._secret: bytes | None = None
        self._switched = asyncio.Event()  # replaced each time a workout leaves the page
        self._notices: set[asyncio.Task[None]] = set()

    def open_to(self, platform: str, page_url: str, with_token: bool, secret: bytes) -> None:
        """Offer the page to this platform's people from now on (the player's server is up)."""
        self.doorways[platform] = Doorway(page_url, with_token)
        self._secret = secret

    def offered_to(self, person: UserKey) -> bool:
        return person.platform in self.doorways

    def feature(self) -> Feature:
        return Feature(
            name="player",
            verbs=verbs(Tier.IN_PROGRAMME, {"player": self._open_player,
                                             "in_chat": self._guide_in_chat}),
            states=(StateRoute(PLAYER, self._in_player, self._on_page_prompt),),
            offer_player=self.offer,
            offers_player=lambda user: self.offered_to(user.key),
            on_start=self._after_restart)

    # -- PlayerBackend: what the page asks --------------------------------------------------

    async def opened(self, person: UserKey) -> PlanDTO | None:
        async with self.chat.lock(person):
            user, row = self._open_workout(person)
            if user is None or row is None:
                return None
            if user.state in TAKEN_OVER_FROM:
                self._take_over(user, row)
            elif underneath(user.state) != PLAYER:
                return None
            return self._plan(user, row)

    async def plan_for(self, person: UserKey) -> PlanDTO | None:
        async with self.chat.lock(person):
            user, row = self._open_workout(person)
            if user is None or row is None or underneath(user.state) not in (PLAYER, WORKOUT):
                return None
            if user.state == WORKOUT:
                raise PageRefused("in_chat")
            return self._plan(user, row)

    async def pain_before(self, person: UserKey, workout_id: int, score: int) -> PainNoted:
        async with self.chat.lock(person):
            user, row = self._page_workout(person, workout_id)
            if row["pain_before"] is not None:  # answered already (a repeat): the first stands
                return PainNoted(False, "", True)
            message, go_on = self.chat.note_pain_before(user, score)
            if go_on:
                self.services.store.set_workout_pain_before(workout_id, score,
                                                            self.services.clock.now())
            else:  # not today: no workout after all; the chat offers rest, not a session
                self._close_unbegun(user, row)
                for reply in self.chat.prompt(user):
                    self._tell_after(user.key, reply)
            return PainNoted(True, message, go_on)

    async def exercise_reported(self, person: UserKey, workout_id: int, index: int,
                                outcome: str) -> None:
        async with self.chat.lock(person):
            user, row = self._page_workout(person, workout_id)
            plan = todays_plan(self.services, user)
            exercise, stage = plan[index]
            if exercise.id in self._outcomes(workout_id):
                return  # already kept (the web server checks too): exactly once
            position = self._position(row, plan)
            position.exercise = index
            keep_outcome(self.services, workout_id, position, exercise, stage,
                         DONE if outcome == DONE else SKIPPED)

    async def ended(self, person: UserKey, workout_id: int, outcome: str) -> None:
        async with self.chat.lock(person):
            user, row = self._page_workout(person, workout_id)
            if not self._begun(row):  # stopped before the pain answer: nothing to keep
                self._close_unbegun(user, row)
                return
            await self.chat.workout_ended(user, workout_id, STOPPED if outcome == STOPPED else DONE)
            self._left_the_page()

    async def picture(self, key: str) -> bytes | None:
        pictures = self.services.pictures
        return None if pictures is None else await pictures.animation_by_key(key)

    async def until_off_the_page(self, person: UserKey) -> None:
        """Return once this person's workout no longer runs on the page (it ended, or the chat
        took it back): the terminal waits here for the page."""
        while True:
            switched = self._switched
            user = self.services.store.find_user(person)
            if user is None or user.state != PLAYER:
                return
            await switched.wait()

    # -- the chat's side: the offer, and switching -------------------------------------------

    def offer(self, user: User, workout_id: int, opening: list[Reply]) -> list[Reply] | None:
        """"start session": the workout waits for the person's choice of page or chat, which
        the last opening message offers (one message, not one more)."""
        if not self.offered_to(user.key):
            return None
        self.services.store.set_state(user.id, PLAYER)
        user.state = PLAYER
        last = opening[-1]
        offered = dataclasses.replace(
            last, text=f"{last.text}\n\n{self.texts('player_offer.offer')}",
            choices=last.choices + self._choices(user.key))
        return [*opening[:-1], offered]

    async def _in_player(self, user: User, intent: Intent) -> list[Reply]:
        """What the person says in the chat while the workout is the page's."""
        row = self.services.store.running_workout(user.id)
        if row is None:  # nothing open after all: back to the menu
            self.services.store.set_state(user.id, READY)
            user.state = READY
            return [self.chat.menu()]
        verb = intent.verb
        if verb in STOP_VERBS and not self._begun(row):  # not begun: no session after all
            self._close_unbegun(user, row)
            return in_one([Reply(self.texts("pain_check.cancelled")), self.chat.menu()])
        if verb in STOP_VERBS:  # ended from the chat, as "stop" ends a chat workout
            await self.chat.workout_ended(user, row["id"], STOPPED)
            self._left_the_page()
            return []
        if verb in ("pain", "number") and not self._begun(row):
            return self._pain_before_in_chat(user, row, int(intent.arg))
        if verb in ("pain", "number"):
            score = int(intent.arg)
            self.services.store.add_pain(user.id, score, "adhoc", self.services.clock.now())
            return [Reply(self.texts("pain.noted_any", score=score))] + \
                clinician_advice(self.services, score)
        if verb in ("pain_invalid", "number_invalid"):
            return [Reply(self.texts("pain.out_of_range"))]
        if verb == "negated":
            return [Reply(self.texts("answers.negated"))]
        return self._on_page_prompt(user)

    def _pain_before_in_chat(self, user: User, row: dict, score: int) -> list[Reply]:
        """A pain score typed in the chat before the page asked: it is the answer the page
        would have asked for, and acts as that one (8 or more: no workout today)."""
        message, go_on = self.chat.note_pain_before(user, score)
        if go_on:
            self.services.store.set_workout_pain_before(row["id"], score,
                                                        self.services.clock.now())
            return [Reply(f"{message}\n\n{self.texts('player_offer.on_page')}",
                          self._choices(user.key))]
        self._close_unbegun(user, row)
        return in_one([Reply(message), *self.chat.prompt(user)])

    def _on_page_prompt(self, user: User) -> list[Reply]:
        """Where the workout is: still on offer (not begun), or running on the page."""
        row = self.services.store.running_workout(user.id)
        key = "player_offer.offer" if row is not None and not self._begun(row) else \
            "player_offer.on_page"
        return [Reply(self.texts(key), self._choices(user.key))]

    async def _open_player(self, user: User, intent: Intent) -> list[Reply]:
        """"Open the player" typed: its link, for the workout that is open now."""
        if not self.offered_to(user.key):
            return [Reply(self.texts("player_offer.unavailable"))] + self.chat.prompt(user)
        if self.services.store.running_workout(user.id) is None \
                or user.state not in (PLAYER, *TAKEN_OVER_FROM):
            return [Reply(self.texts("player_offer.start_first"))] + self.chat.prompt(user)
        if user.state == PLAYER:
            return self._on_page_prompt(user)
        return [Reply(self.texts("player_offer.open_during_chat"),
                      (self._open_choice(user.key),))]

    async def _guide_in_chat(self, user: User, intent: Intent) -> list[Reply]:
        """"Guide me here in chat": the chat's timer carries on where the page's reports end."""
        row = self.services.store.running_workout(user.id)
        if user.state == WORKOUT:
            return [Reply(self.texts("player_offer.already_in_chat"))]
        if user.state != PLAYER or row is None:
            return [Reply(self.texts("player_offer.nothing_open"))] + self.chat.prompt(user)
        self._left_the_page()
        if row["pain_before"] is None:  # the page had not asked yet: the chat asks first
            self.services.store.set_state(user.id, READY)
            user.state = READY
            return self.chat.ask_pain_before(user)
        if row["status"] != "running":
            self.services.store.set_workout_status(row["id"], "running")
        position = self._position(row, todays_plan(self.services, user))
        opening = self.chat.run_in_chat(user, row["id"], position)
        log.info("player: %s went back to the chat at exercise %d", user.key, position.exercise)
        return [Reply(self.texts("player_offer.to_chat"))] + opening

    async def _after_restart(self) -> None:
        """After Coach.recover: a workout the page runs was not cut off by the restart (its
        timer is on the phone), so it stays open; without the player now, it is offered to
        resume or finish like any workout a restart cut off."""
        store = self.services.store
        for row in store.workouts_with_status("interrupted"):
            user = store.user_by_id(row["user_id"])
            if user.state != PLAYER:
                continue
            if self.offered_to(user.key):
                store.set_workout_status(row["id"], "running")
                continue
            if not self._begun(row):  # never begun, and no page to begin it on now: closed
                self._close_unbegun(user, row)
                continue
            store.set_state(user.id, INTERRUPTED)
            user.state = INTERRUPTED
            for reply in self.chat.prompt(user):
                await self.services.delivery.send(user.key, reply)

    # -- helpers ------------------------------------------------------------------------------

    def _choices(self, person: UserKey) -> tuple[Choice, ...]:
        in_chat = Choice(self.texts("player_offer.in_chat"), button("in_chat"))
        if not self.offered_to(person):  # the page is not served now: the chat it is
            return (in_chat,)
        return (self._open_choice(person), in_chat)

    def _open_choice(self, person: UserKey) -> Choice:
        return Choice(self.texts("player_offer.open"), url=self.link(person), web_app=True)

    def link(self, person: UserKey) -> str:
        """The page's address for this person: with a fresh token where their platform does
        not sign who they are itself."""
        doorway = self.doorways[person.platform]
        if not doorway.with_token:
            return doorway.page_url
        assert self._secret is not None
        token = issue_token(self._secret, person, self.wall_time() + LINK_LIFETIME_S)
        return f"{doorway.page_url}#token={token}"

    def _open_workout(self, person: UserKey) -> tuple[User | None, dict | None]:
        user = self.services.store.find_user(person)
        if user is None:
            return None, None
        return user, self.services.store.running_workout(user.id)

    def _page_workout(self, person: UserKey, workout_id: int) -> tuple[User, dict]:
        """The person and the workout the page runs; PageRefused when it is not this page's."""
        user, row = self._open_workout(person)
        # Under an open "delete my data?" question the page carries on: nothing it sends is lost.
        if user is None or row is None or underneath(user.state) not in (PLAYER, WORKOUT):
            raise PageRefused("no_workout")
        if user.state == WORKOUT:
            raise PageRefused("in_chat")
        if row["id"] != workout_id:
            raise PageRefused("stale")
        return user, row

    def _take_over(self, user: User, row: dict) -> None:
        """The page opened while the chat had the workout: the chat's timer stops where it is
        (nothing more is said or saved by it), and the chat says where the workout went."""
        if self.chat.workout_running(user.key):
            self.chat.end_workout_quietly(user.key)
        if row["status"] != "running":  # cut off by a restart: the page resumes it
            self.services.store.set_workout_status(row["id"], "running")
        self.services.store.set_state(user.id, PLAYER)
        user.state = PLAYER
        log.info("player: %s took workout %d over from the chat", user.key, row["id"])
        notice = Reply(self.texts("player_offer.moved_to_page"),
                       (Choice(self.texts("player_offer.in_chat"), button("in_chat")),))
        self._tell_after(user.key, notice)

    def _tell_after(self, person: UserKey, reply: Reply) -> None:
        """Say it in the chat once the lock is free, without holding up the page's request."""
        async def tell() -> None:
            async with self.chat.lock(person):
                await self.services.delivery.send(person, reply)
        task = asyncio.create_task(tell(), name=f"player-notice-{person}")
        self._notices.add(task)
        task.add_done_callback(self._notices.discard)

    def _begun(self, row: dict) -> bool:
        """A workout begins with its pain answer (the page asks it first): before that it is
        only an offer, and closing it leaves no history."""
        return row["pain_before"] is not None or bool(
            self.services.store.workout_exercises(row["id"]))

    def _close_unbegun(self, user: User, row: dict) -> None:
        """Close a workout that never began: it is removed, and the chat is back at its menu
        (under an open "delete my data?" question, which still waits for its answer)."""
        self.services.store.discard_workout(row["id"])
        still_asking = user.state[:len(user.state) - len(underneath(user.state))]
        self.services.store.set_state(user.id, still_asking + READY)
        user.state = still_asking + READY
        self._left_the_page()

    def _left_the_page(self) -> None:
        switched, self._switched = self._switched, asyncio.Event()
        switched.set()

    def _outcomes(self, workout_id: int) -> dict[str, str]:
        return {row["exercise_id"]: row["outcome"]
                for row in self.services.store.workout_exercises(workout_id)}

    def _position(self, row: dict, plan: list) -> Position:
        """Where the workout is, from what is kept: the first exercise without an outcome, and
        the warm-up behind once the chat ran it or an exercise is done."""
        outcomes = self._outcomes(row["id"])
        position = Position(done=[e.id for e, _ in plan if outcomes.get(e.id) == DONE],
                            skipped=[e.id for e, _ in plan if outcomes.get(e.id) == SKIPPED],
                            warmed_up=bool(outcomes) or _saved(row).warmed_up)
        position.exercise = next((index for index, (exercise, _) in enumerate(plan)
                                  if exercise.id not in outcomes), len(plan))
        return position

    def _picture_url(self, exercise: Exercise, stage: Stage) -> str | None:
        """Where the page fetches the stage's animation (the same as the chat's cards show)."""
        pictures = self.services.pictures
        if pictures is None:
            return None
        try:
            files = pictures.files_named(exercise.id, exercise.stages.index(stage))
        except (KeyError, ValueError):  # a stage without a picture: the page goes without
            return None
        return f"{PICTURES_PATH}{files.key}"

    def _plan(self, user: User, row: dict) -> PlanDTO:
        workout_id = row["id"]
        plan = todays_plan(self.services, user)
        outcomes = self._outcomes(workout_id)
        items = [PlannedExercise(exercise, stage, outcomes.get(exercise.id),
                                 self._picture_url(exercise, stage))
                 for exercise, stage in plan]
        behind = bool(outcomes) or _saved(row).warmed_up  # resumed, or warmed up in the chat
        warmup = () if behind else self.services.programme.warmup.moves
        return build_plan(workout_id, items, self.services.programme.rules, self.texts,
                          estimated_minutes(self.services, plan), self.services.clock.scale,
                          row["pain_before"], warmup)


def _saved(row: dict) -> Position:
    """The position the chat last saved for this workout (a page saves none)."""
    try:
        return Position.from_dict(json.loads(row["position"] or "{}"))
    except (ValueError, TypeError):
        return Position()
