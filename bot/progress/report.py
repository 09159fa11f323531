"""What the person sees of their progress: the ladder per exercise with what it takes to move
up, counts, streak, a pain chart, and why a stage changed (answered from the stored reason).
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

from bot.content import Exercise, Programme
from bot.intents import normalise
from bot.localtime import CalendarNames, day_month
from bot.progress.chart import aware, caption, chart_input, render_off_loop, zone
from bot.replies import Reply
from bot.services import Services
from bot.data.store import StageChange, User
from bot.workout import nerve_care
from bot.workout.form_gate import ANSWER_KEYS, KEPT_REASON
from bot.workout.progression import Session, comfortable_days
from bot.workout.card_picture import whats_next, whats_next_button


async def answer(services: Services, user: User) -> list[Reply]:
    """The whole progress answer: the text report, then the chart with its sparkline caption."""
    replies = report(services, user)
    chart = await chart_reply(services, user, services.clock.now())
    return replies + ([chart] if chart is not None else [])


async def chart_reply(services: Services, user: User, now: datetime,
                      name: str = "progress.png") -> Reply | None:
    """The pain chart of the last weeks as a picture with a one-line sparkline; None when there
    is nothing to draw yet (an empty chart tells the person nothing the text doesn't)."""
    data = chart_input(services, user, now, name=name)  # reads on the loop thread
    if data.empty:
        return None
    image = await render_off_loop(data)  # draws in a worker thread
    return Reply(caption(services, data), image=image)


def report(services: Services, user: User) -> list[Reply]:
    """The progress answer in text: totals, streak, ladder positions, sessions, last pains."""
    t, store = services.texts, services.store
    days = workout_days(services, user)
    today = local_today(services, user)
    week_start = today - timedelta(days=today.weekday())
    workouts = [w for w in store.workouts(user.id) if w["status"] in ("done", "stopped")]
    week = sum(1 for w in workouts if _local_day(w["started_at"], user) >= week_start)
    lines = [t("progress.header", workouts=t.plural("plural.workouts", len(workouts)), week=week,
               days=t.plural("plural.days", streak(days, today)))]
    stages = store.stages(user.id)
    sessions: list[str] = []
    nearest: tuple[int, Exercise] | None = None  # the next step up, as sessions still needed
    for exercise in services.programme.exercises:
        index = stages.get(exercise.id, 0)
        history = _sessions(services, user, exercise)  # read once, used twice
        lines.append(_ladder_line(services, exercise, index, history))
        sessions.append(f"{exercise.name} {len(history)}")
        if index + 1 < len(exercise.stages):
            needed = _sessions_needed(services, index, history)
            if nearest is None or needed < nearest[0]:
                nearest = (needed, exercise)
    lines.append(t("progress.rule", pain=services.programme.rules.up_max_pain))
    lines.append(t("progress.sessions", sessions=", ".join(sessions)))
    scores = [str(p.score) for p in store.pain_reports(user.id) if p.kind == "after"][-5:]
    lines.append(t("progress.last_pain", scores=", ".join(scores)) if scores
                 else t("progress.no_pain"))
    ahead = (whats_next_button(services, nearest[1]),) if nearest is not None else ()
    return [Reply("\n".join(lines), ahead)]


def _sessions(services: Services, user: User, exercise: Exercise) -> list[Session]:
    """The exercise's reported sessions, newest first, each with the person's local day."""
    return [Session(stage, after, before, _local_day(started, user))
            for stage, after, before, started
            in services.store.exercise_sessions(user.id, exercise.id)]


def _ladder_line(services: Services, exercise: Exercise, index: int,
                 history: list[Session]) -> str:
    """"• Side plank: Knees down, 10 s holds (1/12)" and the next stage with what it takes."""
    t = services.texts
    index = max(0, min(index, len(exercise.stages) - 1))  # a ladder shortened since
    if index + 1 < len(exercise.stages):
        following = t("progress.next", stage=exercise.stages[index + 1].name,
                      takes=_what_it_takes(services, index, history))
    else:
        following = t("progress.top")
    return t("progress.line", name=exercise.name, stage=exercise.stages[index].name,
             position=index + 1, count=len(exercise.stages), next=following)


def _what_it_takes(services: Services, index: int, history: list[Session]) -> str:
    """How many more comfortable days at this stage move it up, by the rules in content
    (progression.comfortable_days, so the two can never disagree). `history` is newest first."""
    rules, t = services.programme.rules, services.texts
    needed = _sessions_needed(services, index, history)
    good = rules.up_needs_good_workouts - needed
    key = ("progress.takes_next" if needed <= 1 else
           "progress.takes_more" if good else "progress.takes_fresh")
    return t(key, needed=needed, pain=rules.up_max_pain)


def _sessions_needed(services: Services, index: int, history: list[Session]) -> int:
    """Comfortable days still needed at this stage to move up (0: the next one may), by
    progression.comfortable_days, as `_what_it_takes` says it."""
    rules = services.programme.rules
    return max(rules.up_needs_good_workouts - len(comfortable_days(rules, history, index)), 0)


def why(services: Services, user: User, text: str) -> list[Reply]:
    """"why side plank": its latest stage change and the reason kept with it ("up", "down",
    "morning_down", a step up the form check held back; any other reason gets a plain general
    answer), then what the exercise is for, where the person is and what would move it up."""
    t, programme = services.texts, services.programme
    exercise = find_exercise(programme, text)
    if exercise is None:
        return [Reply(t("progression.why_unknown"))]
    stage_index = services.store.stages(user.id).get(exercise.id, 0)
    changes = [c for c in services.store.stage_changes(user.id) if c.exercise_id == exercise.id]
    lines = [_last_change(services, user, exercise, changes[-1]) if changes else
             t("progression.why_none", name=exercise.name,
               stage=_stage_name(exercise, stage_index))]
    lines.append(t("why.purpose", purpose=exercise.purpose))
    if changes:
        lines.append(t("why.where", position=min(stage_index, len(exercise.stages) - 1) + 1,
                       count=len(exercise.stages), stage=_stage_name(exercise, stage_index)))
    lines.append(_what_moves_it_up(services, user, exercise, stage_index))
    following = whats_next(services, exercise,
                           max(0, min(stage_index, len(exercise.stages) - 1)))
    return [Reply("\n".join(lines))] + ([following] if following else [])


def _last_change(services: Services, user: User, exercise: Exercise, last: StageChange) -> str:
    t = services.texts
    day = day_month(aware(last.at).astimezone(zone(user)).date(),
                    CalendarNames.from_texts(services.texts))
    if last.reason == KEPT_REASON:
        return t("why.kept", name=exercise.name, date=day,
                 stage=_stage_name(exercise, last.to_index), reason=_reason(services, last))
    return t("progression.why_last", name=exercise.name, date=day,
             from_stage=_stage_name(exercise, last.from_index),
             to_stage=_stage_name(exercise, last.to_index), reason=_reason(services, last))


def _what_moves_it_up(services: Services, user: User, exercise: Exercise, index: int) -> str:
    t = services.texts
    index = max(0, min(index, len(exercise.stages) - 1))
    if user.hamstring == "nerve" and not nerve_care.may_move_up(exercise, nerve_signs=True):
        return t("why.held_nerve")
    if index + 1 >= len(exercise.stages):
        return t("why.top")
    takes = _what_it_takes(services, index, _sessions(services, user, exercise))
    return t("why.next", stage=exercise.stages[index + 1].name, takes=takes)


def _reason(services: Services, change: StageChange) -> str:
    """The stored reason in words; detail fields a change lacks never break the sentence."""
    t = services.texts
    detail = change.detail if isinstance(change.detail, dict) else {}
    scores = detail.get("scores") or []
    if not isinstance(scores, list):
        scores = [scores]
    key = f"progression.reason_{change.reason}"
    fields = {"score": detail.get("score", "?"), "rise": detail.get("rise", "?"),
              "count": detail.get("count", len(scores) or "?"),
              "scores": ", ".join(map(str, scores)) or "?",
              "limit": services.programme.rules.down_above_pain}
    form = detail.get("form")
    if change.reason == "up" and form == "yes" and scores:
        return t("form.reason_up", **fields)
    if change.reason == KEPT_REASON and form in ANSWER_KEYS:
        return t("form.reason_kept", **fields, answer=t(ANSWER_KEYS[form]))
    if not t.has(key) or (change.reason == "up" and not scores):
        key = "progression.reason_other_up" if change.to_index > change.from_index \
            else "progression.reason_other_down"
    return t(key, **fields)


def _stage_name(exercise: Exercise, index: int) -> str:
    """The stage's name; an index outside the ladder (content shortened since) is clamped."""
    return exercise.stage_at(index).name


def find_exercise(programme: Programme, text: str) -> Exercise | None:
    """Match "side plank", "the side plank", "sideplank", "side_plank" or a sentence naming it
    ("did my side plank get harder") to an exercise."""
    wanted = normalise(text).replace("_", " ").replace("-", " ").strip(" ?")
    for filler in ("the ", "my ", "is ", "did ", "has "):
        wanted = wanted.removeprefix(filler)
    squashed = wanted.replace(" ", "")
    if not squashed:
        return None
    for exercise in programme.exercises:
        names = (exercise.id.replace("_", " "), exercise.name.lower().replace("-", " "))
        if any(squashed == n.replace(" ", "") or wanted in n for n in names):
            return exercise
    padded = f" {wanted} "
    for exercise in programme.exercises:  # a longer sentence that names an exercise
        names = (exercise.id.replace("_", " "), exercise.name.lower().replace("-", " "))
        if any(f" {n} " in padded for n in names):
            return exercise
    return None


def workout_days(services: Services, user: User) -> set[date]:
    """Local days on which the person finished at least one exercise."""
    return {_local_day(started, user) for started in services.store.training_starts(user.id)}


def streak(days: set[date], today: date) -> int:
    """Consecutive workout days ending today (or yesterday, so the streak survives until tonight)."""
    day = today if today in days else today - timedelta(days=1)
    count = 0
    while day in days:
        count += 1
        day -= timedelta(days=1)
    return count


def local_today(services: Services, user: User) -> date:
    return services.clock.now().astimezone(zone(user)).date()


def _local_day(iso: str, user: User) -> date:
    return aware(datetime.fromisoformat(iso)).astimezone(zone(user)).date()
