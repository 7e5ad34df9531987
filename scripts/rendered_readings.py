"""Skeleton models on MediaPipe's reading of rendered hands against the generator's true landmarks.

    .venv/bin/python scripts/rendered_readings.py                          # the webcam model
    .venv/bin/python scripts/rendered_readings.py --model A --model B      # models side by side
    .venv/bin/python scripts/rendered_readings.py --per-label 60 --json    # more hands; one JSON object

A real photo's call rests on MediaPipe's reading of the hand, never on the hand itself, and real
footage cannot say what the true joints were. The synthetic world can: it renders held hands of the
static labels (``--per-label`` clips of each, 640x480, seed ``--seed``), MediaPipe's hand landmarker
reads the last frame of each (image mode, as a photo is read), and every model holds both still for
1.5 s as ``eval --real`` holds a photo (``app.evaluate_real.hold_still``): once the generator's own
landmarks, once MediaPipe's. The gap between the two columns is what MediaPipe's reading costs a
model; a third run takes MediaPipe's x and y with the true z, to tell its depth from the rest of its
reading. Also printed: how MediaPipe's image z follows the true depth (``realism.reading_depth``).
Rendered hands are simpler than real ones, so MediaPipe misreads them more than a real hand; the
figures compare models, they are not real accuracy (docs/RESULTS.md, "MediaPipe's reading of a hand").
Only the clips are made here (about 0.2 s each) and MediaPipe is run on one frame of each.
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np

from app.evaluate_real import Held, hold_still
from app.hand_model import resolve_hand_model
from app.model_runner import ModelRunner, RunnerConfig, default_model_for
from fusion.data.synthetic.realism import reading_depth, rendered_readings
from fusion.errors import BadInput
from fusion.labels import NO_GESTURE, STATIC_GESTURES

LABELS = (*STATIC_GESTURES, NO_GESTURE)
SIZE = (640, 480)


def _scores(path: str, runner: ModelRunner, readings: dict[str, np.ndarray]) -> dict:
    """Per label: how many of its hands the model calls right from the true landmarks, from MediaPipe's,
    and from MediaPipe's x, y with the true z."""
    aspect = SIZE[0] / SIZE[1]
    read_true_z = readings["read"].copy()
    read_true_z[..., 2] = readings["truth"][..., 2]
    hands = {"truth": (readings["truth"], readings["hand_truth"]), "read": (readings["read"], readings["hand_read"]),
             "read_true_z": (read_true_z, readings["hand_read"])}
    calls = {}
    for key, (landmarks, handedness) in hands.items():
        held = [Held(xyz, hand, aspect) for xyz, hand in zip(landmarks, handedness)]
        calls[key] = [called for called, _ in hold_still(runner, held, 1.5)]
    labels = readings["labels"]
    per_label = {label: {key: sum(c == label for c, l in zip(calls[key], labels) if l == label) for key in calls}
                 | {"of": int((labels == label).sum())} for label in LABELS}
    return {"model": path, "per_label": per_label,
            **{key: sum(c == l for c, l in zip(calls[key], labels)) for key in calls}, "of": len(labels)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", action="append", help="a streaming skeleton model (repeat for several; "
                        "default: the model the app runs for a camera without depth)")
    parser.add_argument("--per-label", type=int, default=40, metavar="N", help="clips rendered per label (default 40)")
    parser.add_argument("--seed", type=int, default=78, help="the synthetic world's seed (default 78)")
    parser.add_argument("--bundle", help="hand_landmarker.task (default: the one `main.py fetch-models` gives)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    try:
        if args.per_label < 1:
            raise BadInput(f"--per-label must be at least 1, got {args.per_label}")
        paths = args.model or [str(default_model_for(["color", "skeleton"]))]
        runners = [ModelRunner.load(RunnerConfig(model=path)) for path in paths]  # before minutes of rendering
        readings = rendered_readings(resolve_hand_model(args.bundle), labels=LABELS, count=args.per_label * len(LABELS),
                                     seed=args.seed, size=SIZE, frames=12, progress=True)
        if not len(readings["labels"]):
            raise BadInput("MediaPipe found no hand on any rendered frame")
        models = [_scores(path, runner, readings) for path, runner in zip(paths, runners)]
    except BadInput as error:
        print(f"rendered_readings: {error}", file=sys.stderr)
        return 2
    depth = reading_depth(readings["truth"], readings["read"], SIZE[0] / SIZE[1])
    found = len(readings["labels"])
    report = {"shown": int(readings["shown"]), "found": found, "seed": args.seed, "depth": depth, "models": models}
    if args.json:
        print(json.dumps(report))
        return 0
    print(f"{found} of {report['shown']} rendered held hands read by MediaPipe "
          f"(seed {args.seed}, {SIZE[0]}x{SIZE[1]}); "
          f"its z against the true depth: slope {depth['slope']:.2f}, correlation {depth['correlation']:.2f}, "
          f"error left {depth['error_std']:.2f} (true spread {depth['true_std']:.2f}; hand-size units)")
    print("right from the true landmarks / MediaPipe's reading / its x, y with the true z, of the hands read:")
    print("model".ljust(40) + "".join(label[:14].rjust(16) for label in LABELS) + "all".rjust(16))
    for m in models:
        cells = [f"{c['truth']}/{c['read']}/{c['read_true_z']}/{c['of']}" for c in (*m["per_label"].values(), m)]
        print(m["model"][-40:].ljust(40) + "".join(cell.rjust(16) for cell in cells))
    return 0


if __name__ == "__main__":
    sys.exit(main())
