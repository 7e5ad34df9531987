"""The shipped models on real footage (../shared/data/real/): which one suits sources without depth?

    python scripts/eval_real.py [--real DIR] [--models assets/model_skeleton.pt assets/model_default.pt] [--json]

Skeletons come from MediaPipe's HandLandmarker (``app.hand_model.ensure_hand_model`` gives the
bundle), exactly what the app feeds for a webcam or a video file; depth is absent, as it is there.

- ``hand_test_image.jpg`` (a thumbs-up): the photo as a held static gesture — the same frame repeated
  for the model's window; printed: the top-3 classes of each model and input set.
- ``hand_test_video.mp4`` (an open hand rising into view): every frame through the model's
  streaming ``step()`` and the online recogniser (with the model's stored settings); printed: the events and the most frequent
  per-frame top class while a hand is seen.

Each model is run with every input set it can take without depth: skeleton alone, and rgb +
skeleton when it has an rgb stream.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def _landmarker(model: Path, video: bool):
    from mediapipe.tasks.python import BaseOptions, vision

    mode = vision.RunningMode.VIDEO if video else vision.RunningMode.IMAGE
    options = vision.HandLandmarkerOptions(base_options=BaseOptions(model_asset_path=str(model)), running_mode=mode,
                                           num_hands=1)
    return vision.HandLandmarker.create_from_options(options)


def _hand(result):
    if not result.hand_landmarks:
        return None, None
    image = np.array([[p.x, p.y, p.z] for p in result.hand_landmarks[0]], np.float32)
    return image, result.handedness[0][0].category_name


def read_photo(bundle: Path, path: Path):
    """(rgb (H,W,3) uint8, landmarks (21,3) or None, handedness)."""
    import cv2
    import mediapipe as mp

    bgr = cv2.imread(str(path))
    rgb = np.ascontiguousarray(bgr[:, :, ::-1])
    with _landmarker(bundle, video=False) as lm:
        image, hand = _hand(lm.detect(mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb)))
    return rgb, image, hand


def read_video(bundle: Path, path: Path):
    """(frames [(H,W,3) uint8], landmarks [(21,3) or None], handedness [str or None], fps)."""
    import cv2
    import mediapipe as mp

    cap = cv2.VideoCapture(str(path))
    fps = cap.get(cv2.CAP_PROP_FPS) or 25.0
    frames, marks, hands = [], [], []
    with _landmarker(bundle, video=True) as lm:
        while True:
            ok, bgr = cap.read()
            if not ok:
                break
            rgb = np.ascontiguousarray(bgr[:, :, ::-1])
            image, hand = _hand(lm.detect_for_video(mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb),
                                                    int(round(len(frames) * 1000 / fps)) + 1))
            frames.append(rgb)
            marks.append(image)
            hands.append(hand)
    cap.release()
    return frames, marks, hands, fps


def model_inputs(frames, marks, hands, spec, modalities):
    """Per-frame model inputs with a leading batch axis of 1: {modality: (1, C, T, …)} as torch tensors."""
    import torch

    from fusion.preprocess import preprocess_color, preprocess_skeleton

    out = {}
    if "rgb" in modalities:
        out["rgb"] = torch.from_numpy(np.stack([preprocess_color(f, spec) for f in frames], axis=1))[None]
    if "skeleton" in modalities:
        aspect = frames[0].shape[1] / frames[0].shape[0]
        out["skeleton"] = torch.from_numpy(np.stack(
            [preprocess_skeleton(m, h, spec, aspect=aspect) for m, h in zip(marks, hands)], axis=1))[None]
    return out


def input_sets(modalities):
    sets = [("skeleton",)]
    if "rgb" in modalities:
        sets.append(("rgb", "skeleton"))
    return [s for s in sets if all(m in modalities for m in s)]


def run(models: list[Path], real: Path) -> dict:
    import torch

    from app.hand_model import ensure_hand_model
    from fusion.checkpoint import load_checkpoint
    from fusion.evaluate import online_config_of
    from fusion.online import recognize

    torch.set_num_threads(1)
    bundle = ensure_hand_model()
    photo, photo_marks, photo_hand = read_photo(bundle, real / "hand_test_image.jpg")
    frames, marks, hands, fps = read_video(bundle, real / "hand_test_video.mp4")
    report = {"photo": {"hand_found": photo_marks is not None, "handedness": photo_hand},
              "video": {"frames": len(frames), "hand_frames": int(sum(m is not None for m in marks)), "fps": fps},
              "models": {}}
    for path in models:
        model, meta = load_checkpoint(path)
        spec, labels = meta.config.input, meta.labels
        for mods in input_sets(meta.config.modalities):
            key = f"{path.name} [{'+'.join(mods)}]"
            entry = {}
            with torch.inference_mode():
                n = spec.window + model.lead_frames  # the photo held still for a window
                x = model_inputs([photo] * n, [photo_marks] * n, [photo_hand] * n, spec, mods)
                p = torch.softmax(model(x).logits[0], 0).numpy()
                top = np.argsort(-p)[:3]
                entry["photo_top3"] = [[labels[i], round(float(p[i]), 3)] for i in top]
                xs = model_inputs(frames, marks, hands, spec, mods)
                if hasattr(model, "step"):
                    model.reset()
                    logits = np.stack([model.step({m: v[:, :, t] for m, v in xs.items()}).logits[0].numpy()
                                       for t in range(len(frames))])
                    times = np.arange(len(frames)) / fps
                else:
                    idx = np.arange(spec.window - 1, len(frames), 2)
                    logits = np.stack([model({m: v[:, :, t - spec.window + 1:t + 1] for m, v in xs.items()}
                                             ).logits[0].numpy() for t in idx])
                    times = idx / fps
            events = recognize(online_config_of(meta), labels, logits, times)  # the model's own settings
            seen = [i for i, m in enumerate(marks) if m is not None]
            tops = [labels[int(k)] for k in logits.argmax(1)]
            valid = [tops[i] for i in range(len(tops)) if i >= 15 and (not seen or i >= seen[0])]
            common = max(set(valid), key=valid.count) if valid else None
            entry["video_events"] = [[e.label, round(e.t, 2), round(e.score, 3)] for e in events]
            entry["video_most_frequent_top1"] = [common, round(valid.count(common) / max(len(valid), 1), 3)]
            report["models"][key] = entry
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--real", default=str(ROOT.parent / "shared" / "data" / "real"))
    parser.add_argument("--models", nargs="+", default=[str(ROOT / "assets" / "model_skeleton.pt"),
                                                        str(ROOT / "assets" / "model_default.pt")])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    report = run([Path(m) for m in args.models], Path(args.real))
    if args.json:
        print(json.dumps(report))
    else:
        print(f"photo: hand found {report['photo']['hand_found']} ({report['photo']['handedness']}); "
              f"video: hand in {report['video']['hand_frames']}/{report['video']['frames']} frames")
        for key, e in report["models"].items():
            print(f"{key}\n  photo top-3: {e['photo_top3']}\n  video events: {e['video_events']}\n"
                  f"  video most frequent per-frame top class: {e['video_most_frequent_top1']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
