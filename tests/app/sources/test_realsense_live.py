"""The live RealSense loop with a fake device: pairing, drops, unplug detection and reconnection."""

import threading
import time

import numpy as np
import pytest

from app.sources.realsense import DeviceLost, RawFrame, RealSenseConfig, RealSenseSource
from fusion.data.sample import StreamInfo
from fusion.errors import BadInput


def frame(stream, k, fps=30.0, offset_ms=0.0):
    data = np.full((4, 6, 3), k, np.uint8) if stream == "color" else np.full((4, 6), 1000 + k, np.uint16)
    return RawFrame(stream, k, k * 1000.0 / fps + offset_ms, data)


class FakeDevice:
    """Plays a script of frame sets; ``None`` in the script = nothing arrives (a timeout);
    ``"unplug"`` = the SDK raises; after the script it goes quiet (as an unplugged camera)."""

    def __init__(self, script, fps=30.0):
        self.script, self.fps = list(script), fps
        self.stream_info = {"color": StreamInfo("color", 6, 4, fps), "depth": StreamInfo("depth", 6, 4, fps, depth_scale=0.001)}
        self.is_recording = False
        self.closed = False
        self.aligned_with = []

    def read(self, timeout_ms):
        if not self.script:
            time.sleep(timeout_ms / 1000)
            return None
        item = self.script.pop(0)
        if item == "unplug":
            raise DeviceLost("device disconnected")
        if item is None:
            time.sleep(timeout_ms / 1000)
            return None
        return list(item)

    def color(self, raw):
        return raw.handle.copy()

    def depth(self, raw, color):
        self.aligned_with.append((raw.number, color.number if color is not None else None))
        return raw.handle.copy()

    def close(self):
        self.closed = True


class FakeConnector:
    """open_session for the source: hands out devices in turn; DeviceLost while 'unplugged'."""

    def __init__(self, devices, absent_tries=0):
        self.devices, self.absent_tries, self.opened = list(devices), absent_tries, []

    def __call__(self, config):
        if self.opened and self.absent_tries > 0:
            self.absent_tries -= 1
            raise DeviceLost("no RealSense device connected")
        if not self.devices:
            raise DeviceLost("no RealSense device connected")
        device = self.devices.pop(0)
        self.opened.append(device)
        return device


def pairs(ks, **kw):
    return [(frame("depth", k, **kw), frame("color", k, **kw)) for k in ks]


def collect(source, until, timeout=5.0):
    """Start, wait until ``until(samples)`` holds, stop, join; returns the samples."""
    samples = []
    done = threading.Event()

    def sink(sample):
        samples.append(sample)
        if until(samples):
            done.set()

    source.set_sink(sink)
    source.start()
    try:
        assert done.wait(timeout), f"only {len(samples)} samples"
    finally:
        source.stop()
        source.join(timeout=2)
    return samples


def test_pairs_in_separate_sets_with_repeats_are_emitted_once_each_in_order():
    # 45 recorded pairs arriving as 90+ sets: depth alone, then its color alone, plus repeats
    script = []
    for k in range(45):
        script.append([frame("depth", k)])
        script.append([frame("color", k)] + ([frame("depth", k)] if k % 5 == 0 else []))  # repeated depth
    device = FakeDevice(script)
    source = RealSenseSource(RealSenseConfig(), sink=None, open_session=FakeConnector([device]), on_status=lambda m: None)
    samples = collect(source, lambda s: len(s) >= 90)
    assert len(samples) == 90
    assert [(s.stream, s.index) for s in samples] == [(name, k) for k in range(45) for name in ("color", "depth")]
    assert device.aligned_with == [(k, k) for k in range(45)]  # depth aligned with its own color
    assert source.stats["repeats"]["depth"] == 9
    assert source.stats["drops"] == {"color": 0, "depth": 0}
    assert samples[1].data.dtype == np.uint16 and samples[0].data.shape == (4, 6, 3)


def test_gaps_are_drops_and_unpaired_frames_are_still_emitted():
    script = [[d, c] for d, c in pairs([0, 1, 2, 5, 6])]
    script += [[frame("depth", 7)], [frame("depth", 8)], [frame("depth", 9)], [frame("depth", 10)]]  # color stalls
    device = FakeDevice(script)
    source = RealSenseSource(RealSenseConfig(), sink=None, open_session=FakeConnector([device]), on_status=lambda m: None)
    samples = collect(source, lambda s: sum(x.stream == "depth" for x in s) >= 9)
    assert [s.index for s in samples if s.stream == "depth"][:9] == [0, 1, 2, 5, 6, 7, 8, 9, 10]
    assert source.stats["drops"] == {"color": 2, "depth": 2}
    # lone depth frames are aligned to the last color frame's geometry
    assert (7, 6) in device.aligned_with


def test_unplug_is_detected_within_a_second_and_the_source_reconnects():
    messages = []
    first = FakeDevice([[d, c] for d, c in pairs(range(5))])  # then silence: unplugged
    second = FakeDevice([[d, c] for d, c in pairs(range(3))])  # the counter restarts on a new session
    connector = FakeConnector([first, second], absent_tries=3)
    stamps = {}

    def on_status(message):
        messages.append(message)
        stamps.setdefault(message.split(" (")[0], time.monotonic())

    source = RealSenseSource(RealSenseConfig(disconnect_s=0.3, reconnect_s=0.05), sink=None,
                             open_session=connector, on_status=on_status)
    t0 = {}

    def until(samples):
        if len(samples) == 10:
            t0["last"] = time.monotonic()
        return len(samples) >= 16

    samples = collect(source, until)
    assert messages[0].startswith("RealSense disconnected") and messages[1] == "RealSense reconnected"
    assert stamps["RealSense disconnected"] - t0["last"] < 1.0
    assert first.closed and connector.absent_tries == 0
    assert source.stats["disconnects"] == 1 and source.stats["reconnects"] == 1
    assert [s.index for s in samples if s.stream == "color"] == [0, 1, 2, 3, 4, 0, 1, 2]
    assert source.stats["drops"] == {"color": 0, "depth": 0}  # a restarted counter is not a drop


def test_an_sdk_error_while_reading_counts_as_an_unplug():
    first = FakeDevice([[d, c] for d, c in pairs(range(2))] + ["unplug"])
    second = FakeDevice([[d, c] for d, c in pairs(range(2))])
    messages = []
    source = RealSenseSource(RealSenseConfig(reconnect_s=0.05), sink=None,
                             open_session=FakeConnector([first, second]), on_status=messages.append)
    samples = collect(source, lambda s: len(s) >= 8)
    assert len(samples) == 8 and messages == ["RealSense disconnected (device disconnected)", "RealSense reconnected"]


def test_no_device_at_start_is_bad_input_unless_waiting():
    with pytest.raises(BadInput, match="no RealSense device connected"):
        RealSenseSource(RealSenseConfig(), sink=lambda s: None, open_session=FakeConnector([])).start()
    device = FakeDevice([[d, c] for d, c in pairs(range(2))])
    connector = FakeConnector([], absent_tries=0)
    messages = []
    source = RealSenseSource(RealSenseConfig(wait_for_device=True, reconnect_s=0.05), sink=None,
                             open_session=connector, on_status=messages.append)
    threading.Timer(0.2, lambda: connector.devices.append(device)).start()  # plugged in later
    samples = collect(source, lambda s: len(s) >= 4)
    assert len(samples) == 4 and "waiting" in messages[0] and messages[-1] == "RealSense reconnected"


def test_stop_while_waiting_for_the_device_ends_promptly():
    source = RealSenseSource(RealSenseConfig(wait_for_device=True, reconnect_s=0.05), sink=lambda s: None,
                             open_session=FakeConnector([]), on_status=lambda m: None)
    source.start()
    time.sleep(0.2)
    started = time.monotonic()
    source.stop()
    source.join(timeout=2)
    assert time.monotonic() - started < 0.5


def test_the_real_sdk_with_no_camera_is_bad_input():
    rs = pytest.importorskip("pyrealsense2")
    if len(rs.context().query_devices()):
        pytest.skip("a RealSense is plugged in")
    with pytest.raises(BadInput, match="no RealSense device connected"):
        RealSenseSource(RealSenseConfig(), sink=lambda s: None).start()


@pytest.mark.parametrize("error, fix", [
    (ImportError("libusb-1.0.so.0: cannot open shared object file: No such file or directory"), "apt-get install libusb-1.0-0"),
    (ModuleNotFoundError("No module named 'pyrealsense2'"), "pip install pyrealsense2"),
])
def test_a_missing_sdk_or_libusb_names_the_fix(monkeypatch, error, fix):
    import builtins

    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name == "pyrealsense2":
            raise error
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    with pytest.raises(BadInput, match=fix):
        RealSenseSource(RealSenseConfig(), sink=lambda s: None).start()


def test_color_formats_become_rgb():
    import cv2

    from app.sources.realsense_sdk import to_rgb

    rgb = np.random.default_rng(0).integers(0, 256, (4, 6, 3), dtype=np.uint8)
    alpha = np.full((4, 6, 1), 255, np.uint8)
    np.testing.assert_array_equal(to_rgb(rgb, "rgb8"), rgb)
    np.testing.assert_array_equal(to_rgb(rgb[..., ::-1], "bgr8"), rgb)
    np.testing.assert_array_equal(to_rgb(np.concatenate([rgb, alpha], 2), "rgba8"), rgb)
    np.testing.assert_array_equal(to_rgb(np.concatenate([rgb[..., ::-1], alpha], 2), "bgra8"), rgb)
    yuyv = cv2.cvtColor(np.full((4, 6, 3), 128, np.uint8), cv2.COLOR_RGB2YUV)[..., :2].copy()  # (H, W, 2) grey
    assert to_rgb(yuyv, "yuyv").shape == (4, 6, 3)
    with pytest.raises(BadInput, match="unsupported RealSense color format: y16"):
        to_rgb(rgb, "y16")
