"""The coach's dependencies in one object, built once by the app and handed to every part."""
from __future__ import annotations

from dataclasses import dataclass

from bot.clock import Clock
from bot.content import Programme, Question
from bot.delivery import Delivery
from bot.data.store import Store
from bot.pictures import Pictures
from bot.texts import Texts


@dataclass
class Services:
    programme: Programme
    texts: Texts
    questions: tuple[Question, ...]
    store: Store
    clock: Clock
    delivery: Delivery
    pictures: Pictures | None = None  # the exercises' pictures; None: cards go without
