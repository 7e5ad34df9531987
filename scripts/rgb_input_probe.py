"""Can the rgb stream learn from its frames, from frame differences, or from both?

    python scripts/rgb_input_probe.py --data data/synth-train --input motion [--steps 1000] [--seed 0]

Trains the rgb stream's network (``FrameVideoStream`` with the model's default widths) alone for
``--steps`` steps of 16 clips on 85 % of the dataset's clips, without augmentation, and every
``--every`` steps prints its top-1 on 200 of those clips and on the 15 % held out (windows centred
on the gesture). The last line is one JSON object with the history. Inputs (``ModelConfig.rgb_input``),
per frame t of a 20-frame window (the clip's frame before the window gives the first difference):

    frames         the normalised rgb frame (3 channels)
    motion         rgb_t − rgb_{t−1} (3 channels): the moving hand stands out, the static scene cancels
    frames+motion  the two stacked (6 channels)

A probe for what the rgb stream should be fed (docs/RESULTS.md, "The rgb stream: frame
differences"); not part of the recipe.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np
import torch

from fusion.data.model_inputs import prepare_dataset
from fusion.model_config import RGB_INPUTS, ModelConfig
from fusion.preprocess import InputSpec
from fusion.streaming import rgb_stream_input
from fusion.video_stream import FrameVideoStream

WINDOW = 20


def network_input(rgb: torch.Tensor, kind: str) -> torch.Tensor:
    """(B, 3, T+1, H, W) normalised frames → the stream's (B, C, T, H, W) input of ``kind``."""
    return rgb_stream_input(rgb[:, :, 1:], rgb[:, :, :-1], kind)


def accuracy(model, clips, indices: np.ndarray, kind: str) -> float:
    model.eval()
    correct = 0
    with torch.no_grad():
        for chunk in np.array_split(indices, max(1, len(indices) // 64)):
            inputs, labels = clips.batch(chunk, ("rgb",), lead=1)
            correct += int((model(network_input(inputs["rgb"], kind)).argmax(1) == labels).sum())
    model.train()
    return correct / len(indices)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="a synthetic dataset (python main.py generate)")
    parser.add_argument("--input", choices=tuple(RGB_INPUTS), default="motion")
    parser.add_argument("--steps", type=int, default=800)
    parser.add_argument("--every", type=int, default=100, help="report every N steps")
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--size", default="64x48", help="WxH, as the recipe's --size")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    width, height = (int(v) for v in args.size.lower().split("x"))

    # the recipe's preprocessing (its cache is reused); windows come with the frame before them
    clips = prepare_dataset(args.data, InputSpec(width=width, height=height, window=WINDOW), streams=False)
    order = np.random.default_rng(args.seed).permutation(len(clips))
    held_out, train = order[:len(order) * 15 // 100], order[len(order) * 15 // 100:]

    torch.manual_seed(args.seed)
    config = ModelConfig()
    model = FrameVideoStream(in_channels=RGB_INPUTS[args.input], widths=config.video_widths,
                             num_classes=len(clips.labels), window=WINDOW,
                             temporal_channels=config.temporal_channels, dropout=config.dropout)
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr)
    rng = np.random.default_rng(args.seed)
    history = []
    started = time.perf_counter()
    for step in range(1, args.steps + 1):
        inputs, labels = clips.batch(rng.choice(train, 16), ("rgb",), rng=rng, lead=1)
        loss = torch.nn.functional.cross_entropy(model(network_input(inputs["rgb"], args.input)), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step % args.every == 0 or step == args.steps:
            point = {"step": step, "loss": round(loss.item(), 4),
                     "train_top1": round(accuracy(model, clips, train[:200], args.input), 4),
                     "held_out_top1": round(accuracy(model, clips, held_out, args.input), 4),
                     "seconds": round(time.perf_counter() - started, 1)}
            history.append(point)
            print(f"[{args.input}] step {step}/{args.steps}: loss {point['loss']:.3f} train {point['train_top1']:.3f} "
                  f"held-out {point['held_out_top1']:.3f} ({point['seconds']:.0f} s)", file=sys.stderr, flush=True)
    print(json.dumps({"input": args.input, "data": args.data, "size": [width, height], "steps": args.steps,
                      "seed": args.seed, "history": history}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
