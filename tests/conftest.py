import importlib.util
import os
import sys
import threading
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

ROOT = Path(__file__).resolve().parents[1]


def in_thread(call, timeout: float = 5.0):
    """(finished, error) of ``call`` run on a daemon thread: a hang is a failure, not a stuck suite."""
    box = {}

    def run():
        try:
            call()
        except BaseException as error:  # handed to the test
            box["error"] = error

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(timeout)
    return not thread.is_alive(), box.get("error")
REAL_DATA = ROOT.parent / "shared" / "data" / "real"


@pytest.fixture
def real_data() -> Path:
    """The real hand footage beside the checkout; tests that need it skip without it."""
    if not REAL_DATA.is_dir():
        pytest.skip(f"real footage not found at {REAL_DATA}")
    return REAL_DATA


def load_script(name: str, monkeypatch: pytest.MonkeyPatch | None = None):
    """``scripts/NAME.py`` imported as a module named NAME. With ``monkeypatch`` it is also in
    ``sys.modules`` while the test runs (worker processes unpickle its functions by that name)."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    if monkeypatch is not None:
        monkeypatch.setitem(sys.modules, name, module)
    spec.loader.exec_module(module)
    return module
