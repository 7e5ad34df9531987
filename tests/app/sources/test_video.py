"""VideoSource with a fake camera and a fake hand tracker; files written with OpenCV at test time."""

import time

import cv2
import numpy as np
import pytest

from app.sources.video import VideoConfig, VideoSource
from fusion.data.sample import Skeleton
from fusion.errors import BadInput


class FakeCamera:
    """A cv2.VideoCapture stand-in: BGR frames whose blue channel holds the frame number."""

    def __init__(self, frames=5, *, opened=True, fail_after=None, fps=30.0):
        self.frames, self.opened, self.fail_after, self.fps = frames, opened, fail_after, fps
        self.read_count, self.released = 0, False

    def isOpened(self):
        return self.opened

    def read(self):
        if self.fail_after is not None and self.read_count >= self.fail_after:
            return False, None
        if self.read_count >= self.frames:
            return False, None
        bgr = np.zeros((24, 32, 3), np.uint8)
        bgr[..., 0] = self.read_count  # blue
        bgr[..., 2] = 200  # red
        self.read_count += 1
        return True, bgr

    def get(self, prop):
        if prop == cv2.CAP_PROP_FPS:
            return self.fps
        if prop == cv2.CAP_PROP_POS_MSEC:
            return 1000.0 + 10.0 * self.read_count
        return 0.0

    def set(self, prop, value):
        return True

    def release(self):
        self.released = True


class FakeTracker:
    """A hand on every even frame (read from the pixel the source handed over)."""

    def __init__(self):
        self.times = []

    def track(self, rgb, t_ms):
        self.times.append(t_ms)
        if int(rgb[0, 0, 2]) % 2:  # blue channel, now last in RGB
            return []
        return [Skeleton(image=np.zeros((21, 3), np.float32), handedness="Right", score=0.9)]

    def choose(self, hands):
        return hands[0] if hands else None


def test_fake_camera_frames_become_rgb_color_and_skeleton_samples():
    camera, tracker = FakeCamera(frames=6), FakeTracker()
    samples = []
    source = VideoSource(VideoConfig(camera=3), sink=samples.append, open_capture=lambda c: camera, tracker=tracker)
    source.start()
    time.sleep(0.3)  # a webcam runs until stopped; after its 6 frames it reads nothing
    source.stop()
    source.join(timeout=2)
    assert camera.released
    colors = [s for s in samples if s.stream == "color"]
    skeletons = [s for s in samples if s.stream == "skeleton"]
    assert [s.index for s in colors] == [s.index for s in skeletons] == list(range(6))
    assert [s.stream for s in samples] == ["color", "skeleton"] * 6
    for k, (c, s) in enumerate(zip(colors, skeletons)):
        assert c.data.shape == (24, 32, 3) and c.data.dtype == np.uint8
        assert tuple(c.data[0, 0]) == (200, 0, k)  # RGB
        assert (s.data is None) == bool(k % 2)
        assert c.host_ns == s.host_ns and c.device_ms == s.device_ms
    assert colors[0].device_ms == pytest.approx(1010.0)  # the capture time OpenCV reports
    assert tracker.times == sorted(tracker.times)
    assert source.stats["frames"] == 6 and source.stats["hands"] == 3
    assert source.stream_info["color"].width == 32 and source.stream_info["color"].fps == 30.0
    assert source.duration_s is None  # live


def test_camera_that_stops_delivering_is_reported(monkeypatch):
    monkeypatch.setattr("app.sources.video.CAMERA_TIMEOUT_S", 0.2)
    camera = FakeCamera(frames=100, fail_after=2)
    source = VideoSource(VideoConfig(skeleton=False), sink=lambda s: None, open_capture=lambda c: camera)
    source.start()
    assert source.finished.wait(2)
    with pytest.raises(BadInput, match="camera 0 stopped delivering frames"):
        source.join(timeout=1)


def test_unknown_camera_index_is_bad_input():
    source = VideoSource(VideoConfig(camera=7, skeleton=False), sink=lambda s: None,
                         open_capture=lambda c: FakeCamera(opened=False))
    with pytest.raises(BadInput, match="camera 7 not found"):
        source.start()
    with pytest.raises(BadInput, match="camera index"):
        VideoSource(VideoConfig(camera=-1), sink=lambda s: None)


def test_real_opencv_unknown_camera_is_bad_input():
    # no cameras on this machine, as on most CI runners; index 57 exists almost nowhere
    with pytest.raises(BadInput, match="camera 57"):
        VideoSource(VideoConfig(camera=57, skeleton=False), sink=lambda s: None).start()


def test_a_missing_camera_is_the_apps_one_line_without_opencvs_log(tmp_path):
    # OpenCV logged "[ERROR:0@0.2] global obsensor_uvc_stream_channel.cpp:163 ... Camera index out
    # of range" before the app's own message
    import os
    import subprocess
    import sys

    from tests.conftest import ROOT

    if os.path.exists("/dev/video7"):
        pytest.skip("this machine has a camera 7")
    env = {k: v for k, v in os.environ.items() if k not in ("OPENCV_LOG_LEVEL", "OPENCV_VIDEOIO_DEBUG")}
    done = subprocess.run([sys.executable, "main.py", "demo", "--source", "webcam:7", "--headless"], cwd=ROOT,
                          env={**env, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=120)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == "mmtm-live: camera 7 not found or busy (see: mmtm-live sources)\n"


@pytest.mark.parametrize("variable", ["OPENCV_LOG_LEVEL", "OPENCV_VIDEOIO_DEBUG"])
def test_opencvs_log_stays_as_the_user_set_it(monkeypatch, variable):
    from app.sources import video

    levels = []
    logging = type("Logging", (), {"LOG_LEVEL_SILENT": 0, "setLogLevel": staticmethod(levels.append)})
    fake_cv2 = type("CV2", (), {"utils": type("Utils", (), {"logging": logging})})
    for name in ("OPENCV_LOG_LEVEL", "OPENCV_VIDEOIO_DEBUG"):
        monkeypatch.delenv(name, raising=False)
    video._quiet_opencv(fake_cv2)
    assert levels == [0]
    monkeypatch.setenv(variable, "1" if variable == "OPENCV_VIDEOIO_DEBUG" else "DEBUG")
    video._quiet_opencv(fake_cv2)
    assert levels == [0]  # not silenced again: whoever set it wants to see OpenCV's lines


def write_video(path, frames=12, fps=20.0, size=(48, 32)):
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, size)
    assert writer.isOpened()
    for k in range(frames):
        bgr = np.zeros((size[1], size[0], 3), np.uint8)
        bgr[..., 0], bgr[..., 2] = 20 * k, 250 - 20 * k  # blue rises, red falls
        writer.write(bgr)
    writer.release()
    return path


def test_video_file_as_fast_as_possible(tmp_path):
    path = write_video(tmp_path / "clip.avi")
    samples = []
    source = VideoSource(VideoConfig(path=str(path), real_time=False, skeleton=False), sink=samples.append)
    source.start()
    source.join(timeout=5)
    assert source.finished.is_set()
    assert [s.index for s in samples] == list(range(12))
    assert {s.stream for s in samples} == {"color"}
    assert [s.device_ms for s in samples] == pytest.approx([k * 50.0 for k in range(12)])
    for k, s in enumerate(samples):
        r, g, b = s.data[16, 24].astype(int)
        assert abs(b - 20 * k) < 12 and abs(r - (250 - 20 * k)) < 12  # RGB order, lossy codec
    assert source.stream_info["color"].fps == pytest.approx(20.0)
    assert source.duration_s == pytest.approx(11 / 20.0) and not source.seekable  # first frame to last


def test_video_file_in_real_time_takes_its_duration(tmp_path):
    path = write_video(tmp_path / "clip.avi", frames=6, fps=20.0)
    samples = []
    source = VideoSource(VideoConfig(path=str(path), skeleton=False), sink=samples.append)
    source.start()
    source.join(timeout=5)
    span_s = (samples[-1].host_ns - samples[0].host_ns) / 1e9
    assert span_s >= 0.9 * 5 / 20.0


@pytest.mark.parametrize("content", [b"", b"not a video at all" * 100, bytes(range(256)) * 64])
def test_unreadable_video_files_are_bad_input(tmp_path, content):
    path = tmp_path / "broken.mp4"
    path.write_bytes(content)
    with pytest.raises(BadInput, match="broken.mp4"):
        VideoSource(VideoConfig(path=str(path), skeleton=False), sink=lambda s: None).start()


def test_missing_video_file_is_bad_input(tmp_path):
    with pytest.raises(BadInput, match="not found"):
        VideoSource(VideoConfig(path=str(tmp_path / "nope.mp4")), sink=lambda s: None)


def test_a_video_stored_in_the_selfie_view_is_flipped_back_to_the_cameras():
    class LeftMarked(FakeCamera):
        def read(self):
            ok, bgr = super().read()
            if ok:
                bgr[:, :4] = 255  # the left edge of the stored frame is white
            return ok, bgr

    frames = {}
    for mirrored in (False, True):
        samples = []
        source = VideoSource(VideoConfig(camera=0, skeleton=False, mirrored=mirrored), sink=samples.append,
                             open_capture=lambda c: LeftMarked(frames=2))
        source.start()
        time.sleep(0.2)
        source.stop()
        source.join(timeout=2)
        frames[mirrored] = samples[0].data
    assert (frames[False][:, :4] == 255).all() and (frames[True][:, -4:] == 255).all()
    np.testing.assert_array_equal(frames[True], frames[False][:, ::-1])
