"""The person's data in their hands: "export" sends their whole record, "delete my data"
erases it after they confirm.

Export is a JSON file of everything held about them plus a CSV of pain reports, delivered by
each adapter its own way (a document, a file, a saved path). Deletion asks first with buttons
tagged for the question (a press on an old one is caught as stale by the coach), then removes
every row about the person in every table (found from the schema, so tables added later are
covered), stops a running workout, lets other services drop what they keep in memory, and
forgets delivery state. The next message from them starts onboarding from scratch.
"""
from __future__ import annotations

import asyncio
import csv
import io
import json
import logging
from typing import TYPE_CHECKING

from bot.intents import Intent, button
from bot.states import DELETE_PREFIX, INTERRUPTED, READY, WORKOUT, tag_for
from bot.progress.chart import aware, zone
from bot.replies import Attachment, Choice, Reply
from bot.data.store import User

if TYPE_CHECKING:
    from bot.coach import Coach
    from bot.events import UserKey
    from bot.workout.session import WorkoutSession

log = logging.getLogger(__name__)

# While the person decides, their state is CONFIRM + the state they were in, so "keep" can put
# them back exactly where they were (mid-onboarding, mid-workout, ...). tag_for() of it is
# "delete": the buttons carry that tag, and a press after the question has passed is stale.
CONFIRM = DELETE_PREFIX
YES, NO = "yes", "no"
CANCEL_VERBS = frozenset({"no", "stop"})
JSON_MIME, CSV_MIME = "application/json", "text/csv"


class MyData:
    """Export and delete, plugged into the coach's routes and states."""

    def __init__(self, coach: Coach) -> None:
        self.coach = coach
        self.s = coach.s
        self.t = coach.s.texts
        self._tasks: set[asyncio.Task[None]] = set()

    def install(self) -> MyData:
        self.coach.routes["export"] = self.export
        self.coach.routes["delete"] = self.delete
        self.coach.states[CONFIRM] = (self.deciding, self.question)
        return self

    # -- export -------------------------------------------------------------------------------

    async def export(self, user: User, intent: Intent) -> list[Reply]:
        """The whole record as JSON, and the pain reports as CSV for a spreadsheet."""
        record = self.s.store.export_user(user)
        day = self.s.clock.now().astimezone(zone(user)).date().isoformat()
        files = (
            Attachment(f"backcoach-data-{day}.json",
                       json.dumps(record, indent=2, ensure_ascii=False, default=str).encode(),
                       JSON_MIME),
            Attachment(f"backcoach-pain-{day}.csv", self._pain_csv(user), CSV_MIME),
        )
        return [Reply(self.t("export.ready"), files=files)]

    def _pain_csv(self, user: User) -> bytes:
        """One row per pain report: UTC time, the person's local time, score, kind, workout."""
        tz = zone(user)
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(["at_utc", "local_time", "score", "kind", "workout_id"])
        for p in self.s.store.pain_reports(user.id):
            at = aware(p.at)
            writer.writerow([at.isoformat(), at.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
                             p.score, p.kind, "" if p.workout_id is None else p.workout_id])
        return out.getvalue().encode("utf-8")

    # -- delete -------------------------------------------------------------------------------

    async def delete(self, user: User, intent: Intent) -> list[Reply]:
        """"delete my data" asks; the confirmation buttons come back here as delete:yes / :no."""
        if user.state.startswith(CONFIRM) and intent.arg in (YES, NO):
            return await self._erase(user) if intent.arg == YES else self._keep(user)
        if user.key in self.coach.workouts:  # a running timer would race the question
            return [Reply(self.t("delete.not_during_workout"))]
        if not user.state.startswith(CONFIRM):
            self._set(user, CONFIRM + user.state)
        return self.question(user)

    def question(self, user: User) -> list[Reply]:
        """The confirmation question (asked again after anything that does not answer it)."""
        tag = tag_for(user.state)
        return [Reply(self.t("delete.confirm"), (
            Choice(self.t("delete.button_yes"), button("delete", YES, tag)),
            Choice(self.t("delete.button_no"), button("delete", NO, tag))))]

    async def deciding(self, user: User, intent: Intent) -> list[Reply]:
        """Typed answers while the question is open: yes erases, no / stop keeps."""
        if intent.verb == YES:
            return await self._erase(user)
        if intent.verb in CANCEL_VERBS:
            return self._keep(user)
        return [Reply(self.t("delete.again"))] + self.question(user)

    def _keep(self, user: User) -> list[Reply]:
        state = user.state[len(CONFIRM):] or READY
        if state == WORKOUT and user.key not in self.coach.workouts:
            state = INTERRUPTED  # the coach restarted meanwhile: offer to resume or finish
        self._set(user, state)
        # The question or menu that fits where they were, as after any other answer.
        return [Reply(self.t("delete.kept"))] + self.coach.prompt(user)

    async def _erase(self, user: User) -> list[Reply]:
        key = user.key
        self._stop_workout(key)
        deleted = self.s.store.erase_user(user.id)
        log.info("erased a person's data: %d rows", sum(deleted.values()))
        for hook in self.coach.on_delete:
            try:
                await hook(key)
            except Exception:  # one service failing must not stop the others from forgetting
                log.exception("an on_delete hook failed")
        self._forget_delivery_after_reply(key)
        return [Reply(self.t("delete.done"))]

    def _stop_workout(self, key: UserKey) -> None:
        """End a running workout without a word, and without it saving anything afterwards."""
        session: WorkoutSession | None = self.coach.workouts.pop(key, None)
        if session is None:
            return
        session.on_finish = _nothing  # no "workout stopped", no pain question, no writes
        session.stop_quietly()
        if session.task is not None:
            session.task.cancel()
        session.changed.set()  # anyone waiting for this workout to settle stops waiting

    def _forget_delivery_after_reply(self, key: UserKey) -> None:
        """The goodbye still has to go out (on the event's own context), so delivery state is
        dropped once the coach has sent it: that is when it releases the person's lock."""
        async def forget() -> None:
            async with self.coach.lock(key):
                self.s.delivery.forget(key)

        task = asyncio.create_task(forget(), name=f"forget-{key}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _set(self, user: User, state: str) -> None:
        self.s.store.set_state(user.id, state)
        user.state = state


async def _nothing(session: WorkoutSession, outcome: str) -> None:
    """The on_finish of a workout whose person has just been erased."""


def install(coach: Coach) -> MyData:
    """Plug export and delete into the coach (called by the app when it builds the coach)."""
    return MyData(coach).install()
