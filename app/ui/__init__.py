"""The PyQt6 window (the only part of the project that imports Qt).

Public API: ``MainWindow(controls, *, config)``, ``WindowConfig``, ``run_window(controls, config, *,
screenshot, max_frames) -> int`` and ``save_screenshot(window, path)``.
"""

from app.ui.main_window import MainWindow
from app.ui.run import check_display, run_window, save_screenshot
from app.ui.window_config import WindowConfig

__all__ = ["MainWindow", "WindowConfig", "check_display", "run_window", "save_screenshot"]
