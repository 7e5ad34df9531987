"""Readings files (MediaPipe's readings of rendered hands) and their held-still clips (fusion.data.readings)."""

import numpy as np
import pytest

from fusion.data.readings import load_readings, readings_clips, save_readings
from fusion.errors import BadInput
from fusion.labels import DEFAULT_LABELS, NO_GESTURE
from fusion.preprocess import InputSpec, preprocess_skeleton

SPEC = InputSpec()
FRAMES = 8


def _hands(n: int, seed: int = 0) -> np.ndarray:
    """``n`` hands (21, 3) in image fractions, each of its own shape and place, with a z."""
    rng = np.random.default_rng(seed)
    shape = rng.normal(0.0, 1.0, (n, 21, 3)) * [0.08, 0.08, 0.03]
    shape[:, 0] = 0.0
    shape[:, 9] = [0.0, -0.12, 0.0]  # a palm of a steady length: the preprocessing's unit
    return (shape + rng.uniform([0.3, 0.3, 0.0], [0.7, 0.7, 0.0], (n, 1, 3))).astype(np.float32)


def _write(path, n=6, labels=("fist", NO_GESTURE, "open_palm"), seed=0):
    read = _hands(n, seed)
    label = np.array([labels[i % len(labels)] for i in range(n)])
    hand = np.array(["Left", "Right"] * (n // 2) + ["Right"] * (n % 2))
    save_readings(path, read, hand, label, (640, 480))
    return read, hand, label


def test_each_reading_becomes_a_hand_held_still_with_its_handedness_and_z(tmp_path):
    path = tmp_path / "r.npz"
    read, hand, label = _write(path)
    clips = readings_clips(path, DEFAULT_LABELS, SPEC, frames=FRAMES)
    assert len(clips) == 6 and clips.labels == DEFAULT_LABELS and clips.missing == ("depth", "rgb")
    assert [DEFAULT_LABELS[i] for i in clips.label] == list(label)
    assert clips.skeleton.shape == (6, FRAMES, SPEC.skeleton_channels, SPEC.joints)
    assert clips.rgb.shape == (6, FRAMES, 0, 0, 3) and (clips.active == [0, FRAMES]).all()
    sk = clips.skeleton.astype(np.float32)
    # every frame is the reading, through the engine's preprocessing, up to MediaPipe-like jitter
    for i in range(6):
        still = preprocess_skeleton(read[i], str(hand[i]), SPEC, aspect=4 / 3)
        assert np.abs(sk[i].mean(axis=0) - still).max() < 0.05 and np.abs(sk[i] - still).max() < 0.3
        assert np.corrcoef(sk[i, :, 2].mean(axis=0), still[2])[0, 1] > 0.99  # the z read, kept
    assert np.diff(sk[:, :, :2], axis=1).any()                # jittered, not frozen
    again = readings_clips(path, DEFAULT_LABELS, SPEC, frames=FRAMES)
    assert np.array_equal(again.skeleton, clips.skeleton)    # deterministic by seed
    assert not np.array_equal(readings_clips(path, DEFAULT_LABELS, SPEC, frames=FRAMES, seed=1).skeleton,
                              clips.skeleton)


def test_label_indices_follow_the_models_label_list(tmp_path):
    path = tmp_path / "r.npz"
    _write(path)
    labels = ("open_palm", NO_GESTURE, "fist", "thumbs_up")
    clips = readings_clips(path, labels, SPEC, frames=FRAMES)
    assert clips.label.tolist() == [2, 1, 0, 2, 1, 0]
    with pytest.raises(BadInput, match="fist"):
        readings_clips(path, ("open_palm", NO_GESTURE), SPEC, frames=FRAMES)


@pytest.mark.parametrize("damage", ["missing", "not_npz", "truncated", "no_label", "bad_shape", "nan", "hand",
                                    "pickled", "empty"])
def test_a_bad_readings_file_is_bad_input(tmp_path, damage):
    path = tmp_path / "r.npz"
    read, hand, label = _write(path)
    if damage == "missing":
        path = tmp_path / "absent.npz"
    elif damage == "not_npz":
        path.write_text("not a readings file")
    elif damage == "truncated":
        path.write_bytes(path.read_bytes()[:200])
    elif damage == "no_label":
        np.savez(path, read=read, hand=hand, size=np.array([640, 480]))
    elif damage == "bad_shape":
        np.savez(path, read=read[:, :20], hand=hand, label=label, size=np.array([640, 480]))
    elif damage == "nan":
        read[2, 3, 0] = np.nan
        save_readings(path, read, hand, label, (640, 480))
    elif damage == "hand":
        save_readings(path, read, np.array(["Left", "Both", "Right", "Left", "Right", "Left"]), label, (640, 480))
    elif damage == "pickled":  # object arrays would need pickle: never loaded
        np.savez(path, read=read, hand=hand.astype(object), label=label, size=np.array([640, 480]))
    elif damage == "empty":
        save_readings(path, read[:0], hand[:0], label[:0], (640, 480))
    with pytest.raises(BadInput):
        readings_clips(path, DEFAULT_LABELS, SPEC, frames=FRAMES)


def test_load_gives_the_saved_arrays(tmp_path):
    path = tmp_path / "r.npz"
    read, hand, label = _write(path, n=5)
    data = load_readings(path)
    assert np.array_equal(data["read"], read) and list(data["hand"]) == list(hand)
    assert list(data["label"]) == list(label) and data["size"].tolist() == [640, 480]


def test_train_learns_from_the_readings_beside_the_data(tmp_path, capsys):
    import main
    from fusion.checkpoint import read_checkpoint

    data = tmp_path / "skeleton"
    assert main.main(["generate", "--skeleton-only", "--clips", "6", "--frames", "16", "--seed", "4", "--workers", "1",
                      "--out", str(data), "--json"]) == 0
    readings = tmp_path / "r.npz"
    _write(readings, n=5)
    common = ["train", "--data", str(data), "--modalities", "skeleton", "--fusion", "none", "--epochs", "1",
              "--max-steps", "1", "--batch", "4", "--threads", "1", "--quiet"]
    assert main.main([*common, "--out", str(tmp_path / "plain.pt")]) == 0
    assert main.main([*common, "--readings", str(readings), "--out", str(tmp_path / "read.pt")]) == 0
    plain, read = (read_checkpoint(tmp_path / f"{n}.pt")[0].training["data"]["clips"] for n in ("plain", "read"))
    assert plain == 6 and read == 6 + 5
    capsys.readouterr()
    assert main.main([*common, "--readings", str(tmp_path / "absent.npz"), "--out", str(tmp_path / "x.pt")]) == 2
    err = capsys.readouterr().err
    assert "absent.npz" in err and "readings" in err and not (tmp_path / "x.pt").exists()
