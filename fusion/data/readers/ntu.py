"""NTU RGB+D reader (Shahroudy et al., CVPR 2016): Kinect v2 ``.skeleton`` text files and RGB videos.

Layout (as distributed)::

    SKELETONS/S001C002P003R002A013.skeleton      setup S, camera C, performer P, replication R,
                                                 action A (1-based, A001…A060)
    RGB/S001C002P003R002A013_rgb.avi             optional, 1920x1080 colour video

A ``.skeleton`` file is plain text::

    <frame count>
    per frame:  <body count>
                per body:  <bodyID clippedEdges handLeftConfidence handLeftState
                            handRightConfidence handRightState isRestricted leanX leanY
                            trackingState>                                      (10 values)
                           <joint count>                                        (25)
                           25 lines: x y z depthX depthY colorX colorY
                                     orientationW orientationX orientationY orientationZ
                                     trackingState                              (12 values)

Benchmarks of the paper: cross-subject ("xsub": performers 1, 2, 4, 5, 8, 9, 13, 14, 15, 16, 17,
18, 19, 25, 27, 28, 31, 34, 35, 38 train, the rest test) and cross-view ("xview": cameras 2 and 3
train, camera 1 test). Only the 60 classes of NTU RGB+D 60 are read; files of the NTU RGB+D 120
extension (A061…A120) in the same folder are left out of the index.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

from fusion.errors import BadInput

# The 60 action classes in the order of the 1-based action numbers (label = A - 1).
CLASSES = (
    "drink water", "eat meal/snack", "brushing teeth", "brushing hair", "drop", "pickup", "throw",
    "sitting down", "standing up (from sitting position)", "clapping", "reading", "writing",
    "tear up paper", "wear jacket", "take off jacket", "wear a shoe", "take off a shoe",
    "wear on glasses", "take off glasses", "put on a hat/cap", "take off a hat/cap", "cheer up",
    "hand waving", "kicking something", "reach into pocket", "hopping (one foot jumping)",
    "jump up", "make a phone call/answer phone", "playing with phone/tablet",
    "typing on a keyboard", "pointing to something with finger", "taking a selfie",
    "check time (from watch)", "rub two hands together", "nod head/bow", "shake head",
    "wipe face", "salute", "put the palms together", "cross hands in front (say stop)",
    "sneeze/cough", "staggering", "falling", "touch head (headache)",
    "touch chest (stomachache/heart pain)", "touch back (backache)", "touch neck (neckache)",
    "nausea or vomiting condition", "use a fan (with hand or paper)/feeling warm",
    "punching/slapping other person", "kicking other person", "pushing other person",
    "pat on back of other person", "point finger at the other person", "hugging other person",
    "giving something to other person", "touch other person's pocket", "handshaking",
    "walking towards each other", "walking apart from each other",
)

XSUB_TRAIN_PERFORMERS = (1, 2, 4, 5, 8, 9, 13, 14, 15, 16, 17, 18, 19, 25, 27, 28, 31, 34, 35, 38)
XVIEW_TRAIN_CAMERAS = (2, 3)
JOINTS = 25
NAME = re.compile(r"S(\d{3})C(\d{3})P(\d{3})R(\d{3})A(\d{3})")


@dataclass(frozen=True)
class NTUSkeleton:
    """The bodies of one file, the first ``max_bodies`` listed in each frame, zero-padded.

    xyz (T, M, 25, 3) float32 camera coordinates in metres; color_xy (T, M, 25, 2) and
    depth_xy (T, M, 25, 2) float32 pixel coordinates in the RGB and depth images; joint_state
    (T, M, 25) int8 Kinect tracking state (0 not tracked, 1 inferred, 2 tracked); present
    (T, M) bool; bodies (T,) int16 the number of bodies listed in each frame.
    """

    xyz: np.ndarray
    color_xy: np.ndarray
    depth_xy: np.ndarray
    joint_state: np.ndarray
    present: np.ndarray
    bodies: np.ndarray


@dataclass(frozen=True)
class NTUSample:
    """One file of the index: its parsed name and where its data lie."""

    setup: int
    camera: int
    performer: int
    replication: int
    label: int              # 0-based action index into CLASSES
    name: str
    skeleton: Path
    rgb: Path | None


@dataclass(frozen=True)
class NTUClip:
    """One sample: the skeleton, the RGB frames (T, H, W, 3) uint8 or None, the label."""

    skeleton: NTUSkeleton
    rgb: np.ndarray | None
    label: int
    name: str
    sample: NTUSample


class _Lines:
    """Numbered lines of a text file that fail with BadInput naming file and line."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self.lines = path.read_text(encoding="ascii").splitlines()
        except FileNotFoundError:
            raise BadInput(f"{path}: skeleton file missing") from None
        except (OSError, UnicodeDecodeError) as error:
            raise BadInput(f"{path}: cannot read skeleton file ({error})") from None
        self.i = 0

    def numbers(self, count: int, what: str) -> list[float]:
        self.i += 1
        if self.i > len(self.lines):
            raise BadInput(f"{self.path}:{self.i}: file ends early, expected {what}")
        parts = self.lines[self.i - 1].split()
        try:
            values = [float(p) for p in parts]
        except ValueError:
            values = []
        if len(values) != count or not all(np.isfinite(values)):
            raise BadInput(f"{self.path}:{self.i}: expected {what} ({count} numbers), "
                           f"got {self.lines[self.i - 1].strip()[:60]!r}")
        return values

    def count(self, what: str) -> int:
        (value,) = self.numbers(1, what)
        if value != int(value) or value < 0:
            raise BadInput(f"{self.path}:{self.i}: expected {what} (a count), got {value}")
        return int(value)


def read_skeleton(path: Path | str, *, max_bodies: int = 2) -> NTUSkeleton:
    """Parse one ``.skeleton`` file; a malformed or truncated file raises BadInput (file:line)."""
    lines = _Lines(Path(path))
    frames = lines.count("the frame count")
    xyz = np.zeros((frames, max_bodies, JOINTS, 3), np.float32)          # (T, M, 25, 3)
    color_xy = np.zeros((frames, max_bodies, JOINTS, 2), np.float32)     # (T, M, 25, 2)
    depth_xy = np.zeros((frames, max_bodies, JOINTS, 2), np.float32)
    state = np.zeros((frames, max_bodies, JOINTS), np.int8)              # (T, M, 25)
    present = np.zeros((frames, max_bodies), bool)
    bodies = np.zeros(frames, np.int16)
    for t in range(frames):
        bodies[t] = lines.count("a body count")
        for m in range(bodies[t]):
            lines.numbers(10, "a body info line")
            joints = lines.count("a joint count")
            if joints != JOINTS:
                raise BadInput(f"{lines.path}:{lines.i}: expected {JOINTS} joints, got {joints}")
            for j in range(JOINTS):
                v = lines.numbers(12, "a joint line")
                if m < max_bodies:
                    xyz[t, m, j] = v[0:3]
                    depth_xy[t, m, j] = v[3:5]
                    color_xy[t, m, j] = v[5:7]
                    state[t, m, j] = int(v[11])
            if m < max_bodies:
                present[t, m] = True
    return NTUSkeleton(xyz=xyz, color_xy=color_xy, depth_xy=depth_xy, joint_state=state,
                       present=present, bodies=bodies)


def parse_name(path: Path) -> tuple[int, int, int, int, int]:
    """(setup, camera, performer, replication, action) from a name such as S001C002P003R002A013."""
    m = NAME.match(path.name)
    if not m:
        raise BadInput(f"{path}: not an NTU RGB+D file name (SsssCcccPpppRrrrAaaa)")
    return tuple(int(g) for g in m.groups())  # type: ignore[return-value]


def read_rgb(path: Path, size: tuple[int, int] | None = None) -> np.ndarray:
    """All frames of an RGB video as (T, H, W, 3) uint8 RGB, resized to size=(W, H) if given."""
    import cv2

    if not path.is_file():
        raise BadInput(f"{path}: RGB video missing")
    cap = cv2.VideoCapture(str(path))
    frames = []
    try:
        while True:
            ok, frame = cap.read()
            if not ok:
                break
            if size is not None:
                frame = cv2.resize(frame, size, interpolation=cv2.INTER_AREA)
            frames.append(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
    finally:
        cap.release()
    if not frames:
        raise BadInput(f"{path}: not a readable video")
    return np.stack(frames)


class NTUReader:
    """Indexes an NTU RGB+D skeleton folder; ``reader[i]`` parses one sample as an NTUClip.

    ``benchmark`` is "xsub", "xview" or None (every file), ``split`` "train" or "test".
    ``rgb`` is the folder of ``*_rgb.avi`` videos, or None for skeletons only; when given, every
    indexed sample must have its video. ``exclude`` lists sample names (e.g. the dataset's list of
    files with missing skeletons) to leave out. The skeletons have up to ``max_bodies`` bodies.
    ``rgb_size`` = (W, H) resizes video frames as they are read (full HD is 6 MB a frame).
    """

    def __init__(self, *, skeletons: Path | str, rgb: Path | str | None = None,
                 benchmark: str | None = "xsub", split: str = "train", max_bodies: int = 2,
                 exclude: frozenset[str] | set[str] | tuple[str, ...] = (),
                 rgb_size: tuple[int, int] | None = None) -> None:
        self.root = Path(skeletons)
        self.rgb_root = None if rgb is None else Path(rgb)
        if benchmark not in ("xsub", "xview", None):
            raise BadInput(f"unknown NTU benchmark {benchmark!r}; use 'xsub' or 'xview'")
        if split not in ("train", "test"):
            raise BadInput(f"unknown NTU split {split!r}; use 'train' or 'test'")
        if not self.root.is_dir():
            raise BadInput(f"{self.root}: NTU skeleton folder missing")
        if self.rgb_root is not None and not self.rgb_root.is_dir():
            raise BadInput(f"{self.rgb_root}: NTU RGB folder missing")
        self.classes = CLASSES
        self.max_bodies = max_bodies
        self.rgb_size = rgb_size
        skip = {Path(e).stem for e in exclude}
        self.samples: list[NTUSample] = []
        for path in sorted(self.root.glob("*.skeleton")):
            if path.stem in skip:
                continue
            setup, camera, performer, replication, action = parse_name(path)
            if not 1 <= action <= len(CLASSES):
                continue  # NTU RGB+D 120 classes
            if benchmark == "xsub":
                train = performer in XSUB_TRAIN_PERFORMERS
            elif benchmark == "xview":
                train = camera in XVIEW_TRAIN_CAMERAS
            else:
                train = split == "train"
            if train != (split == "train"):
                continue
            rgb_path = None
            if self.rgb_root is not None:
                rgb_path = self.rgb_root / f"{path.stem}_rgb.avi"
                if not rgb_path.is_file():
                    raise BadInput(f"{rgb_path}: RGB video missing for {path.name}")
            self.samples.append(NTUSample(
                setup=setup, camera=camera, performer=performer, replication=replication,
                label=action - 1, name=CLASSES[action - 1], skeleton=path, rgb=rgb_path))
        if not self.samples:
            raise BadInput(f"{self.root}: no NTU RGB+D 60 .skeleton file in the "
                           f"{benchmark or 'whole'} {split} split")

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int) -> NTUClip:
        s = self.samples[index]
        skeleton = read_skeleton(s.skeleton, max_bodies=self.max_bodies)
        rgb = None if s.rgb is None else read_rgb(s.rgb, self.rgb_size)
        return NTUClip(skeleton=skeleton, rgb=rgb, label=s.label, name=s.name, sample=s)

    def __iter__(self) -> Iterator[NTUClip]:
        for i in range(len(self)):
            yield self[i]
