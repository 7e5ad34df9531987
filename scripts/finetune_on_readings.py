"""Fine-tune a skeleton model on MediaPipe's readings of rendered held hands (an experiment, not the recipe).

    .venv/bin/python scripts/finetune_on_readings.py --model assets/model_skeleton.pt --out M.pt
    .venv/bin/python scripts/finetune_on_readings.py --model assets/model_skeleton.pt --out C.pt --per-label 0
                                                                # the control: the replay alone

A webcam model only ever sees MediaPipe's reading of a hand, never the hand; the skeleton world trains
it on true joints with a little jitter. Here the synthetic world renders ``--per-label`` held hands of
each static label and of no_gesture (640x480, seed ``--seed``; use another seed than
``scripts/rendered_readings.py``'s 78 to score it there), MediaPipe reads each
(``realism.rendered_readings``), and each reading becomes a clip of the reading held still
(``fusion.data.readings.held_clips``, as ``train --readings`` holds one), twice, the no_gesture
readings ``--negatives`` times; with ``--replay`` clips of the skeleton world (another seed), the
model is fine-tuned for ``--epochs`` (every layer, learning rate ``--lr``) and written with the base
model's recogniser settings.
``--per-label 0`` is the control: the same fine-tune on the replay alone. docs/RESULTS.md ("MediaPipe's
reading of a hand") has what it gave.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from fusion.errors import BadInput
from fusion.labels import NO_GESTURE, STATIC_GESTURES

LABELS = (*STATIC_GESTURES, NO_GESTURE)
SIZE = (640, 480)


def reading_clips(readings: dict[str, np.ndarray], spec, labels: tuple[str, ...], frames: int, *, negatives: int,
                  seed: int = 0):
    """``PreparedClips`` of MediaPipe's readings held still for ``frames`` frames
    (``fusion.data.readings.held_clips``): every reading twice, the no_gesture ones ``negatives`` times
    (at least twice)."""
    from fusion.data.readings import held_clips

    copies = np.where(readings["labels"] == NO_GESTURE, max(2, negatives), 2)
    return held_clips(readings["read"], readings["hand_read"], readings["labels"], labels, spec, frames=frames,
                      aspect=SIZE[0] / SIZE[1], seed=seed, copies=copies)


def finetune(args: argparse.Namespace) -> None:
    from app.hand_model import resolve_hand_model
    from fusion.checkpoint import load_checkpoint, read_checkpoint, save_checkpoint
    from fusion.data.model_inputs import concat
    from fusion.teach import skeleton_world_clips
    from fusion.train import train
    from fusion.train_config import TrainConfig

    meta, _ = read_checkpoint(args.model)
    if meta.config.fusion != "none" or meta.config.modalities != ("skeleton",):
        raise BadInput(f"{args.model}: a skeleton-only model is needed")
    spec, labels = meta.config.input, meta.labels
    bundle = resolve_hand_model(args.bundle) if args.per_label else None  # before any clip is made
    print(f"replay: {args.replay} skeleton-world clips", file=sys.stderr)
    parts = [skeleton_world_clips(labels, spec, args.replay, seed=args.seed + 1, labels=labels)]
    if bundle:
        from fusion.data.synthetic.realism import rendered_readings

        print(f"MediaPipe on {args.per_label * len(LABELS)} rendered held hands (about 0.2 s each)", file=sys.stderr)
        readings = rendered_readings(bundle, labels=LABELS, count=args.per_label * len(LABELS), seed=args.seed,
                                     size=SIZE, frames=12, progress=True)
        print(f"{len(readings['labels'])} hands read", file=sys.stderr)
        parts.append(reading_clips(readings, spec, labels, parts[0].frames, negatives=args.negatives))
    train(TrainConfig(data="readings", out=args.out, finetune=args.model, epochs=args.epochs, batch=32, lr=args.lr,
                      seed=0, threads=2, val_fraction=0.0), clips=concat(parts))
    model, tuned = load_checkpoint(args.out)
    training = {**tuned.training, "online": meta.training.get("online")}
    save_checkpoint(args.out, model, labels=tuned.labels, training=training)
    print(f"wrote {args.out} (the base model's recogniser settings)", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="a streaming skeleton model (the base)")
    parser.add_argument("--out", required=True, help="where to write the fine-tuned model")
    parser.add_argument("--per-label", type=int, default=100, metavar="N",
                        help="held hands rendered per label (default 100; 0: the control)")
    parser.add_argument("--seed", type=int, default=91, help="the rendered hands' seed (default 91)")
    parser.add_argument("--negatives", type=int, default=6, help="copies of each no_gesture reading (default 6)")
    parser.add_argument("--replay", type=int, default=1700, help="skeleton-world clips replayed (default 1700)")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--lr", type=float, default=3e-4)
    parser.add_argument("--bundle", help="hand_landmarker.task (default: the one `main.py fetch-models` gives)")
    args = parser.parse_args(argv)
    try:
        if args.per_label < 0 or args.replay < 1 or args.epochs < 1 or not args.lr > 0:
            raise BadInput("--per-label must be >= 0, --replay and --epochs >= 1, --lr > 0")
        finetune(args)
    except BadInput as error:
        print(f"finetune_on_readings: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
