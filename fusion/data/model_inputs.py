"""Synthetic clips → model inputs, preprocessed ONCE and cached, then batched as tensors.

Preprocessing is what the app does per frame (``fusion.preprocess``): resize to the model size,
mirror, normalise. It is done once per clip and kept compactly in memory (and in a cache file
beside the dataset, so the next training run skips it)::

    rgb       (N, T, h, w, 3) uint8    resized and mirrored; normalised when batched
    depth     (N, T, h, w)    float16  preprocess_depth's [0, 1] values
    skeleton  (N, T, C, J)    float16  preprocess_skeleton's channels
    label     (N,)            int64    index into the dataset's labels
    active    (N, 2)          int32    [start, end) frames of the gesture

``PreparedClips.batch(indices, ...)`` crops a window of ``spec.window`` frames (random in training,
centred on the gesture otherwise) and returns the model's input dict of float32 tensors.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch

from fusion.errors import BadInput
from fusion.preprocess import InputSpec, preprocess_depth, preprocess_skeleton
from fusion.resample import resample_sequence

SKELETON_ONLY = ("depth", "rgb")  # what a skeleton-only synthetic set lacks
CACHE_VERSION = 2  # 2: lost hands held as the engine holds them (fusion.resample)


def prepare_frames(rgb: np.ndarray, depth: np.ndarray, depth_scale: float, skeleton: np.ndarray,
                   presence: np.ndarray, handedness: str | None, spec: InputSpec, *, aspect: float = 4 / 3
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Frames of one clip or stream → (rgb (T,h,w,3) uint8, depth (T,h,w) float16, skeleton (T,C,J) float16).

    Same arithmetic as the engine: ``preprocess_color/depth/skeleton`` (rgb is kept in uint8 until
    batched), the skeleton first through ``fusion.resample`` (a hand lost for a moment is held).
    Skeleton-only clips (empty images) give empty rgb and depth, and use ``aspect`` (the frame's
    width / height) for the skeleton.
    """
    import cv2

    T, H, W = rgb.shape[:3]
    handedness = _hand_label(handedness)
    images = rgb.size > 0  # a skeleton-only clip has empty images: (T, 0, 0, 3) and (T, 0, 0)
    size = (spec.height, spec.width) if images else (0, 0)
    out_rgb = np.empty((T, *size, 3), np.uint8)
    out_depth = np.empty((T, *size), np.float16)
    out_skel = np.empty((T, spec.skeleton_channels, spec.joints), np.float16)
    aspect = W / H if images else aspect
    # the hand as the engine steps the model with it: a hand lost for a moment keeps its landmarks
    _, skeleton, presence = resample_sequence(np.arange(T) / spec.fps, np.asarray(skeleton, np.float32),
                                              np.asarray(presence, bool), spec.fps)
    for t in range(T):
        if images:
            small = rgb[t] if (W, H) == (spec.width, spec.height) else cv2.resize(
                rgb[t], (spec.width, spec.height), interpolation=cv2.INTER_AREA)
            out_rgb[t] = small[:, ::-1] if spec.mirror else small
            out_depth[t] = preprocess_depth(depth[t], depth_scale, spec)[0]
        out_skel[t] = preprocess_skeleton(skeleton[t] if presence[t] else None, handedness, spec, aspect=aspect)
    return out_rgb, out_depth, out_skel


def _hand_label(handedness) -> str | None:
    """"Left"/"Right" or None; also accepts the one-element array form (e.g. "['Right']") that a
    stream file's 0-d handedness array becomes after a round trip through ``save_npz``."""
    if handedness is None:
        return None
    text = str(np.asarray(handedness).reshape(-1)[0]) if not isinstance(handedness, str) else handedness
    text = text.strip("[]'\" ")
    return text if text in ("Left", "Right") else None


def to_inputs(rgb: np.ndarray | torch.Tensor, depth: np.ndarray | torch.Tensor, skeleton: np.ndarray | torch.Tensor,
              spec: InputSpec, modalities: tuple[str, ...]) -> dict[str, torch.Tensor]:
    """Prepared arrays with a leading batch axis → model inputs (float32).

    rgb (B,T,h,w,3) uint8 → (B,3,T,h,w); depth (B,T,h,w) → (B,1,T,h,w); skeleton (B,T,C,J) → (B,C,T,J).
    """
    out: dict[str, torch.Tensor] = {}
    if "rgb" in modalities:
        x = torch.as_tensor(rgb).permute(0, 4, 1, 2, 3).float()  # (B, 3, T, h, w)
        mean = torch.tensor(spec.rgb_mean).reshape(1, 3, 1, 1, 1) * 255.0
        std = torch.tensor(spec.rgb_std).reshape(1, 3, 1, 1, 1) * 255.0
        out["rgb"] = (x - mean) / std
    if "depth" in modalities:
        out["depth"] = torch.as_tensor(depth).float().unsqueeze(1)  # (B, 1, T, h, w)
    if "skeleton" in modalities:
        out["skeleton"] = torch.as_tensor(skeleton).float().permute(0, 2, 1, 3).contiguous()  # (B, C, T, J)
    return out


@dataclass
class PreparedClips:
    """Preprocessed isolated clips in memory (see the module docstring for the arrays)."""

    rgb: np.ndarray
    depth: np.ndarray
    skeleton: np.ndarray
    label: np.ndarray
    active: np.ndarray
    labels: tuple[str, ...]
    spec: InputSpec
    missing: tuple[str, ...] = ()  # modalities the data does not have (zeros, marked absent in training)
    # (N,) bool where rendered and skeleton-only clips are mixed (``concat``): False for a clip without
    # images (its rgb and depth are zeros, marked absent); None when every clip is alike.
    images: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.label.shape[0])

    @property
    def frames(self) -> int:
        return int(self.rgb.shape[1])

    def subset(self, indices: np.ndarray) -> "PreparedClips":
        return PreparedClips(self.rgb[indices], self.depth[indices], self.skeleton[indices], self.label[indices],
                             self.active[indices], self.labels, self.spec, self.missing,
                             None if self.images is None else self.images[indices])

    def relabel(self, labels: tuple[str, ...]) -> "PreparedClips":
        """The same clips with label indices into ``labels`` (a superset of ``self.labels``)."""
        missing = [l for l in self.labels if l not in labels]
        if missing:
            raise BadInput(f"the data has labels {missing} that are not in the label list")
        remap = np.array([labels.index(l) for l in self.labels], np.int64)
        return PreparedClips(self.rgb, self.depth, self.skeleton, remap[self.label], self.active, tuple(labels),
                             self.spec, self.missing, self.images)

    def presence(self, indices: np.ndarray, modalities: tuple[str, ...]) -> dict[str, torch.Tensor] | None:
        """Per clip and modality, 1.0 where clip ``indices`` has it and 0.0 where it lacks it (the data's
        ``missing``, and the images of the skeleton-only clips among rendered ones); None when every
        clip has every one of ``modalities``."""
        n = len(indices)
        has = {m: torch.ones(n) for m in modalities}
        for m in modalities:
            if m in self.missing:
                has[m] = torch.zeros(n)
            elif m in SKELETON_ONLY and self.images is not None:
                has[m] = torch.as_tensor(self.images[indices], dtype=torch.float32)
        return None if all(bool(v.all()) for v in has.values()) else has

    def crop_starts(self, indices: np.ndarray, rng: np.random.Generator | None, *, lead: int = 0) -> np.ndarray:
        """Window start per clip: random so that the window covers as much of the gesture as it can
        (rng given), else centred on the gesture; ``lead`` frames before each window are included."""
        T, L = self.frames, min(self.spec.window + lead, self.frames)
        s, e = self.active[indices, 0].astype(np.int64), self.active[indices, 1].astype(np.int64)
        if rng is None:
            return np.clip((s + e) // 2 - L // 2, 0, T - L)
        lo = np.clip(np.minimum(s, e - L), 0, T - L)
        hi = np.clip(np.maximum(s, e - L), 0, T - L)
        return lo + (rng.random(len(indices)) * (hi - lo + 1)).astype(np.int64)

    def batch(self, indices: np.ndarray, modalities: tuple[str, ...], *, rng: np.random.Generator | None = None,
              starts: np.ndarray | None = None, lead: int = 0) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
        """(inputs, labels (B,) int64) of clips ``indices``, windows cropped (random when ``rng``), each
        with the ``lead`` frames before it (the model's ``lead_frames``).

        Windows are min(window, frames) + ``lead`` frames long: a clip too short for its lead frames
        repeats its first frame in front (its own reference, as ``step`` does with the first frame)."""
        indices = np.asarray(indices)
        L = min(self.spec.window + lead, self.frames)
        pad = min(self.spec.window, self.frames) + lead - L
        starts = self.crop_starts(indices, rng, lead=lead) if starts is None else starts
        rows = indices[:, None]
        cols = starts[:, None] + np.arange(-pad, L)[None, :].clip(min=0)  # (B, pad + L)
        size = (len(indices), pad + L, self.spec.height, self.spec.width)
        rgb = depth = None
        if "rgb" in modalities:  # images a skeleton-only set lacks are zeros (its modality is marked absent)
            rgb = self.rgb[rows, cols] if self.rgb.size else np.zeros((*size, 3), np.uint8)
        if "depth" in modalities:
            depth = self.depth[rows, cols] if self.depth.size else np.zeros(size, np.float16)
        skel = self.skeleton[rows, cols] if "skeleton" in modalities else None
        return to_inputs(rgb, depth, skel, self.spec, modalities), torch.as_tensor(self.label[indices])


def concat(parts: list[PreparedClips]) -> PreparedClips:
    """One ``PreparedClips`` of several with the same frames, labels and spec.

    Skeleton-only parts (the keypoint table, MediaPipe's readings) may join rendered ones: their clips
    get zero images of the rendered size, and ``images`` marks them, so that training and ``predict``
    treat their rgb and depth as absent (``PreparedClips.presence``)."""
    first = parts[0]
    for p in parts[1:]:
        if p.labels != first.labels or p.frames != first.frames or p.spec != first.spec:
            raise BadInput("cannot mix data with different labels, clip lengths or input sizes")
    rendered = [p for p in parts if p.rgb.shape[2] > 0]
    if any(p.rgb.shape[2:] != rendered[0].rgb.shape[2:] for p in rendered):
        raise BadInput("cannot mix rendered data of different image sizes")
    if len(parts) == 1:
        return first
    mixed = 0 < len(rendered) < len(parts)
    if mixed:
        size = rendered[0].rgb.shape[2:4]
        parts = [p if p.rgb.shape[2] > 0 else replace(p, rgb=np.zeros((len(p), p.frames, *size, 3), np.uint8),
                                                  depth=np.zeros((len(p), p.frames, *size), np.float16),
                                                  images=np.zeros(len(p), bool), missing=())
                 for p in parts]
    images = None
    if mixed or any(p.images is not None for p in parts):
        images = np.concatenate([np.ones(len(p), bool) if p.images is None else p.images for p in parts])
    return PreparedClips(rgb=np.concatenate([p.rgb for p in parts]), depth=np.concatenate([p.depth for p in parts]),
                         skeleton=np.concatenate([p.skeleton for p in parts]),
                         label=np.concatenate([p.label for p in parts]), active=np.concatenate([p.active for p in parts]),
                         labels=first.labels, spec=first.spec,
                         missing=tuple(sorted(set().union(*(p.missing for p in parts)))), images=images)


def window_labels(segments, n: int, *, frames: int, last: int, stride: int, min_seen: float = 0.6,
                  no_gesture: int = 0) -> list[tuple[int, int]]:
    """(window start, label) for windows of ``frames`` frames of a stream of ``n`` frames, every ``stride``.

    The label is decided by the window's last ``last`` frames (what the streaming model sees when it
    answers): a gesture segment (label, start, end) that lies in them for at least
    ``min_seen`` · min(its length, last) frames gives its label; no overlap with any gesture gives
    ``no_gesture``; a window that only touches a gesture is left out (ambiguous onsets and tails).
    """
    out = []
    for start in range(0, n - frames + 1, stride):
        a, b = start + frames - last, start + frames
        label, ambiguous = no_gesture, False
        for seg_label, s, e in segments:
            overlap = max(0, min(b, e) - max(a, s))
            if overlap == 0:
                continue
            if overlap >= min_seen * min(e - s, last):
                label = seg_label
            else:
                ambiguous = True
        if label == no_gesture and ambiguous:
            continue
        out.append((start, label))
    return out


def stream_windows(stream, labels: tuple[str, ...], spec: InputSpec, *, frames: int = 32, stride: int = 6,
                   aspect: float = 4 / 3) -> PreparedClips:
    """Training clips cut from a continuous stream (``fusion.data.synthetic.clip.Stream``), labelled by
    ``window_labels``: teaches the streaming model when to answer and what transitions between
    gestures look like. ``active`` marks the last ``spec.window`` frames, so training crops them."""
    lookup = {name: i for i, name in enumerate(labels)}
    rgb, depth, skel = prepare_frames(stream.rgb, stream.depth, stream.depth_scale, stream.skeleton, stream.presence,
                                      stream.handedness, spec, aspect=aspect)
    segments = [(lookup[l], s, e) for l, s, e in stream.segments]
    last = min(spec.window, frames)
    picks = window_labels(segments, len(rgb), frames=frames, last=last, stride=stride,
                          no_gesture=lookup.get("no_gesture", 0))
    take = np.array([s for s, _ in picks], np.int64)[:, None] + np.arange(frames)[None, :]  # (N, frames)
    return PreparedClips(rgb=rgb[take], depth=depth[take], skeleton=skel[take],
                         label=np.array([l for _, l in picks], np.int64),
                         active=np.tile(np.array([[frames - last, frames]], np.int32), (len(picks), 1)),
                         labels=tuple(labels), spec=spec, missing=() if rgb.size else SKELETON_ONLY)


def _cache_key(dataset, spec: InputSpec, with_streams: bool) -> str:
    content = {"v": CACHE_VERSION, "spec": spec.to_dict(), "index": dataset.index}
    if with_streams:
        content["stream_windows"] = True
    text = json.dumps(content, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def prepare_dataset(path: str | Path, spec: InputSpec, *, cache: bool = True, write_cache: bool = True,
                    progress: bool = True, streams: bool = True) -> PreparedClips:
    """Every clip of the synthetic dataset at ``path``, preprocessed for ``spec`` (cached beside it),
    followed by the windows of its continuous streams (``stream_windows``), if it has any."""
    from fusion.data.synthetic.dataset_files import SyntheticDataset

    ds = SyntheticDataset(path)
    use_streams = streams and ds.num_streams > 0
    if len(ds) == 0 and not use_streams:
        raise BadInput(f"{path}: the dataset holds no {'clips and no streams' if streams else 'isolated clips'}")
    file = Path(path) / f"prepared-{_cache_key(ds, spec, use_streams)}.npz"
    if cache and file.is_file():
        try:
            with np.load(file, allow_pickle=False) as data:
                arrays = {k: data[k] for k in ("rgb", "depth", "skeleton", "label", "active")}
            return PreparedClips(**arrays, labels=ds.labels, spec=spec, missing=() if ds.rendered else SKELETON_ONLY)
        except (OSError, ValueError, KeyError):
            pass  # a damaged cache is rebuilt below
    parts = []
    if len(ds):
        parts.append(_prepare_clips_of(ds, spec, progress))
    frames = ds.shape[0] if len(ds) else 32
    bar = None
    n_streams = ds.num_streams if use_streams else 0
    if progress and n_streams:
        from fusion.progress import Progress

        bar = Progress(n_streams, label="stream windows")
    for k in range(n_streams):
        parts.append(stream_windows(ds.stream(k), ds.labels, spec, frames=frames, aspect=ds.aspect))
        if bar:
            bar.update(k + 1)
    clips = concat(parts)
    if cache and write_cache:
        tmp = file.with_suffix(".partial.npz")
        try:
            np.savez(tmp, rgb=clips.rgb, depth=clips.depth, skeleton=clips.skeleton, label=clips.label,
                     active=clips.active)
            os.replace(tmp, file)
        except OSError:
            if tmp.exists():
                tmp.unlink()
    return clips


def _prepare_clips_of(ds, spec: InputSpec, progress: bool) -> PreparedClips:
    T = ds.shape[0]
    n = len(ds)
    size = (spec.height, spec.width) if ds.rendered else (0, 0)
    rgb = np.empty((n, T, *size, 3), np.uint8)
    depth = np.empty((n, T, *size), np.float16)
    skel = np.empty((n, T, spec.skeleton_channels, spec.joints), np.float16)
    label = np.empty(n, np.int64)
    active = np.empty((n, 2), np.int32)
    lookup = {name: i for i, name in enumerate(ds.labels)}
    bar = None
    if progress:
        from fusion.progress import Progress

        bar = Progress(n, label="prepare")
    i = 0
    for k in range(ds.num_shards):
        a = ds.shard(k)
        for j in range(len(a["label"])):
            rgb[i], depth[i], skel[i] = prepare_frames(a["rgb"][j], a["depth"][j], ds.depth_scale, a["skeleton"][j],
                                                       a["presence"][j], str(a["handedness"][j]), spec,
                                                       aspect=ds.aspect)
            label[i] = lookup[str(a["label"][j])]
            active[i] = a["active"][j]
            i += 1
            if bar:
                bar.update(i)
    return PreparedClips(rgb=rgb, depth=depth, skeleton=skel, label=label, active=active, labels=ds.labels, spec=spec,
                         missing=() if ds.rendered else SKELETON_ONLY)


def prepare_clips(clips, labels: tuple[str, ...], spec: InputSpec) -> PreparedClips:
    """``fusion.data.synthetic.clip.Clip`` objects (e.g. freshly generated) → ``PreparedClips``."""
    clips = list(clips)
    lookup = {name: i for i, name in enumerate(labels)}
    parts = [prepare_frames(c.rgb, c.depth, c.depth_scale, c.skeleton, c.presence, c.handedness, spec) for c in clips]
    return PreparedClips(rgb=np.stack([p[0] for p in parts]), depth=np.stack([p[1] for p in parts]),
                         skeleton=np.stack([p[2] for p in parts]),
                         label=np.array([lookup[c.label] for c in clips], np.int64),
                         active=np.array([c.active for c in clips], np.int32), labels=tuple(labels), spec=spec)
