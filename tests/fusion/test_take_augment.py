"""Varied copies of a user's takes: the hand turned about the wrist, the gesture faster or slower."""

import numpy as np
import pytest

from fusion.data.model_inputs import PreparedClips
from fusion.preprocess import InputSpec, SKELETON_CHANNELS, preprocess_skeleton
from fusion.take_augment import copies_per_take, lean, time_warped, turn_ranges, turned, varied_copies

SPEC = InputSpec(width=64, height=48, window=20)
X, Y, PRESENCE = (SKELETON_CHANNELS.index(c) for c in ("x", "y", "presence"))


def hand(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.c_[rng.uniform(0.3, 0.6, (21, 2)), rng.normal(0.0, 0.02, 21)].astype(np.float32)


def turned_in_the_picture(xyz: np.ndarray, angle: float, aspect: float) -> np.ndarray:
    """The landmarks of the same hand turned by ``angle`` about its wrist as the user sees it (mirrored,
    square pixels)."""
    iso = xyz.copy()
    iso[:, 0] = 1.0 - iso[:, 0]
    iso[:, 1] /= aspect
    r = iso[:, :2] - iso[0, :2]
    c, s = np.cos(angle), np.sin(angle)
    iso[:, 0], iso[:, 1] = iso[0, 0] + c * r[:, 0] - s * r[:, 1], iso[0, 1] + s * r[:, 0] + c * r[:, 1]
    iso[:, 0] = 1.0 - iso[:, 0]
    iso[:, 1] *= aspect
    return iso


@pytest.mark.parametrize("aspect", [16 / 9, 4 / 3, 960 / 540])
def test_a_turned_take_is_the_hand_turned_in_the_picture(aspect):
    frames = [hand(k) for k in range(3)]
    clip = np.stack([preprocess_skeleton(h, None, SPEC, aspect=aspect) for h in frames] + [np.zeros((8, 21), np.float32)])
    out = turned(clip, 0.6)
    for k, h in enumerate(frames):
        want = preprocess_skeleton(turned_in_the_picture(h, 0.6, aspect), None, SPEC, aspect=aspect)
        np.testing.assert_allclose(out[k], want, atol=1e-5)
    assert not out[3].any()  # a frame without a hand stays empty


def test_a_faster_take_covers_fewer_frames_about_the_middle_of_its_gesture():
    clip = np.zeros((32, 8, 21), np.float32)
    clip[:, PRESENCE] = 1.0
    clip[:, X] = np.arange(32)[:, None] / 32  # the hand moves right one step a frame
    fast, active = time_warped(clip, np.array([8, 24]), 2.0)
    assert list(active) == [12, 20]  # the gesture in half the frames, about frame 16
    np.testing.assert_allclose(np.diff(fast[10:22, X, 0]), 2 / 32, atol=1e-6)  # twice the step
    assert fast[0, X, 0] == 0.0 and fast[-1, X, 0] == clip[-1, X, 0]  # the ends hold
    slow, active = time_warped(clip, np.array([8, 24]), 0.5)
    assert list(active) == [0, 32]
    np.testing.assert_allclose(np.diff(slow[:, X, 0]), 0.5 / 32, atol=1e-6)


def test_a_lost_hand_stays_lost_when_warped():
    clip = np.zeros((32, 8, 21), np.float32)
    clip[:16] = 1.0
    slow, _ = time_warped(clip, np.array([0, 32]), 0.8)
    assert ((slow[:, PRESENCE, 0] == 0) | (slow[:, PRESENCE, 0] == 1)).all()
    assert not slow[slow[:, PRESENCE, 0] == 0].any()


def test_varied_copies_keep_the_first_copy_as_recorded():
    skeleton = np.stack([np.stack([preprocess_skeleton(hand(k + t), None, SPEC) for t in range(32)])
                         for k in range(2)]).astype(np.float16)
    takes = PreparedClips(rgb=np.zeros((2, 32, 0, 0, 3), np.uint8), depth=np.zeros((2, 32, 0, 0), np.float16),
                          skeleton=skeleton, label=np.array([1, 2]), active=np.array([[4, 28], [0, 32]], np.int32),
                          labels=("no_gesture", "a", "b"), spec=SPEC, missing=("depth", "rgb"))
    copies = varied_copies(takes, 4, np.random.default_rng(0), turn_deg=45.0, speed=(0.67, 1.5))
    assert len(copies) == 8 and list(copies.label) == [1, 2] * 4
    np.testing.assert_array_equal(copies.skeleton[:2], skeleton)
    for k in range(2, 8):
        assert not np.array_equal(copies.skeleton[k], skeleton[k % 2])
    same = varied_copies(takes, 4, np.random.default_rng(0), turn_deg=0.0, speed=(1.0, 1.0))
    np.testing.assert_allclose(same.skeleton, np.tile(skeleton, (4, 1, 1, 1)), atol=1e-3)  # float16 round trip


def takes_leaning(degrees: list[float], labels: list[int]) -> PreparedClips:
    """One take per angle: the same still hand turned by that angle, 12 frames."""
    clip = np.stack([preprocess_skeleton(hand(0), None, SPEC)] * 12)
    skeleton = np.stack([turned(clip, np.radians(d)) for d in degrees])
    n = len(degrees)
    return PreparedClips(rgb=np.zeros((n, 12, 0, 0, 3), np.uint8), depth=np.zeros((n, 12, 0, 0), np.float16),
                         skeleton=skeleton, label=np.array(labels), active=np.tile([[0, 12]], (n, 1)).astype(np.int32),
                         labels=("no_gesture", "a", "b"), spec=SPEC, missing=("depth", "rgb"))


def test_lean_follows_the_turn_and_is_none_without_a_hand():
    takes = takes_leaning([0.0, 30.0, -100.0, 170.0], [1, 1, 1, 1])
    base = lean(takes.skeleton[0])
    for k, d in enumerate([30.0, -100.0, 170.0], start=1):
        assert np.angle(np.exp(1j * (lean(takes.skeleton[k]) - base - np.radians(d)))) == pytest.approx(0, abs=1e-4)
    assert lean(np.zeros((12, len(SKELETON_CHANNELS), 21), np.float32)) is None


def test_copies_cover_the_leans_the_user_showed_and_turn_deg_beyond():
    takes = takes_leaning([0.0, 10.0, 120.0, 40.0, 45.0], [1, 1, 1, 2, 2])
    ranges = np.degrees(turn_ranges(takes, 30.0))
    # label a leans over [0, 120]: each take's copies land within [-30, 150], whichever take they copy
    np.testing.assert_allclose(ranges[:3] + np.array([[0.0], [10.0], [120.0]]), [[-30, 150]] * 3, atol=1e-3)
    # label b leans alike (40, 45): ±30 about the pair, a little more than ±30 about each take
    np.testing.assert_allclose(ranges[3:] + np.array([[40.0], [45.0]]), [[10, 75]] * 2, atol=1e-3)
    alone = np.degrees(turn_ranges(takes.subset(np.array([0, 3])), 30.0))
    np.testing.assert_allclose(alone, [[-30, 30]] * 2, atol=1e-6)  # one take of a label: ±turn_deg
    wide = np.degrees(turn_ranges(takes_leaning([10.0, 150.0, -150.0], [1, 1, 1]), 90.0))
    np.testing.assert_allclose(wide[:, 1] - wide[:, 0], 360.0, atol=1e-3)  # spread all round: any angle

    copies = varied_copies(takes.subset(np.arange(3)), 64, np.random.default_rng(0), turn_deg=0.0, speed=(1.0, 1.0))
    base = lean(takes.skeleton[0])
    leans = np.degrees([np.angle(np.exp(1j * (lean(s) - base))) for s in copies.skeleton])
    assert leans.min() > -0.5 and leans.max() < 120.5  # within what the takes showed ...
    assert np.histogram(leans, bins=4, range=(0, 120))[0].min() >= 8  # ... and all over it


def test_a_gesture_of_many_takes_gets_fewer_copies_of_each():
    per = copies_per_take(np.array([1] * 3 + [2] * 10 + [0] * 40), repeat=24, full=5)
    assert list(per) == [24] * 3 + [12] * 10 + [3] * 40  # up to 5 takes: 24 each; 10: as 5 weigh; 40: 3
    assert copies_per_take(np.array([1] * 500), repeat=2, full=5).min() == 1  # never none
    takes = takes_leaning([0.0, 10.0, 120.0], [1, 2, 2])
    copies = varied_copies(takes, np.array([3, 1, 2]), np.random.default_rng(0), turn_deg=0.0, speed=(1.0, 1.0))
    assert list(copies.label) == [1, 2, 2, 1, 2, 1]  # each take's first copy as recorded, then the rest in turn
    np.testing.assert_array_equal(copies.skeleton[:3], takes.skeleton)
