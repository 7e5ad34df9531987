"""Hand skeletons from MediaPipe's Tasks ``HandLandmarker`` (video mode), one frame at a time.

    tracker = HandTracker(HandTrackerConfig())
    hands = tracker.track(rgb, t_ms)      # every hand found, as base.Skeleton
    hand = tracker.choose(hands)          # the one that drives the model, or None
    tracker.close()

How many hands MediaPipe tracks (``max_hands``, default 1): with one, it detects a palm only until it
has a hand and then follows that hand from frame to frame (palm detection, the dearer half of its
cost, runs again only when the hand is lost); with two or more it keeps looking for the next hand
on every frame while fewer are in view, which about doubles its cost. The models read one hand, so
one is the default; ask for two where the preference below must choose between two hands in view.

Which hand drives the model (``choose``): the hands whose ``handedness`` is
``HandTrackerConfig.hand`` ("Right" by default; "any" disables the preference) are the
candidates, or every hand when none has that label; of the candidates, the one with the largest
bounding box in the image (the nearest to the camera) wins, ties going to the higher score.
``handedness`` is MediaPipe's own label for the image as given (the project feeds unmirrored
camera images).

Timestamps handed to MediaPipe are integer milliseconds made strictly increasing (a repeated or
earlier time becomes the previous one plus 1 ms), as its video mode demands.
"""

from __future__ import annotations

import os
import threading
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from fusion.data.sample import Skeleton
from fusion.errors import BadInput

HANDS = ("Right", "Left", "any")


@dataclass(frozen=True)
class HandTrackerConfig:
    model: str | None = None  # a hand_landmarker.task; None = the project's bundle (fetched once)
    max_hands: int = 1  # hands MediaPipe tracks (see the module docstring for the cost of more)
    hand: str = "Right"  # the hand that drives the model: "Right", "Left" or "any"
    min_detection: float = 0.5  # MediaPipe's min_hand_detection_confidence
    min_presence: float = 0.5  # min_hand_presence_confidence
    min_tracking: float = 0.5  # min_tracking_confidence
    quiet: bool = True  # hide MediaPipe's C++ start-up log lines on stderr
    still: bool = False  # photos: each call on its own (MediaPipe's IMAGE mode, no tracking between calls)


class HandTracker:
    """MediaPipe's HandLandmarker in VIDEO mode; ``track`` is synchronous (see the module docstring)."""

    def __init__(self, config: HandTrackerConfig = HandTrackerConfig()) -> None:
        if config.hand not in HANDS:
            raise BadInput(f"hand must be one of {', '.join(HANDS)}, not {config.hand!r}")
        if not 1 <= config.max_hands <= 4:
            raise BadInput(f"max_hands must be 1 to 4, not {config.max_hands}")
        from app.hand_model import resolve_hand_model

        self.config = config
        self.model_path = resolve_hand_model(config.model)
        os.environ.setdefault("GLOG_minloglevel", "2")
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        try:
            import mediapipe as mp
            from mediapipe.tasks.python import BaseOptions, vision
        except ImportError as error:
            raise BadInput(f"MediaPipe is not available ({error}); pip install mediapipe") from None
        self._mp = mp
        options = vision.HandLandmarkerOptions(
            base_options=BaseOptions(model_asset_path=str(self.model_path)),
            running_mode=vision.RunningMode.IMAGE if config.still else vision.RunningMode.VIDEO,
            num_hands=config.max_hands,
            min_hand_detection_confidence=config.min_detection,
            min_hand_presence_confidence=config.min_presence,
            min_tracking_confidence=config.min_tracking,
        )
        try:
            with quiet_stderr(config.quiet):
                self._landmarker = vision.HandLandmarker.create_from_options(options)
        except (RuntimeError, ValueError) as error:
            raise BadInput(f"{self.model_path}: not a usable hand landmarker bundle ({error})") from None
        self._last_ms: int | None = None
        self._warm = False

    def timestamp(self, t_ms: float) -> int:
        """``t_ms`` as the strictly increasing integer MediaPipe demands."""
        ms = int(round(t_ms))
        if self._last_ms is not None and ms <= self._last_ms:
            ms = self._last_ms + 1
        self._last_ms = ms
        return ms

    def track(self, rgb: np.ndarray, t_ms: float) -> list[Skeleton]:
        """Every hand in ``rgb`` ((H, W, 3) uint8 RGB) at time ``t_ms``; [] when none."""
        image = self._mp.Image(image_format=self._mp.ImageFormat.SRGB, data=np.ascontiguousarray(rgb))
        with quiet_stderr(self.config.quiet and not self._warm):  # its first call logs too
            if self.config.still:
                result = self._landmarker.detect(image)
            else:
                result = self._landmarker.detect_for_video(image, self.timestamp(t_ms))
        self._warm = True
        hands = []
        for i, landmarks in enumerate(result.hand_landmarks):
            image_xyz = np.array([(p.x, p.y, p.z) for p in landmarks], dtype=np.float32)  # (21, 3)
            world = None
            if i < len(result.hand_world_landmarks):
                world = np.array([(p.x, p.y, p.z) for p in result.hand_world_landmarks[i]], dtype=np.float32)
            label, score = "Right", 1.0
            if i < len(result.handedness) and result.handedness[i]:
                label, score = result.handedness[i][0].category_name, float(result.handedness[i][0].score)
            hands.append(Skeleton(image=image_xyz, world=world, handedness=label, score=score))
        return hands

    def choose(self, hands: list[Skeleton]) -> Skeleton | None:
        """The hand that drives the model (the rule is in the module docstring)."""
        if not hands:
            return None
        preferred = [h for h in hands if h.handedness == self.config.hand]
        candidates = preferred or hands
        return max(candidates, key=lambda h: (_box_area(h), h.score))

    def close(self) -> None:
        with quiet_stderr(self.config.quiet):  # it logs on the way out too
            self._landmarker.close()

    def __enter__(self) -> "HandTracker":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _box_area(hand: Skeleton) -> float:
    xy = hand.image[:, :2]
    size = xy.max(axis=0) - xy.min(axis=0)
    return round(float(size[0] * size[1]), 4)  # image fractions; closer than this is a tie


_stderr_lock = threading.Lock()


@contextmanager
def quiet_stderr(enabled: bool):
    """Point file descriptor 2 at /dev/null for a moment (MediaPipe's C++ logs ignore env vars)."""
    if not enabled:
        yield
        return
    with _stderr_lock:
        saved = os.dup(2)
        try:
            with open(os.devnull, "w") as null:
                os.dup2(null.fileno(), 2)
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)

