"""NVGesture reader (Molchanov et al., CVPR 2016): SoftKinetic colour and depth AVIs plus split lists.

Layout (as distributed)::

    ROOT/
      nvgesture_train_correct_cvpr2016_v2.lst
      nvgesture_test_correct_cvpr2016_v2.lst
      Video_data/class_01/subject1_r0/sk_color.avi     320x240, 30 fps
                                     /sk_depth.avi     depth as grey video (first channel used)
                                     /duo_left.avi     (IR stereo; not read here)

Each list line describes one gesture::

    path:./Video_data/class_01/subject13_r0 depth:sk_depth:138:218 color:sk_color:138:218 \
        duo_left:duo_left:161:254 label:1

``path`` is relative to ROOT; ``<sensor>:<file stem>:<start>:<end>`` gives the video (stem +
``.avi`` inside ``path``) and the gesture's frames ``start`` (0-based, inclusive) to ``end``
(exclusive), as in the authors' loader; ``label`` is 1…25 (label = number - 1).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np

from fusion.errors import BadInput

# The 25 classes in the order of the dataset's 1-based label numbers (names from its README;
# left/right and cw/ccw are from the subject's perspective).
CLASSES = (
    "move_hand_left", "move_hand_right", "move_hand_up", "move_hand_down",
    "move_two_fingers_left", "move_two_fingers_right", "move_two_fingers_up",
    "move_two_fingers_down", "click_index_finger", "call_someone", "open_hand", "shaking_hand",
    "show_index_finger", "show_two_fingers", "show_three_fingers", "push_hand_up",
    "push_hand_down", "push_hand_out", "pull_hand_in", "rotate_fingers_cw", "rotate_fingers_ccw",
    "push_two_fingers_away", "close_hand_two_times", "thumb_up", "okay_gesture",
)

LISTS = {"train": "nvgesture_train_correct_cvpr2016_v2.lst",
         "test": "nvgesture_test_correct_cvpr2016_v2.lst"}
SENSORS = ("color", "depth", "duo_left")


@dataclass(frozen=True)
class NVGestureSample:
    """One list line: the video of each sensor and its [start, end) frame range."""

    label: int                                  # 0-based class index into CLASSES
    name: str
    folder: Path                                # ROOT / path
    videos: dict                                # sensor -> (Path of .avi, start, end)
    lst: Path
    line: int


@dataclass(frozen=True)
class NVGestureClip:
    """One gesture: color (T, H, W, 3) uint8 RGB and depth (T, H, W) uint8, or None."""

    color: np.ndarray | None
    depth: np.ndarray | None
    label: int
    name: str
    sample: NVGestureSample


def read_list(path: Path, root: Path) -> list[NVGestureSample]:
    """Parse one split list; a malformed line raises BadInput naming the file and line."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BadInput(f"{path}: NVGesture split list missing") from None
    except (OSError, UnicodeDecodeError) as error:
        raise BadInput(f"{path}: cannot read split list ({error})") from None
    samples = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        tokens = line.split()
        if not tokens:
            continue
        where = f"{path}:{lineno}"
        if not tokens[0].startswith("path:") or len(tokens[0]) == 5:
            raise BadInput(f"{where}: line must start with 'path:<folder>', got {tokens[0]!r}")
        folder = root / tokens[0][5:]
        videos, label = {}, None
        for token in tokens[1:]:
            key, _, rest = token.partition(":")
            if key == "label":
                if not rest.isdigit() or not 1 <= int(rest) <= len(CLASSES):
                    raise BadInput(f"{where}: label must be 1..{len(CLASSES)}, got {rest!r}")
                label = int(rest) - 1
            elif key in SENSORS:
                parts = rest.split(":")
                if len(parts) != 3 or not parts[1].isdigit() or not parts[2].isdigit():
                    raise BadInput(f"{where}: expected '{key}:<file>:<start>:<end>', got {token!r}")
                start, end = int(parts[1]), int(parts[2])
                if end <= start:
                    raise BadInput(f"{where}: empty frame range in {token!r}")
                videos[key] = (folder / f"{parts[0]}.avi", start, end)
            else:
                raise BadInput(f"{where}: unknown field {token!r}")
        if label is None:
            raise BadInput(f"{where}: no 'label:' field")
        samples.append(NVGestureSample(label=label, name=CLASSES[label], folder=folder,
                                       videos=videos, lst=Path(path), line=lineno))
    return samples


def read_video_frames(path: Path, start: int, end: int) -> np.ndarray:
    """Frames [start, end) of a video as (T, H, W, 3) uint8 RGB; a short file raises BadInput."""
    import cv2

    if not path.is_file():
        raise BadInput(f"{path}: video missing")
    cap = cv2.VideoCapture(str(path))
    try:
        if not cap.isOpened():
            raise BadInput(f"{path}: not a readable video")
        frames = []
        index = 0
        while index < end:
            ok, frame = cap.read()  # sequential reads: exact frame numbers with any codec
            if not ok:
                raise BadInput(f"{path}: video ends at frame {index}, the list asks for frames "
                               f"{start}..{end - 1}")
            if index >= start:
                frames.append(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
            index += 1
    finally:
        cap.release()
    return np.stack(frames)                                                # (T, H, W, 3)


class NVGestureReader:
    """Reads one split ("train" or "test") of an NVGesture root; ``reader[i]`` loads one clip.

    ``modalities`` picks "color" and/or "depth". ``lst`` overrides the list file (default: the
    official ``nvgesture_<split>_correct_cvpr2016_v2.lst`` in the root).
    """

    def __init__(self, *, root: Path | str, split: str = "train",
                 modalities: Sequence[str] = ("color", "depth"),
                 lst: Path | str | None = None) -> None:
        self.root = Path(root)
        if split not in LISTS:
            raise BadInput(f"unknown NVGesture split {split!r}; use 'train' or 'test'")
        if not modalities or not set(modalities) <= {"color", "depth"}:
            raise BadInput(f"NVGesture modalities must be 'color' and/or 'depth', got {modalities}")
        if not self.root.is_dir():
            raise BadInput(f"{self.root}: NVGesture root folder missing")
        self.modalities = tuple(modalities)
        self.classes = CLASSES
        self.samples = read_list(Path(lst) if lst else self.root / LISTS[split], self.root)
        for s in self.samples:
            for m in self.modalities:
                if m not in s.videos:
                    raise BadInput(f"{s.lst}:{s.line}: no '{m}:' field")

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int) -> NVGestureClip:
        s = self.samples[index]
        color = depth = None
        if "color" in self.modalities:
            color = read_video_frames(*s.videos["color"])                  # (T, H, W, 3)
        if "depth" in self.modalities:
            depth = np.ascontiguousarray(read_video_frames(*s.videos["depth"])[..., 0])  # (T, H, W)
        return NVGestureClip(color=color, depth=depth, label=s.label, name=s.name, sample=s)

    def __iter__(self) -> Iterator[NVGestureClip]:
        for i in range(len(self)):
            yield self[i]
