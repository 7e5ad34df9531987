"""Real hands on a RealSense: a recording whose colour frames are a real swipe video, replayed with
the webcam model (``--model assets/model_skeleton.pt``) or with the default model given the skeleton
alone (``--modalities skeleton``), calls what the video file itself gets (skips without
../shared/data/real)."""

import io
import json

import numpy as np
import pytest

from app.engine import Engine, EngineConfig
from app.inference_worker import WorkerConfig
from app.model_runner import DEFAULT_MODEL, SKELETON_MODEL, RunnerConfig

pytest.importorskip("mediapipe")
pytest.importorskip("pyrealsense2")


def _replay(path, model, modalities=None) -> tuple[list[str], dict]:
    """The labels of the gesture events and the summary of a deterministic headless replay."""
    lines = io.StringIO()
    engine = Engine(EngineConfig(source=str(path), runner=RunnerConfig(model=str(model)), modalities=modalities,
                                 deterministic=True, worker=WorkerConfig(deterministic=True), headless=True),
                    out=lines)
    summary = engine.run()
    events = [e for e in map(json.loads, lines.getvalue().splitlines()) if e.get("type") == "gesture"]
    return [e["label"] for e in events], summary


def _rgb_frames(path) -> list[np.ndarray]:
    import cv2

    capture = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, bgr = capture.read()
        if not ok:
            break
        frames.append(np.ascontiguousarray(bgr[:, :, ::-1]))
    capture.release()
    return frames


def test_real_hands_on_a_realsense_recording_are_called_as_in_the_video(real_data, tmp_path):
    from tests.app.rs_fixtures import write_recording

    video = real_data / "videos" / "hagrid_swipe_left_right.mp4"
    frames = _rgb_frames(video)
    height, width = frames[0].shape[:2]
    recording = write_recording(tmp_path / "swipes.db3", frames=len(frames), depth_size=(width, height),
                                color_size=(width, height), fps=15, color=lambda k: frames[k])
    on_video, _ = _replay(video, SKELETON_MODEL)
    on_realsense, summary = _replay(recording, SKELETON_MODEL)
    assert on_video  # the webcam model calls swipes in this video (docs/RESULTS.md, "Real footage")
    assert on_realsense == on_video
    assert summary["frames"]["depth"] == summary["frames"]["color"] == len(frames)
    assert summary["frames"]["skeleton"] >= 0.8 * len(frames)  # MediaPipe found the hand in the colour frames
    # the default model given the skeleton alone: the same, and the webcam model's calls (docs/RESULTS.md)
    alone = _replay(recording, DEFAULT_MODEL, modalities=("skeleton",))[0]
    assert alone == _replay(video, DEFAULT_MODEL, modalities=("skeleton",))[0] == on_video
