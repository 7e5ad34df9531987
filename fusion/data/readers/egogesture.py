"""EgoGesture reader (Zhang et al., IEEE TMM 2018): RGB and depth JPEG frames plus label CSVs.

Layout (as distributed; the frame folder may be called ``images_320-240``, ``images`` or
``frames``, or the ``Subject*`` folders may lie directly in the root)::

    ROOT/
      images_320-240/Subject01/Scene1/Color/rgb1/000001.jpg …      RGB, 1-based frame numbers
                                     /Depth/depth1/000001.jpg …    depth as 8-bit grey JPEG
      labels-final-revised1/subject01/Scene1/Group1.csv            one row per gesture:
                                                                   class,start,end (1-based
                                                                   class 1…83, 1-based frames,
                                                                   end inclusive)

The subject folder under the labels may be spelled ``subject01`` or ``Subject01`` and the CSV
``Group1.csv`` or ``group1.csv``; rows with an empty start are skipped, as in the authors' split.
Each group (one recording, ``rgbN``/``depthN``) holds several gestures; the reader yields one
sample per gesture, and :meth:`EgoGestureReader.sessions` gives the whole groups with their true
segments for online evaluation. Splits by subject follow the paper.
"""
from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np

from fusion.errors import BadInput

# The 83 classes in the order of the dataset's 1-based class numbers (label = number - 1).
CLASSES = (
    "Scroll_hand_towards_right", "Scroll_hand_towards_left", "Scroll_hand_downward",
    "Scroll_hand_upward", "Scroll_hand_forward", "Scroll_hand_backward", "Cross_index_fingers",
    "Zoom_in_with_fists", "Zoom_out_with_fists", "Rotate_fists_clockwise",
    "Rotate_fists_counterclockwise", "Zoom_in_with_fingers", "Zoom_out_with_fingers",
    "Rotate_fingers_clockwise", "Rotate_fingers_counterclockwise", "Click_with_index_finger",
    "Sweep_diagonal", "Sweep_circle", "Sweep_cross", "Sweep_checkmark", "Static_fist",
    "Measure(distance)", "Photo_frame", "Number_0", "Number_1", "Number_2", "Number_3",
    "Number_4", "Number_5", "Number_6", "Number_7", "Number_8", "Number_9", "OK",
    "Another_number_3", "Pause", "Shape_C", "Make_a_phone_call", "Wave_hand", "Wave_finger",
    "Knock", "Beckon", "Palm_to_fist", "Fist_to_Palm", "Trigger_with_thumb",
    "Trigger_with_index_finger", "Hold_fist_in_the_other_hand", "Grasp", "Walk",
    "Gather_fingers", "Snap_fingers", "Applaud", "Dual_hands_heart", "Put_two_fingers_together",
    "Take_two_fingers_apart", "Turn_over", "Move_fist_upward", "Move_fist_downward",
    "Move_fist_toward_left", "Move_fist_toward_right", "Bring_hand_close", "Push_away",
    "Thumb_upward", "Thumb_downward", "Thumb_toward_right", "Thumb_toward_left",
    "Thumbs_backward", "Thumbs_forward", "Move_hand_upward", "Move_hand_downward",
    "Move_hand_towards_left", "Move_hand_towards_right",
    "Draw_circle_with_hand_in_horizontal_surface", "Bent_number_2", "Bent_another_number_3",
    "Dual_fingers_heart", "Scroll_fingers_toward_left", "Scroll_fingers_toward_right",
    "Move_fingers_upward", "Move_fingers_downward", "Move_fingers_left", "Move_fingers_right",
    "Move_fingers_forward",
)

# Subject split of the paper (train 30, validation 10, test 10 subjects).
SPLITS = {
    "train": (3, 4, 5, 6, 8, 10, 15, 16, 17, 20, 21, 22, 23, 25, 26, 27, 30, 32, 36, 38, 39, 40,
              42, 43, 44, 45, 46, 48, 49, 50),
    "val": (1, 7, 12, 13, 24, 29, 33, 34, 35, 37),
    "test": (2, 9, 11, 14, 18, 19, 28, 31, 41, 47),
}
SPLITS["all"] = tuple(sorted(SPLITS["train"] + SPLITS["val"] + SPLITS["test"]))

LABEL_DIR = "labels-final-revised1"
IMAGE_DIRS = ("images_320-240", "images", "frames", ".")


@dataclass(frozen=True)
class EgoGestureSample:
    """Where one gesture lies: its group's frame folders and its 1-based inclusive frame range."""

    subject: int
    scene: int
    group: int
    label: int          # 0-based class index into CLASSES
    name: str
    start: int          # first frame number (1-based, as in the CSV)
    end: int            # last frame number, inclusive
    color_dir: Path     # .../Color/rgbN
    depth_dir: Path     # .../Depth/depthN
    csv: Path
    line: int


@dataclass(frozen=True)
class EgoGestureClip:
    """One gesture's frames: color (T, H, W, 3) uint8 RGB and depth (T, H, W) uint8, or None."""

    color: np.ndarray | None
    depth: np.ndarray | None
    label: int
    name: str
    sample: EgoGestureSample


@dataclass(frozen=True)
class EgoGestureSession:
    """A whole group recording with its true gestures as (name, first frame, last frame)."""

    subject: int
    scene: int
    group: int
    color_dir: Path
    depth_dir: Path
    segments: tuple[tuple[str, int, int], ...]

    def segments_seconds(self, fps: float = 30.0) -> list[tuple[str, float, float]]:
        """The true segments as (name, start_s, end_s), frame n (1-based) at (n - 1) / fps."""
        return [(name, (a - 1) / fps, (b - 1) / fps) for name, a, b in self.segments]

    def frames(self, modalities: Sequence[str] = ("color", "depth")
               ) -> Iterator[tuple[int, np.ndarray | None, np.ndarray | None]]:
        """Lazily yield (frame number, color (H, W, 3) RGB or None, depth (H, W) or None) for
        every frame of the recording, from 1 until the first number with no file."""
        n = 1
        while True:
            color_path = self.color_dir / f"{n:06d}.jpg"
            depth_path = self.depth_dir / f"{n:06d}.jpg"
            want_color, want_depth = "color" in modalities, "depth" in modalities
            if (want_color and not color_path.is_file()) or \
                    (want_depth and not depth_path.is_file()) or not (want_color or want_depth):
                return
            yield (n, _read_jpeg(color_path, grey=False) if want_color else None,
                   _read_jpeg(depth_path, grey=True) if want_depth else None)
            n += 1


def _number(name: str, prefix: str) -> int | None:
    m = re.fullmatch(prefix + r"(\d+)", name, flags=re.IGNORECASE)
    return int(m.group(1)) if m else None


def read_label_csv(path: Path) -> list[tuple[int, int, int, int]]:
    """Rows of one group CSV as (label 0-based, start, end, line number); empty starts skipped."""
    rows = []
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise BadInput(f"{path}: cannot read label file ({error})") from None
    for lineno, row in enumerate(csv.reader(text.splitlines()), start=1):
        cells = [c.strip() for c in row]
        if not any(cells):
            continue
        if len(cells) < 3:
            raise BadInput(f"{path}:{lineno}: expected 'class,start,end', got {','.join(row)!r}")
        if cells[1] == "" or cells[1].lower() == "nan":
            continue
        try:
            cls, start, end = (int(float(c)) for c in cells[:3])
        except ValueError:
            raise BadInput(f"{path}:{lineno}: expected integers 'class,start,end', "
                           f"got {','.join(row)!r}") from None
        if not 1 <= cls <= len(CLASSES):
            raise BadInput(f"{path}:{lineno}: class {cls} is outside 1..{len(CLASSES)}")
        if not 1 <= start <= end:
            raise BadInput(f"{path}:{lineno}: bad frame range {start}..{end}")
        rows.append((cls - 1, start, end, lineno))
    return rows


def _read_jpeg(path: Path, *, grey: bool) -> np.ndarray:
    import cv2

    if not path.is_file():
        raise BadInput(f"{path}: frame missing")
    image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE if grey else cv2.IMREAD_COLOR)
    if image is None:
        raise BadInput(f"{path}: not a readable JPEG")
    return image if grey else cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


class EgoGestureReader:
    """Indexes an EgoGesture root; ``reader[i]`` loads one gesture's frames as an EgoGestureClip.

    ``split`` is "train", "val", "test" or "all" (the paper's subject split); ``subjects``
    overrides it. ``modalities`` picks "color" and/or "depth". Subjects that are not on disk are
    skipped; a split with no subject on disk, a missing label or frame folder, or a malformed CSV
    row raises BadInput naming the file (and line).
    """

    def __init__(self, *, root: Path | str, split: str = "all",
                 subjects: Sequence[int] | None = None,
                 modalities: Sequence[str] = ("color", "depth"),
                 images: Path | str | None = None) -> None:
        self.root = Path(root)
        if split not in SPLITS:
            raise BadInput(f"unknown EgoGesture split {split!r}; use one of {sorted(SPLITS)}")
        if not set(modalities) <= {"color", "depth"} or not modalities:
            raise BadInput(f"EgoGesture modalities must be 'color' and/or 'depth', got {modalities}")
        self.modalities = tuple(modalities)
        self.classes = CLASSES
        labels = self.root / LABEL_DIR
        if not labels.is_dir():
            raise BadInput(f"{labels}: EgoGesture label folder missing (is {self.root} the root?)")
        self.images = self._find_images() if images is None else Path(images)
        if not self.images.is_dir():
            raise BadInput(f"{self.images}: EgoGesture frame folder missing")
        wanted = set(SPLITS[split] if subjects is None else subjects)
        self._sessions: list[EgoGestureSession] = []
        self.samples: list[EgoGestureSample] = []
        for subject_dir in sorted(labels.iterdir()):
            subject = _number(subject_dir.name, "subject")
            if subject is None or subject not in wanted or not subject_dir.is_dir():
                continue
            self._index_subject(subject, subject_dir)
        if not self._sessions:
            raise BadInput(f"{labels}: no labelled EgoGesture subject of split {split!r} found")

    def _find_images(self) -> Path:
        for name in IMAGE_DIRS:
            d = self.root / name
            if d.is_dir() and any(p.is_dir() and _number(p.name, "subject") is not None
                                  for p in d.iterdir()):
                return d
        raise BadInput(f"{self.root}: no EgoGesture frame folder with Subject* folders "
                       f"(looked in {', '.join(IMAGE_DIRS)}; pass images=...)")

    def _index_subject(self, subject: int, subject_dir: Path) -> None:
        frames_subject = self.images / f"Subject{subject:02d}"
        for scene_dir in sorted(subject_dir.iterdir(), key=lambda p: p.name):
            scene = _number(scene_dir.name, "scene")
            if scene is None or not scene_dir.is_dir():
                continue
            csvs = sorted((p for p in scene_dir.iterdir() if _number(p.stem, "group") is not None
                           and p.suffix.lower() == ".csv"), key=lambda p: _number(p.stem, "group"))
            for csv_path in csvs:
                group = _number(csv_path.stem, "group")
                color_dir = frames_subject / f"Scene{scene}" / "Color" / f"rgb{group}"
                depth_dir = frames_subject / f"Scene{scene}" / "Depth" / f"depth{group}"
                for modality, d in (("color", color_dir), ("depth", depth_dir)):
                    if modality in self.modalities and not d.is_dir():
                        raise BadInput(f"{d}: frame folder missing for labels {csv_path}")
                rows = read_label_csv(csv_path)
                self._sessions.append(EgoGestureSession(
                    subject=subject, scene=scene, group=group, color_dir=color_dir,
                    depth_dir=depth_dir,
                    segments=tuple((CLASSES[c], s, e) for c, s, e, _ in rows)))
                for cls, start, end, lineno in rows:
                    self.samples.append(EgoGestureSample(
                        subject=subject, scene=scene, group=group, label=cls, name=CLASSES[cls],
                        start=start, end=end, color_dir=color_dir, depth_dir=depth_dir,
                        csv=csv_path, line=lineno))

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int) -> EgoGestureClip:
        s = self.samples[index]
        numbers = range(s.start, s.end + 1)
        color = depth = None
        if "color" in self.modalities:
            color = np.stack([_read_jpeg(s.color_dir / f"{n:06d}.jpg", grey=False)
                              for n in numbers])                         # (T, H, W, 3)
        if "depth" in self.modalities:
            depth = np.stack([_read_jpeg(s.depth_dir / f"{n:06d}.jpg", grey=True)
                              for n in numbers])                         # (T, H, W)
        return EgoGestureClip(color=color, depth=depth, label=s.label, name=s.name, sample=s)

    def __iter__(self) -> Iterator[EgoGestureClip]:
        for i in range(len(self)):
            yield self[i]

    def sessions(self) -> list[EgoGestureSession]:
        """The whole group recordings with their true gesture segments (frame numbers)."""
        return list(self._sessions)
