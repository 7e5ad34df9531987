"""Varied copies of a user's takes: the hand turned about the wrist in and out of the picture, made by a hand
of other finger lengths, the gesture faster or slower."""

import numpy as np
import pytest

from fusion.data.model_inputs import PreparedClips
from fusion.data.synthetic.hand_stats import FINGERS
from fusion.preprocess import SKELETON_CHANNELS, InputSpec, preprocess_skeleton
from fusion.take_augment import (
    copies_per_take,
    lean,
    other_hand,
    time_warped,
    turn_ranges,
    turned,
    varied_copies,
    viewed,
)

SPEC = InputSpec(width=64, height=48, window=20)
X, Y, SCALE, PRESENCE = (SKELETON_CHANNELS.index(c) for c in ("x", "y", "scale", "presence"))


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


def upright_hand(seed: int, aspect: float) -> tuple[np.ndarray, np.ndarray]:
    """A hand's landmarks (image x, y, z as MediaPipe gives them) whose middle-finger base is straight
    above its wrist as the user sees it, and its joints' offsets from the wrist in the user's view
    (x right, y down, z away; image-width units)."""
    rng = np.random.default_rng(seed)
    offsets = np.c_[rng.uniform(-0.06, 0.06, (21, 2)), rng.normal(0.0, 0.02, 21)]
    offsets[0] = 0.0
    offsets[9] = [0.0, -0.08, 0.0]
    return landmarks_of(offsets, aspect), offsets


def landmarks_of(offsets: np.ndarray, aspect: float, wrist=(0.45, 0.6)) -> np.ndarray:
    """MediaPipe-style landmarks of the hand with these offsets (``upright_hand``'s units), its wrist at
    ``wrist`` in the user's view."""
    xyz = offsets.copy()
    xyz[:, 0] = 1.0 - (wrist[0] + offsets[:, 0])  # back to the camera's own (unmirrored) view
    xyz[:, 1] = (wrist[1] + offsets[:, 1]) * aspect  # image-height units
    return xyz.astype(np.float32)


@pytest.mark.parametrize("aspect", [16 / 9, 4 / 3])
@pytest.mark.parametrize("yaw, pitch", [(0.5, 0.0), (0.0, -0.6), (-0.7, 0.4)])
def test_a_viewed_take_is_the_hand_turned_about_its_own_axes(aspect, yaw, pitch):
    xyz, offsets = upright_hand(3, aspect)
    clip = np.stack([preprocess_skeleton(xyz, None, SPEC, aspect=aspect), np.zeros((8, 21), np.float32)])
    x, y, z = offsets.T
    x, z = np.cos(yaw) * x + np.sin(yaw) * z, -np.sin(yaw) * x + np.cos(yaw) * z  # about the upright hand's length
    y, z = np.cos(pitch) * y - np.sin(pitch) * z, np.sin(pitch) * y + np.cos(pitch) * z  # about the palm's width
    want = preprocess_skeleton(landmarks_of(np.c_[x, y, z], aspect), None, SPEC, aspect=aspect)
    out = viewed(clip, yaw, pitch)
    np.testing.assert_allclose(out[0], want, atol=1e-5)  # the size channel too: a tipped hand looks shorter
    assert not out[1].any()  # a frame without a hand stays empty
    np.testing.assert_allclose(viewed(clip, 0.0, 0.0), clip, atol=1e-6)


def test_a_viewed_hand_turns_about_the_axes_of_each_frame():
    """A hand rocking in the picture, turned out of it, rocks as before: turning it in the picture first or
    last gives the same."""
    xyz, _ = upright_hand(4, 4 / 3)
    clip = np.stack([preprocess_skeleton(xyz, None, SPEC, aspect=4 / 3)] * 3)
    rocking = np.stack([turned(clip[k:k + 1], a)[0] for k, a in enumerate((-0.4, 0.0, 0.5))])
    np.testing.assert_allclose(viewed(rocking, 0.6, 0.3),
                               np.stack([turned(viewed(clip[k:k + 1], 0.6, 0.3), a)[0]
                                         for k, a in enumerate((-0.4, 0.0, 0.5))]), atol=1e-5)


def test_another_hand_has_longer_or_shorter_fingers_on_the_same_palm():
    xyz, offsets = upright_hand(5, 4 / 3)
    clip = np.stack([preprocess_skeleton(xyz, None, SPEC, aspect=4 / 3)] * 2)
    lengths = np.array([1.0, 1.2, 1.0, 0.9, 1.0])
    out = other_hand(clip, lengths)
    want = offsets.copy()
    for finger, factor in zip(FINGERS, lengths):
        base = offsets[finger[0]]
        want[list(finger)] = base + factor * (offsets[list(finger)] - base)
    np.testing.assert_allclose(out, np.stack([preprocess_skeleton(landmarks_of(want, 4 / 3), None, SPEC,
                                                                  aspect=4 / 3)] * 2), atol=1e-5)
    np.testing.assert_allclose(out[:, SCALE], clip[:, SCALE])  # the palm, and so the hand's size, as it was
    np.testing.assert_allclose(other_hand(clip, np.ones(5)), clip, atol=1e-6)


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
    views = varied_copies(takes, 4, np.random.default_rng(0), turn_deg=0.0, speed=(1.0, 1.0), view_deg=40.0,
                          fingers=0.2)
    np.testing.assert_array_equal(views.skeleton[:2], skeleton)
    for k in range(2, 8):  # turned out of the picture and other fingers: the same frames, another shape
        assert not np.allclose(views.skeleton[k], skeleton[k % 2], atol=1e-2)
        np.testing.assert_array_equal(views.skeleton[k, :, PRESENCE], skeleton[k % 2, :, PRESENCE])


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
