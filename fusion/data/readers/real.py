"""Real hand data (``../shared/data/real/`` or any folder laid out like it): the manifest and its formats.

A folder of real footage comes with ``manifest.json``, which lists every item with its labels in the
project's vocabulary (unknown fields are ignored, so later sets may say more)::

    {"videos":   [{"file": "v.mp4", "fps": 15, "mirrored": false,
                   "sequence": [{"label": "swipe_left", "frames": [35, 50]}, ...],
                   "allowed": ["open_palm"]}],                     # may be called, never counted wrong
     "photos":   [{"file": "p.jpg", "label": "thumbs_up"}],        # "no_gesture" (or a pose's own name,
                                                                   # "ok", "call"): a pose to stay quiet on
     "landmarks": [{"file": "x_landmarks.pbtxt", "label": "fist"}],   # MediaPipe HandLandmarker output
     "keypoint_tables": [{"file": "keypoint.csv", "labels": {"0": "open_palm", ...}}]}

Formats read here (files only, no MediaPipe):

- MediaPipe's landmark text protos (``*.pbtxt``): 21 ``landmark {x y z}`` and the handedness
  ``classification``; x, y normalised to the image, z relative to the wrist.
- Keypoint tables (``keypoint.csv``, the hand-gesture-recognition-using-mediapipe format): a label,
  then x0, y0, …, x20, y20, each joint minus the wrist divided by the largest absolute value, in the
  selfie (mirrored) view of a 960×540 frame, no z. ``table_hands`` turns rows back into image
  landmarks of the camera's own view, the input the model's preprocessing takes.
- Point histories (``point_history.csv``): the index fingertip's last 16 positions relative to the
  first, x / width and y / height, selfie view.

Everything here is parsed as text and numbers; a damaged or foreign file is a ``BadInput``.
"""

from __future__ import annotations

import csv
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from fusion.data.sample import Skeleton
from fusion.errors import BadInput

JOINTS = 21
TABLE_FRAME = (960, 540)  # the keypoint tables' camera frame (width, height), the source app's default
TABLE_HAND_SPAN = 0.25    # a table row's largest wrist offset, as a fraction of the frame height
TABLE_WRIST = (0.5, 0.7)  # where a table row's wrist is put in the (selfie) image, fractions


@dataclass(frozen=True)
class Segment:
    """One gesture of a video: its label and approximate frames [first, last]."""

    label: str
    frames: tuple[int, int]


@dataclass(frozen=True)
class RealVideo:
    path: Path
    fps: float
    sequence: tuple[Segment, ...]  # the gestures made, in order
    allowed: tuple[str, ...] = ()  # labels that may be called without counting as errors
    mirrored: bool = False         # frames are the selfie view (the app expects the camera's own)


@dataclass(frozen=True)
class RealStill:
    """A photo or a landmark file: one held hand pose with its expected label."""

    path: Path
    label: str


@dataclass(frozen=True)
class KeypointTable:
    path: Path
    labels: dict[str, str]  # the file's label id -> the project's label (ids not listed are skipped)
    kind: str = "keypoints"  # "keypoints" (hand poses) or "point_history" (fingertip tracks)


@dataclass(frozen=True)
class RealManifest:
    root: Path
    videos: tuple[RealVideo, ...] = ()
    photos: tuple[RealStill, ...] = ()
    landmarks: tuple[RealStill, ...] = ()
    tables: tuple[KeypointTable, ...] = field(default_factory=tuple)

    def __len__(self) -> int:
        return len(self.videos) + len(self.photos) + len(self.landmarks) + len(self.tables)


def read_manifest(root: str | Path) -> RealManifest:
    """The items of ``root/manifest.json``; BadInput for a missing or malformed manifest."""
    root = Path(root)
    path = root / "manifest.json"
    if not path.is_file():
        raise BadInput(f"{root}: no manifest.json (a folder of real footage lists its items there)")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as error:
        raise BadInput(f"{path}: not readable JSON ({str(error)[:120]})") from None
    if not isinstance(data, dict):
        raise BadInput(f"{path}: expected a JSON object")
    try:
        videos = tuple(_video(root, v) for v in _list(data, "videos"))
        photos = tuple(_still(root, p) for p in _list(data, "photos"))
        landmarks = tuple(_still(root, p) for p in _list(data, "landmarks"))
        tables = tuple(_table(root, t) for t in _list(data, "keypoint_tables"))
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as error:
        raise BadInput(f"{path}: malformed item ({error})") from None
    return RealManifest(root=root, videos=videos, photos=photos, landmarks=landmarks, tables=tables)


def _list(data: dict, key: str) -> list[dict]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise BadInput(f"manifest: {key!r} must be a list of objects")
    return value


def _file(root: Path, item: dict) -> Path:
    name = item["file"]
    if not isinstance(name, str) or not name:
        raise ValueError("'file' must be a file name")
    return root / name


def _label(value: object) -> str:
    if not isinstance(value, str) or not re.fullmatch(r"[a-z][a-z0-9_]*", value):
        raise ValueError(f"labels are snake_case strings, got {value!r}")
    return value


def _video(root: Path, item: dict) -> RealVideo:
    sequence = []
    for seg in _items(item, "sequence"):
        first, last = (int(f) for f in seg.get("frames", (0, 0)))
        if not 0 <= first <= last:
            raise ValueError(f"frames must be [first, last] with 0 <= first <= last, got {seg.get('frames')!r}")
        sequence.append(Segment(_label(seg["label"]), (first, last)))
    fps = float(item.get("fps", 0) or 0)
    if not math.isfinite(fps) or fps < 0:
        raise ValueError(f"fps must be a number >= 0 (0: unknown), got {item.get('fps')!r}")
    allowed = item.get("allowed", [])
    if not isinstance(allowed, list):
        raise ValueError(f"'allowed' must be a list of labels, got {allowed!r}")
    return RealVideo(path=_file(root, item), fps=fps, sequence=tuple(sequence),
                     allowed=tuple(_label(a) for a in allowed), mirrored=bool(item.get("mirrored", False)))


def _items(item: dict, key: str) -> list[dict]:
    """``item[key]``: a list of JSON objects (empty when absent)."""
    value = item.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise ValueError(f"{key!r} must be a list of objects")
    return value


def _still(root: Path, item: dict) -> RealStill:
    return RealStill(path=_file(root, item), label=_label(item["label"]))


def _table(root: Path, item: dict) -> KeypointTable:
    labels = {str(k): _label(v) for k, v in dict(item["labels"]).items() if v != "move"}
    path = _file(root, item)
    kind = "point_history" if "point_history" in path.name or "fingertip" in str(item.get("format", "")) else "keypoints"
    return KeypointTable(path=path, labels=labels, kind=kind)


# --- MediaPipe landmark text protos --------------------------------------------------------------

_NUMBER = r"(-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)"
_LANDMARK = re.compile(r"landmark\s*\{\s*x:\s*" + _NUMBER + r"\s*y:\s*" + _NUMBER + r"\s*z:\s*" + _NUMBER)
_HAND_LABEL = re.compile(r"classification\s*\{[^}]*?score:\s*" + _NUMBER + r"[^}]*?label:\s*\"(Left|Right)\"", re.S)


def read_landmarks_pbtxt(path: str | Path) -> Skeleton:
    """The hand of a MediaPipe ``*_landmarks.pbtxt`` (the first one when it holds several)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise BadInput(f"{path}: cannot read landmarks ({error})") from None
    points = _LANDMARK.findall(text)
    if len(points) < JOINTS:
        raise BadInput(f"{path}: {len(points)} landmarks, a hand has {JOINTS}")
    image = np.array(points[:JOINTS], np.float64).astype(np.float32)  # (21, 3)
    if not np.isfinite(image).all() or np.abs(image[:, :2]).max() > 10:
        raise BadInput(f"{path}: landmarks are not finite normalised image coordinates")
    hand = _HAND_LABEL.search(text)
    handedness, score = (hand.group(2), float(hand.group(1))) if hand else ("Right", 0.0)
    return Skeleton(image=image, handedness=handedness, score=score)


# --- keypoint tables -----------------------------------------------------------------------------

def read_table(table: KeypointTable) -> tuple[np.ndarray, list[str]]:
    """Rows of a keypoint table as ``(N, 21, 2)`` (or point histories as ``(N, 16, 2)``) float32 and
    their project labels; rows whose label id is not in ``table.labels`` are skipped."""
    width = 2 * JOINTS if table.kind == "keypoints" else 32
    rows, labels = [], []
    try:
        with open(table.path, newline="", encoding="utf-8-sig") as file:
            for n, row in enumerate(csv.reader(file), 1):
                if not row or not row[0].strip():
                    continue
                key = row[0].strip()
                if key not in table.labels:
                    continue
                values = [float(v) for v in row[1:width + 1]]
                if len(values) != width or not all(math.isfinite(v) for v in values):
                    raise BadInput(f"{table.path}: line {n} holds {len(row) - 1} finite values, expected {width}")
                rows.append(values)
                labels.append(table.labels[key])
    except (OSError, UnicodeDecodeError) as error:
        raise BadInput(f"{table.path}: cannot read the table ({error})") from None
    except ValueError as error:
        raise BadInput(f"{table.path}: not a keypoint table ({error})") from None
    points = np.asarray(rows, np.float32).reshape(len(rows), width // 2, 2)
    return points, labels


def table_hands(rows: np.ndarray) -> np.ndarray:
    """Keypoint-table rows ``(N, 21, 2)`` (wrist-relative, selfie view, max-abs normalised) → image
    landmarks ``(N, 21, 3)`` of the camera's own (unmirrored) view of a ``TABLE_FRAME`` frame, a hand
    ``TABLE_HAND_SPAN`` of the frame high at ``TABLE_WRIST``; z is unknown and left 0."""
    width, height = TABLE_FRAME
    pixels = rows * (TABLE_HAND_SPAN * height)                                   # (N, 21, 2) px offsets
    image = np.zeros(rows.shape[:2] + (3,), np.float32)
    image[..., 0] = 1.0 - (TABLE_WRIST[0] + pixels[..., 0] / width)             # selfie → camera view
    image[..., 1] = TABLE_WRIST[1] + pixels[..., 1] / height
    return image


def table_aspect() -> float:
    """Width / height of the keypoint tables' frames."""
    return TABLE_FRAME[0] / TABLE_FRAME[1]


def table_split(labels: list[str], *, block: int = 50) -> tuple[np.ndarray, np.ndarray]:
    """Row indices for training and for evaluation: ``contiguous_blocks`` taken in turn (even blocks
    train, odd blocks evaluate), so that no evaluated row has a near copy among the trained ones
    but its block's neighbours."""
    blocks = contiguous_blocks(labels, block=block)
    train = [b for k, b in enumerate(blocks) if k % 2 == 0]
    held = [b for k, b in enumerate(blocks) if k % 2 == 1]
    empty = np.zeros(0, np.int64)
    return (np.concatenate(train) if train else empty), (np.concatenate(held) if held else empty)


def contiguous_blocks(labels: list[str], *, block: int) -> list[np.ndarray]:
    """Row indices cut into runs of at most ``block`` consecutive rows of one label (the tables were
    written on every frame while a key was held: neighbours are near copies, so split by blocks)."""
    out, start = [], 0
    for i in range(1, len(labels) + 1):
        if i == len(labels) or labels[i] != labels[start] or i - start == block:
            out.append(np.arange(start, i))
            start = i
    return out
