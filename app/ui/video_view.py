"""The colour image with the hand skeleton drawn on it, optionally mirrored like a selfie camera.

Frames arrive as numpy RGB arrays and are wrapped in a ``QImage`` without copying (the view keeps
the array alive while the image lives); painting scales the image to the view with its aspect
ratio kept (from one RGB32 conversion made by Qt, cheaper than scaling RGB888 directly). Mirroring is a paint transform (no copy of the frame); the skeleton's x is flipped with
it, while text stays readable and names the hand as the user sees it.
"""

from __future__ import annotations

import numpy as np
from PyQt6.QtCore import QPointF, QRectF, QSize, Qt
from PyQt6.QtGui import QColor, QFontMetricsF, QImage, QPainter, QPainterPath, QPaintEvent, QPen, QPixmap
from PyQt6.QtWidgets import QSizePolicy, QWidget

from fusion.data.sample import Skeleton
from app.ui import theme
from app.ui.pill import PillCache

# MediaPipe's hand topology (HAND_CONNECTIONS): (joint, joint, finger) with finger 0..4 for
# thumb..pinky and 5 for the palm.
HAND_CONNECTIONS = (
    (0, 1, 0), (1, 2, 0), (2, 3, 0), (3, 4, 0),
    (5, 6, 1), (6, 7, 1), (7, 8, 1),
    (9, 10, 2), (10, 11, 2), (11, 12, 2),
    (13, 14, 3), (14, 15, 3), (15, 16, 3),
    (17, 18, 4), (18, 19, 4), (19, 20, 4),
    (0, 5, 5), (5, 9, 5), (9, 13, 5), (13, 17, 5), (0, 17, 5),
)
HAND_JOINTS = 21
_JOINT_FINGER = (5, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4)

_FORMATS = {3: QImage.Format.Format_RGB888, 4: QImage.Format.Format_RGBA8888}


def numpy_to_qimage(array: np.ndarray) -> tuple[QImage, np.ndarray]:
    """Wrap an (H, W, 3|4) or (H, W) uint8 array in a QImage that shares its memory.

    Returns the image and the array it points into; keep that array referenced while the image
    is used. Only non-contiguous input is copied (once, into a contiguous array).
    """
    if array.dtype != np.uint8 or array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in _FORMATS):
        raise ValueError(f"expected (H, W, 3|4) or (H, W) uint8, got {array.shape} {array.dtype}")
    if array.strides[-1] != array.itemsize or (array.ndim == 3 and array.strides[1] != array.shape[2]):
        array = np.ascontiguousarray(array)
    height, width = array.shape[:2]
    fmt = QImage.Format.Format_Grayscale8 if array.ndim == 2 else _FORMATS[array.shape[2]]
    image = QImage(array.data, width, height, array.strides[0], fmt)
    return image, array


def fit_rect(image_size: QSize, bounds: QRectF, *, align_top: bool = False) -> QRectF:
    """The largest rectangle of the image's aspect ratio centred in ``bounds`` (or at its top)."""
    if image_size.isEmpty() or bounds.isEmpty():
        return QRectF()
    scale = min(bounds.width() / image_size.width(), bounds.height() / image_size.height())
    width, height = image_size.width() * scale, image_size.height() * scale
    top = bounds.top() if align_top else bounds.center().y() - height / 2
    return QRectF(bounds.center().x() - width / 2, top, width, height)


def seen_handedness(reported: str, *, swap: bool) -> str:
    """The hand as the user knows it. MediaPipe's documentation says it names hands as if the image
    were mirrored, but on this project's unmirrored real footage (a right hand) it said "Right", as
    the synthetic world assumes; ``swap`` is for a landmarker that follows the documentation."""
    if not swap:
        return reported
    return {"Left": "Right", "Right": "Left"}.get(reported, reported)


class FrameView(QWidget):
    """Shows one image scaled to fit, optionally mirrored; subclasses draw overlays on top."""

    placeholder = "Waiting for frames…"

    def __init__(self, *, mirrored: bool = False, background: str = "#07090c", align_top: bool = False,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._background = QColor(background)
        self._align_top = align_top
        self._image: QImage | None = None
        self._array: np.ndarray | None = None  # keeps the image's memory alive
        self._scalable: QImage | None = None
        self._mirrored = mirrored
        self._corner: QWidget | None = None
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setMinimumSize(160, 120)

    @property
    def mirrored(self) -> bool:
        return self._mirrored

    def set_mirrored(self, mirrored: bool) -> None:
        self._mirrored = mirrored
        self.update()

    def set_array(self, array: np.ndarray | None) -> None:
        """Show an RGB (or grey) uint8 frame; None clears the view."""
        old_size = self._image.size() if self._image is not None else None
        if array is None:
            self._image, self._array = None, None
        else:
            self._image, self._array = numpy_to_qimage(array)
        self._scalable = None  # the same image in the raster engine's own format, made when needed
        if self._corner is not None and (self._image.size() if self._image is not None else None) != old_size:
            self._place_corner()
        self.update()

    def set_corner_widget(self, widget: QWidget) -> None:
        """Keep ``widget`` (a child overlay such as the HUD) at the image's top-left corner."""
        widget.setParent(self)
        self._corner = widget
        self._place_corner()
        widget.show()

    def _place_corner(self) -> None:
        rect = self.image_rect() if self._image is not None else QRectF(self.rect())
        margin = self.fontMetrics().height() * 0.6
        self._corner.move(int(rect.left() + margin), int(rect.top() + margin))

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if self._corner is not None:
            self._place_corner()

    def image(self) -> QImage | None:
        return self._image

    def image_rect(self) -> QRectF:
        """Where the image is drawn, in widget coordinates (empty without an image)."""
        if self._image is None:
            return QRectF()
        return fit_rect(self._image.size(), QRectF(self.rect()), align_top=self._align_top)

    def map_normalised(self, x: float, y: float) -> QPointF:
        """A point in normalised coordinates of the unmirrored image -> widget coordinates."""
        rect = self.image_rect()
        if self._mirrored:
            x = 1.0 - x
        return QPointF(rect.left() + x * rect.width(), rect.top() + y * rect.height())

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        rect = self.image_rect()
        if self._image is None or rect.isEmpty():
            painter.fillRect(self.rect(), self._background)
            painter.setPen(QColor(theme.TEXT_MUTED))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self.placeholder)
            painter.end()
            return
        # only the bands beside the image: the image covers the rest
        whole = QRectF(self.rect())
        for band in (QRectF(whole.left(), whole.top(), rect.left() - whole.left(), whole.height()),
                     QRectF(rect.right(), whole.top(), whole.right() - rect.right(), whole.height()),
                     QRectF(rect.left(), whole.top(), rect.width(), rect.top() - whole.top()),
                     QRectF(rect.left(), rect.bottom(), rect.width(), whole.bottom() - rect.bottom())):
            if band.width() > 0 and band.height() > 0:
                painter.fillRect(band.toAlignedRect(), self._background)
        image = self._image
        if abs(rect.width() - image.width()) >= 1 or abs(rect.height() - image.height()) >= 1:
            # Scaling straight from RGB888 costs about 2.5x more than converting once to RGB32
            # (the backing store's format) and scaling that (benchmarks/bench_ui.py).
            if self._scalable is None:
                self._scalable = image.convertToFormat(QImage.Format.Format_RGB32)
            image = self._scalable
        # Smooth (bilinear) scaling costs about twice the fast path; it only shows when enlarging
        # by more than a few per cent, so a near 1:1 or shrinking view takes the fast path.
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, rect.width() > image.width() * 1.15)
        if self._mirrored:
            painter.save()
            painter.translate(rect.left() + rect.right(), 0.0)  # x -> left + right - x
            painter.scale(-1.0, 1.0)
            painter.drawImage(rect, image)
            painter.restore()
        else:
            painter.drawImage(rect, image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.paint_overlay(painter, rect)
        painter.end()

    def paint_overlay(self, painter: QPainter, rect: QRectF) -> None:
        """Draw on top of the image (``rect``: where it is); nothing by default."""


class VideoView(FrameView):
    """The live colour image with the skeleton, the handedness and the current gesture."""

    def __init__(self, *, mirrored: bool = True, swap_handedness: bool = False, parent: QWidget | None = None) -> None:
        super().__init__(mirrored=mirrored, parent=parent)
        self._skeleton: Skeleton | None = None
        self._swap_handedness = swap_handedness
        self._caption = ""
        self._caption_color = QColor(theme.ACCENT)
        self._sprites: list[QPixmap] = []
        self._pills = PillCache()
        self._sprite_key: tuple | None = None

    def set_frame(self, color: np.ndarray | None, skeleton: Skeleton | None) -> None:
        """A new frame and the skeleton found in it. Without a frame (``color`` None: a source that
        failed or has not started) the last frame stays, so an error does not blank the view."""
        self._skeleton = skeleton
        if color is not None:
            self.set_array(color)
        else:
            self.update()

    def set_caption(self, text: str, color: QColor | None = None) -> None:
        """The gesture shown at the bottom of the image ('' for none)."""
        self._caption = text
        if color is not None:
            self._caption_color = color
        self.update()

    def skeleton(self) -> Skeleton | None:
        return self._skeleton

    def skeleton_points(self) -> list[QPointF]:
        """The joints in widget coordinates, as drawn."""
        if self._skeleton is None or self._image is None:
            return []
        joints = np.asarray(self._skeleton.image, dtype=np.float64)
        return [self.map_normalised(float(x), float(y)) for x, y in joints[:, :2]]

    def handedness_text(self) -> str:
        """The label next to the hand, e.g. 'Right hand 97%' ('' without a skeleton)."""
        if self._skeleton is None:
            return ""
        hand = seen_handedness(self._skeleton.handedness, swap=self._swap_handedness)
        return f"{hand} hand {self._skeleton.score:.0%}"

    def paint_overlay(self, painter: QPainter, rect: QRectF) -> None:
        points = self.skeleton_points()
        if points:
            self._paint_skeleton(painter, rect, points)
        if self._caption:
            self._paint_caption(painter, rect)

    def _joint_sprites(self, radius: float, rim: float) -> list[QPixmap]:
        """One pre-drawn joint per finger colour (blitting is far cheaper than stroking ellipses)."""
        dpr = self.devicePixelRatioF()
        key = (round(radius, 1), round(rim, 1), dpr)
        if self._sprite_key != key:
            size = int((radius + rim) * 2 + 2)
            sprites = []
            for color in (*theme.FINGER_COLORS, theme.PALM_COLOR):
                pixmap = QPixmap(int(size * dpr), int(size * dpr))
                pixmap.setDevicePixelRatio(dpr)
                pixmap.fill(Qt.GlobalColor.transparent)
                p = QPainter(pixmap)
                p.setRenderHint(QPainter.RenderHint.Antialiasing)
                p.setPen(QPen(QColor(color), rim))
                p.setBrush(QColor("#ffffff"))
                p.drawEllipse(QPointF(size / 2, size / 2), radius, radius)
                p.end()
                sprites.append(pixmap)
            self._sprites, self._sprite_key = sprites, key
        return self._sprites

    def _paint_skeleton(self, painter: QPainter, rect: QRectF, points: list[QPointF]) -> None:
        width = max(1.5, rect.width() / 260.0)
        hand = len(points) == HAND_JOINTS
        if hand:
            paths = [QPainterPath() for _ in range(6)]  # one stroke per colour, not per bone
            for a, b, finger in HAND_CONNECTIONS:
                paths[finger].moveTo(points[a])
                paths[finger].lineTo(points[b])
            for finger, path in enumerate(paths):
                color = QColor(theme.PALM_COLOR if finger == 5 else theme.FINGER_COLORS[finger])
                painter.strokePath(path, QPen(color, width, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap,
                                              Qt.PenJoinStyle.RoundJoin))
        sprites = self._joint_sprites(width * 1.25, width * 0.7)
        half = sprites[0].width() / sprites[0].devicePixelRatio() / 2
        for i, point in enumerate(points):
            painter.drawPixmap(QPointF(point.x() - half, point.y() - half), sprites[_JOINT_FINGER[i] if hand else 5])
        self._paint_pill(painter, rect, self.handedness_text(), points[0], QColor(theme.PALM_COLOR), below=True)

    def _paint_caption(self, painter: QPainter, rect: QRectF) -> None:
        anchor = QPointF(rect.center().x(), rect.bottom() - rect.height() * 0.06)
        self._paint_pill(painter, rect, self._caption, anchor, self._caption_color, below=False, scale=1.5)

    def _paint_pill(self, painter: QPainter, rect: QRectF, text: str, anchor: QPointF, color: QColor,
                    *, below: bool, scale: float = 1.0) -> None:
        font = theme.scaled_font(self.font(), scale, bold=True)
        pixmap = self._pills.get(text, font=font, border=color, fill=QColor(10, 12, 16, 190),
                                 dpr=self.devicePixelRatioF())
        size = pixmap.deviceIndependentSize()
        line = QFontMetricsF(font).height()
        top = anchor.y() + line * 0.8 if below else anchor.y() - size.height()
        left = anchor.x() - size.width() / 2
        # keep it inside the image
        left = min(max(left, rect.left() + 4), rect.right() - size.width() - 4)
        top = min(max(top, rect.top() + 4), rect.bottom() - size.height() - 4)
        painter.drawPixmap(QPointF(left, top), pixmap)
