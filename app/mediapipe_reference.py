"""MediaPipe's own per-frame cost on a video clip: the reference the webcam path is measured against.

``bench --source VIDEO`` runs it after the pipeline, in the same process, on the same clip:

* MediaPipe's ``GestureRecognizer`` (hand landmarker + its canned gesture classifier) when its
  bundle ``gesture_recognizer.task`` is at hand (``bench --reference PATH``, or that file in the
  cache folder beside the hand model: ``app.hand_model.cache_dir()``); the project cannot fetch it
  offline, so it is looked for, never downloaded;
* otherwise MediaPipe's ``HandLandmarker`` alone, the recogniser's larger part.

Both run in VIDEO mode with the same number of hands as the pipeline's tracker, on every frame of the
clip in order (up to ``max_frames``), with the clip's own timestamps. Each frame is decoded and
converted to RGB first; only MediaPipe's call is timed.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np

from app.hand_tracker import quiet_stderr
from fusion.errors import BadInput

RECOGNIZER_FILE = "gesture_recognizer.task"


def find_recognizer(path: str | None) -> Path | None:
    """The GestureRecognizer bundle to use: ``path`` (BadInput when missing), else the cache's, else None."""
    if path is not None:
        if not Path(path).is_file():
            raise BadInput(f"--reference {path}: no such file (a MediaPipe gesture_recognizer.task)")
        return Path(path)
    from app.hand_model import cache_dir

    cached = cache_dir() / RECOGNIZER_FILE
    return cached if cached.is_file() else None


def mediapipe_per_frame(video: str, *, recognizer: Path | None = None, hands: int = 1,
                        max_frames: int = 600) -> dict:
    """Milliseconds MediaPipe takes per frame of ``video`` (module docstring): what ran and its quantiles."""
    import cv2
    import mediapipe as mp
    from mediapipe.tasks.python import BaseOptions, vision

    from app.hand_model import resolve_hand_model

    os.environ.setdefault("GLOG_minloglevel", "2")
    if recognizer is not None:
        what, model = "GestureRecognizer", recognizer
        options = vision.GestureRecognizerOptions(base_options=BaseOptions(model_asset_path=str(model)),
                                                  running_mode=vision.RunningMode.VIDEO, num_hands=hands)
        with quiet_stderr(True):
            task = vision.GestureRecognizer.create_from_options(options)
        call = task.recognize_for_video
    else:
        what, model = "HandLandmarker", resolve_hand_model(None)
        options = vision.HandLandmarkerOptions(base_options=BaseOptions(model_asset_path=str(model)),
                                               running_mode=vision.RunningMode.VIDEO, num_hands=hands)
        with quiet_stderr(True):
            task = vision.HandLandmarker.create_from_options(options)
        call = task.detect_for_video
    capture = cv2.VideoCapture(video)
    fps = capture.get(cv2.CAP_PROP_FPS) or 30.0
    times_ms = []
    try:
        while len(times_ms) < max_frames:
            ok, bgr = capture.read()
            if not ok:
                break
            image = mp.Image(image_format=mp.ImageFormat.SRGB, data=cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
            stamp = int(round(len(times_ms) * 1000.0 / fps))
            start = time.perf_counter()
            with quiet_stderr(not times_ms):  # its first call logs
                call(image, stamp)
            times_ms.append((time.perf_counter() - start) * 1e3)
    finally:
        capture.release()
        with quiet_stderr(True):
            task.close()
    if not times_ms:
        raise BadInput(f"{video}: no frame could be decoded for MediaPipe's reference timing")
    ms = np.asarray(times_ms[1:] or times_ms)  # the first call builds MediaPipe's graph
    return {"what": what, "model": str(model), "hands": hands, "frames": len(ms),
            "ms": {q: round(float(np.percentile(ms, int(q[1:]))), 3) for q in ("p50", "p95", "p99")}
            | {"max": round(float(ms.max()), 3)}}
