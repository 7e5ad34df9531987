"""Realism report: generated skeletons and depth against MediaPipe and RealSense references.

The real references are the whole development set (``../shared/data/real``: MediaPipe's landmarks
of real hands per class — keypoint-table rows, test-photo landmark files — read by
``fusion.data.readers.real``) and ``real_reference.json`` (written by
``scripts/measure_real_hands.py`` from MediaPipe on the real video and photo); the depth reference is
the D4xx RMS error model in ``camera.py``. ``report()`` gives the markdown tables of
docs/synthetic.md (``scripts/realism_report.py`` prints them).

Hand shapes are compared in 2D, the way every real source gives them (a table row has no z), with
``shape_statistics``: each finger's tip-to-wrist over MCP-to-wrist distance (1 curled … 2 straight),
the thumb tip's distance to the index and to the little-finger MCP, and the four adjacent fingertip
gaps, all over the palm's image length.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from fusion.data.synthetic import camera, gestures, hand, hand_stats, landmarks, poses, render
from fusion.labels import DEFAULT_LABELS, STATIC_GESTURES

REFERENCE_PATH = Path(__file__).with_name("real_reference.json")


def reference() -> dict:
    """The stored MediaPipe measurements of the real footage."""
    return json.loads(REFERENCE_PATH.read_text())


def skeletons(label: str, count: int, *, frames: int = 24, seed: int = 11,
              cam: camera.Intrinsics = camera.Intrinsics.realsense(160, 120)) -> tuple[np.ndarray, np.ndarray]:
    """Generated landmarks over the gesture's active frames, without rendering pixels:
    world ``(N, 21, 3)`` metres and image ``(N, 21, 3)`` in pixels (x, y) of ``cam``."""
    worlds, images = [], []
    for i in range(count):
        rng = np.random.default_rng([seed, DEFAULT_LABELS.index(label), i])
        subject = hand.random_subject(rng)
        m = gestures.perform(label, rng, cam, frames)
        joints = np.stack([hand.to_camera(subject, hand.joints_local(subject, m.pose[t]), m.rotvec[t], m.roll[t], m.wrist[t])
                           for t in range(m.start, m.end)])
        image, world, present = landmarks.landmarks(rng, cam, joints, np.ones(len(joints), bool), miss_rate=0.0)
        worlds.append(world[present])
        images.append(image[present] * [cam.width, cam.height, cam.width])
    return np.concatenate(worlds), np.concatenate(images)


def nearest_static_class(photo_pixels: np.ndarray, per_class: int = 200) -> dict[str, float]:
    """Smallest pose distance from a real skeleton (21, 3 pixels) to each generated static class's held hands."""
    return {label: float(hand_stats.pose_distance(photo_pixels[None], held_hands(label, per_class)).min())
            for label in STATIC_GESTURES}


SHAPE_STATISTICS = ("index ext", "middle ext", "ring ext", "little ext", "thumb–index MCP", "thumb–little MCP",
                    "gap thumb-index", "gap index-middle", "gap middle-ring", "gap ring-little")


def shape_statistics(points: np.ndarray) -> np.ndarray:
    """``SHAPE_STATISTICS`` of hands ``(N, 21, ≥2)`` (image coordinates; only x, y used): ``(N, 10)``."""
    xy = np.asarray(points, np.float64)[..., :2]
    wrist = xy[:, 0]
    palm = np.linalg.norm(xy[:, 9] - wrist, axis=-1) + 1e-9
    out = [np.linalg.norm(xy[:, tip] - wrist, axis=-1) / (np.linalg.norm(xy[:, mcp] - wrist, axis=-1) + 1e-9)
           for tip, mcp in ((8, 5), (12, 9), (16, 13), (20, 17))]
    out += [np.linalg.norm(xy[:, 4] - xy[:, 5], axis=-1) / palm, np.linalg.norm(xy[:, 4] - xy[:, 17], axis=-1) / palm]
    tips = xy[:, list(hand_stats.TIPS)]
    out += list((np.linalg.norm(np.diff(tips, axis=1), axis=-1) / palm[:, None]).T)
    return np.stack(out, axis=1)


def real_hands(root: str | Path) -> dict[str, np.ndarray]:
    """The development set's held hands by label: ``{label: (N, 21, 2)}`` image-like coordinates
    (keypoint-table rows, table_split's evaluation blocks, and the landmark files)."""
    from fusion.data.readers.real import read_landmarks_pbtxt, read_manifest, read_table, table_split

    manifest = read_manifest(root)
    out: dict[str, list] = {}
    for table in manifest.tables:
        if table.kind != "keypoints":
            continue
        rows, labels = read_table(table)
        _, held_out = table_split(labels)
        for i in held_out:
            out.setdefault(labels[i], []).append(rows[i] * [-1.0, 1.0])  # selfie → camera view
    for item in manifest.landmarks:
        out.setdefault(item.label, []).append(read_landmarks_pbtxt(item.path).image[:, :2])
    return {label: np.stack(hands) for label, hands in out.items()}


def held_hands(label: str, count: int, *, seed: int = 11,
               cam: camera.Intrinsics = camera.Intrinsics.realsense(160, 120)) -> np.ndarray:
    """``count`` generated held hands of a static label (for ``no_gesture``: of the shapes outside the
    vocabulary, ``poses.NEGATIVES``), as MediaPipe would see them: image pixels ``(count, 21, 2)``."""
    out = np.empty((count, 21, 2))
    for i in range(count):
        rng = np.random.default_rng([seed, DEFAULT_LABELS.index(label), i])
        subject = hand.random_subject(rng)
        pose, rotvec, roll = poses.draw_class(rng, subject, label)
        out[i] = cam.project(hand.to_camera(subject, hand.joints_local(subject, pose), rotvec, roll,
                                            np.array([0.0, 0.0, 0.6])))
    return out


def coverage(root: str | Path, *, per_class: int = 300, seed: int = 11) -> dict[str, dict]:
    """Per label of the development set: the real hands' shape statistics (median) against the
    generated held hands' (5th–95th percentile), and how often a real hand's nearest generated hand
    (``hand_stats.pose_distance``, mirror-invariant) has its label."""
    real = real_hands(root)
    labels = sorted(real)
    generated = {label: held_hands(label, per_class, seed=seed) for label in labels}
    out = {}
    for label in labels:
        hands = real[label]
        stats = shape_statistics(hands)
        synth = shape_statistics(generated[label])
        lo, hi = np.percentile(synth, [5, 95], axis=0)
        nearest = np.stack([hand_stats.pose_distance(hands[:, None], generated[g][None]).min(axis=1) for g in labels])
        out[label] = {"real": int(len(hands)), "real_median": np.median(stats, axis=0), "generated_5": lo,
                      "generated_95": hi, "nearest_agrees": float((np.argmin(nearest, axis=0) == labels.index(label)).mean())}
    return out


def depth_noise_at(z: float, frames: int = 30, seed: int = 0) -> float:
    """Measured temporal std (m) of the rendered depth of a flat wall at range z."""
    cam = camera.Intrinsics.realsense(160, 120)
    rng = np.random.default_rng(seed)
    scene = render.Scene.random(rng, cam, 0.6, np.ones(3) * 0.7)
    scene.depth[:] = z
    stack = np.stack([render.render_frame(rng, cam, scene, None, None, None, None, np.zeros(2))[1] for _ in range(frames)])
    stack = stack.astype(np.float64) * render.DEPTH_SCALE
    valid = (stack > 0).all(0)
    return float(stack[:, valid].std(0).mean())


def rendered_readings(model: Path, *, labels: tuple[str, ...] = DEFAULT_LABELS, count: int = 17, seed: int = 0,
                      size: tuple[int, int] = (640, 480), frames: int = 16, every: int = 0, progress: bool = False
                      ) -> dict[str, np.ndarray]:
    """MediaPipe's HandLandmarker (image mode) on rendered frames: the last active frame of ``count``
    clips of ``labels`` (seed ``seed``), or with ``every`` > 0 every ``every``-th frame of each clip,
    where the generator shows a hand. Gives the frames shown (``shown``), and for each frame MediaPipe
    found a hand on: ``labels``, the true image landmarks (``truth``, (N, 21, 3)) and handedness
    (``hand_truth``), MediaPipe's (``read``, ``hand_read``).
    Clips are made one at a time: worker processes forked beside MediaPipe's threads can hang.
    ``progress`` draws a progress bar on stderr (about 0.2 s a clip at 640x480)."""
    from fusion.data.synthetic import world
    from fusion.data.synthetic.measure_real import _arrays, _landmarker
    from fusion.progress import Progress

    import mediapipe as mp

    config = world.SynthConfig(width=size[0], height=size[1], frames=frames, labels=tuple(labels))
    shown, found = 0, {"labels": [], "truth": [], "hand_truth": [], "read": [], "hand_read": []}
    bar = Progress(count, label="rendered hands read") if progress else None
    with _landmarker(Path(model), video=False) as landmarker:
        for done, clip in enumerate(world.clips(seed, count, config, workers=1), start=1):
            if bar:
                bar.update(done)
            for t in range(0, frames, every) if every > 0 else [clip.active[1] - 1]:
                if not clip.presence[t]:
                    continue
                shown += 1
                image = mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(clip.rgb[t]))
                result = _arrays(landmarker.detect(image))
                if result is None:
                    continue
                for key, value in zip(found, (clip.label, clip.skeleton[t], clip.handedness, result[0], result[2])):
                    found[key].append(value)
    out = {key: np.array(values) for key, values in found.items()}
    for key in ("truth", "read"):
        out[key] = out[key].reshape(-1, 21, 3).astype(np.float32)
    return {"shown": np.array(shown), **out}


def mediapipe_on_rendered(model: Path, *, count: int = 17, seed: int = 0, size: tuple[int, int] = (640, 480)) -> dict:
    """Run MediaPipe's HandLandmarker on rendered frames (the last active frame of ``count`` clips):
    how often it finds the hand, how far its landmarks are from the generated ones (mean 2D
    distance over the palm length) and how often its handedness agrees."""
    r = rendered_readings(model, count=count, seed=seed, size=size)
    scale = np.array(size, dtype=np.float64)
    ours, theirs = r["truth"][..., :2] * scale, r["read"][..., :2] * scale
    palm = np.linalg.norm(ours[:, 9] - ours[:, 0], axis=-1)
    errors = np.linalg.norm(theirs - ours, axis=-1).mean(axis=-1) / palm
    return {"frames": int(r["shown"]), "found": len(r["labels"]),
            "handedness_agrees": int((r["hand_read"] == r["hand_truth"]).sum()),
            "median_error_over_palm": float(np.median(errors)) if len(errors) else float("nan")}


def reading_depth(truth: np.ndarray, read: np.ndarray, aspect: float) -> dict[str, float]:
    """How MediaPipe's image z of a hand follows the true one: both wrist-relative and over the true
    palm's image length (x and y in image-width units, as ``fusion.preprocess`` scales them), the least-
    squares slope through 0 of read on true, their correlation, the spreads, and the error left."""
    palm = np.linalg.norm((truth[:, 9, :2] - truth[:, 0, :2]) * [1.0, 1.0 / aspect], axis=-1)[:, None]
    true_z = ((truth[..., 2] - truth[:, :1, 2]) / palm)[:, 1:].ravel()
    read_z = ((read[..., 2] - read[:, :1, 2]) / palm)[:, 1:].ravel()
    slope = float((true_z * read_z).sum() / (true_z * true_z).sum())
    return {"slope": slope, "correlation": float(np.corrcoef(true_z, read_z)[0, 1]), "true_std": float(true_z.std()),
            "read_std": float(read_z.std()), "error_std": float((read_z - slope * true_z).std())}


def _row(name: str, lo: float, hi: float, med: float, unit: str = "") -> str:
    ok = lo <= med <= hi
    return f"| {name} | {lo:.3g}–{hi:.3g}{unit} | {med:.3g}{unit} | {'yes' if ok else 'no'} |"


def coverage_report(root: str | Path) -> list[str]:
    """The markdown of ``coverage``: one table per label of the development set."""
    lines = []
    for label, c in coverage(root).items():
        inside = (c["real_median"] >= c["generated_5"]) & (c["real_median"] <= c["generated_95"])
        lines += [f"**{label}** — {c['real']} real hands; nearest generated hand has this label for "
                  f"{c['nearest_agrees']:.0%} of them", "", "| statistic | real median | generated 5–95 % | inside |",
                  "| --- | --- | --- | --- |"]
        lines += [f"| {name} | {m:.2f} | {lo:.2f}–{hi:.2f} | {'yes' if ok else 'no'} |"
                  for name, m, lo, hi, ok in zip(SHAPE_STATISTICS, c["real_median"], c["generated_5"],
                                                 c["generated_95"], inside)]
        lines.append("")
    return lines


def report(root: str | Path | None = None) -> str:
    """The tables of docs/synthetic.md; with ``root`` (a folder of real footage) the per-class
    coverage of its hands first."""
    ref = reference()
    lines = coverage_report(root) if root is not None else []
    world, _ = skeletons("open_palm", 20)
    for key, fn, title in (("bone_ratios", hand_stats.bone_ratios, "Bone length / palm length (open hand)"),
                           ("joint_angles", hand_stats.joint_angles, "Flexion in degrees (open hand)"),
                           ("tip_spreads", hand_stats.tip_spreads, "Adjacent fingertip distance / palm length (open hand)")):
        values = np.median(fn(world), axis=0)
        lines += [f"**{title}** — real: MediaPipe on hand_test_video.mp4 ({ref['video']['frames']} frames, min–max); "
                  "generated: median over 20 subjects", "", "| statistic | real | generated | inside |", "| --- | --- | --- | --- |"]
        for (name, (lo, _, hi)), v in zip(ref["video"][key].items(), values):
            lines.append(_row(name, lo, hi, float(v)))
        lines.append("")
    width, height = ref["photo"]["size"]
    photo = np.array(ref["photo"]["image_landmarks"]) * [width, height, width]
    nearest = nearest_static_class(photo)
    lines += ["**The real thumbs-up photo** (MediaPipe landmarks of hand_test_image.jpg): smallest pose distance "
              "to generated skeletons of each static class (translation- and scale-normalised, mirror-invariant)", "",
              "| class | distance |", "| --- | --- |"]
    lines += [f"| {k} | {v:.3f} |" for k, v in sorted(nearest.items(), key=lambda kv: kv[1])]
    lines += ["", "**Depth noise of a flat surface** (temporal std over 30 frames, after mm quantisation) against the "
              "D4xx model z²·subpixel/(f·baseline)", "", "| range | model | rendered |", "| --- | --- | --- |"]
    for z in (0.3, 0.6, 1.2, 2.5):
        lines.append(f"| {z} m | {camera.depth_noise_std(np.array(z)) * 1000:.2f} mm | {depth_noise_at(z) * 1000:.2f} mm |")
    return "\n".join(lines)
