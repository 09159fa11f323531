"""The one-tap "pain right now?" before each session, and the rest days pain makes.

Before every session the coach asks how the back is right now. The answer is kept as a pain
report of its own kind ("before") and becomes the workout's "before" score, which the
progression rule compares the pain afterwards with. A starting pain of 8-10 means no workout
that day (pain.not_today); pain above the hold band after a workout means stop for today
(pain.high). On such a day "start session" is answered with rest and advice, and the menu
offers no session (pain_limits.rest_day decides, from the person's own calendar day).
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import date

from bot.data.store import User
from bot.intents import Intent, button, pain_buttons
from bot.localtime import aware, zone_or_utc
from bot.replies import Choice, Reply, in_one
from bot.services import Services
from bot.states import PAIN_BEFORE, READY, tag_for
from bot.workout.pain import change_since, clinician_advice, previous_score, vague
from bot.workout.pain_limits import blocks_workout_today, rest_day

BEFORE, BASELINE = "before", "baseline"  # pain report kinds: before a session, at onboarding
CANCEL = frozenset({"stop", "no", "quit", "skip", "skip_today", "bye"})


class PainCheck:
    """Asks the pain before a session, records it, and says when today is a rest day."""

    def __init__(self, services: Services, menu: Callable[[], Reply]) -> None:
        self.services = services
        self.texts = services.texts
        self.menu = menu

    # -- before a session ---------------------------------------------------------------------

    def ask(self, user: User) -> list[Reply]:
        """"Start session" between workouts: the pain question, or why not today."""
        reason = self.rest_reason(user)
        if reason is not None:
            return in_one([Reply(self._rest_text(*reason)), self.rest_menu()])
        self._set(user, PAIN_BEFORE)
        return self.question(user)

    def question(self, user: User) -> list[Reply]:
        return [Reply(self.texts("pain_check.ask"), pain_buttons(tag_for(PAIN_BEFORE)))]

    def answer(self, user: User, intent: Intent) -> tuple[list[Reply], int | None]:
        """The answer to "pain right now?": the replies, and the score to start the session
        with (None: no session now). The person is back at the menu either way."""
        verb = intent.verb
        if verb in ("pain", "number"):
            return self._answered(user, int(intent.arg))
        buttons = pain_buttons(tag_for(PAIN_BEFORE))
        if verb in ("pain_invalid", "number_invalid"):
            return [Reply(self.texts("pain.out_of_range"), buttons)], None
        if verb == "pain_vague":
            return [vague(self.texts, intent.arg, tag_for(PAIN_BEFORE))], None
        if verb == "not_sure":
            return [Reply(self.texts("pain_check.not_sure"), buttons)], None
        if verb in CANCEL or (verb == "negated" and intent.arg == "session"):
            self._set(user, READY)
            return [Reply(self.texts("pain_check.cancelled")), self.menu()], None
        return [Reply(self.texts("pain_check.reask"), buttons)], None

    def _answered(self, user: User, score: int) -> tuple[list[Reply], int | None]:
        self._set(user, READY)
        noted, go_on = self.note_before(user, score)
        if not go_on:
            return [Reply(noted), self.rest_menu()], None
        return [Reply(noted)], score

    def note_before(self, user: User, score: int) -> tuple[str, bool]:
        """Keep the pain before a session (the chat's answer or the player page's): the words
        that acknowledge it, and whether a session may follow (False: not today, with why)."""
        before = previous_score(self.services, user.id, user.baseline_pain)
        self.services.store.add_pain(user.id, score, BEFORE, self.services.clock.now())
        noted = f"{self.texts('pain_check.noted', score=score)} " \
            f"{change_since(self.texts, before, score)}".strip()
        if blocks_workout_today(self.services.programme.rules, score):
            return f"{noted}\n\n{self.texts('pain.not_today', score=score)}", False
        return noted, True

    # -- pain at any time -----------------------------------------------------------------------

    def any_time(self, user: User, score: int) -> list[Reply]:
        """"pain 4" outside any question: noted, the change named, and advice when it is high."""
        store = self.services.store
        before = previous_score(self.services, user.id, user.baseline_pain)
        store.add_pain(user.id, score, "adhoc", self.services.clock.now())
        noted = self.texts("pain.noted_any", score=score)
        replies = [Reply(f"{noted} {change_since(self.texts, before, score)}".strip())]
        replies += clinician_advice(self.services, score)
        if blocks_workout_today(self.services.programme.rules, score):
            replies.append(Reply(self.texts("pain_check.high_now")))
        return replies

    # -- rest days ----------------------------------------------------------------------------

    def rest_reason(self, user: User) -> tuple[str, int] | None:
        """(kind, score) of today's pain answer that makes today a rest day, if one does."""
        return rest_day(self.services.programme.rules, self.todays_pain(user))

    def todays_pain(self, user: User) -> list[tuple[str, int]]:
        """(kind, score) of the pain answers given on the person's today, oldest first; the
        starting pain of onboarding counts as a "baseline" answer of its day."""
        zone = zone_or_utc(user.timezone)
        today = self.today(user)
        found: list[tuple[object, str, int]] = []
        if user.baseline_at and user.baseline_pain is not None:
            at = aware(user.baseline_at)
            if at.astimezone(zone).date() == today:
                found.append((at, BASELINE, user.baseline_pain))
        for report in self.services.store.pain_reports(user.id):
            at = aware(report.at)
            if at.astimezone(zone).date() == today:
                found.append((at, report.kind, report.score))
        found.sort(key=lambda item: item[0])  # type: ignore[arg-type, return-value]
        return [(kind, score) for _, kind, score in found]

    def today(self, user: User) -> date:
        return self.services.clock.now().astimezone(zone_or_utc(user.timezone)).date()

    def ready_prompt(self, user: User) -> list[Reply]:
        """What is offered between workouts: the menu, or on a rest day rest and no session."""
        return [self.rest_menu()] if self.rest_reason(user) is not None else [self.menu()]

    def rest_menu(self) -> Reply:
        return Reply(self.texts("pain_check.rest_menu"),
                     (Choice(self.texts("buttons.progress"), button("progress")),
                      Choice(self.texts("buttons.help"), button("help"))))

    def _rest_text(self, kind: str, score: int) -> str:
        key = "pain_check.rest_after" if kind == "after" else "pain_check.rest_starting"
        return self.texts(key, score=score)

    def _set(self, user: User, state: str) -> None:
        self.services.store.set_state(user.id, state)
        user.state = state
