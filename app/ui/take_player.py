"""Plays a take (a ``.mmtm`` recording) back in the Teach panel, and the drawing of one of its frames.

``TakePlayer`` shows the take's frames in order at the take's own frame rate (a ``QTimer``: the
event loop, and with it the live video, never waits), each drawn by ``paint_frame`` as the take's
strip draws them: the hand skeleton over the colour image, or on a dark background where the take
has none (skeleton only). Frames are decoded one per tick through ``RecordingReader``, the reader
every take goes through (it runs no code from the file); a take it cannot read is one line in
``failed``, never an exception.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PyQt6.QtCore import QPointF, QRectF, QSize, QTimer, pyqtSignal
from PyQt6.QtGui import QColor, QImage, QPainter, QPen, QPixmap
from PyQt6.QtWidgets import QLabel, QVBoxLayout, QWidget

from app.ui.video_view import HAND_CONNECTIONS, HAND_JOINTS, fit_rect, numpy_to_qimage
from fusion.data.sample import STREAMS
from fusion.errors import BadInput

BACKGROUND = "#1b1f24"
MAX_FPS = 120.0


def paint_frame(painter: QPainter, rect: QRectF, hand, image: QImage | None = None, *, fit_hand: bool = False) -> None:
    """One frame of a take in ``rect``: its colour image (else a dark background) and the hand
    skeleton (a ``Skeleton`` or None) at its place in the image, or filling ``rect`` (``fit_hand``: the strip)."""
    painter.fillRect(rect, QColor(BACKGROUND))
    if image is not None:
        painter.drawImage(rect, image)
    if hand is None or len(hand.image) < HAND_JOINTS:  # no hand in this frame (or not MediaPipe's 21 joints)
        return
    xy = np.asarray(hand.image, dtype=float)[:, :2]
    if fit_hand:
        lo, span = xy.min(axis=0), max(float(np.ptp(xy, axis=0).max()), 1e-6)
        pts = (xy - lo) / span * (min(rect.width(), rect.height()) - 8) + 4
    else:
        pts = xy * (rect.width(), rect.height())
    pts += (rect.left(), rect.top())
    painter.setPen(QPen(QColor("#6cc4ff"), max(1.5, rect.width() / 120)))
    for a, b, _ in HAND_CONNECTIONS:
        painter.drawLine(QPointF(*pts[a]), QPointF(*pts[b]))


class TakePlayer(QWidget):
    """A take's frames in a small view (module docstring), and a line under it: frame n of N, or
    how the playing ended. ``frame_shown`` carries the frame number just shown, ``finished`` follows
    the last one, ``failed`` carries one line when the take cannot be read."""

    frame_shown = pyqtSignal(int)
    finished = pyqtSignal()
    failed = pyqtSignal(str)

    def __init__(self, width: int = 240, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.view = QLabel()
        self.view.setFixedSize(width, width * 3 // 4)
        self.caption = QLabel("")
        self.caption.setWordWrap(True)
        self.caption.setFixedWidth(width)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view)
        layout.addWidget(self.caption)
        self.timer = QTimer(self)
        self.timer.timeout.connect(self._next)
        self.path: Path | None = None  # the take shown (playing or played)
        self.fps = 0.0
        self.shown = -1  # the frame on view
        self._reader = None
        self._frames: list[tuple[int | None, int | None]] = []  # (colour row, skeleton row) of each frame
        self._size = QSize(4, 3)  # the take's image size
        self.clear()

    @property
    def playing(self) -> bool:
        return self.timer.isActive()

    def play(self, path: Path) -> bool:
        """Play ``path`` from its first frame (whatever was playing stops); False, and one line in
        ``failed``, when it cannot be read."""
        from fusion.data.recording import RecordingReader

        self.clear()
        try:
            self._reader = RecordingReader(path)
        except (BadInput, OSError) as error:
            return self._fail(path, error)
        self.path = Path(path)
        self._frames, stream = take_frames(self._reader.table)
        if not self._frames:
            return self._fail(path, "it holds no image or hand skeleton")
        info = self._reader.streams.get(stream, {})
        width, height = int(info.get("width", 0)), int(info.get("height", 0))
        self._size = QSize(width, height) if width and height else QSize(4, 3)
        fps = float(info.get("fps", 0)) or take_fps(self._reader.table, self._frames, stream)
        self.fps = min(max(fps, 1.0), MAX_FPS)
        self.timer.start(round(1000 / self.fps))
        self._next()
        return self.path is not None

    def stop(self) -> None:
        """Stop playing (the frame on view stays), and close the take."""
        self.timer.stop()
        if self._reader is not None:
            self._reader.close()
            self._reader = None

    def clear(self) -> None:
        """Stop, and show nothing: no trace of the take is left (its file may be deleted next)."""
        self.stop()
        self.path, self.fps, self.shown, self._frames = None, 0.0, -1, []
        blank = QPixmap(self.view.size())
        blank.fill(QColor(BACKGROUND))
        self.view.setPixmap(blank)
        self.caption.setText("")

    def _next(self) -> None:
        colour_row, hand_row = self._frames[self.shown + 1]
        try:
            colour = None if colour_row is None else self._reader.frame(colour_row).data
            hand = None if hand_row is None else self._reader.frame(hand_row).data
        except BadInput as error:
            self._fail(self.path, error)
            return
        self.shown += 1
        image, pixels = numpy_to_qimage(colour) if colour is not None else (None, None)  # pixels: kept till painted
        pixmap = QPixmap(self.view.size())
        pixmap.fill(QColor("black"))
        painter = QPainter(pixmap)
        rect = fit_rect(self._size if image is None else image.size(), QRectF(pixmap.rect()))
        paint_frame(painter, rect, hand, image)
        painter.end()
        self.view.setPixmap(pixmap)
        count, last = len(self._frames), self.shown + 1 == len(self._frames)
        self.caption.setText(f"played: {count} frames at {self.fps:.3g} fps" if last
                             else f"frame {self.shown + 1} / {count} at {self.fps:.3g} fps")
        self.frame_shown.emit(self.shown)
        if last:
            self.stop()
            self.finished.emit()

    def _fail(self, path: Path, error: object) -> bool:
        """Clear, and say why in one line (the take named by its file name)."""
        self.clear()
        path, line = Path(path), (str(error).splitlines() or ["unreadable"])[0]
        self.failed.emit(line.replace(str(path), path.name) if str(path) in line else f"{path.name}: {line}")
        return False


def take_frames(table: np.ndarray) -> tuple[list[tuple[int | None, int | None]], str]:
    """(colour row, skeleton row) of each frame of a take's index table, in file order (a frame's
    skeleton has its colour image's index), and the stream that gives the frames: the colour images,
    else the skeletons."""
    colour, skeleton = STREAMS.index("color"), STREAMS.index("skeleton")
    frames: dict[int, list] = {}
    for row, (stream, index) in enumerate(zip(table["stream"].tolist(), table["index"].tolist())):
        if stream in (colour, skeleton):
            frames.setdefault(index, [None, None])[stream == skeleton] = row
    if any(c is not None for c, _ in frames.values()):
        return [(c, s) for c, s in frames.values() if c is not None], "color"
    return [(c, s) for c, s in frames.values()], "skeleton"


def take_fps(table: np.ndarray, frames: list, stream: str) -> float:
    """The frame rate of a take whose stream does not say it, from its frames' capture times (30 if
    they do not tell)."""
    stamps = table["host_ns"][[c if stream == "color" else s for c, s in frames]]
    span_s = (int(stamps[-1]) - int(stamps[0])) / 1e9 if len(stamps) > 1 else 0.0
    return (len(stamps) - 1) / span_s if span_s > 0 else 30.0
