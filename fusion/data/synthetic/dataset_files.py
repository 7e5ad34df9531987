"""The on-disk format of a synthetic dataset: a JSON index plus ``.npz`` shards; writer and reader.

Layout of a dataset folder::

    index.json            format, labels, frame size, fps, intrinsics, depth scale, seed, shard list
    clips-00000.npz       up to SHARD_SIZE isolated clips (arrays below, first axis = clip)
    stream-00000.npz      one continuous stream per file

A clip shard holds ``rgb (N,T,H,W,3) uint8``, ``depth (N,T,H,W) uint16``, ``skeleton (N,T,21,3)
float32``, ``world (N,T,21,3) float32``, ``presence (N,T) bool``, ``label (N,) <U16``,
``handedness (N,) <U5``, ``active (N,2) int32``. A stream file holds ``rgb (T,H,W,3)``, ``depth
(T,H,W)``, ``skeleton``, ``world``, ``presence``, ``handedness ()``, ``frame_labels (T,) <U16``,
``segment_labels (S,) <U16`` and ``segment_frames (S,2) int32`` ([start, end) frames).
Files are uncompressed zip (``np.load(path, allow_pickle=False)`` reads them) with fixed
timestamps, so the same seed gives byte-identical files. Reading never unpickles anything.
"""

from __future__ import annotations

import json
import os
import time
import zipfile
from dataclasses import asdict
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from fusion.data.synthetic import world
from fusion.data.synthetic.clip import Clip, Stream
from fusion.data.synthetic.world import SynthConfig
from fusion.errors import BadInput

FORMAT = "mmtm-live-synthetic"
VERSION = 1
SHARD_SIZE = 32
CLIP_KEYS = ("rgb", "depth", "skeleton", "world", "presence", "label", "handedness", "active")
STREAM_KEYS = ("rgb", "depth", "skeleton", "world", "presence", "handedness", "frame_labels", "segment_labels", "segment_frames")


def save_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Write an uncompressed .npz with fixed zip timestamps (byte-identical for equal arrays)."""
    partial = Path(str(path) + ".partial")
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
        for name, array in arrays.items():
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_STORED
            info.external_attr = 0o644 << 16
            with archive.open(info, "w", force_zip64=True) as out:
                np.lib.format.write_array(out, np.ascontiguousarray(array), allow_pickle=False)
    os.replace(partial, path)


def load_npz(path: Path, keys: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Read the named arrays of an .npz without pickle; a missing or damaged file is BadInput."""
    if not path.is_file():
        raise BadInput(f"dataset file missing: {path}")
    try:
        with np.load(path, allow_pickle=False) as data:
            missing = [k for k in keys if k not in data.files]
            if missing:
                raise BadInput(f"{path} lacks arrays {missing}; not a synthetic dataset file")
            return {k: data[k] for k in keys}
    except BadInput:
        raise
    except (OSError, ValueError, zipfile.BadZipFile, EOFError, KeyError) as error:
        raise BadInput(f"cannot read {path}: {error}") from error


def _clip_arrays(batch: list[Clip]) -> dict[str, np.ndarray]:
    return {
        "rgb": np.stack([c.rgb for c in batch]), "depth": np.stack([c.depth for c in batch]),
        "skeleton": np.stack([c.skeleton for c in batch]), "world": np.stack([c.world for c in batch]),
        "presence": np.stack([c.presence for c in batch]),
        "label": np.array([c.label for c in batch], dtype="<U16"),
        "handedness": np.array([c.handedness for c in batch], dtype="<U5"),
        "active": np.array([c.active for c in batch], dtype=np.int32),
    }


def _stream_arrays(s: Stream) -> dict[str, np.ndarray]:
    return {
        "rgb": s.rgb, "depth": s.depth, "skeleton": s.skeleton, "world": s.world, "presence": s.presence,
        "handedness": np.array(s.handedness, dtype="<U5"), "frame_labels": s.frame_labels.astype("<U16"),
        "segment_labels": np.array([g[0] for g in s.segments], dtype="<U16"),
        "segment_frames": np.array([g[1:] for g in s.segments], dtype=np.int32).reshape(-1, 2),
    }


def write_dataset(out: Path, *, clips: int, streams: int, seed: int, config: SynthConfig = SynthConfig(),
                  workers: int = 2, progress: Callable[[int, int], None] | None = None) -> dict:
    """Generate ``clips`` isolated clips and ``streams`` streams into ``out``; returns the index."""
    if clips < 0 or streams < 0:
        raise BadInput("--clips and --streams must be >= 0")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    cam = config.camera()
    total, done = clips + streams, 0
    shards, batch = [], []
    for clip in world.clips(seed, clips, config, workers=workers):
        batch.append(clip)
        done += 1
        if len(batch) == SHARD_SIZE or done == clips:
            name = f"clips-{len(shards):05d}.npz"
            save_npz(out / name, _clip_arrays(batch))
            shards.append({"file": name, "first": done - len(batch), "count": len(batch)})
            batch = []
        if progress:
            progress(done, total)
    stream_files = []
    for k, stream in enumerate(world.streams(seed, streams, config, workers=workers)):
        name = f"stream-{k:05d}.npz"
        save_npz(out / name, _stream_arrays(stream))
        stream_files.append({"file": name, "frames": int(len(stream.rgb)), "gestures": len(stream.segments)})
        done += 1
        if progress:
            progress(done, total)
    index = {
        "format": FORMAT, "version": VERSION, "seed": seed, "labels": list(config.labels),
        "width": config.width, "height": config.height, "frames": config.frames, "fps": config.fps,
        "depth_scale": 0.001, "intrinsics": dict(zip(("fx", "fy", "ppx", "ppy"), cam.as_tuple())),
        "clips": clips, "streams": streams, "shards": shards, "stream_files": stream_files,
        "config": {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(config).items()},
    }
    (out / "index.json").write_text(json.dumps(index, indent=1, sort_keys=True) + "\n")
    # Shards of an earlier, larger run in the same folder are no longer part of the dataset.
    keep = {s["file"] for s in shards} | {s["file"] for s in stream_files}
    for stale in [*out.glob("clips-*.npz"), *out.glob("stream-*.npz")]:
        if stale.name not in keep:
            stale.unlink()
    return index


class SyntheticDataset:
    """Reads a dataset written by ``write_dataset`` (``python main.py generate``).

    ``len(ds)`` clips; ``ds.clip(i)`` -> Clip; ``ds.shard(k)`` -> the arrays of shard k (fastest
    way to load everything); ``ds.stream(k)`` -> Stream; ``ds.labels``, ``ds.index``.
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        index_path = self.path / "index.json"
        if not index_path.is_file():
            raise BadInput(f"not a synthetic dataset (no index.json): {self.path}")
        try:
            self.index = json.loads(index_path.read_text())
        except (OSError, ValueError) as error:
            raise BadInput(f"corrupt {index_path}: {error}") from error
        if not isinstance(self.index, dict) or self.index.get("format") != FORMAT:
            raise BadInput(f"{index_path} is not a {FORMAT} index")
        if self.index.get("version") != VERSION:
            raise BadInput(f"{index_path}: unsupported version {self.index.get('version')} (this reader: {VERSION})")
        try:
            self.labels: tuple[str, ...] = tuple(self.index["labels"])
            self.fps = float(self.index["fps"])
            self.depth_scale = float(self.index["depth_scale"])
            i = self.index["intrinsics"]
            self.intrinsics = (float(i["fx"]), float(i["fy"]), float(i["ppx"]), float(i["ppy"]))
            self.shape = (int(self.index["frames"]), int(self.index["height"]), int(self.index["width"]))
            self.rendered = bool(self.index.get("config", {}).get("render", True))  # False: skeletons only
            self.aspect = self.shape[2] / self.shape[1]  # the frames' width / height
            self._shards = [(s["file"], int(s["first"]), int(s["count"])) for s in self.index["shards"]]
            self._streams = [s["file"] for s in self.index["stream_files"]]
        except (KeyError, TypeError, ValueError) as error:
            raise BadInput(f"{index_path} is incomplete: {error}") from error
        self._cached: tuple[int, dict[str, np.ndarray]] | None = None

    def __len__(self) -> int:
        return sum(count for _, _, count in self._shards)

    @property
    def num_shards(self) -> int:
        return len(self._shards)

    @property
    def num_streams(self) -> int:
        return len(self._streams)

    def shard(self, k: int) -> dict[str, np.ndarray]:
        """All arrays of shard ``k`` (clips ``first .. first + count - 1``), checked."""
        if self._cached and self._cached[0] == k:
            return self._cached[1]
        name, _, count = self._shards[k]
        arrays = load_npz(self.path / name, CLIP_KEYS)
        T, H, W = self.shape if self.rendered else (self.shape[0], 0, 0)
        expected = {"rgb": (count, T, H, W, 3), "depth": (count, T, H, W), "skeleton": (count, T, 21, 3),
                    "world": (count, T, 21, 3), "presence": (count, T), "label": (count,), "active": (count, 2)}
        for key, shape in expected.items():
            if arrays[key].shape != shape:
                raise BadInput(f"{self.path / name}: {key} has shape {arrays[key].shape}, expected {shape}")
        unknown = set(arrays["label"].tolist()) - set(self.labels)
        if unknown:
            raise BadInput(f"{self.path / name}: unknown labels {sorted(unknown)}")
        self._cached = (k, arrays)
        return arrays

    def shards(self) -> Iterator[dict[str, np.ndarray]]:
        for k in range(self.num_shards):
            yield self.shard(k)

    def clip(self, i: int) -> Clip:
        """Clip ``i`` (0-based, in generation order)."""
        for k, (_, first, count) in enumerate(self._shards):
            if first <= i < first + count:
                a = self.shard(k)
                j = i - first
                return Clip(label=str(a["label"][j]), rgb=a["rgb"][j], depth=a["depth"][j], depth_scale=self.depth_scale,
                            skeleton=a["skeleton"][j], world=a["world"][j], presence=a["presence"][j],
                            handedness=str(a["handedness"][j]), intrinsics=self.intrinsics, fps=self.fps,
                            active=(int(a["active"][j, 0]), int(a["active"][j, 1])))
        raise IndexError(f"clip {i} out of range (dataset has {len(self)})")

    def stream(self, k: int) -> Stream:
        """Continuous stream ``k``."""
        a = load_npz(self.path / self._streams[k], STREAM_KEYS)
        T = len(a["rgb"])
        if a["depth"].shape[0] != T or a["skeleton"].shape != (T, 21, 3) or a["frame_labels"].shape != (T,):
            raise BadInput(f"{self.path / self._streams[k]}: arrays disagree in length")
        segments = tuple((str(l), int(s), int(e)) for l, (s, e) in zip(a["segment_labels"], a["segment_frames"]))
        return Stream(rgb=a["rgb"], depth=a["depth"], depth_scale=self.depth_scale, skeleton=a["skeleton"],
                      world=a["world"], presence=a["presence"], handedness=str(a["handedness"]),
                      intrinsics=self.intrinsics, fps=self.fps, segments=segments, frame_labels=a["frame_labels"])


def generate(out: Path, *, clips: int, streams: int, seed: int, config: SynthConfig = SynthConfig(),
             workers: int = 2, show_progress: bool = True) -> dict:
    """``write_dataset`` with a progress bar on stderr; returns a summary with the elapsed seconds."""
    from fusion.progress import Progress

    bar = Progress(clips + streams, label="generate") if show_progress else None
    start = time.monotonic()
    index = write_dataset(out, clips=clips, streams=streams, seed=seed, config=config, workers=workers,
                          progress=(lambda d, t: bar.update(d)) if bar else None)
    seconds = time.monotonic() - start
    size = sum(f.stat().st_size for f in Path(out).iterdir() if f.is_file())
    return {"clips": clips, "streams": streams, "seconds": round(seconds, 2), "seed": seed, "out": str(out),
            "size": [config.width, config.height], "frames": config.frames, "bytes": size,
            "shards": len(index["shards"])}
