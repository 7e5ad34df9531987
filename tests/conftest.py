import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

ROOT = Path(__file__).resolve().parents[1]
REAL_DATA = ROOT.parent / "shared" / "data" / "real"


@pytest.fixture
def real_data() -> Path:
    """The real hand footage beside the checkout; tests that need it skip without it."""
    if not REAL_DATA.is_dir():
        pytest.skip(f"real footage not found at {REAL_DATA}")
    return REAL_DATA
