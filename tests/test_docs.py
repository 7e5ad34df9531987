"""The commands users copy from the README and docs/ run the project's environment: one spelling,
`.venv/bin/python`, never a bare `python` (which is not the project's environment and fails)."""

import re

from tests.conftest import ROOT

# a bare python (or python3) running the program, a module or a script
BARE_PYTHON = re.compile(r"(?<![\w/.-])python3? (main\.py|-m \w|[\w./-]+\.py)")


def test_every_documented_command_runs_the_projects_python():
    pages = [ROOT / "README.md", ROOT / "scripts" / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    bare = [f"{page.relative_to(ROOT)}:{n}: {line.strip()}"
            for page in pages for n, line in enumerate(page.read_text().splitlines(), 1)
            if BARE_PYTHON.search(line)]
    assert bare == []


def test_the_pattern_finds_what_users_would_copy():
    for line in ("python main.py demo", "`python -m benchmarks.bench_ui`", "QT_QPA_PLATFORM=x python3 scripts/a.py"):
        assert BARE_PYTHON.search(line)
    for line in (".venv/bin/python main.py demo", "is a program of its own (`python -m`)", "```python"):
        assert not BARE_PYTHON.search(line)
