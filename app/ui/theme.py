"""The dark theme: a Fusion palette, one stylesheet, and the colours the painted views share.

Sizes are in points or relative to the application font, never in pixels of text, so the window
scales on HiDPI screens.
"""

from __future__ import annotations

import zlib

from PyQt6.QtGui import QColor, QFont, QPalette
from PyQt6.QtWidgets import QApplication

BACKGROUND = "#0f1216"
PANEL = "#171b21"
PANEL_RAISED = "#1e232b"
BORDER = "#2a313b"
TEXT = "#e6e9ef"
TEXT_MUTED = "#8a94a3"
ACCENT = "#4cc2ff"
RECORD = "#ff4d5e"
WARNING = "#ffb547"
ERROR_BG = "#5a1d24"

# One colour per finger, thumb to pinky, then the palm; joints are drawn light with a rim.
FINGER_COLORS = ("#ffb547", "#4cc2ff", "#7ee081", "#c792ea", "#ff7a90")
PALM_COLOR = "#d8dee9"

# Gesture colours on the timeline and in the bars: a label always gets the same one.
LABEL_PALETTE = (
    "#4cc2ff", "#7ee081", "#ffb547", "#c792ea", "#ff7a90", "#5eead4",
    "#f9a8d4", "#a3e635", "#fca5a5", "#93c5fd", "#fde047", "#fdba74",
)

STYLESHEET = f"""
QMainWindow, QDialog {{ background: {BACKGROUND}; }}
QWidget {{ color: {TEXT}; }}
QToolBar {{
    background: {PANEL}; border: none; border-bottom: 1px solid {BORDER};
    spacing: 0.3em; padding: 0.25em 0.5em;
}}
QToolBar::separator {{ background: {BORDER}; width: 1px; margin: 0.3em 0.4em; }}
QToolButton {{
    background: transparent; border: 1px solid transparent; border-radius: 0.35em;
    padding: 0.3em 0.6em;
}}
QToolButton:hover {{ background: {PANEL_RAISED}; border-color: {BORDER}; }}
QToolButton:checked {{ background: #1d3a4d; border-color: {ACCENT}; }}
QToolButton#recordButton:checked {{ background: #4a1820; border-color: {RECORD}; color: #ffd7dc; }}
QToolButton::menu-indicator {{ subcontrol-position: right center; right: 0.2em; }}
QMenuBar {{ background: {PANEL}; border-bottom: 1px solid {BORDER}; }}
QMenuBar::item {{ padding: 0.25em 0.7em; background: transparent; }}
QMenuBar::item:selected, QMenu::item:selected {{ background: #1d3a4d; }}
QMenu {{ background: {PANEL_RAISED}; border: 1px solid {BORDER}; padding: 0.25em; }}
QMenu::item {{ padding: 0.3em 1.6em 0.3em 1.2em; border-radius: 0.25em; }}
QMenu::separator {{ height: 1px; background: {BORDER}; margin: 0.25em 0.5em; }}
QStatusBar {{ background: {PANEL}; border-top: 1px solid {BORDER}; color: {TEXT_MUTED}; }}
QStatusBar QLabel {{ color: {TEXT_MUTED}; padding: 0 0.6em; }}
QStatusBar QLabel#recordingLabel[recording="true"] {{ color: {RECORD}; font-weight: 600; }}
QFrame#card {{ background: {PANEL}; border: 1px solid {BORDER}; border-radius: 0.6em; }}
QLabel#cardTitle {{ color: {TEXT_MUTED}; font-size: 8pt; font-weight: 600; letter-spacing: 0.08em; }}
QLabel#gestureName {{ font-size: 22pt; font-weight: 700; }}
QLabel#gestureName[idle="true"] {{ color: {TEXT_MUTED}; }}
QLabel#gestureScore {{ color: {ACCENT}; font-size: 13pt; font-weight: 600; }}
QLabel#hud {{
    background: rgba(10, 12, 16, 205); border: 1px solid rgba(255, 255, 255, 30);
    border-radius: 0.5em; padding: 0.45em 0.7em; color: #cfd6e0;
    font-family: "DejaVu Sans Mono", "Menlo", "Consolas", monospace; font-size: 8.5pt;
}}
QLabel#banner {{
    background: {ERROR_BG}; border: 1px solid {RECORD}; border-radius: 0.4em;
    padding: 0.4em 0.8em; color: #ffe1e5;
}}
QPushButton {{
    background: {PANEL_RAISED}; border: 1px solid {BORDER}; border-radius: 0.35em; padding: 0.3em 0.9em;
}}
QPushButton:hover {{ border-color: {ACCENT}; }}
QPushButton:default {{ border-color: {ACCENT}; }}
QPushButton#bannerClose {{ background: transparent; border: none; padding: 0.2em 0.5em; }}
QDoubleSpinBox, QLineEdit, QComboBox {{
    background: {PANEL_RAISED}; border: 1px solid {BORDER}; border-radius: 0.3em; padding: 0.15em 0.4em;
    selection-background-color: {ACCENT};
}}
QSlider::groove:horizontal {{ height: 0.35em; background: {PANEL_RAISED}; border-radius: 0.17em; }}
QSlider::sub-page:horizontal {{ background: {ACCENT}; border-radius: 0.17em; }}
QSlider::handle:horizontal {{
    background: {TEXT}; width: 0.9em; margin: -0.3em 0; border-radius: 0.45em;
}}
QListWidget, QTableWidget {{
    background: {PANEL}; border: 1px solid {BORDER}; border-radius: 0.3em; gridline-color: {BORDER};
}}
QHeaderView::section {{ background: {PANEL_RAISED}; border: none; padding: 0.3em; color: {TEXT_MUTED}; }}
QSplitter::handle {{ background: {BACKGROUND}; }}
"""


def label_color(label: str) -> QColor:
    """A stable colour for a gesture label (the same in every run)."""
    return QColor(LABEL_PALETTE[zlib.crc32(label.encode()) % len(LABEL_PALETTE)])


def pretty_label(label: str) -> str:
    """``swipe_left`` -> ``Swipe left``."""
    text = label.replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def scaled_font(base: QFont, factor: float, *, bold: bool = False) -> QFont:
    """``base`` at ``factor`` times its point size (falls back to 10 pt where it has none)."""
    font = QFont(base)
    size = base.pointSizeF() if base.pointSizeF() > 0 else 10.0
    font.setPointSizeF(size * factor)
    font.setBold(bold)
    return font


_APPLIED = "mmtm_live_theme"  # the QApplication property that marks the theme as applied


def apply_theme(app: QApplication) -> None:
    """Fusion style, a dark palette and the stylesheet, once per application: setting the style
    again re-polishes every widget alive, for nothing (and a clean-clone test run once crashed in it,
    with widgets of earlier tests about)."""
    if app.property(_APPLIED):
        return
    app.setStyle("Fusion")
    palette = QPalette()
    colors = {
        QPalette.ColorRole.Window: BACKGROUND,
        QPalette.ColorRole.WindowText: TEXT,
        QPalette.ColorRole.Base: PANEL,
        QPalette.ColorRole.AlternateBase: PANEL_RAISED,
        QPalette.ColorRole.ToolTipBase: PANEL_RAISED,
        QPalette.ColorRole.ToolTipText: TEXT,
        QPalette.ColorRole.Text: TEXT,
        QPalette.ColorRole.Button: PANEL_RAISED,
        QPalette.ColorRole.ButtonText: TEXT,
        QPalette.ColorRole.BrightText: RECORD,
        QPalette.ColorRole.Highlight: ACCENT,
        QPalette.ColorRole.HighlightedText: BACKGROUND,
        QPalette.ColorRole.Link: ACCENT,
        QPalette.ColorRole.PlaceholderText: TEXT_MUTED,
    }
    for role, color in colors.items():
        palette.setColor(role, QColor(color))
    palette.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text, QColor(TEXT_MUTED))
    palette.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.ButtonText, QColor(TEXT_MUTED))
    app.setPalette(palette)
    app.setStyleSheet(STYLESHEET)
    app.setProperty(_APPLIED, True)
