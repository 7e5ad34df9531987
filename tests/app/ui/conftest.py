import numpy as np
import pytest

from app.snapshot import Snapshot
from app.ui import MainWindow, WindowConfig
from app.ui.theme import apply_theme
from tests.app.ui.fake_engine import FakeEngine


@pytest.fixture
def engine() -> FakeEngine:
    fake = FakeEngine()
    yield fake
    fake.stop()
    fake.join(5)


@pytest.fixture
def window(qtbot, qapp, engine):
    apply_theme(qapp)
    win = MainWindow(engine, config=WindowConfig(refresh_ms=5))
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    win.activateWindow()
    qtbot.waitUntil(win.isActiveWindow, timeout=2000)
    return win


def halves(width: int = 160, height: int = 120) -> np.ndarray:
    """A frame red on its left half and blue on its right half."""
    frame = np.zeros((height, width, 3), np.uint8)
    frame[:, : width // 2] = (255, 0, 0)
    frame[:, width // 2:] = (0, 0, 255)
    return frame


def publish(qtbot, window, engine, snapshot: Snapshot) -> None:
    """Put a snapshot in the slot and wait until the window has shown it."""
    engine.slot.put(snapshot)
    qtbot.waitUntil(lambda: window.last_snapshot is snapshot, timeout=2000)
