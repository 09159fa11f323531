"""The shape of the code, checked: the core never reaches into an adapter or a platform, no
two core modules import each other in a circle, and the top of bot/ stays small."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from bot.bootstrap import build

ROOT = Path(__file__).resolve().parent.parent
BOT = ROOT / "bot"
PLATFORM_LIBRARIES = ("adapters", "telegram", "discord")


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every module this file imports, wherever the import stands (TYPE_CHECKING blocks and
    function bodies included)."""
    found = set()
    package = _module_name(path) if path.name == "__init__.py" else \
        _module_name(path).rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def _core_graph() -> dict[str, set[str]]:
    modules = {_module_name(path): path for path in BOT.rglob("*.py")}
    return {name: {target for target in _imports(path) if target in modules and target != name}
            for name, path in modules.items()}


def test_no_core_module_imports_an_adapter_or_a_platform_library():
    for path in BOT.rglob("*.py"):
        bad = [name for name in _imports(path) if name.split(".")[0] in PLATFORM_LIBRARIES]
        assert not bad, f"{path.relative_to(ROOT)} imports {bad}"


def test_there_is_no_import_cycle_among_the_core_modules():
    graph = _core_graph()
    visiting, done = set(), set()

    def visit(node: str, trail: list[str]) -> None:
        if node in done:
            return
        assert node not in visiting, "import cycle: " + " -> ".join(trail + [node])
        visiting.add(node)
        for target in sorted(graph[node]):
            # "from bot.data import store" names both the package and the module
            if target != node.rpartition(".")[0]:
                visit(target, trail + [node])
        visiting.discard(node)
        done.add(node)

    for name in sorted(graph):
        visit(name, [])


def test_the_top_of_bot_stays_small_and_every_feature_package_says_what_it_holds():
    top = sorted(path.name for path in BOT.glob("*.py"))
    assert len(top) <= 15, top
    for package in (path for path in BOT.iterdir() if (path / "__init__.py").exists()):
        doc = ast.get_docstring(ast.parse((package / "__init__.py").read_text()))
        assert doc and len(doc) > 40, f"{package.name}/__init__.py needs a docstring"


def test_every_verb_and_state_has_one_owner_in_the_routing_table(tmp_path):
    table = build(tmp_path / "coach.db").table
    lines = list(table.describe())
    verbs = {line.split()[1] for line in lines if line.startswith("verb ")}
    assert {"help", "start", "rescreen", "progress", "why", "export", "delete", "settings",
            "snooze", "skip_today"} <= verbs
    states = {line.split()[1] for line in lines if line.startswith("state ")}
    assert {"new", "ready", "workout", "pain_after", "interrupted", "morning", "set_",
            "delete:", "redflag:", "screen:"} <= states


def test_python_bot_py_routes_prints_the_table(tmp_path):
    result = subprocess.run([sys.executable, "bot.py", "routes", "--db", str(tmp_path / "c.db")],
                            cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "verb  settings" in result.stdout and "state morning" in result.stdout


def test_the_import_contracts_hold():
    linter = Path(sys.executable).with_name("lint-imports")
    if not linter.exists():
        pytest.skip("import-linter is not installed (pip install -e '.[test]')")
    result = subprocess.run([str(linter)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
