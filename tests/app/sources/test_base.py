import numpy as np
import pytest

from app.sources import hands as hands_module
from app.sources.base import SourceThread, now_ns
from fusion.data.sample import Sample, Skeleton, StreamInfo
from fusion.errors import BadInput


class Counting(SourceThread):
    name = "counting"

    def __init__(self, *, sink, frames=3, fail_open=False, fail_run=False):
        super().__init__(sink=sink)
        self.opens = 0
        self.frames, self.fail_open, self.fail_run = frames, fail_open, fail_run

    def _open(self):
        self.opens += 1
        if self.fail_open:
            raise BadInput("cannot open")
        self.stream_info = {"color": StreamInfo("color", 4, 3, 30.0)}

    def _run(self):
        for i in range(self.frames):
            if self.stopping:
                return
            self.emit(Sample("color", None, i, now_ns()))
        if self.fail_run:
            raise RuntimeError("device exploded")


def test_open_fills_stream_info_once_and_start_opens_if_needed():
    got = []
    source = Counting(sink=got.append)
    source.open()
    assert "color" in source.stream_info
    source.start()
    source.join(timeout=5)
    assert source.opens == 1 and [s.index for s in got] == [0, 1, 2]
    assert source.finished.is_set()

    lazy = Counting(sink=lambda s: None)
    lazy.start()
    lazy.join(timeout=5)
    assert lazy.opens == 1


def test_open_errors_raise_in_the_caller_and_run_errors_reach_join():
    with pytest.raises(BadInput, match="cannot open"):
        Counting(sink=lambda s: None, fail_open=True).start()
    source = Counting(sink=lambda s: None, fail_run=True)
    source.start()
    with pytest.raises(RuntimeError, match="exploded"):
        source.join(timeout=5)
    source.join(timeout=5)  # the error is raised once


def test_start_twice_is_an_error():
    source = Counting(sink=lambda s: None, frames=0)
    source.start()
    with pytest.raises(RuntimeError, match="already started"):
        source.start()
    source.join(timeout=5)


def test_a_source_tells_what_it_is_without_being_asked_by_name():
    source = Counting(sink=lambda s: None)
    assert source.seekable is False and source.duration_s is None and source.labels == []
    assert source.recovery is None and source.damaged == 0
    with pytest.raises(NotImplementedError):
        source.set_realtime(False)  # only a seekable source hands its pacing over


def test_set_sink_sends_samples_elsewhere_and_none_drops_them():
    first, second = [], []
    source = Counting(sink=first.append)
    source.emit(Sample("color", None, 0, now_ns()))
    source.set_sink(second.append)
    source.emit(Sample("color", None, 1, now_ns()))
    source.set_sink(None)
    source.emit(Sample("color", None, 2, now_ns()))
    assert [s.index for s in first] == [0] and [s.index for s in second] == [1]


class ColorAndDepth(SourceThread):
    """Color and depth frames; the color's red value is its index (a hand on even frames)."""

    name = "color-and-depth"

    def __init__(self, *, sink, frames=4):
        super().__init__(sink=sink)
        self.frames = frames
        self.stream_info = {"color": StreamInfo("color", 8, 6, 25.0), "depth": StreamInfo("depth", 8, 6, 25.0)}

    def _run(self):
        for i in range(self.frames):
            t = now_ns()
            self.emit(Sample("color", np.full((6, 8, 3), i, np.uint8), i, t, device_ms=40.0 * i))
            self.emit(Sample("depth", np.zeros((6, 8), np.uint16), i, t, device_ms=40.0 * i))


class FakeTracker:
    """A hand in frames whose red value is even; remembers the times it was given and whether it closed."""

    def __init__(self, config=None):
        self.times, self.closed = [], False

    def track(self, rgb, t_ms):
        self.times.append(t_ms)
        return [] if int(rgb[0, 0, 0]) % 2 else [Skeleton(image=np.zeros((21, 3), np.float32))]

    def choose(self, hands):
        return hands[0] if hands else None

    def close(self):
        self.closed = True


def test_track_hands_emits_a_skeleton_right_after_each_color_sample():
    got, tracker = [], FakeTracker()
    source = ColorAndDepth(sink=got.append)
    source.track_hands(tracker)
    assert source.stream_info["skeleton"] == StreamInfo("skeleton", 8, 6, 25.0)
    source.start()
    source.join(timeout=5)
    assert [s.stream for s in got] == ["color", "skeleton", "depth"] * 4
    colors, skeletons = got[0::3], got[1::3]
    for color, skeleton in zip(colors, skeletons):
        assert (skeleton.index, skeleton.host_ns, skeleton.device_ms) == (color.index, color.host_ns, color.device_ms)
    assert [s.data is not None for s in skeletons] == [True, False, True, False]
    assert tracker.times == [0.0, 40.0, 80.0, 120.0]  # the device's clock
    assert not tracker.closed  # a tracker handed in is its giver's to close


def test_track_hands_on_the_host_clock_and_closes_the_tracker_it_made(monkeypatch):
    made = []
    monkeypatch.setattr(hands_module, "HandTracker", lambda config: made.append(FakeTracker()) or made[-1])
    got = []
    source = ColorAndDepth(sink=got.append, frames=2)
    source.track_hands(host_clock=True)
    source.start()
    source.join(timeout=5)
    colors = [s for s in got if s.stream == "color"]
    assert made[0].times == [c.host_ns / 1e6 for c in colors]
    assert made[0].closed  # when the thread ended


def test_track_hands_needs_a_color_stream():
    source = Counting(sink=lambda s: None)
    with pytest.raises(BadInput, match="no color stream"):
        source.track_hands(FakeTracker())
