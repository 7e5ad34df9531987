"""Where a model's online recognition goes wrong on continuous streams.

    python scripts/online_errors.py MODEL STREAMS_DIR [--streams N] [--label zoom_out] [--set supersede=false]

Runs every stream frame by frame through the model's ``step()`` and the recogniser with the
settings stored in the checkpoint (as ``main.py eval`` does), then prints the Levenshtein accuracy,
the true gestures by label and the errors by kind: gestures missed, gestures called as another label (true, called), and
events outside every gesture (label, the gesture nearest it). ``--label L`` also prints, for each
segment of L in the first 8 streams, the top class and its probability every 3rd frame from 10
frames before to 15 after: what the model answers while the hand leads into and out of it.
``--set NAME=VALUE`` (repeatable) changes one of the stored recogniser settings for this run.
"""

from __future__ import annotations

import argparse
import collections
import sys

import numpy as np


def main() -> int:
    import torch

    from fusion.checkpoint import load_checkpoint
    from fusion.data.synthetic.dataset_files import SyntheticDataset
    from fusion.evaluate import online_config_of, prepare_streams, stream_scores
    from fusion.metrics import evaluate_online
    from fusion.errors import BadInput
    from fusion.online import recognize, with_settings

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model")
    parser.add_argument("streams", help="a synthetic dataset folder with continuous streams")
    parser.add_argument("--streams", dest="count", type=int, help="only the first N streams")
    parser.add_argument("--label", help="show the per-frame answers around this label's segments")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="override one recogniser setting, e.g. supersede=false or ema_tau_s=0.05")
    args = parser.parse_args()
    torch.set_num_threads(1)
    model, meta = load_checkpoint(args.model)
    try:
        config = with_settings(online_config_of(meta), args.set)
    except BadInput as error:
        parser.error(f"--set: {error}")
    spec, labels, modalities = meta.config.input, meta.labels, tuple(meta.config.modalities)
    ds = SyntheticDataset(args.streams)
    streams = [ds.stream(k) for k in range(min(args.count or ds.num_streams, ds.num_streams))]
    scores = stream_scores(model, prepare_streams(streams, spec), spec, modalities)
    missed, called_as, outside = collections.Counter(), collections.Counter(), collections.Counter()
    runs = []
    for k, ((logits, idx), s) in enumerate(zip(scores, streams)):
        segments = [(label, a / s.fps, b / s.fps) for label, a, b in s.segments]
        events = recognize(config, labels, logits, idx / s.fps)
        runs.append((segments, events, len(s.rgb) / s.fps))
        for label, a, b in segments:
            hits = [e for e in events if a <= e.t <= b + 0.5]
            if not hits:
                missed[label] += 1
            elif all(e.label != label for e in hits):
                called_as[(label, hits[0].label)] += 1
        for e in events:
            if not any(a <= e.t <= b + 0.5 for _, a, b in segments):
                near = min(segments, key=lambda g: min(abs(e.t - g[1]), abs(e.t - g[2])))
                outside[(e.label, ("after " if e.t > near[2] else "before ") + near[0])] += 1
        if args.label and k < 8:
            p = torch.softmax(torch.as_tensor(logits), dim=1).numpy()
            for label, a, b in s.segments:
                if label == args.label:
                    around = np.nonzero((idx >= a - 10) & (idx < b + 15))[0][::3]
                    print(f"stream {k} {label} frames {a}-{b}: " + " ".join(
                        f"{labels[int(p[i].argmax())]}:{p[i].max():.2f}" for i in around))
    m = evaluate_online(runs)
    print(f"settings: {config}")
    print(f"levenshtein {m.levenshtein:.3f}  false triggers/h {m.false_triggers_per_hour:.1f}  "
          f"({m.false_triggers} in {m.no_gesture_hours * 60:.1f} min of no-gesture footage)  "
          f"events {m.n_events}  true {m.n_true}")
    print(f"true gestures by label: {dict(sorted(collections.Counter(g[0] for r in runs for g in r[0]).items()))}")
    print(f"missed: {dict(missed)}")
    print(f"called as another label (true, called): {dict(called_as)}")
    print(f"outside every gesture (called, nearest): {dict(outside)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
