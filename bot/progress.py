"""What the person sees of their progress: the ladder per exercise, counts, streak, and why a
stage changed (answered from the reason stored with the change).
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from .content import Exercise, Programme
from .intents import normalise
from .replies import Reply
from .services import Services
from .store import User


def report(services: Services, user: User) -> list[Reply]:
    """The progress answer in text: totals, streak, ladder positions, sessions, last pains."""
    t, store = services.texts, services.store
    days = workout_days(services, user)
    today = local_today(services, user)
    week_start = today - timedelta(days=today.weekday())
    workouts = [w for w in store.workouts(user.id) if w["status"] in ("done", "stopped")]
    week = sum(1 for w in workouts if _local_day(w["started_at"], user) >= week_start)
    lines = [t("progress.header", total=len(workouts), week=week, streak=streak(days, today))]
    stages = store.stages(user.id)
    sessions: list[str] = []
    for exercise in services.programme.exercises:
        index = stages.get(exercise.id, 0)
        lines.append(_ladder_line(services, exercise, index))
        count = len(store.exercise_history(user.id, exercise.id))
        sessions.append(f"{exercise.name} {count}")
    lines.append(t("progress.sessions", sessions=", ".join(sessions)))
    scores = [str(p.score) for p in store.pain_reports(user.id) if p.kind == "after"][-5:]
    lines.append(t("progress.last_pain", scores=", ".join(scores)) if scores
                 else t("progress.no_pain"))
    return [Reply("\n".join(lines))]


def _ladder_line(services: Services, exercise: Exercise, index: int) -> str:
    t = services.texts
    index = min(index, len(exercise.stages) - 1)
    if index + 1 < len(exercise.stages):
        following = t("progress.next", stage=exercise.stages[index + 1].name)
    else:
        following = t("progress.top")
    return t("progress.line", name=exercise.name, stage=exercise.stages[index].name,
             position=index + 1, count=len(exercise.stages), next=following)


def why(services: Services, user: User, text: str) -> list[Reply]:
    """Explain the latest stage change of the exercise the person names."""
    t, programme = services.texts, services.programme
    exercise = find_exercise(programme, text)
    if exercise is None:
        return [Reply(t("progression.why_unknown"))]
    changes = [c for c in services.store.stage_changes(user.id) if c.exercise_id == exercise.id]
    stage_index = services.store.stages(user.id).get(exercise.id, 0)
    if not changes:
        return [Reply(t("progression.why_none", name=exercise.name,
                        stage=exercise.stages[stage_index].name))]
    last = changes[-1]
    detail = last.detail
    reason = t(f"progression.reason_{last.reason}", score=detail.get("score", ""),
               count=detail.get("count", ""), rise=detail.get("rise", ""),
               scores=", ".join(map(str, detail.get("scores", []))))
    return [Reply(t("progression.why_last", name=exercise.name,
                    date=last.at.strftime("%d %b"),
                    from_stage=exercise.stages[last.from_index].name,
                    to_stage=exercise.stages[last.to_index].name, reason=reason))]


def find_exercise(programme: Programme, text: str) -> Exercise | None:
    """Match "side plank", "the side plank", "sideplank" or "side_plank" to an exercise."""
    wanted = normalise(text).replace("_", " ").replace("-", " ")
    for filler in ("the ", "my ", "is ", "did "):
        wanted = wanted.removeprefix(filler)
    squashed = wanted.replace(" ", "")
    if not squashed:
        return None
    for exercise in programme.exercises:
        names = (exercise.id.replace("_", " "), exercise.name.lower())
        if any(squashed == n.replace(" ", "") or wanted in n for n in names):
            return exercise
    return None


def workout_days(services: Services, user: User) -> set[date]:
    """Local days on which the person finished at least one exercise."""
    days = set()
    for w in services.store.workouts(user.id):
        if w["status"] in ("done", "stopped") and services.store.workout_exercises(w["id"]):
            days.add(_local_day(w["started_at"], user))
    return days


def streak(days: set[date], today: date) -> int:
    """Consecutive workout days ending today (or yesterday, so the streak survives until tonight)."""
    day = today if today in days else today - timedelta(days=1)
    count = 0
    while day in days:
        count += 1
        day -= timedelta(days=1)
    return count


def local_today(services: Services, user: User) -> date:
    return services.clock.now().astimezone(_zone(user)).date()


def _local_day(iso: str, user: User) -> date:
    return datetime.fromisoformat(iso).astimezone(_zone(user)).date()


def _zone(user: User) -> ZoneInfo:
    try:
        return ZoneInfo(user.timezone or "UTC")
    except (KeyError, ValueError):
        return ZoneInfo("UTC")
