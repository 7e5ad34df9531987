"""The real keypoint table's held-out rows, called by a model, split by where the hand points.

    .venv/bin/python scripts/real_table_by_aim.py                      # the webcam model, ../shared/data/real
    .venv/bin/python scripts/real_table_by_aim.py --model assets/model_default.pt --label open_palm

The same held-still run as ``main.py eval --real`` (``app.evaluate_real.hold_still``) on the rows
``table_split`` keeps out of training, grouped by the angle of the hand (wrist → middle-finger base)
from straight up in the image. The table's "Open" class holds open hands pointing every way; the
project's ``open_palm`` is an open hand with the fingers up (docs/synthetic.md, "What each label
means"), so the rows pointing sideways or down are where the two disagree.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from app.evaluate_real import DEFAULT_REAL, Held, hold_still
from app.model_runner import ModelRunner, RunnerConfig
from fusion.data.readers.real import read_manifest, read_table, table_aspect, table_hands, table_split

ROOT = Path(__file__).resolve().parents[1]
BINS = ((0, 45), (45, 70), (70, 90), (90, 181))  # |degrees from up|


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--real", default=str(DEFAULT_REAL), help="the folder with manifest.json")
    parser.add_argument("--model", default=str(ROOT / "assets" / "model_skeleton.pt"))
    parser.add_argument("--label", default=None, help="only this label's rows (default: every label)")
    args = parser.parse_args()
    runner = ModelRunner.load(RunnerConfig(model=args.model, device="cpu"))
    for table in read_manifest(args.real).tables:
        if table.kind != "keypoints":
            continue
        rows, labels = read_table(table)
        _, held_out = table_split(labels)
        for label in sorted(set(labels)):
            if args.label not in (None, label):
                continue
            picked = np.array([i for i in held_out if labels[i] == label], np.int64)
            hands = rows[picked]
            calls = np.array([c for c, _ in hold_still(runner, [Held(h, None, table_aspect())
                                                                for h in table_hands(hands)], 1.5)])
            v = hands[:, 9] - hands[:, 0]
            aim = np.abs(np.degrees(np.arctan2(v[:, 0], -v[:, 1])))
            print(f"{table.path.name} {label}: {len(picked)} held-out rows, {np.mean(calls == label):.3f} right")
            for lo, hi in BINS:
                k = (aim >= lo) & (aim < hi)
                if k.any():
                    print(f"  pointing {lo:3d}-{min(hi, 180):3d} deg from up: {k.sum():4d} rows, "
                          f"{np.mean(calls[k] == label):.2f} right")


if __name__ == "__main__":
    main()
