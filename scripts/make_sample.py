"""Write the bundled sample recording: synthetic RGB-D-skeleton footage with true labels, as .mmtm.

    python scripts/make_sample.py                       # → assets/sample.mmtm (seed 2026, 7 gestures)
    python scripts/make_sample.py --out x.mmtm --seed 5 --gestures 6

One continuous stream of ``fusion.data.synthetic.world.make_stream`` (gestures separated by idle motion),
written frame by frame through ``fusion.data.recording.RecordingWriter`` the way the live recorder
writes: color (JPEG), depth (16-bit PNG) and the MediaPipe-style hand skeleton at 30 fps, with one
label segment per gesture. Same seed, same footage. To stay under 10 MB the depth is rounded to
2 cm steps (about the sensor's own noise at arm's length) and colour is JPEG quality 75.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def write_sample(out: Path, *, seed: int, gestures: int, depth_step_mm: int = 20, jpeg_quality: int = 75,
                 overwrite: bool = True) -> dict:
    from fusion.data.recording import RecordingWriter
    from fusion.data.sample import Skeleton
    from fusion.data.synthetic.world import SynthConfig, make_stream

    config = SynthConfig(stream_gestures=gestures)
    s = make_stream(seed, 0, config)
    step_ns = int(round(1e9 / s.fps))
    fx, fy, ppx, ppy = s.intrinsics
    intrinsics = {"fx": fx, "fy": fy, "ppx": ppx, "ppy": ppy, "model": "none", "coeffs": [0.0] * 5}
    H, W = s.rgb.shape[1:3]
    meta = {"device": {"name": "mmtm-live synthetic camera", "serial": f"synthetic-seed-{seed}"},
            "source": {"kind": "synthetic", "generator": "fusion.data.synthetic.world.make_stream", "seed": seed,
                       "gestures": gestures}}
    unit_mm = s.depth_scale * 1000.0
    step = max(1, int(round(depth_step_mm / unit_mm)))
    depth = s.depth
    if step > 1:  # rounded to depth_step_mm (0 stays "no data"): keeps the file under 10 MB
        depth = np.where(s.depth > 0, np.maximum((s.depth.astype(np.int32) + step // 2) // step * step, step),
                         0).astype(np.uint16)
    meta["source"]["depth_step_mm"] = depth_step_mm
    with RecordingWriter(out, meta=meta, overwrite=overwrite, jpeg_quality=jpeg_quality) as rec:
        rec.set_stream("color", {"width": W, "height": H, "fps": s.fps, "intrinsics": intrinsics})
        rec.set_stream("depth", {"width": W, "height": H, "fps": s.fps, "depth_scale": s.depth_scale,
                                 "intrinsics": intrinsics})
        rec.set_stream("skeleton", {"width": W, "height": H, "fps": s.fps, "joints": 21})
        for t in range(len(s.rgb)):
            host = t * step_ns
            device_ms = t * 1000.0 / s.fps
            rec.write("color", s.rgb[t], index=t, host_ns=host, device_ms=device_ms)
            rec.write("depth", depth[t], index=t, host_ns=host, device_ms=device_ms)
            hand = Skeleton(image=s.skeleton[t], world=s.world[t], handedness=s.handedness) if s.presence[t] else None
            rec.write("skeleton", hand, index=t, host_ns=host, device_ms=device_ms)
        for label, start, end in s.segments:
            rec.add_label(label, start_ns=start * step_ns, end_ns=end * step_ns)
    return {"out": str(out), "frames": len(s.rgb), "seconds": round(len(s.rgb) / s.fps, 2),
            "gestures": [g[0] for g in s.segments], "bytes": out.stat().st_size}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "assets" / "sample.mmtm"))
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--gestures", type=int, default=7)
    parser.add_argument("--depth-step-mm", type=int, default=20, help="depth rounded to this step (default: 20)")
    parser.add_argument("--jpeg-quality", type=int, default=75)
    args = parser.parse_args()
    print(write_sample(Path(args.out), seed=args.seed, gestures=args.gestures, depth_step_mm=args.depth_step_mm,
                       jpeg_quality=args.jpeg_quality))
    return 0


if __name__ == "__main__":
    sys.exit(main())
