"""Frames, skeleton, mirror, depth, predictions, timeline and HUD reach the screen."""

import numpy as np
import pytest
from PyQt6.QtCore import QPoint, Qt
from PyQt6.QtGui import QColor

from app.snapshot import EventMark, Snapshot
from fusion.data.sample import Skeleton
from app.ui.depth_view import depth_lut
from app.ui.hud import hud_lines
from app.ui.prediction_panel import top_k
from app.ui.video_view import numpy_to_qimage, seen_handedness
from tests.app.ui.conftest import halves, publish


def pixel(widget, x: float, y: float) -> QColor:
    return widget.grab().toImage().pixelColor(QPoint(int(x), int(y)))


def test_numpy_to_qimage_shares_memory_and_copies_only_strided_input():
    frame = halves()
    image, kept = numpy_to_qimage(frame)
    assert kept is frame
    assert int(image.constBits()) == frame.ctypes.data
    assert image.pixelColor(0, 0) == QColor(255, 0, 0)
    strided = frame[:, ::2]  # (120, 80, 3), not contiguous
    image, kept = numpy_to_qimage(strided)
    assert kept is not strided and kept.flags.c_contiguous
    assert (image.width(), image.height()) == (80, 120)
    with pytest.raises(ValueError):
        numpy_to_qimage(np.zeros((4, 4, 3), np.float32))


def test_frame_reaches_the_view_and_mirror_flips_it(qtbot, window, engine):
    publish(qtbot, window, engine, Snapshot(frame_index=1, color=halves()))
    rect = window.video.image_rect()
    assert not rect.isEmpty()
    assert abs(rect.width() / rect.height() - 160 / 120) < 0.02  # aspect ratio kept
    left = (rect.left() + rect.width() * 0.25, rect.center().y())
    right = (rect.left() + rect.width() * 0.75, rect.center().y())
    # mirrored by default: the frame's right half (blue) shows on the left
    assert window.video.mirrored
    assert pixel(window.video, *left) == QColor(0, 0, 255)
    assert pixel(window.video, *right) == QColor(255, 0, 0)
    qtbot.keyClick(window, Qt.Key.Key_M)
    assert not window.video.mirrored and not window.commands.mirror.isChecked()
    assert pixel(window.video, *left) == QColor(255, 0, 0)
    assert pixel(window.video, *right) == QColor(0, 0, 255)


def _hand(x: float, y: float, handedness: str = "Left") -> Skeleton:
    joints = np.zeros((21, 3), np.float32)
    joints[:, 0] = x + np.linspace(0.0, 0.1, 21)
    joints[:, 1] = y
    return Skeleton(image=joints, handedness=handedness, score=0.9)


def test_skeleton_overlay_is_drawn_where_the_joints_are(qtbot, window, engine):
    grey = np.full((120, 160, 3), 40, np.uint8)
    skeleton = _hand(0.2, 0.3)
    publish(qtbot, window, engine, Snapshot(frame_index=1, color=grey, skeleton=skeleton))
    rect = window.video.image_rect()
    points = window.video.skeleton_points()
    assert len(points) == 21
    # mirrored: x -> 1 - x
    assert points[0].x() == pytest.approx(rect.left() + 0.8 * rect.width(), abs=0.5)
    assert points[0].y() == pytest.approx(rect.top() + 0.3 * rect.height(), abs=0.5)
    drawn = pixel(window.video, points[0].x(), points[0].y())
    assert drawn != QColor(40, 40, 40)  # a joint was painted on the frame
    far_away = pixel(window.video, rect.left() + 0.5 * rect.width(), rect.top() + 0.8 * rect.height())
    assert far_away == QColor(40, 40, 40)
    # MediaPipe names the hand the user's own on unmirrored frames (measured on the real footage)
    assert window.video.handedness_text() == "Left hand 90%"
    assert seen_handedness("Left", swap=False) == "Left"
    assert seen_handedness("Left", swap=True) == "Right"
    qtbot.keyClick(window, Qt.Key.Key_M)
    assert window.video.skeleton_points()[0].x() == pytest.approx(rect.left() + 0.2 * rect.width(), abs=0.5)
    assert window.video.handedness_text() == "Left hand 90%"  # mirroring does not change whose hand it is


def test_depth_view_colour_maps_and_toggles(qtbot, window, engine):
    depth = np.zeros((120, 160), np.uint16)
    depth[:, 80:] = 500  # 0.5 m on the right half: warm; left half: no data, black
    publish(qtbot, window, engine, Snapshot(frame_index=1, color=halves(), depth=depth, depth_scale=0.001))
    view = window.depth
    qtbot.waitUntil(lambda: view.image() is not None, timeout=2000)
    rect = view.image_rect()
    assert not rect.isEmpty()
    lut = depth_lut(0.001, 0.2, 2.0)
    near = tuple(int(c) for c in lut[500])
    assert near[0] > near[2]  # near is warm
    assert tuple(lut[0]) == (0, 0, 0)
    y = rect.top() + rect.height() * 0.3
    shown_left = pixel(view, rect.left() + rect.width() * 0.25, y)  # mirrored: the near half
    assert (shown_left.red(), shown_left.green(), shown_left.blue()) == near
    assert pixel(view, rect.left() + rect.width() * 0.75, y) == QColor(0, 0, 0)
    qtbot.keyClick(window, Qt.Key.Key_D)
    assert not window.depth_card.isVisible() and not window.commands.depth.isChecked()
    qtbot.keyClick(window, Qt.Key.Key_D)
    assert window.depth_card.isVisible()


def test_predictions_top_k_and_timeline_show_the_snapshot(qtbot, window, engine):
    labels = ("no_gesture", "thumbs_up", "fist", "swipe_left", "push", "pull", "victory")
    probs = np.array([0.05, 0.6, 0.02, 0.2, 0.08, 0.01, 0.04], np.float32)
    events = (EventMark("fist", 0.7, 1.0), EventMark("swipe_left", 0.8, 14.0), EventMark("thumbs_up", 0.9, 19.5))
    snap = Snapshot(t=20.0, frame_index=600, color=halves(), labels=labels, probs=probs,
                    current=events[-1], events=events)
    publish(qtbot, window, engine, snap)
    assert window.predictions.name_label.text() == "Thumbs up"
    assert "90%" in window.predictions.score_label.text()
    rows = window.predictions.bars.rows()
    assert [label for label, _ in rows] == ["thumbs_up", "swipe_left", "push", "no_gesture", "victory"]
    assert rows[0][1] == pytest.approx(0.6)
    # the timeline shows the last 10 s: the event at t=1 is gone
    assert window.timeline.visible_events() == [events[1], events[2]]
    assert window.timeline.x_of(20.0) > window.timeline.x_of(14.0)
    # no current gesture: idle text
    publish(qtbot, window, engine, Snapshot(t=21.0, frame_index=601, labels=labels, probs=probs, events=events))
    assert window.predictions.name_label.text() == "No gesture"
    assert top_k(labels, None, 5) == []


def test_hud_shows_rates_latency_drops_device():
    snap = Snapshot(fps={"color": 30.0, "depth": 29.5}, inference_ms=12.25, latency_ms={"p50": 40.0, "p95": 55.5},
                    skipped=3, dropped={"color": 0, "depth": 2}, device="cuda:0", backend="onnxruntime")
    text = "\n".join(hud_lines(snap, view_fps=60.0))
    for part in ("color 30.0", "depth 29.5", "12.2 ms", "p50  40.0", "p95  55.5", "skipped   3", "depth 2",
                 "cuda:0 · onnxruntime", "view 60.0"):
        assert part in text, part


def test_status_bar_shows_source_model_recording(qtbot, window, engine):
    publish(qtbot, window, engine, Snapshot(frame_index=1, source="sample", model="default.pt",
                                            recording="/tmp/rec-1.mmtm"))
    assert "sample" in window.status_line.source_label.text()
    assert "default.pt" in window.status_line.model_label.text()
    assert "rec-1.mmtm" in window.status_line.recording_label.text()
    assert window.commands.record.isChecked()


def test_error_in_a_snapshot_is_shown_and_the_window_keeps_running(qtbot, window, engine):
    publish(qtbot, window, engine, Snapshot(frame_index=1, error="RealSense unplugged"))
    assert "RealSense unplugged" in window.error_text()
    assert window.isVisible()
    publish(qtbot, window, engine, Snapshot(frame_index=2, color=halves(), error="RealSense unplugged"))
    assert window.video.image() is not None and window.isVisible()
    publish(qtbot, window, engine, Snapshot(frame_index=3, error="RealSense unplugged"))
    assert window.video.image() is not None  # the last frame stays under the message
    window.dismiss_error()
    assert window.error_text() == ""
    publish(qtbot, window, engine, Snapshot(frame_index=4, error="cannot read broken.bag"))
    assert "broken.bag" in window.error_text()
    publish(qtbot, window, engine, Snapshot(frame_index=5))
    assert window.error_text() == ""  # the engine cleared it


def test_a_failing_control_becomes_a_message(qtbot, window, engine):
    def broken(paused: bool) -> None:
        raise RuntimeError("worker is gone")

    engine.set_paused = broken
    qtbot.keyClick(window, Qt.Key.Key_Space)
    assert "worker is gone" in window.error_text()
    assert window.isVisible()


def test_side_views_catch_up_with_the_newest_snapshot(qtbot, window, engine):
    near, far = np.full((60, 80), 500, np.uint16), np.full((60, 80), 1900, np.uint16)
    publish(qtbot, window, engine, Snapshot(frame_index=1, depth=near))
    publish(qtbot, window, engine, Snapshot(frame_index=2, depth=far))  # within the throttle interval
    lut = depth_lut(0.001, 0.2, 2.0)
    # the depth map follows on a later timer tick, without a new snapshot
    qtbot.waitUntil(lambda: tuple(window.depth.image().pixelColor(5, 5).getRgb()[:3]) == tuple(lut[1900]),
                    timeout=2000)
