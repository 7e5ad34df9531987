"""Who may import whom (docs: ARCHITECTURE, "Parts and the rules between them"; issue #19).

Every import in ``fusion/``, ``app/`` and ``main.py`` is read with ``ast``: at module level, inside
functions, under ``if TYPE_CHECKING``, relative ones resolved, and ``importlib.import_module("…")``
with a literal name. Dependencies point down only: ``main.py`` → ``app/`` → ``fusion/``; only
``app/ui/`` imports Qt; inside ``app/``: ``ui/`` → ``engine/`` → sources, worker, buffers, recorder.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

QT = ("PyQt6", "PyQt5", "PySide6", "PySide2", "qtpy")


@dataclass(frozen=True)
class Import:
    file: str  # relative to the repository root, with forward slashes
    line: int
    module: str  # absolute dotted name; ``from a.b import c`` gives "a.b" and "a.b.c"

    def __str__(self) -> str:
        return f"{self.file}:{self.line} imports {self.module}"


@dataclass(frozen=True)
class Rule:
    """Files under any of ``where`` (a folder ending in "/" or one file) never import ``forbidden``
    (a module and its submodules), except the files in ``unless``."""

    name: str
    where: tuple[str, ...]
    forbidden: tuple[str, ...]
    unless: tuple[str, ...] = ()

    def applies_to(self, file: str) -> bool:
        return _under(file, self.where) and not _under(file, self.unless)

    def breaks(self, imp: Import) -> bool:
        return self.applies_to(imp.file) and any(_within(imp.module, name) for name in self.forbidden)


# Known exception: the synthetic generator's realism checks run MediaPipe, inside the functions that
# need it: measure_real.py on the real footage (the reference ranges), realism.py on rendered frames.
# Checked below to be still needed; any other fusion/ file importing mediapipe breaks the rule.
FUSION_MEDIAPIPE = {"fusion/data/synthetic/measure_real.py", "fusion/data/synthetic/realism.py"}

RULES = (
    Rule("fusion/ is the model library: never the application, the command line, Qt or a device SDK",
         where=("fusion/",), forbidden=("app", "main", *QT, "pyrealsense2", "sounddevice")),
    Rule("fusion/ never imports mediapipe (outside the files that measure real hands)",
         where=("fusion/",), forbidden=("mediapipe",), unless=tuple(sorted(FUSION_MEDIAPIPE))),
    Rule("only app/ui/ imports Qt",
         where=("fusion/", "app/", "main.py"), forbidden=QT, unless=("app/ui/",)),
    Rule("app/engine/ sits below the window",
         where=("app/engine/",), forbidden=("app.ui",)),
    Rule("sources, inference worker, ring buffers, sync and recorder sit below the engine and the window",
         where=("app/sources/", "app/inference_worker.py", "app/ring_buffer.py", "app/sync.py", "app/recorder.py"),
         forbidden=("app.engine", "app.ui")),
    Rule("nothing in app/ or fusion/ imports the command line",
         where=("app/", "fusion/"), forbidden=("main",)),
)


def _under(file: str, places: tuple[str, ...]) -> bool:
    return any(file.startswith(place) if place.endswith("/") else file == place for place in places)


def _within(module: str, name: str) -> bool:
    return module == name or module.startswith(name + ".")


def _package_of(file: str) -> list[str]:
    """The dotted package that a relative import in ``file`` starts from."""
    parts = file.removesuffix(".py").split("/")
    return parts[:-1]  # "a/b/__init__.py" and "a/b/c.py" both sit in package a.b


def imports_in(source: str, file: str) -> list[Import]:
    """Every import in ``source`` (the text of ``file``, a path relative to the root)."""
    found: list[Import] = []
    for node in ast.walk(ast.parse(source, filename=file)):
        if isinstance(node, ast.Import):
            found += [Import(file, node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                package = _package_of(file)
                base = package[: len(package) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            found.append(Import(file, node.lineno, module))
            found += [Import(file, node.lineno, f"{module}.{alias.name}") for alias in node.names if alias.name != "*"]
        elif (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)
              and isinstance(node.args[0].value, str)
              and (isinstance(node.func, ast.Name) and node.func.id in ("import_module", "__import__")
                   or isinstance(node.func, ast.Attribute) and node.func.attr == "import_module")):
            found.append(Import(file, node.lineno, node.args[0].value))
    return found


def project_files() -> list[str]:
    files = [path for folder in ("fusion", "app") for path in sorted((ROOT / folder).rglob("*.py"))]
    return [path.relative_to(ROOT).as_posix() for path in files + [ROOT / "main.py"]]


@pytest.fixture(scope="module")
def all_imports() -> list[Import]:
    return [imp for file in project_files() for imp in imports_in((ROOT / file).read_text(encoding="utf-8"), file)]


def test_every_package_is_read(all_imports):
    files = project_files()
    for expected in ("main.py", "app/ui/main_window.py", "app/engine/engine.py", "fusion/mmtm.py"):
        assert expected in files
    # an import inside a function is seen: the window starts the engine only when asked to
    assert any(imp.file == "app/ui/run.py" and imp.module == "app.engine" for imp in all_imports)


@pytest.mark.parametrize("rule", RULES, ids=[rule.name for rule in RULES])
def test_rule(rule, all_imports):
    broken: dict[tuple[str, int], Import] = {}
    for imp in all_imports:
        if rule.breaks(imp):
            broken.setdefault((imp.file, imp.line), imp)  # one line per statement: its module, not each name
    assert not broken, f"{rule.name}:\n  " + "\n  ".join(map(str, broken.values()))


def test_fusion_mediapipe_exceptions_are_still_needed(all_imports):
    users = {imp.file for imp in all_imports if imp.file.startswith("fusion/") and _within(imp.module, "mediapipe")}
    assert users == FUSION_MEDIAPIPE, "update FUSION_MEDIAPIPE to the files that really import mediapipe"


@pytest.mark.parametrize("source, module", [
    ("def f():\n    import PyQt6.QtWidgets\n", "PyQt6.QtWidgets"),
    ("def f():\n    from app import ui\n", "app.ui"),
    ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from app.engine import Engine\n", "app.engine"),
    ("from ..engine import Engine\n", "app.engine"),
    ("from .. import ui\n", "app.ui"),
    ("import importlib\nimportlib.import_module('app.ui.run')\n", "app.ui.run"),
])
def test_the_reader_finds_hidden_imports(source, module):
    found = imports_in(source, "app/sources/example.py")
    assert module in {imp.module for imp in found}
    assert any(rule.breaks(imp) for rule in RULES for imp in found)  # each is forbidden in app/sources/


def test_rules_name_what_they_forbid():
    rule = next(r for r in RULES if r.where == ("fusion/",) and "app" in r.forbidden)
    assert rule.breaks(Import("fusion/x.py", 1, "app.engine"))
    assert rule.breaks(Import("fusion/x.py", 1, "main"))
    assert not rule.breaks(Import("fusion/x.py", 1, "mainline"))  # a module name, not a prefix
    assert not rule.breaks(Import("app/x.py", 1, "app.engine"))
    qt = next(r for r in RULES if r.forbidden == QT)
    assert qt.breaks(Import("app/engine/engine.py", 1, "PyQt6.QtCore"))
    assert not qt.breaks(Import("app/ui/run.py", 1, "PyQt6.QtCore"))
