"""The real RsSession live path over a fake pyrealsense2 module: device choice by serial, low-latency
options, stream info, frames, and an unplug (the SDK raising) followed by the device's return."""

import threading
import types

import numpy as np
import pytest

from app.sources import realsense_sdk
from app.sources.realsense import RealSenseConfig, RealSenseSource
from fusion.errors import BadInput


class Profile:
    def __init__(self, kind, width, height, fps):
        self.kind, self.w, self.h, self.f = kind, width, height, fps

    def stream_type(self):
        return self.kind

    def as_video_stream_profile(self):
        return self

    def width(self):
        return self.w

    def height(self):
        return self.h

    def fps(self):
        return self.f

    def format(self):
        return "format.rgb8" if self.kind == "color" else "format.z16"

    def get_intrinsics(self):
        return types.SimpleNamespace(fx=600.0, fy=601.0, ppx=self.w / 2, ppy=self.h / 2, width=self.w,
                                     height=self.h, model="distortion.inverse_brown_conrady", coeffs=[0.0] * 5)


class Frame:
    def __init__(self, profile, number):
        self.profile, self.number = profile, number
        shape = (profile.h, profile.w, 3) if profile.kind == "color" else (profile.h, profile.w)
        self.data = np.full(shape, number, np.uint8 if profile.kind == "color" else np.uint16)

    def get_profile(self):
        return self.profile

    def get_frame_number(self):
        return self.number

    def get_timestamp(self):
        return 1e6 + self.number * 1000 / 30

    def get_data(self):
        return self.data

    def keep(self):
        pass


class Sensor:
    def __init__(self, options):
        self.options, self.set = options, {}

    def supports(self, option):
        return option in self.options

    def set_option(self, option, value):
        self.set[option] = value


class FakeRs:
    """Enough of pyrealsense2 for the live path; ``plugged`` is the list of connected serials."""

    def __init__(self):
        self.plugged = ["111", "222"]
        self.sensors = []
        self.configs = []
        self.frames_per_session = 5
        self.unplug_after_session = True
        self.stream = types.SimpleNamespace(color="color", depth="depth")
        self.format = types.SimpleNamespace(rgb8="rgb8", z16="z16")
        self.camera_info = types.SimpleNamespace(serial_number="serial_number")
        self.option = types.SimpleNamespace(frames_queue_size="frames_queue_size", auto_exposure_priority="aep")
        fake = self

        class Config:
            def __init__(self):
                self.device, self.streams = None, []
                fake.configs.append(self)

            def enable_device(self, serial):
                self.device = serial

            def enable_stream(self, *args):
                self.streams.append(args)

        class Pipeline:
            def start(self, cfg):
                if not fake.plugged:
                    raise RuntimeError("No device connected")
                (_, cw, ch, _, fps), (_, dw, dh, _, _) = cfg.streams
                self.color, self.depth = Profile("color", cw, ch, fps), Profile("depth", dw, dh, fps)
                self.sent, self.stopped = 0, False
                sensors = [Sensor({"frames_queue_size"}), Sensor({"frames_queue_size", "aep"})]
                fake.sensors.append(sensors)
                device = types.SimpleNamespace(
                    query_sensors=lambda: sensors,
                    first_depth_sensor=lambda: types.SimpleNamespace(get_depth_scale=lambda: 0.00025))
                return types.SimpleNamespace(get_device=lambda: device, get_streams=lambda: [self.color, self.depth])

            def try_wait_for_frames(self, timeout_ms):
                if self.sent >= fake.frames_per_session:
                    if fake.unplug_after_session:
                        fake.plugged = []  # unplugged: the SDK raises once, then sees no device
                        fake.unplug_after_session = False
                        raise RuntimeError("Frame didn't arrive within 5000")
                    threading.Event().wait(timeout_ms / 1000)
                    return False, None
                self.sent += 1
                return True, [Frame(self.depth, self.sent - 1), Frame(self.color, self.sent - 1)]

            def stop(self):
                self.stopped = True

        self.config, self.pipeline = Config, Pipeline
        self.context = lambda: types.SimpleNamespace(query_devices=lambda: [
            types.SimpleNamespace(get_info=lambda field, s=s: s) for s in fake.plugged])


@pytest.fixture
def fake_rs(monkeypatch):
    rs = FakeRs()
    monkeypatch.setattr(realsense_sdk, "import_pyrealsense2", lambda: rs)
    return rs


def test_live_session_chooses_the_device_and_sets_low_latency_options(fake_rs):
    config = RealSenseConfig(serial="222", width=424, height=240, fps=15, depth_width=480, depth_height=270,
                             align=False, queue_size=1)
    session = realsense_sdk.open_rs_session(config)
    cfg = fake_rs.configs[-1]
    assert cfg.device == "222"
    assert cfg.streams == [("color", 424, 240, "rgb8", 15), ("depth", 480, 270, "z16", 15)]
    assert [s.set for s in fake_rs.sensors[-1]] == [{"frames_queue_size": 1}, {"frames_queue_size": 1, "aep": 0}]
    info = session.stream_info
    assert info["depth"].depth_scale == 0.00025 and (info["depth"].width, info["depth"].height) == (480, 270)
    assert info["color"].intrinsics["fx"] == 600.0 and info["color"].intrinsics["model"] == "inverse_brown_conrady"
    frames = session.read(100)
    assert [(f.stream, f.number) for f in frames] == [("depth", 0), ("color", 0)]
    session.close()


def test_an_absent_serial_is_reported_with_the_connected_ones(fake_rs):
    with pytest.raises(BadInput, match=r"RealSense 999 not connected \(connected: 111, 222\)"):
        RealSenseSource(RealSenseConfig(serial="999"), sink=lambda s: None).start()


def test_unplug_and_return_through_the_real_session(fake_rs):
    messages, samples = [], []
    done = threading.Event()

    def sink(sample):
        samples.append(sample)
        if len(samples) == 20:
            done.set()

    source = RealSenseSource(RealSenseConfig(align=False, reconnect_s=0.05), sink=sink, on_status=messages.append)
    source.start()
    threading.Timer(0.3, lambda: fake_rs.plugged.append("111")).start()  # plugged back in
    try:
        assert done.wait(5)
    finally:
        source.stop()
        source.join(timeout=2)
    assert messages[:2] == ["RealSense disconnected (Frame didn't arrive within 5000)", "RealSense reconnected"]
    assert [s.index for s in samples if s.stream == "color"][:10] == [0, 1, 2, 3, 4, 0, 1, 2, 3, 4]
    assert samples[0].data.shape == (480, 640, 3) and samples[1].data.dtype == np.uint16
    assert samples[0].device_ms == pytest.approx(1e6)
