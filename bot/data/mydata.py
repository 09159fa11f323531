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
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING

from bot.intents import Intent, button
from bot.states import DELETE_PREFIX, INTERRUPTED, READY, WORKOUT, tag_for
from bot.localtime import aware, zone_or_utc
from bot.replies import Attachment, Choice, Reply
from bot.routing import Conversation, Feature, StateRoute, Tier, verbs
from bot.services import Services
from bot.data.store import User

if TYPE_CHECKING:
    from bot.events import UserKey

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

    def __init__(self, services: Services, conversation: Conversation,
                 on_delete: Sequence[Callable[[UserKey], Awaitable[None]]] = ()) -> None:
        self.services = services
        self.texts = services.texts
        self.conversation = conversation
        self.on_delete = list(on_delete)  # who else forgets the person (tests listen here)
        self._tasks: set[asyncio.Task[None]] = set()

    def feature(self) -> Feature:
        return Feature("my data", verbs=verbs(Tier.ANYWHERE, {"export": self.export,
                                                              "delete": self.delete}),
                       states=(StateRoute(CONFIRM, self.deciding, self.question),))

    # -- export -------------------------------------------------------------------------------

    async def export(self, user: User, intent: Intent) -> list[Reply]:
        """The whole record as JSON, and the pain reports as CSV for a spreadsheet."""
        record = self.services.store.export_user(user)
        day = self.services.clock.now().astimezone(zone_or_utc(user.timezone)).date().isoformat()
        files = (
            Attachment(f"backcoach-data-{day}.json",
                       json.dumps(record, indent=2, ensure_ascii=False, default=str).encode(),
                       JSON_MIME),
            Attachment(f"backcoach-pain-{day}.csv", self._pain_csv(user), CSV_MIME),
        )
        return [Reply(self.texts("export.ready"), files=files)]

    def _pain_csv(self, user: User) -> bytes:
        """One row per pain report: UTC time, the person's local time, score, kind, workout."""
        tz = zone_or_utc(user.timezone)
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(["at_utc", "local_time", "score", "kind", "workout_id"])
        for p in self.services.store.pain_reports(user.id):
            at = aware(p.at)
            writer.writerow([at.isoformat(), at.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
                             p.score, p.kind, "" if p.workout_id is None else p.workout_id])
        return out.getvalue().encode("utf-8")

    # -- delete -------------------------------------------------------------------------------

    async def delete(self, user: User, intent: Intent) -> list[Reply]:
        """"delete my data" asks; the confirmation buttons come back here as delete:yes / :no."""
        if user.state.startswith(CONFIRM) and intent.arg in (YES, NO):
            return await self._erase(user) if intent.arg == YES else self._keep(user)
        if self.conversation.workout_running(user.key):  # a running timer would race the question
            return [Reply(self.texts("delete.not_during_workout"))]
        if not user.state.startswith(CONFIRM):
            self._set(user, CONFIRM + user.state)
        return self.question(user)

    def question(self, user: User) -> list[Reply]:
        """The confirmation question (asked again after anything that does not answer it)."""
        tag = tag_for(user.state)
        return [Reply(self.texts("delete.confirm"), (
            Choice(self.texts("delete.button_yes"), button("delete", YES, tag)),
            Choice(self.texts("delete.button_no"), button("delete", NO, tag))))]

    async def deciding(self, user: User, intent: Intent) -> list[Reply]:
        """Typed answers while the question is open: yes erases, no / stop keeps."""
        if intent.verb == YES:
            return await self._erase(user)
        if intent.verb in CANCEL_VERBS:
            return self._keep(user)
        return [Reply(self.texts("delete.again"))] + self.question(user)

    def _keep(self, user: User) -> list[Reply]:
        state = user.state[len(CONFIRM):] or READY
        if state == WORKOUT and not self.conversation.workout_running(user.key):
            state = INTERRUPTED  # the coach restarted meanwhile: offer to resume or finish
        self._set(user, state)
        # The question or menu that fits where they were, as after any other answer.
        return [Reply(self.texts("delete.kept"))] + self.conversation.prompt(user)

    async def _erase(self, user: User) -> list[Reply]:
        key = user.key
        self.conversation.end_workout_quietly(key)
        deleted = self.services.store.erase_user(user.id)
        log.info("erased a person's data: %d rows", sum(deleted.values()))
        for hook in self.on_delete:
            try:
                await hook(key)
            except Exception:  # one service failing must not stop the others from forgetting
                log.exception("an on_delete hook failed")
        self._forget_delivery_after_reply(key)
        return [Reply(self.texts("delete.done"))]

    def _forget_delivery_after_reply(self, key: UserKey) -> None:
        """The goodbye still has to go out (on the event's own context), so delivery state is
        dropped once the coach has sent it: that is when it releases the person's lock."""
        async def forget() -> None:
            async with self.conversation.lock(key):
                self.services.delivery.forget(key)

        task = asyncio.create_task(forget(), name=f"forget-{key}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _set(self, user: User, state: str) -> None:
        self.services.store.set_state(user.id, state)
        user.state = state

