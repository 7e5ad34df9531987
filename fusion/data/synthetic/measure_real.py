"""Measure real hands with MediaPipe: the reference ranges the realism tests use.

Runs MediaPipe's HandLandmarker (VIDEO mode) on ``hand_test_video.mp4`` and (IMAGE mode) on
``hand_test_image.jpg``, and gives per-source min/median/max of the bone ratios, joint angles and
fingertip spreads of the world landmarks, plus the photo's image landmarks, and the same statistics
of the development set's landmark files (``measure``); ``scripts/measure_real_hands.py`` writes them
to ``real_reference.json``, so that the realism tests need no footage. mediapipe is imported
here only; ``python main.py fetch-models`` gives the model bundle.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from fusion.data.synthetic import hand_stats
from fusion.errors import BadInput


def _landmarker(model: Path, video: bool):
    try:
        from mediapipe.tasks.python import BaseOptions, vision
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise BadInput(f"mediapipe is needed to measure real hands ({error}); pip install mediapipe") from error
    mode = vision.RunningMode.VIDEO if video else vision.RunningMode.IMAGE
    options = vision.HandLandmarkerOptions(base_options=BaseOptions(model_asset_path=str(model)), running_mode=mode, num_hands=1)
    return vision.HandLandmarker.create_from_options(options)


def _arrays(result) -> tuple[np.ndarray, np.ndarray, str] | None:
    if not result.hand_landmarks:
        return None
    image = np.array([[p.x, p.y, p.z] for p in result.hand_landmarks[0]], dtype=np.float32)
    world = np.array([[p.x, p.y, p.z] for p in result.hand_world_landmarks[0]], dtype=np.float32)
    return image, world, result.handedness[0][0].category_name


def detect_image(model: Path, path: Path) -> tuple[np.ndarray, np.ndarray, str, tuple[int, int]]:
    """MediaPipe on one photo: image landmarks (21,3), world (21,3), handedness, (width, height)."""
    import cv2
    import mediapipe as mp

    bgr = cv2.imread(str(path))
    if bgr is None:
        raise BadInput(f"cannot read image {path}")
    frame = mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(bgr[:, :, ::-1]))
    with _landmarker(model, video=False) as landmarker:
        found = _arrays(landmarker.detect(frame))
    if found is None:
        raise BadInput(f"MediaPipe found no hand in {path}")
    return (*found, (bgr.shape[1], bgr.shape[0]))


def detect_video(model: Path, path: Path) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """MediaPipe on every frame of a video: image (N,21,3), world (N,21,3), handedness per frame."""
    import cv2
    import mediapipe as mp

    capture = cv2.VideoCapture(str(path))
    fps = capture.get(cv2.CAP_PROP_FPS) or 25.0
    images, worlds, hands = [], [], []
    with _landmarker(model, video=True) as landmarker:
        index = 0
        while True:
            ok, bgr = capture.read()
            if not ok:
                break
            frame = mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(bgr[:, :, ::-1]))
            found = _arrays(landmarker.detect_for_video(frame, int(round(index * 1000 / fps)) + 1))
            index += 1
            if found is not None:
                images.append(found[0])
                worlds.append(found[1])
                hands.append(found[2])
    capture.release()
    if not worlds:
        raise BadInput(f"MediaPipe found no hand in {path}")
    return np.stack(images), np.stack(worlds), hands


def summarise(world: np.ndarray) -> dict:
    """min/median/max of every statistic over the frames of ``world`` (N,21,3)."""
    stats = {
        "bone_ratios": (hand_stats.BONE_NAMES, hand_stats.bone_ratios(world)),
        "joint_angles": (hand_stats.ANGLE_NAMES, hand_stats.joint_angles(world)),
        "tip_spreads": (hand_stats.SPREAD_NAMES, hand_stats.tip_spreads(world)),
    }
    out = {}
    for key, (names, values) in stats.items():
        out[key] = {
            name: [round(float(v), 4) for v in (values[:, i].min(), np.median(values[:, i]), values[:, i].max())]
            for i, name in enumerate(names)
        }
    return out


def measure(model: Path, real: Path) -> dict:
    """The reference document written to ``real_reference.json``."""
    v_image, v_world, v_hands = detect_video(model, real / "hand_test_video.mp4")
    p_image, p_world, p_hand, size = detect_image(model, real / "hand_test_image.jpg")
    return {
        "about": "MediaPipe HandLandmarker (full) on ../shared/data/real; [min, median, max] per statistic; "
                 "written by scripts/measure_real_hands.py",
        "video": {"frames": int(len(v_world)), "handedness": max(set(v_hands), key=v_hands.count), **summarise(v_world)},
        "photo": {
            "handedness": p_hand,
            "size": list(size),
            **summarise(p_world[None]),
            "image_landmarks": np.round(p_image, 5).tolist(),
            "world_landmarks": np.round(p_world, 5).tolist(),
        },
        **_landmark_files(real),
    }


def _landmark_files(real: Path) -> dict:
    """The development set's MediaPipe landmark files (thumbs-up, fist, pointing, victory), when its
    manifest lists them: ``{"landmarks": {"files": N, ...statistics}}``, else nothing. Their image
    landmarks stand in for world ones (the files hold no world landmarks; the angles need no scale)."""
    from fusion.data.readers.real import read_landmarks_pbtxt, read_manifest

    if not (real / "manifest.json").is_file():
        return {}
    files = read_manifest(real).landmarks
    if not files:
        return {}
    hands = np.stack([read_landmarks_pbtxt(f.path).image for f in files])
    return {"landmarks": {"files": len(files), **summarise(hands)}}
