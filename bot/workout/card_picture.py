"""The picture on an exercise card, and the words around it.

The exercise card itself (short, with the full instructions the first time a person meets a
stage: bot/workout/cards.py and the store's `seen_stages`) is built by session.py, which adds
the stage's animation from `exercise_picture`. The "How exactly?" button here sends the full
steps, cues and what to avoid from any message, old ones too. Nothing here waits for drawing: a picture that is not drawn yet is left off the card while a worker
thread draws it (`Pictures.soon`), so the cue timer never waits and the next card has it. `why`
and the progress report show the next stage's picture the same way ("what's next").
"""
from __future__ import annotations

import logging

from bot.content import Exercise
from bot.data.store import User
from bot.intents import Intent, button
from bot.replies import Attachment, Choice, Reply
from bot.routing import Feature, Tier, verbs
from bot.services import Services
from bot.workout import cards

log = logging.getLogger(__name__)

MAX_KEY_CUES = 3
HOW_EXACTLY = "how"  # button verb: "how:<exercise id>.<stage index>" sends the full text
WHATS_NEXT = "ahead"  # button verb: "ahead:<exercise id>" shows the person's next stage
GIF_MIME = "image/gif"


def exercise_picture(services: Services, exercise: Exercise,
                     stage_index: int) -> Attachment | None:
    """The stage's animation if it is drawn; else None, and it is drawn in the background.
    Never waits: a workout's cue is never held up by drawing."""
    pictures = services.pictures
    if pictures is None:
        return None
    try:
        files = pictures.soon(exercise.id, stage_index)
        data = pictures.data(files.animation) if files is not None else None
    except (KeyError, OSError) as error:  # no poses for it; the cache folder went away
        log.warning("pictures: none for %s stage %d (%s)", exercise.id, stage_index, error)
        return None
    if files is None or data is None:
        return None
    stage = exercise.stage_at(stage_index)
    return Attachment(f"{exercise.id}-{stage.id}.gif", data, GIF_MIME, key=files.key,
                      animated=True,
                      description=services.texts("pictures.description", name=exercise.name,
                                                 stage=stage.name))


def how_exactly(services: Services, exercise: Exercise, stage_index: int) -> Choice:
    """The button that sends a stage's full instructions; it works on old messages too."""
    return Choice(services.texts("pictures.how_exactly"),
                  button(HOW_EXACTLY, f"{exercise.id}.{stage_index}"))


def show_stage(services: Services, exercise: Exercise, stage_index: int,
               choices: tuple[Choice, ...] = ()) -> Reply:
    """"Show me a picture": the stage's animation under a one-line caption; while it is not
    drawn yet (it is drawn meanwhile, for next time), the steps in words instead."""
    stage = exercise.stage_at(stage_index)
    picture = exercise_picture(services, exercise, stage_index)
    if picture is None:
        return Reply(services.texts("answers.show_me_none") + "\n\n"
                     + cards.instructions(services.texts, exercise, stage))
    return Reply(services.texts("show_me.picture", name=exercise.name, stage=stage.name),
                 choices, image=picture)


def whats_next(services: Services, exercise: Exercise, stage_index: int) -> Reply | None:
    """The stage after this one, with its picture when drawn; None at the top of the ladder."""
    following = stage_index + 1
    if following >= len(exercise.stages):
        return None
    stage = exercise.stages[following]
    return Reply(services.texts("pictures.whats_next", name=exercise.name, stage=stage.name),
                 (how_exactly(services, exercise, following),),
                 image=exercise_picture(services, exercise, following))


def whats_next_button(services: Services, exercise: Exercise) -> Choice:
    """For the progress report: shows this exercise's next stage."""
    return Choice(services.texts("pictures.whats_next_button", name=exercise.name),
                  button(WHATS_NEXT, exercise.id))


class ExercisePictures:
    """The pictures as a feature: the "How exactly?" and "what's next" buttons, and the cache
    drawn in the background once the coach runs (and stopped when it stops)."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.texts = services.texts

    def feature(self) -> Feature:
        return Feature("pictures",
                       verbs=verbs(Tier.IN_PROGRAMME, {HOW_EXACTLY: self.how_exactly,
                                                       WHATS_NEXT: self.whats_next}),
                       on_start=self.start, on_stop=self.stop)

    async def start(self) -> None:
        """Draw every stage not yet drawn, first stages first, while the coach carries on."""
        if self.services.pictures is not None:
            self.services.pictures.warm()

    async def stop(self) -> None:
        if self.services.pictures is not None:
            await self.services.pictures.close()

    async def how_exactly(self, user: User, intent: Intent) -> list[Reply]:
        """"how:side_plank.3": that stage's full instructions (any payload is checked)."""
        exercise_id, _, index = intent.arg.partition(".")
        exercise = self._exercise(exercise_id)
        if exercise is None or not index.isdigit() or int(index) >= len(exercise.stages):
            return [Reply(self.texts("pictures.unknown"))]
        stage = exercise.stages[int(index)]
        return [Reply(cards.instructions(self.texts, exercise, stage))]

    async def whats_next(self, user: User, intent: Intent) -> list[Reply]:
        """"ahead:side_plank": the stage after the person's current one, with its picture."""
        exercise = self._exercise(intent.arg)
        if exercise is None:
            return [Reply(self.texts("pictures.unknown"))]
        index = self.services.store.stages(user.id).get(exercise.id, 0)
        index = max(0, min(index, len(exercise.stages) - 1))  # a ladder shortened since
        reply = whats_next(self.services, exercise, index)
        return [reply or Reply(self.texts("pictures.at_top", name=exercise.name))]

    def _exercise(self, exercise_id: str) -> Exercise | None:
        return next((exercise for exercise in self.services.programme.exercises
                     if exercise.id == exercise_id), None)
