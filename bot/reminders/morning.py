"""The next-morning half of the pain rule, asked by the reminder after a workout day.

If the back is worse this morning than before yesterday's workout, a small rise holds every
exercise at its stage for the next workout (the routing table's holds_step_ups) and a large one also lowers
yesterday's exercises one stage now (rules.morning_hold_rise / morning_down_rise in
content/rules.toml, applied by progression.next_morning). Every lowering is told with its
reason and stored as a stage change with reason "morning_down".
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.intents import Intent
from bot.localtime import aware, zone_or_utc
from bot.intents import pain_buttons
from bot.states import MORNING, READY, tag_for
from bot.workout.pain import vague
from bot.workout.pain_limits import blocks_workout_today
from bot.workout.progression import next_morning
from bot.reminders.times import iso
from bot.replies import Choice, Reply
from bot.routing import Conversation
from bot.services import Services
from bot.data.store import User

if TYPE_CHECKING:
    from bot.reminders.book import ReminderBook
    from bot.reminders.card import ReadyCard

HOLDING = ("hold", "down")  # outcomes that hold step-ups at the next workout
EXPIRED = "expired"  # the outcome of a question closed unanswered, its day over


@dataclass(frozen=True)
class Yesterday:
    """The workout day before a morning check: pain before the workout, what was done."""

    workout_id: int
    pain_before: int
    exercises: tuple[str, ...]


class Morning:
    """Asks, records and applies the morning check; owns the "morning" state."""

    def __init__(self, services: Services, book: ReminderBook, card: ReadyCard,
                 conversation: Conversation) -> None:
        self.services = services
        self.texts = services.texts
        self.book = book
        self.card = card
        self.conversation = conversation

    # -- asking -------------------------------------------------------------------------------

    def needs_check(self, user: User, today: dt.date) -> bool:
        """Yesterday had a workout, and today's check is not answered yet."""
        check = self.book.check(user.id, today.isoformat())
        if check is not None and check["pain"] is not None:
            return False
        return self.yesterday(user, today) is not None

    def yesterday(self, user: User, today: dt.date) -> Yesterday | None:
        """The day before `today` (the person's calendar), if they trained then."""
        zone = zone_or_utc(user.timezone)
        day = today - dt.timedelta(days=1)
        store = self.services.store
        latest, exercises = None, []
        for workout in store.workouts(user.id):
            if workout["status"] not in ("done", "stopped"):
                continue
            if aware(workout["started_at"]).astimezone(zone).date() != day:
                continue
            done = [r["exercise_id"] for r in store.workout_exercises(workout["id"])
                    if r["outcome"] == "done"]
            if done:
                exercises += done
                if workout["pain_before"] is not None:
                    latest = workout
        if latest is None:
            return None
        return Yesterday(latest["id"], latest["pain_before"], tuple(dict.fromkeys(exercises)))

    def buttons(self) -> tuple[Choice, ...]:
        return pain_buttons(tag_for(MORNING))

    def prompt(self, user: User) -> list[Reply]:
        return [Reply(self.texts("morning.again"), self.buttons())]

    # -- answering ----------------------------------------------------------------------------

    async def answer(self, user: User, intent: Intent) -> list[Reply]:
        today = self.services.clock.now().astimezone(zone_or_utc(user.timezone)).date()
        book = self.book
        if book.close_checks_before(user.id, today.isoformat(), EXPIRED) and \
                book.open_check(user.id) is None:
            # Only today's question can be answered. Asked on an earlier day and left open
            # (no reminder came since to close it), it is over: a number now is about now,
            # so it is what it would be at the menu, a pain report.
            self._ready(user)
            return await self.conversation.in_ready(user, intent)
        if intent.verb in ("pain", "number"):
            return self.record(user, int(intent.arg), today)
        if intent.verb in ("pain_invalid", "number_invalid"):
            return [Reply(self.texts("pain.out_of_range"), self.buttons())]
        if intent.verb == "pain_vague":  # "not bad": a number to confirm with one tap
            return [vague(self.texts, intent.arg, tag_for(MORNING))]
        # The check is offered, not forced: anything else carries on as at the menu.
        self._ready(user)
        return await self.conversation.in_ready(user, intent)

    def _ready(self, user: User) -> None:
        self.services.store.set_state(user.id, READY)
        user.state = READY

    def record(self, user: User, score: int, day: dt.date) -> list[Reply]:
        """This morning's answer, `day` being the person's today (the question's day)."""
        store, rules, now = self.services.store, self.services.programme.rules, self.services.clock.now()
        store.add_pain(user.id, score, "morning", now)
        yesterday = self.yesterday(user, day)
        replies: list[Reply] = []
        rise, outcome = None, "noted"
        if yesterday is None:
            replies.append(Reply(self.texts("pain.noted_any", score=score)))
        else:
            rise = score - yesterday.pain_before
            replies.append(Reply(self.texts("morning.noted", score=score,
                                        before=yesterday.pain_before)))
            moves, hold = next_morning(rules, score, yesterday.pain_before, yesterday.exercises,
                                       store.stages(user.id))
            for move in moves:
                exercise = self.services.programme.exercise(move.exercise_id)
                store.change_stage(user.id, move.exercise_id, move.from_index, move.to_index,
                                   move.reason, move.detail, now, yesterday.workout_id)
                replies.append(Reply(self.texts("progression.morning_down", name=exercise.name,
                                            stage=exercise.stages[move.to_index].name,
                                            rise=rise)))
            if moves:
                outcome = "down"
            elif hold:
                outcome = "hold"
                key = ("morning.bottom" if rise >= rules.morning_down_rise
                       else "progression.morning_hold")
                replies.append(Reply(self.texts(key, rise=rise)))
            else:
                outcome = "ok"
                replies.append(Reply(self.texts("morning.fine")))
        self.book.answer_check(user.id, day.isoformat(), score, rise, outcome, iso(now))
        if score >= rules.see_clinician_pain:
            replies.append(Reply(self.texts("pain.clinician", score=score)))
        self._ready(user)
        if blocks_workout_today(rules, score):  # rest and advice, not a session to start
            rest = tuple(c for c in self.card.buttons(day) if not c.action.startswith("session"))
            return replies + [Reply(self.texts("pain_check.high_now"), rest)]
        return replies + [Reply(self.card.ready_text(user), self.card.buttons(day))]

    # -- the hold -----------------------------------------------------------------------------

    def hold_up(self, user: User) -> bool:
        """True while judging the first workout started after a worse morning: nothing goes
        up then. Later workouts, or a newer morning without a rise, lift the hold."""
        answer = self.book.latest_answer(user.id)
        if answer is None or answer["outcome"] not in HOLDING:
            return False
        since = aware(answer["answered_at"])
        workouts = self.services.store.workouts(user.id)
        after = [w for w in workouts if aware(w["started_at"]) >= since]
        judged = [w for w in workouts if w["pain_after"] is not None]
        return bool(after and judged and after[0]["id"] == judged[-1]["id"])
