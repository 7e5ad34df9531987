"""Per-frame cost of the capture sources' own work, against MediaPipe's, on this machine.

    python -m benchmarks.bench_sources [--video PATH] [--frames N]     # from the repository root

1. Video source on a real video file, as fast as possible: OpenCV decode + BGR->RGB per frame
   (the source's own overhead) against MediaPipe's hand landmarker per frame.
2. RealSense source on a .db3 written here with the SDK's software device (640x480 depth and
   color, 30 fps), as fast as possible: the source's own work per frame set (color copy, rs.align
   of depth to color, depth copy), and the whole time per frame set, SDK playback included.
Medians over frames; progress on stderr.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

from fusion.data.sample import Sample

ROOT = Path(__file__).resolve().parents[1]


def bench_video(path: Path, frames: int | None) -> dict:
    from app.sources.video import VideoConfig, VideoSource

    keys = ("decode_s", "convert_s", "track_s")
    per_frame = {key: [] for key in keys}
    last = dict.fromkeys(keys, 0.0)
    source = None

    def sink(sample: Sample) -> None:
        if sample.stream != "skeleton":  # a frame is done when its skeleton is out
            return
        for key in keys:
            per_frame[key].append((source.stats[key] - last[key]) * 1000)
            last[key] = source.stats[key]
        count = len(per_frame["track_s"])
        if count % 20 == 0:
            print(f"\rvideo: {count} frames", end="", file=sys.stderr)
        if frames and count >= frames:
            source.stop()

    source = VideoSource(VideoConfig(path=str(path), real_time=False), sink=sink)
    source.start()
    source.join(timeout=600)
    print(file=sys.stderr)
    info = source.stream_info["color"]
    medians = {key: statistics.median(values) for key, values in per_frame.items()}
    return {"frames": len(per_frame["track_s"]), "size": f"{info.width}x{info.height}",
            "hands": source.stats["hands"], **medians}


def bench_realsense(frames: int, align: bool) -> dict:
    from app.sources.realsense import RealSenseConfig, RealSenseSource

    try:
        from tests.app.rs_fixtures import write_recording
    except ModuleNotFoundError as error:  # run as a file: the repository root is not on the path
        raise SystemExit("bench_sources writes its .db3 with the tests' RealSense fixture: run it from the "
                         "repository root as python -m benchmarks.bench_sources") from error

    with tempfile.TemporaryDirectory() as tmp:
        path = write_recording(Path(tmp) / "bench.db3", frames=frames, depth_size=(640, 480),
                               color_size=(640, 480), fps=30)
        work_ms, interval_ms = [], []
        state = {"work": 0.0, "t": None}
        source = None

        def sink(sample: Sample) -> None:
            if sample.stream != "depth":  # a frame set is done when its depth is out
                return
            now = time.perf_counter()
            work_ms.append((source.stats["convert_s"] - state["work"]) * 1000)
            state["work"] = source.stats["convert_s"]
            if state["t"] is not None:
                interval_ms.append((now - state["t"]) * 1000)
            state["t"] = now
            if len(work_ms) % 20 == 0:
                print(f"\rrealsense (align={align}): {len(work_ms)} frame sets", end="", file=sys.stderr)

        source = RealSenseSource(RealSenseConfig(path=str(path), real_time=False, align=align), sink=sink)
        source.start()
        source.join(timeout=600)
        print(file=sys.stderr)
    return {"frame_sets": len(work_ms), "work_ms": statistics.median(work_ms[1:]),
            "interval_ms": statistics.median(interval_ms)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--video", default=str(ROOT.parent / "shared" / "data" / "real" / "hand_test_video.mp4"))
    parser.add_argument("--frames", type=int, default=None, help="video frames to use (default: all)")
    parser.add_argument("--rs-frames", type=int, default=60, help="RealSense frame sets to record and play")
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {platform.python_version()}, {platform.system()}")
    video = bench_video(Path(args.video), args.frames)
    print(f"video source ({video['size']}, {video['frames']} frames, hand in {video['hands']}): "
          f"BGR->RGB {video['convert_s']:.2f} ms/frame, OpenCV decode {video['decode_s']:.2f} ms/frame, "
          f"MediaPipe {video['track_s']:.1f} ms/frame; MediaPipe / (decode + convert) = "
          f"{video['track_s'] / (video['decode_s'] + video['convert_s']):.0f}x")
    for align in (True, False):
        rs = bench_realsense(args.rs_frames, align)
        print(f"realsense source (640x480 depth + color from .db3, {rs['frame_sets']} frame sets, "
              f"align={align}): own work {rs['work_ms']:.2f} ms/frame set (RGB copy, {'rs.align, ' if align else ''}depth copy); "
              f"{rs['interval_ms']:.2f} ms/frame set in all, SDK playback (SQLite read, decode) included")

if __name__ == "__main__":
    main()
