"""The shipped models on the bundled sample recording: true gestures and the events called.

    python scripts/check_sample.py [--sample assets/sample.mmtm] [--models assets/model_default.pt ...]

Reads the .mmtm file through ``fusion.data.recording`` (streams aligned on the skeleton's timeline),
preprocesses every frame as the app does, runs each model's ``step()`` per frame and its stored
recogniser settings, and prints the true label segments and the called events.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    import torch

    from fusion.checkpoint import load_checkpoint
    from fusion.data.model_inputs import prepare_frames
    from fusion.data.recording import RecordingReader
    from fusion.data.recording.clips import _timeline
    from fusion.evaluate import online_config_of, stream_scores
    from fusion.online import recognize

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", default=str(ROOT / "assets" / "sample.mmtm"))
    parser.add_argument("--models", nargs="+", default=[str(ROOT / "assets" / "model_default.pt"),
                                                        str(ROOT / "assets" / "model_skeleton.pt")])
    args = parser.parse_args()
    torch.set_num_threads(1)
    with RecordingReader(args.sample) as rec:
        times, frames = _timeline(rec)
        labels = [(seg.label, round(float(seg.start_ns - times[0]) / 1e9, 2)) for seg in rec.labels]
        scale = float(rec.streams.get("depth", {}).get("depth_scale", 0.001))
        fps = float(rec.streams.get("skeleton", {}).get("fps", 30.0))
    skel = np.zeros((len(times), 21, 3), np.float32)
    present = np.zeros(len(times), bool)
    hand = None
    for k, s in enumerate(frames["skeleton"]):
        if s is not None:
            skel[k], present[k], hand = s.image, True, s.handedness
    print(f"{args.sample}: {len(times)} frames; true: {labels}")
    for path in args.models:
        model, meta = load_checkpoint(path)
        rgb, depth, sk = prepare_frames(np.stack(frames["color"]), np.stack(frames["depth"]), scale, skel, present,
                                        hand, meta.config.input)
        (logits, idx), = stream_scores(model, [{"rgb": rgb, "depth": depth, "skeleton": sk}], meta.config.input,
                                       meta.config.modalities)
        events = recognize(online_config_of(meta), meta.labels, logits, idx / fps)
        print(f"{Path(path).name}: called {[(e.label, round(e.t, 2)) for e in events]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
