"""The window's recording (PromptedRecording): a disk that fills up while it records."""

import time

import numpy as np

from app.engine import Engine, EngineConfig
from app.engine.recording import PromptedRecording
from fusion.data.recording import RecordingReader
from fusion.data.sample import Sample, StreamInfo
from tests.fusion.data.recording.tiny_disk import disk  # noqa: F401  (a fixture)


def test_a_full_disk_ends_the_recording_says_why_once_and_keeps_what_fitted(tmp_path, disk):  # noqa: F811
    disk(30_000)
    errors = []
    recording = PromptedRecording(on_error=errors.append)
    path = tmp_path / "take.mmtm"
    recording.start(str(path), {"depth": StreamInfo("depth", 32, 24, 30.0, depth_scale=0.001)})
    rng = np.random.default_rng(0)
    deadline = time.monotonic() + 10
    i = 0
    while recording.text() is not None and time.monotonic() < deadline:
        noise = rng.integers(0, 65535, (24, 32), dtype=np.uint16)  # incompressible: fills the disk fast
        recording.push(Sample("depth", noise, i, i * 33_000_000))
        i += 1
        time.sleep(0.002)
    assert recording.text() is None  # it stopped on its own
    assert len(errors) == 1 and errors[0].startswith(f"recording {path} stopped: ")
    assert "No space left on device" in errors[0]
    recording.push(Sample("depth", np.zeros((24, 32), np.uint16), i, i * 33_000_000))  # ignored, no second line
    recording.stop()
    assert len(errors) == 1
    with RecordingReader(path) as reader:
        assert 0 < len(list(reader.frames())) < i


def test_the_engine_shows_a_recordings_error_in_the_window(tmp_path):
    engine = Engine(EngineConfig(source=str(tmp_path / "none.mmtm")))
    engine._recording.on_error("recording x.mmtm stopped: the disk is full")
    assert engine._error == "recording x.mmtm stopped: the disk is full"
