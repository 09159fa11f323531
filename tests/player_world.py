"""A world for the player tests: a coach side that keeps workouts in memory, and credentials.

`FakeCoach` implements bot.player.backend.PlayerBackend with the real content and the real plan
builder, so the page runs the same phases and words the chat would. It records every call with
the person it was made for, so tests can show that nobody reaches anyone else's workout.
`launch_data` signs Telegram launch data the way Telegram documents it, written out here
independently of bot/player/auth.py so the two check each other.
"""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlencode

from bot.content import Programme, load_programme
from bot.events import UserKey
from bot.player.auth import issue_token
from bot.player.backend import PainNoted
from bot.player.plan import PlanDTO, PlannedExercise, build_plan
from bot.texts import Texts
from bot.workout.pain_limits import blocks_workout_today
from bot.workout.timers import phases_for, planned_seconds

ROOT = Path(__file__).resolve().parent.parent
BOT_TOKEN = "123456:TEST-token-for-the-player"
SECRET = b"player-secret-for-tests-0123456789"
ANA = UserKey("telegram", "1001")
BOB = UserKey("telegram", "1002")
DANA = UserKey("discord", "2001")


def content() -> tuple[Programme, Texts]:
    return load_programme(ROOT / "content"), Texts.load(ROOT / "content")


def launch_data(user_id: int, auth_date: float | None = None, bot_token: str = BOT_TOKEN,
                first_name: str = "Ana") -> str:
    """Mini App launch data as Telegram signs it (core.telegram.org/bots/webapps)."""
    fields = {
        "query_id": "AAHdF6IQAAAAAN0XohDhrOrc",
        "user": json.dumps({"id": user_id, "first_name": first_name, "language_code": "en"},
                           separators=(",", ":")),
        "auth_date": str(int(time.time() if auth_date is None else auth_date)),
    }
    secret = hmac.new(b"WebAppData", bot_token.encode(), hashlib.sha256).digest()
    check = "\n".join(f"{key}={fields[key]}" for key in sorted(fields))
    fields["hash"] = hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()
    return urlencode(fields, quote_via=quote)


def token_for(person: UserKey, lifetime_s: float = 3600, secret: bytes = SECRET) -> str:
    return issue_token(secret, person, time.time() + lifetime_s)


@dataclass
class OpenWorkout:
    workout_id: int
    items: list[PlannedExercise]
    outcomes: dict[int, str] = field(default_factory=dict)
    pain_before: int | None = 3  # None: the page asks it
    warmup: bool = False  # the programme's warm-up opens it


class FakeCoach:
    """The coach side of the player for tests; workouts live in memory, calls are recorded."""

    def __init__(self, time_scale: float = 1.0) -> None:
        self.programme, self.texts = content()
        self.time_scale = time_scale
        self.workouts: dict[UserKey, OpenWorkout] = {}
        self.plans_asked: list[UserKey] = []
        self.reports: list[tuple[UserKey, int, int, str]] = []
        self.endings: list[tuple[UserKey, int, str]] = []
        self.pains: list[tuple[UserKey, int, int]] = []
        self.pictures: dict[str, bytes] = {}  # key -> GIF, as the coach's picture cache has them
        self.pictures_asked: list[str] = []
        self.failing = False  # True: every report fails, as a coach that is down would
        self._next_id = 100
        self._changed = asyncio.Event()

    def open_workout(self, person: UserKey, exercise_ids: list[str] | None = None,
                     pictures: dict[str, str] | None = None, pain_before: int | None = 3,
                     warmup: bool = False) -> int:
        """Start a workout for `person`: these exercises (all, by default) at their first stage;
        with `pain_before` None the page asks the pain right now first."""
        ids = exercise_ids or [exercise.id for exercise in self.programme.exercises]
        pictures = pictures or {}
        items = [PlannedExercise(self.programme.exercise(exercise_id),
                                 self.programme.exercise(exercise_id).stage_at(0),
                                 picture=pictures.get(exercise_id)) for exercise_id in ids]
        self._next_id += 1
        self.workouts[person] = OpenWorkout(self._next_id, items, pain_before=pain_before,
                                            warmup=warmup)
        return self._next_id

    # -- PlayerBackend --------------------------------------------------------------------------

    async def opened(self, person: UserKey) -> PlanDTO | None:
        return await self.plan_for(person)  # no chat here to take the workout over from

    async def plan_for(self, person: UserKey) -> PlanDTO | None:
        self.plans_asked.append(person)
        workout = self.workouts.get(person)
        if workout is None:
            return None
        items = [PlannedExercise(item.exercise, item.stage, workout.outcomes.get(index),
                                 item.picture) for index, item in enumerate(workout.items)]
        seconds = sum(planned_seconds(phases_for(item.stage.plan, self.programme.rules))
                      for item in items)
        return build_plan(workout.workout_id, items, self.programme.rules, self.texts,
                          max(1, round(seconds / 60)), self.time_scale, workout.pain_before,
                          self.programme.warmup.moves if workout.warmup else ())

    async def picture(self, key: str) -> bytes | None:
        self.pictures_asked.append(key)
        return self.pictures.get(key)

    async def pain_before(self, person: UserKey, workout_id: int, score: int) -> PainNoted:
        workout = self.workouts[person]
        assert workout.workout_id == workout_id
        if workout.pain_before is not None:
            return PainNoted(False, "", True)
        self.pains.append((person, workout_id, score))
        self._changed.set()
        if blocks_workout_today(self.programme.rules, score):  # not today
            del self.workouts[person]
            return PainNoted(True, self.texts("pain.not_today", score=score), False)
        workout.pain_before = score
        return PainNoted(True, self.texts("pain_check.noted", score=score), True)

    async def exercise_reported(self, person: UserKey, workout_id: int, index: int,
                                outcome: str) -> None:
        if self.failing:
            raise RuntimeError("the coach is down")
        workout = self.workouts[person]
        assert workout.workout_id == workout_id and index not in workout.outcomes
        workout.outcomes[index] = outcome
        self.reports.append((person, workout_id, index, outcome))
        self._changed.set()

    async def ended(self, person: UserKey, workout_id: int, outcome: str) -> None:
        if self.failing:
            raise RuntimeError("the coach is down")
        assert self.workouts[person].workout_id == workout_id
        del self.workouts[person]
        self.endings.append((person, workout_id, outcome))
        self._changed.set()

    # -- for the tests ----------------------------------------------------------------------------

    def outcomes(self, person: UserKey) -> list[tuple[int, str]]:
        return [(index, outcome) for who, _, index, outcome in self.reports if who == person]

    async def wait_until(self, condition, timeout: float = 60.0) -> None:
        """Wait for a report that makes `condition()` true (the timeout only guards a hang)."""
        async def watch() -> None:
            while not condition():
                self._changed.clear()
                await self._changed.wait()
        await asyncio.wait_for(watch(), timeout)


class Page:
    """What the player page does over HTTP, driven by a test as a phone would: open the plan,
    report each exercise as it ends, report the end. `authorization` is the header it sends."""

    def __init__(self, session, page_url: str, authorization: str) -> None:
        self.session = session
        self.api = page_url.split("#")[0].rstrip("/") + "/api/"
        self.headers = {"Authorization": authorization}
        self.workout_id: int | None = None

    @classmethod
    def from_link(cls, session, link: str) -> Page:
        """The page a link opens: its token travels in the #fragment, read by the page."""
        page_url, _, fragment = link.partition("#token=")
        assert fragment, f"no token in {link!r}"
        return cls(session, page_url, f"Bearer {fragment}")

    async def opens(self) -> tuple[int, dict]:
        async with self.session.get(self.api + "plan", headers=self.headers) as answer:
            data = await answer.json()
        if answer.status == 200:
            self.workout_id = data["workout_id"]
        return answer.status, data

    async def reports(self, index: int, outcome: str = "done") -> tuple[int, dict]:
        return await self._post("exercise", {"workout_id": self.workout_id, "index": index,
                                             "outcome": outcome})

    async def answers_pain(self, score: int = 3) -> tuple[int, dict]:
        return await self._post("pain", {"workout_id": self.workout_id, "score": score})

    async def ends(self, outcome: str = "done") -> tuple[int, dict]:
        return await self._post("end", {"workout_id": self.workout_id, "outcome": outcome})

    async def does_the_rest(self, outcome: str = "done") -> dict:
        """Open, report every exercise not yet in, then the end; returns the plan it ran."""
        status, plan = await self.opens()
        assert status == 200, plan
        if plan["pain_before"] is None:  # the page asks first, as the chat would
            status, noted = await self.answers_pain(3)
            assert status == 200 and noted["go_on"], noted
        for index, exercise in enumerate(plan["exercises"]):
            if exercise["outcome"] is None:
                assert await self.reports(index, outcome) == (200, {"recorded": True,
                                                                     "outcome": outcome})
        assert await self.ends("done") == (200, {"recorded": True})
        return plan

    async def _post(self, path: str, body: dict) -> tuple[int, dict]:
        async with self.session.post(self.api + path, json=body, headers=self.headers) as answer:
            return answer.status, await answer.json()
