"""Every sentence the coach says comes from content/texts.toml, never from code.

Keys are dotted paths ("pain.reask"); placeholders are str.format fields filled in by the caller.
"""
from __future__ import annotations

import string
import tomllib
from pathlib import Path
from typing import Any

from bot.content import ContentError


class Texts:
    """Looks up and fills in user-facing text."""

    def __init__(self, table: dict[str, str], source: str) -> None:
        self._table = table
        self.source = source

    @classmethod
    def load(cls, content_dir: Path) -> Texts:
        path = content_dir / "texts.toml"
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ContentError(f"{path}: cannot read texts: {exc}") from exc
        table: dict[str, str] = {}
        _flatten(data, "", table, path)
        return cls(table, str(path))

    def __call__(self, key: str, **values: Any) -> str:
        template = self._table.get(key)
        if template is None:
            raise KeyError(f"{self.source}: no text '{key}'")
        return (template.format(**values) if values else template).rstrip()

    def plural(self, key: str, count: int, **values: Any) -> str:
        """A counted word ("1 workout", "3 workouts"): `key`_one for exactly one, if present."""
        one = f"{key}_one"
        return self(one if count == 1 and one in self._table else key, count=count, **values)

    def has(self, key: str) -> bool:
        return key in self._table

    def fields(self, key: str) -> set[str]:
        """Placeholder names a text expects (for tests that check code and content agree)."""
        return {f for _, f, _, _ in string.Formatter().parse(self._table[key]) if f}


def _flatten(data: dict[str, Any], prefix: str, out: dict[str, str], path: Path) -> None:
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            _flatten(value, name + ".", out, path)
        elif isinstance(value, str):
            out[name] = value
        else:
            raise ContentError(f"{path}: text '{name}' must be a string, got {type(value).__name__}")
