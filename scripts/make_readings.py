"""Write a readings file: MediaPipe's readings of rendered hands, for ``train --readings``.

    .venv/bin/python scripts/make_readings.py --out runs/readings.npz
    .venv/bin/python scripts/make_readings.py --out r.npz --held 40 --moving 20 --seed 5   # a small one

A webcam's skeleton is MediaPipe's reading of a hand, and MediaPipe reads a hand differently from
the synthetic world's true joints (docs/RESULTS.md, "MediaPipe's reading of a hand"). This renders
hands of the synthetic world at 640x480 and runs MediaPipe's hand landmarker on them, as a photo is
read (image mode): the last frame of ``--held`` clips of each static gesture and of no_gesture (a hand
held in its pose), and, with ``--moving N``, every 8th frame of N more no_gesture clips (hands idle,
moving, turning, or in shapes outside the vocabulary), all labelled as rendered. The format is in
``fusion.data.readings``; ``train --readings FILE`` trains on it and ``scripts/tune_online.py --held
FILE`` scores held hands with it. The recipe (``scripts/train_default.sh``) trains the skeleton stream
on the default file (held hands only: the moving ones cost the real videos, run 15) and chooses the
webcam model's recogniser settings with another (``--held 60 --seed 200``) in view
(docs/RESULTS.md, "MediaPipe's readings in the skeleton stream's training"). Clips are made one at a time (about 0.2 s each) with a progress bar; the default, 120
clips of each of seven labels, takes about 3 minutes on a 2-core CPU.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from app.hand_model import resolve_hand_model
from fusion.data.readings import save_readings
from fusion.data.synthetic.realism import rendered_readings
from fusion.errors import BadInput
from fusion.labels import NO_GESTURE, STATIC_GESTURES

HELD = (*STATIC_GESTURES, NO_GESTURE)
SIZE = (640, 480)
FRAMES = 32   # of a moving clip; its every EVERY-th frame is read
EVERY = 8


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, metavar="FILE", help="the readings file to write (.npz)")
    parser.add_argument("--held", type=int, default=120, metavar="N",
                        help="clips of each static gesture and of no_gesture whose last frame is read (default 120)")
    parser.add_argument("--moving", type=int, default=0, metavar="N",
                        help=f"no_gesture clips of which every {EVERY}th frame is read (default 0)")
    parser.add_argument("--seed", type=int, default=91, help="the synthetic world's seed (default 91; the moving "
                        "hands use seed + 1; scripts/rendered_readings.py scores on seed 78)")
    parser.add_argument("--bundle", help="hand_landmarker.task (default: the one `main.py fetch-models` gives)")
    args = parser.parse_args(argv)
    try:
        if args.held < 0 or args.moving < 0 or args.held + args.moving == 0:
            raise BadInput(f"--held and --moving must be >= 0, one of them > 0; got {args.held}, {args.moving}")
        bundle = resolve_hand_model(args.bundle)
        parts = []
        if args.held:
            parts.append(rendered_readings(bundle, labels=HELD, count=args.held * len(HELD), seed=args.seed,
                                           size=SIZE, frames=12, progress=True))
        if args.moving:
            parts.append(rendered_readings(bundle, labels=(NO_GESTURE,), count=args.moving, seed=args.seed + 1,
                                           size=SIZE, frames=FRAMES, every=EVERY, progress=True))
        read = [part for part in parts if len(part["labels"])]
        if not read:
            raise BadInput("MediaPipe found no hand on any rendered frame")
        found = {key: np.concatenate([part[key] for part in read]) for key in ("read", "hand_read", "labels")}
        save_readings(args.out, found["read"], found["hand_read"], found["labels"], SIZE)
    except (BadInput, OSError) as error:
        print(f"make_readings: {error}", file=sys.stderr)
        return 2
    labels, counts = np.unique(found["labels"], return_counts=True)
    shown = sum(int(part["shown"]) for part in parts)
    print(f"make_readings: {len(found['labels'])} readings of {shown} hands shown ("
          + ", ".join(f"{label} {count}" for label, count in zip(labels, counts)) + f") -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
