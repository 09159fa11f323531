"""The coach's dependencies in one object, built once by the app and handed to every part."""
from __future__ import annotations

from dataclasses import dataclass

from .clock import Clock
from .content import Programme
from .delivery import Delivery
from .screening import Question
from .store import Store
from .texts import Texts


@dataclass
class Services:
    programme: Programme
    texts: Texts
    questions: tuple[Question, ...]
    store: Store
    clock: Clock
    delivery: Delivery
