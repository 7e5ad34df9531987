"""Capture-layer benchmark: ring buffers + sync, the capture thread's own cost, recording.

    python benchmarks/bench_capture.py [--iters 300]

Prints a Markdown table (medians of ``--iters`` runs, after a warm-up) and, last, one JSON line.
Measured:
- push a 640x480 frame set (color (480, 640, 3) uint8, depth (480, 640) uint16, skeleton (21, 3))
  through ``Synchronizer`` into ring buffers and read a 16-frame window of each video stream
  (zero-copy view, and one copy); without preprocessing (raw frames kept) and with a caller's
  preprocessing to 112x112 (cv2.resize), whose cost is the model's, not the buffer's;
- the capture thread's own overhead per frame: ``SourceThread.emit`` of a 640x480 sample into the
  sync stage and a recorder's queue (what a source pays besides reading its device);
- the recorder's encoding per frame set (JPEG color, 16-bit PNG depth) and the size of 20 s at
  160x120 and 640x480, 30 fps.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time

import numpy as np

from app.recorder import Recorder, RecorderConfig
from app.ring_buffer import RingBuffer
from app.sources.base import SourceThread, now_ns
from app.sync import SyncConfig, Synchronizer
from fusion.data.recording import RecordingWriter
from fusion.data.sample import Sample, Skeleton

H, W, T = 480, 640, 16


def frames(h: int, w: int, n: int, seed: int = 0, noise: float = 1.0):
    """Camera-like frames: smooth gradients plus sensor-like noise (color sigma 4, depth sigma 3
    units, times ``noise``), so that codecs see realistic content."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:h, :w]
    out = []
    for i in range(n):
        base = (xx * 255 / w + i * 3) % 256
        color = np.stack([base, yy * 255 / h, 255 - base], -1) + rng.normal(0, 4 * noise, (h, w, 3))
        depth = 800 + 400 * np.sin(xx / 40 + i / 10) + yy + rng.normal(0, 3 * noise, (h, w))
        out.append((np.clip(color, 0, 255).astype(np.uint8), np.clip(depth, 0, 65535).astype(np.uint16)))
    return out


def median_us(values: list[float]) -> float:
    return round(float(np.median(values)) * 1e6, 1)


def bench_buffers(iters: int, preprocess) -> dict:
    data = frames(H, W, 8)
    hand = Skeleton(np.random.default_rng(1).random((21, 3), dtype=np.float32))

    def make(stream: str, array: np.ndarray) -> RingBuffer:
        prep = preprocess if stream in ("color", "depth") else None
        shape = prep(array).shape if prep else array.shape
        dtype = prep(array).dtype if prep else array.dtype
        return RingBuffer(capacity=64, shape=shape, dtype=dtype, preprocess=prep, max_window=T)

    sync = Synchronizer(SyncConfig(), streams=("color", "depth", "skeleton"), buffers={},
                        to_array={"skeleton": lambda s: None if s is None else s.image}, make_buffer=make)
    push, view, copy = [], [], []
    for i in range(iters + 20):
        color, depth = data[i % len(data)]
        t = 10**9 + i * 33_333_333
        samples = (Sample("depth", depth, i, t, t / 1e6), Sample("color", color, i, t, t / 1e6),
                   Sample("skeleton", hand, i, t, t / 1e6))
        t0 = time.perf_counter()
        for s in samples:
            sync.push(s)
        t1 = time.perf_counter()
        if i >= T:
            for stream in ("color", "depth", "skeleton"):
                sync.buffers[stream].window(T)
            t2 = time.perf_counter()
            for stream in ("color", "depth", "skeleton"):
                sync.buffers[stream].latest(T)
            t3 = time.perf_counter()
            if i >= 20:
                push.append(t1 - t0)
                view.append(t2 - t1)
                copy.append(t3 - t2)
    prep = []
    if preprocess is not None:
        for i in range(iters):
            color, depth = data[i % len(data)]
            t0 = time.perf_counter()
            preprocess(color)
            preprocess(depth)
            prep.append(time.perf_counter() - t0)
    shape = sync.buffers["color"].shape
    return {"preprocess_us": median_us(prep) if prep else 0.0,"buffered_color": "x".join(map(str, shape)), "push_set_us": median_us(push),
            "window16_view_us": median_us(view), "window16_copy_us": median_us(copy),
            "push_plus_view_us": median_us([a + b for a, b in zip(push, view)])}


class _Emitter(SourceThread):
    def _run(self) -> None:
        pass


def bench_emit(iters: int) -> dict:
    color, depth = frames(H, W, 1)[0]
    sync = Synchronizer(SyncConfig(), streams=("color", "depth"), buffers={},
                        make_buffer=lambda s, a: RingBuffer(capacity=64, shape=a.shape, dtype=a.dtype, max_window=T))
    with tempfile.TemporaryDirectory() as tmp:
        recorder = Recorder(RecorderConfig(path=os.path.join(tmp, "b.mmtm"), queue_size=4))  # not started
        sinks = (sync.push, recorder.push)

        def fan(sample: Sample) -> None:
            for sink in sinks:
                sink(sample)

        source = _Emitter(sink=fan)
        times = []
        for i in range(iters + 20):
            t0 = time.perf_counter()
            stamp = now_ns()
            source.emit(Sample("color", color, i, stamp, i * 33.3))
            t1 = time.perf_counter()
            if i >= 20:
                times.append(t1 - t0)
            sync.push(Sample("depth", depth, i, stamp, i * 33.3))
        recorder.join(timeout=5)
    return {"emit_640x480_us": median_us(times)}


def bench_record(seconds: float) -> dict:
    """Encoding time per color+depth set and file size for ``seconds`` at 30 fps."""
    result = {}
    for h, w, noise in ((120, 160, 0.0), (120, 160, 1.0), (480, 640, 1.0)):
        data = frames(h, w, 30, noise=noise)
        n = int(seconds * 30)
        name = f"{w}x{h}_{'noisy' if noise else 'smooth'}"
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "r.mmtm")
            times = []
            with RecordingWriter(path) as rec:
                for i in range(n):
                    color, depth = data[i % len(data)]
                    t0 = time.perf_counter()
                    rec.write("color", color, index=i, host_ns=i)
                    rec.write("depth", depth, index=i, host_ns=i)
                    times.append(time.perf_counter() - t0)
            result[f"record_{name}_ms_per_set"] = round(float(np.median(times)) * 1e3, 2)
            result[f"record_{name}_{seconds:g}s_MB"] = round(os.path.getsize(path) / 1e6, 2)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iters", type=int, default=300)
    parser.add_argument("--record-seconds", type=float, default=20.0)
    args = parser.parse_args()
    import cv2

    cv2.setNumThreads(1)
    raw = bench_buffers(args.iters, None)
    small = bench_buffers(args.iters, lambda f: cv2.resize(f, (112, 112), interpolation=cv2.INTER_LINEAR))
    emit = bench_emit(args.iters)
    rec = bench_record(args.record_seconds)
    machine = f"{os.cpu_count()}-core {platform.machine()} CPU, no GPU"
    print(f"machine: {machine}; medians of {args.iters} runs\n")
    print("| measurement | median |")
    print("| --- | --- |")
    for name, r in (("raw 640x480 kept", raw), ("preprocessed to 112x112 (cv2.resize, linear)", small)):
        print(f"| push a 640x480 frame set, {name} | {r['push_set_us']} µs |")
        print(f"| read 16-frame windows of color, depth, skeleton ({name}): views | {r['window16_view_us']} µs |")
        print(f"| same, copied out | {r['window16_copy_us']} µs |")
        print(f"| push + read views ({name}) | {r['push_plus_view_us']} µs |")
        if r["preprocess_us"]:
            print(f"| of which the caller's preprocessing of color + depth alone | {r['preprocess_us']} µs |")
    print(f"| capture thread's own cost per 640x480 frame (emit -> sync + buffer + recorder queue) | "
          f"{emit['emit_640x480_us']} µs |")
    for key, value in rec.items():
        print(f"| {key} | {value} |")
    print(json.dumps({"machine": machine, "iters": args.iters, "raw": raw, "preprocessed_112": small, **emit, **rec}))


if __name__ == "__main__":
    main()
