"""The heads-up display over the video: fps per stream, inference time, capture -> decision
latency, skipped and dropped frames, device and backend."""

from __future__ import annotations

import time

from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QLabel, QWidget

from app.snapshot import Snapshot


def hud_lines(snapshot: Snapshot, *, view_fps: float | None = None) -> list[str]:
    """The HUD's text, one string per line."""
    fps = "  ".join(f"{name} {value:4.1f}" for name, value in snapshot.fps.items()) or "—"
    latency = snapshot.latency_ms
    if "p50" in latency or "p95" in latency:
        lat = f"p50 {latency.get('p50', float('nan')):5.1f}  p95 {latency.get('p95', float('nan')):5.1f} ms"
    else:
        lat = "—"
    dropped = "  ".join(f"{name} {count}" for name, count in snapshot.dropped.items() if count) or "0"
    lines = [
        f"fps       {fps}",
        f"inference {snapshot.inference_ms:5.1f} ms",
        f"latency   {lat}",
        f"skipped   {snapshot.skipped}   dropped {dropped}",
        f"device    {snapshot.device} · {snapshot.backend}",
    ]
    if view_fps is not None:
        lines[-1] += f"   view {view_fps:4.1f} fps"
    return lines


class Hud(QLabel):
    """A translucent, monospaced panel; the window lays it over the video's top-left corner."""

    REFRESH_HZ = 4.0

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("hud")
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setText("waiting for the engine…")
        self._last = -1e9

    def update_from(self, snapshot: Snapshot, *, view_fps: float | None = None, force: bool = False) -> None:
        """Show the snapshot's figures, at most ``REFRESH_HZ`` times a second (numbers that change
        every frame cannot be read, and each change repaints the video under the HUD)."""
        now = time.monotonic()
        if not force and now - self._last < 1.0 / self.REFRESH_HZ:
            return
        self._last = now
        text = "\n".join(hud_lines(snapshot, view_fps=view_fps))
        if text != self.text():
            self.setText(text)
            self.adjustSize()
