"""Real keypoint-table rows as held-still training clips (fusion.data.real_clips)."""

import json
from pathlib import Path

import numpy as np
import pytest

from fusion.data.readers.real import TABLE_FRAME, read_manifest, read_table, table_hands, table_split
from fusion.data.real_clips import OPEN_PALM_AIM, OPEN_PALM_AIM_MAX, table_clips
from fusion.errors import BadInput
from fusion.labels import DEFAULT_LABELS, NO_GESTURE
from fusion.preprocess import InputSpec, preprocess_skeleton

SPEC = InputSpec()
FRAMES = 8


def _row(aim_deg: float, seed: int) -> np.ndarray:
    """A keypoint-table row (21, 2) of a straight hand whose fingers aim ``aim_deg`` from up (selfie view)."""
    rng = np.random.default_rng(seed)
    a = np.radians(aim_deg)
    along, across = np.array([np.sin(a), -np.cos(a)]), np.array([np.cos(a), np.sin(a)])
    reach = np.r_[0.0, np.tile(np.linspace(0.3, 1.0, 4), 5)]       # wrist, then 5 fingers of 4 joints
    spread = np.r_[0.0, np.repeat(np.linspace(-0.3, 0.3, 5), 4)]
    points = reach[:, None] * along + spread[:, None] * across + rng.normal(0, 0.005, (21, 2))
    points[0] = 0.0
    points[9] = 0.55 * along  # the middle finger's MCP straight along the aim
    return points / np.abs(points).max()


def _write_table(root: Path, groups: list[tuple[str, float]]) -> None:
    """Blocks of 50 rows (one ``table_split`` block each) of (label id, aim) in order."""
    lines = []
    for k, (label, aim) in enumerate(groups):
        for i in range(50):
            lines.append(",".join([label, *(f"{v:.6f}" for v in _row(aim, 100 * k + i).reshape(-1))]))
    (root / "keypoint.csv").write_bytes(b"\xef\xbb\xbf" + ("\r\n".join(lines) + "\r\n").encode())
    manifest = {"keypoint_tables": [{"file": "keypoint.csv", "labels": {"0": "open_palm", "1": "fist"}}],
                "photos": [{"file": "p.jpg", "label": "fist"}]}
    (root / "manifest.json").write_text(json.dumps(manifest))


def test_open_hands_aimed_away_from_up_are_no_gesture_or_left_out(tmp_path):
    # blocks alternate train / held out; the held-out ones are fists aimed anywhere
    _write_table(tmp_path, [("0", 10.0), ("1", 0.0), ("0", -150.0), ("1", 0.0), ("0", 67.0), ("1", 0.0),
                            ("1", 90.0), ("0", 30.0), ("0", -95.0)])
    assert OPEN_PALM_AIM < 67.0 < OPEN_PALM_AIM_MAX < 95.0
    clips = table_clips(tmp_path, DEFAULT_LABELS, SPEC, frames=FRAMES, every=1)
    names = [DEFAULT_LABELS[i] for i in clips.label]
    # train blocks: open up -> open_palm, open hanging -> no_gesture, open at 67 -> dropped, fist at 90 -> fist,
    # open at -95 -> no_gesture; the fist blocks at odd positions and the open hand at 30 are held out
    assert len(clips) == 4 * 50
    assert names == ["open_palm"] * 50 + [NO_GESTURE] * 50 + ["fist"] * 50 + [NO_GESTURE] * 50
    assert clips.skeleton.shape == (200, FRAMES, SPEC.skeleton_channels, SPEC.joints)
    assert clips.rgb.shape == (200, FRAMES, 0, 0, 3) and clips.depth.shape == (200, FRAMES, 0, 0)
    assert clips.missing == ("depth", "rgb") and clips.labels == DEFAULT_LABELS
    assert (clips.active == [0, FRAMES]).all()
    sk = clips.skeleton.astype(np.float32)
    assert not sk[:, :, 2].any()                 # z: the tables have none
    assert (sk[:, :, 7] == 1.0).all()            # a hand in every frame
    # held still: the shape barely changes between frames, a random place and size per clip
    step = np.abs(np.diff(sk[:, :, :2], axis=1))  # hand-size units
    assert np.median(step) < 0.05 and np.percentile(step, 99) < 0.25
    assert np.ptp(sk[:, 0, 3, 0]) > 0.1 and np.ptp(sk[:, 0, 5, 0]) > 0.02
    again = table_clips(tmp_path, DEFAULT_LABELS, SPEC, frames=FRAMES, every=1)
    assert np.array_equal(again.skeleton, clips.skeleton)  # deterministic by seed
    assert not np.array_equal(table_clips(tmp_path, DEFAULT_LABELS, SPEC, frames=FRAMES, every=1, seed=1).skeleton,
                              clips.skeleton)
    assert len(table_clips(tmp_path, DEFAULT_LABELS, SPEC, frames=FRAMES, every=2)) == 100


def test_clip_label_indices_follow_the_models_label_list(tmp_path):
    _write_table(tmp_path, [("0", 0.0), ("1", 0.0), ("1", 0.0), ("0", 0.0), ("0", 150.0)])
    labels = ("fist", "thumbs_up", NO_GESTURE, "open_palm")
    clips = table_clips(tmp_path, labels, SPEC, frames=FRAMES, every=5)
    assert clips.labels == labels
    assert sorted(set(clips.label.tolist())) == [0, 2, 3]  # fist, no_gesture, open_palm; no thumbs_up
    with pytest.raises(BadInput, match="fist"):
        table_clips(tmp_path, ("open_palm", NO_GESTURE), SPEC, frames=FRAMES)


def test_a_folder_without_keypoint_tables_is_bad_input(tmp_path):
    (tmp_path / "manifest.json").write_text(json.dumps({"photos": [{"file": "p.jpg", "label": "fist"}]}))
    with pytest.raises(BadInput):
        table_clips(tmp_path, DEFAULT_LABELS, SPEC)
    with pytest.raises(BadInput):
        table_clips(tmp_path / "absent", DEFAULT_LABELS, SPEC)


def _expected_names(rows: np.ndarray, names: list[str]) -> list[str | None]:
    """The label each row should train as (None: left out), measured on the raw rows."""
    v = rows[:, 9] - rows[:, 0]
    aim = np.degrees(np.arctan2(np.abs(v[:, 0]), -v[:, 1]))
    out = []
    for name, angle in zip(names, aim):
        if name == "open_palm" and angle > OPEN_PALM_AIM:
            name = None if angle < OPEN_PALM_AIM_MAX else NO_GESTURE
        out.append(name)
    return out


def test_development_set_tables_become_training_rows_only(real_data):
    clips = table_clips(real_data, DEFAULT_LABELS, SPEC, frames=FRAMES, every=1)
    expected, shapes = [], []
    for table in read_manifest(real_data).tables:
        if table.kind != "keypoints":
            continue
        rows, names = read_table(table)
        train, held = table_split(names)
        assert len(train) and len(held)
        wanted = _expected_names(rows, names)
        for i in train:
            if wanted[i] is not None:
                expected.append(wanted[i])
                image = table_hands(rows[i:i + 1])[0]
                shapes.append(preprocess_skeleton(image, None, SPEC, aspect=TABLE_FRAME[0] / TABLE_FRAME[1])[:2])
    got = [DEFAULT_LABELS[i] for i in clips.label]
    assert got == expected                       # one clip per kept training row, in order, nothing held out
    counts = {name: got.count(name) for name in set(got)}
    assert set(counts) == {"open_palm", "fist", "pointing_up", NO_GESTURE}
    assert counts[NO_GESTURE] > 187              # more than the OK sign's training rows: open hands hanging too
    sk = clips.skeleton.astype(np.float32)
    assert not sk[:, :, 2].any() and (sk[:, :, 7] == 1.0).all()
    # each clip is its row held still: the shape channels are the row's, up to MediaPipe-like jitter
    error = np.abs(sk[:, :, :2].mean(axis=1) - np.stack(shapes)).max(axis=(1, 2))
    assert np.median(error) < 0.05 and np.percentile(error, 95) < 0.15


def test_development_set_default_clips(real_data):
    clips = table_clips(real_data, DEFAULT_LABELS, SPEC)
    assert clips.frames == 32 and clips.missing == ("depth", "rgb") and 1000 < len(clips) < 1300
    assert not clips.skeleton[:, :, 2].any()
    inputs, labels = clips.batch(np.arange(8), ("skeleton",))
    assert inputs["skeleton"].shape == (8, SPEC.skeleton_channels, 32, SPEC.joints) and labels.shape == (8,)
