"""The user's own labelled recordings (``.mmtm``) → training clips ("teach it your gestures").

A recording holds color, depth and skeleton frames and label segments (``fusion.data.recording``).
Frames are put on one timeline (the skeleton stream's, else color's, else depth's); the other
streams contribute the frame nearest in time. Each label segment gives one clip of ``frames``
frames centred on it (active range = the segment), and the stretches between segments that are
long enough give ``no_gesture`` clips. A stream missing from a recording is zeros there (and its
modality counts as absent: ``PreparedClips.missing``).

    clips = recording_clips(["a.mmtm", "b.mmtm"], labels=model_labels, spec=model_spec)
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from fusion.data.model_inputs import PreparedClips, prepare_frames
from fusion.errors import BadInput
from fusion.labels import NO_GESTURE
from fusion.preprocess import InputSpec


def find_recordings(path: str | Path) -> list[Path]:
    """``path`` itself when it is a .mmtm file, else the .mmtm files in the folder (sorted)."""
    path = Path(path)
    if path.is_file() and path.suffix == ".mmtm":
        return [path]
    if path.is_dir():
        return sorted(path.glob("*.mmtm"))
    return []


def recording_labels(paths: Sequence[Path]) -> list[str]:
    """The labels used in the recordings, in order of first appearance."""
    from fusion.data.recording import RecordingReader

    seen: list[str] = []
    for p in paths:
        with RecordingReader(p) as rec:
            for seg in rec.labels:
                if seg.label not in seen:
                    seen.append(seg.label)
    return seen


def _timeline(rec):
    """Frames of each stream in time order, aligned to one timeline: (host_ns (N,), {stream: [data per step]})."""
    by_stream: dict[str, list] = {"color": [], "depth": [], "skeleton": []}
    for frame in rec.frames(("color", "depth", "skeleton")):
        by_stream[frame.stream].append(frame)
    base = next((s for s in ("skeleton", "color", "depth") if by_stream[s]), None)
    if base is None:
        raise BadInput(f"{rec.path}: no color, depth or skeleton frames to learn from")
    times = np.array([f.host_ns for f in by_stream[base]], np.int64)
    aligned = {}
    for stream, frames in by_stream.items():
        if not frames:
            continue
        t = np.array([f.host_ns for f in frames], np.int64)
        j = np.clip(np.searchsorted(t, times), 0, len(t) - 1)
        prev = np.clip(j - 1, 0, len(t) - 1)
        j = np.where(np.abs(t[prev] - times) < np.abs(t[j] - times), prev, j)
        aligned[stream] = [frames[k].data for k in j]
    return times, aligned


def _stack(frames: list, path) -> np.ndarray:
    """The frames of one stream as one array; BadInput when their sizes differ."""
    sizes = {f.shape for f in frames}
    if len(sizes) > 1:
        raise BadInput(f"{path}: frames of one stream differ in size ({', '.join(map(str, sorted(sizes)[:3]))})")
    return np.stack(frames)


def recording_clips(paths: Sequence[str | Path], *, labels: Sequence[str], spec: InputSpec, frames: int = 32
                    ) -> PreparedClips:
    """Clips of every label segment (and of the gaps, as no_gesture) of the recordings."""
    from fusion.data.recording import RecordingReader

    lookup = {name: i for i, name in enumerate(labels)}
    rgb_l, depth_l, skel_l, label_l, active_l = [], [], [], [], []
    missing: set[str] = set()
    for path in paths:
        with RecordingReader(path) as rec:
            segments = sorted(rec.labels, key=lambda s: s.start_ns)
            if not segments:
                raise BadInput(f"{path}: the recording has no labelled gestures")
            times, aligned = _timeline(rec)
            info = rec.streams
            n = len(times)
            color = aligned.get("color")
            depth = aligned.get("depth")
            skel = aligned.get("skeleton")
            first = color[0] if color else depth[0] if depth else None
            H, W = first.shape[:2] if first is not None else (spec.height, spec.width)
            if color is None:
                missing.add("rgb")
            if depth is None:
                missing.add("depth")
            if skel is None:
                missing.add("skeleton")
            rgb_a = _stack(color, path) if color else np.zeros((n, H, W, 3), np.uint8)
            depth_a = _stack(depth, path) if depth else np.zeros((n, H, W), np.uint16)
            scale = float(info.get("depth", {}).get("depth_scale", 0.001) or 0.001)
            skel_a = np.zeros((n, spec.joints, 3), np.float32)
            presence = np.zeros(n, bool)
            hand = None
            for k, s in enumerate(skel or []):
                if s is not None and np.asarray(s.image).shape == (spec.joints, 3):
                    skel_a[k], presence[k], hand = s.image, True, s.handedness
            p_rgb, p_depth, p_skel = prepare_frames(rgb_a, depth_a, scale, skel_a, presence, hand, spec)

            def add(name: str, a: int, b: int) -> None:
                centre = (a + b) // 2
                lo = int(np.clip(centre - frames // 2, 0, max(0, n - frames)))
                hi = min(n, lo + frames)
                pad = frames - (hi - lo)
                take = np.concatenate([np.arange(lo, hi), np.full(pad, hi - 1)]).astype(np.int64)
                rgb_l.append(p_rgb[take])
                depth_l.append(p_depth[take])
                skel_l.append(p_skel[take])
                label_l.append(lookup[name])
                active_l.append((max(0, a - lo), min(frames, b - lo)))

            unknown = [s.label for s in segments if s.label not in lookup]
            if unknown:
                raise BadInput(f"{path}: labels {sorted(set(unknown))} are not in the label list")
            bounds = []
            for seg in segments:
                a = int(np.searchsorted(times, seg.start_ns))
                b = max(a + 1, int(np.searchsorted(times, seg.end_ns)))
                add(seg.label, a, b)
                bounds.append((a, b))
            # no_gesture clips from gaps of at least `frames` frames between (and around) gestures
            edges = [0] + [x for ab in bounds for x in ab] + [n]
            if NO_GESTURE in lookup:
                for a, b in zip(edges[0::2], edges[1::2]):
                    for start in range(a, b - frames + 1, frames):
                        add(NO_GESTURE, start, start + frames)
    return PreparedClips(rgb=np.stack(rgb_l), depth=np.stack(depth_l), skeleton=np.stack(skel_l),
                         label=np.array(label_l, np.int64), active=np.array(active_l, np.int32),
                         labels=tuple(labels), spec=spec, missing=tuple(sorted(missing)))
