"""A model's answer frame by frame on the real videos, and on one of their hands held still elsewhere.

    .venv/bin/python scripts/real_video_frames.py                        # the webcam model, every video
    .venv/bin/python scripts/real_video_frames.py --video hagrid_swipe_up_down --model M
    .venv/bin/python scripts/real_video_frames.py --video hagrid_swipe_up_down --hold 12 --shift-y 0.2,0.4

Each video of ``manifest.json`` runs through MediaPipe's hand tracker (one hand, VIDEO mode, as
``replay`` tracks it), the model's own rate (``fusion.resample``) and the streaming model, without
the online recogniser: per video frame, the wrist's place in the image (x, y as fractions) and the
model's two leading classes. This is how docs/RESULTS.md ("Real footage") reads where a real
swipe starts and ends and how sure the model is of it. ``--hold F`` instead holds frame F's hand
still for 1.5 s as ``eval --real`` holds a photo (``app.evaluate_real.hold_still``), once where it
is and once moved down by each ``--shift-y`` (fractions of the frame's height).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from app.evaluate_real import DEFAULT_REAL, Held, hold_still
from app.model_runner import ModelRunner, RunnerConfig
from fusion.data.readers.real import read_manifest
from fusion.preprocess import preprocess_skeleton
from fusion.resample import SkeletonResampler

ROOT = Path(__file__).resolve().parents[1]


def tracked(path: Path, fps: float) -> tuple[list, float]:
    """The chosen hand (a ``Skeleton`` or None) of every frame of ``path``, and the frame's width/height."""
    import cv2

    from app.hand_tracker import HandTracker, HandTrackerConfig

    capture = cv2.VideoCapture(str(path))
    hands, aspect = [], 1.0
    with HandTracker(HandTrackerConfig()) as tracker:
        while True:
            ok, bgr = capture.read()
            if not ok:
                break
            aspect = bgr.shape[1] / bgr.shape[0]
            hands.append(tracker.choose(tracker.track(np.ascontiguousarray(bgr[:, :, ::-1]), len(hands) * 1000 / fps)))
    capture.release()
    return hands, aspect


def frame_by_frame(runner: ModelRunner, hands: list, aspect: float, fps: float) -> None:
    clock, state, handedness = SkeletonResampler(runner.spec.fps), None, None
    present = np.ones((1, len(runner.modalities)), np.float32)
    for i, hand in enumerate(hands):
        handedness = hand.handedness if hand is not None else handedness
        for _, landmarks in clock.push(i / fps, None if hand is None else hand.image):
            frames = {"skeleton": preprocess_skeleton(landmarks, handedness, runner.spec, aspect=aspect)[None]}
            state = runner.warm_state(frames, present) if state is None else state
            logits, state = runner.step(frames, present, state)
        if state is None:
            continue
        p = np.exp(logits[0] - logits[0].max())
        p /= p.sum()
        top = np.argsort(-p)[:2]
        where = "  --  --" if hand is None else f"{hand.image[0, 0]:4.2f} {hand.image[0, 1]:4.2f}"
        print(f"{i:4d} {where}  " + "  ".join(f"{runner.labels[k]} {p[k]:.2f}" for k in top))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--real", default=str(DEFAULT_REAL), help="the folder with manifest.json")
    parser.add_argument("--model", default=str(ROOT / "assets" / "model_skeleton.pt"))
    parser.add_argument("--video", help="only the video whose file name starts with this")
    parser.add_argument("--hold", type=int, metavar="F", help="hold frame F's hand still instead")
    parser.add_argument("--shift-y", default="0.2,0.4", metavar="DY,DY", help="--hold: move it down by these too")
    args = parser.parse_args()
    runner = ModelRunner.load(RunnerConfig(model=args.model, device="cpu"))
    for video in read_manifest(args.real).videos:
        if args.video and not video.path.name.startswith(args.video):
            continue
        hands, aspect = tracked(video.path, video.fps or 30.0)
        print(f"{video.path.name} ({video.fps:g} fps): frame, wrist x y, the two leading classes")
        if args.hold is None:
            frame_by_frame(runner, hands, aspect, video.fps or 30.0)
            continue
        hand = hands[args.hold]
        if hand is None:
            print(f"frame {args.hold}: no hand")
            continue
        for dy in [0.0] + [float(v) for v in args.shift_y.split(",") if v.strip()]:
            image = hand.image + np.array([0.0, dy, 0.0], np.float32)
            (called, score), = hold_still(runner, [Held(image, hand.handedness, aspect)], 1.5)
            print(f"frame {args.hold} held still, moved down {dy:.2f}: {called} {score:.2f}")


if __name__ == "__main__":
    main()
