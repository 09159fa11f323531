"""Builds the coach: content, store, clock, delivery, and every feature, wired once.

This is the one place that knows which features exist. It knows no platform: the command
line (adapters/cli.py) builds the coach here and then starts the adapters it was asked for.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from bot import understanding
from bot.clock import Clock
from bot.coach import Coach
from bot.content import load_programme, load_questions
from bot.data.mydata import MyData
from bot.data.clock_start import scaled_clock
from bot.data.store import Store
from bot.delivery import Delivery
from bot.pictures import Pictures, cache_dir_beside, load_poses
from bot.player.coach_backend import CoachBackend
from bot.progress import summary
from bot.reminders.config import ReminderConfig
from bot.reminders.service import Reminders
from bot.services import Services
from bot.texts import Texts
from bot.workout.card_picture import ExercisePictures

CONTENT_DIR = Path(__file__).resolve().parent.parent / "content"
PICTURES_ENV = "BACKCOACH_PICTURES"  # where the pictures are cached, if not beside the database


@dataclass(frozen=True)
class App:
    """The built coach and the features tests and tools reach for by name."""

    coach: Coach
    services: Services
    reminders: Reminders
    mydata: MyData
    player: CoachBackend  # offered only once the player's server is up (bot/player/service.py)


def pictures_folder(db: str | Path, configured: str | Path | None = None) -> Path:
    """Where the exercise pictures are cached: as configured (--pictures, or the environment's
    BACKCOACH_PICTURES), else in a folder beside the database."""
    chosen = configured or os.environ.get(PICTURES_ENV, "").strip()
    return Path(chosen) if chosen else cache_dir_beside(Path(db))


def build_app(db: str | Path, time_scale: float = 1.0, content_dir: Path = CONTENT_DIR,
              clock: Clock | None = None, pictures_dir: str | Path | None = None) -> App:
    """Everything the coach needs, validated; raises ContentError on bad content."""
    programme = load_programme(content_dir)
    poses = load_poses(content_dir, programme)  # a pose that cannot be drawn right stops us here
    texts = Texts.load(content_dir)
    questions = load_questions(content_dir)
    understanding.use_content(content_dir)  # the phrases people type: checked now, not mid-chat
    store = Store(db)
    clock = clock or scaled_clock(time_scale, store)  # never behind what is stored
    delivery = Delivery(clock)
    pictures = Pictures(poses, pictures_folder(db, pictures_dir))  # drawn once coach.start()s
    services = Services(programme, texts, questions, store, clock, delivery, pictures)
    coach = Coach(services)
    reminders = Reminders(services, coach, ReminderConfig.from_env(),
                          weekly=lambda user: summary.weekly_summary_async(services, user,
                                                                           clock.now()))
    mydata = MyData(services, coach)
    player = CoachBackend(services, coach)
    coach.use(reminders.feature(), mydata.feature(), ExercisePictures(services).feature(),
              player.feature())
    delivery.on_unreachable = coach.unreachable
    delivery.on_reachable = coach.reachable
    return App(coach, services, reminders, mydata, player)


def build(db: str | Path, time_scale: float = 1.0, content_dir: Path = CONTENT_DIR,
          clock: Clock | None = None, pictures_dir: str | Path | None = None) -> Coach:
    """The coach alone, for callers that only talk to it."""
    return build_app(db, time_scale, content_dir, clock, pictures_dir).coach

