import numpy as np
import pytest

from fusion.preprocess import SKELETON_CHANNELS, InputSpec, preprocess_color, preprocess_depth, preprocess_skeleton

SPEC = InputSpec()


def test_color_is_resized_mirrored_and_normalised():
    rgb = np.zeros((120, 160, 3), np.uint8)
    rgb[:, :80] = 255  # left half of the camera image is white
    out = preprocess_color(rgb)
    assert out.shape == (3, SPEC.height, SPEC.width) and out.dtype == np.float32 and out.flags.c_contiguous
    white = (1.0 - SPEC.rgb_mean[0]) / SPEC.rgb_std[0]
    black = -SPEC.rgb_mean[0] / SPEC.rgb_std[0]
    assert np.allclose(out[:, :, -1], white) and np.allclose(out[:, :, 0], black)  # now on the right
    assert np.allclose(preprocess_color(rgb, InputSpec(mirror=False))[:, :, 0], white)


def test_depth_is_metres_clipped_and_mapped_near_to_one():
    depth = np.zeros((120, 160), np.uint16)
    depth[:, :40] = 200  # 0.2 m at 1 mm units: near
    depth[:, 40:80] = 850  # 0.85 m: halfway
    depth[:, 80:120] = 5000  # 5 m: beyond far
    out = preprocess_depth(depth, 0.001)
    assert out.shape == (1, SPEC.height, SPEC.width) and out.dtype == np.float32
    assert np.allclose(out[0, :, -1], 1.0)  # near, mirrored to the right edge
    assert np.allclose(out[0, :, -40:-33], 0.5, atol=1e-6)
    assert np.allclose(out[0, :, 40:60], 0.0)  # beyond far
    assert np.allclose(out[0, :, :30], 0.0)  # invalid (0) reads as far


def _hand(offset=(0.0, 0.0), size=1.0):
    rng = np.random.default_rng(0)
    xyz = rng.uniform(-0.05, 0.05, (21, 3)).astype(np.float32) * size
    xyz[9, :2] = xyz[0, :2] + np.array([0.0, -0.08]) * size
    xyz[:, 0] += 0.4 + offset[0]
    xyz[:, 1] += 0.5 + offset[1]
    return xyz


def test_skeleton_channels_shape_is_position_invariant_and_position_is_kept():
    a = preprocess_skeleton(_hand(), "Right")
    b = preprocess_skeleton(_hand(offset=(0.2, -0.1)), "Right")
    assert a.shape == (len(SKELETON_CHANNELS), 21) and a.dtype == np.float32
    assert np.allclose(a[:3], b[:3], atol=1e-5)  # shape channels do not see where the hand is
    assert np.allclose(b[3] - a[3], -0.2, atol=1e-6)  # x mirrored: moving right in the camera = left for the user
    assert np.allclose(b[4] - a[4], -0.1, atol=1e-6)
    assert np.allclose(a[5], 0.08 * 96 / 128)  # wrist to middle MCP, in image-width units
    assert np.allclose(a[6], 0.0)  # handedness is not fed by default
    handed = InputSpec(handedness=True)
    assert np.allclose(preprocess_skeleton(_hand(), "Right", handed)[6], -1.0)  # mirrored: the user's left
    assert np.allclose(preprocess_skeleton(_hand(), "Left", handed)[6], 1.0)
    assert np.allclose(a[7], 1.0)
    bigger = preprocess_skeleton(_hand(size=2.0), "Right")
    assert np.allclose(bigger[:3], a[:3], atol=1e-5) and np.allclose(bigger[5], 0.16 * 96 / 128)


def test_missing_hand_is_all_zeros_and_bad_input_is_refused():
    assert not preprocess_skeleton(None).any()
    assert preprocess_skeleton(None).shape == (8, 21)
    with pytest.raises(ValueError):
        preprocess_skeleton(np.zeros((20, 3)))
    with pytest.raises(ValueError):
        preprocess_skeleton(_hand(), "Both")
    with pytest.raises(ValueError):
        preprocess_color(np.zeros((10, 10), np.uint8))


def test_input_spec_round_trips():
    spec = InputSpec(width=64, height=48, joints=33)
    assert InputSpec.from_dict(spec.to_dict()) == spec
    assert preprocess_skeleton(None, spec=spec).shape == (8, 33)


def test_handedness_is_off_by_default_and_on_for_specs_stored_without_it():
    assert InputSpec().handedness is False
    assert not preprocess_skeleton(_hand(), "Left")[6].any()
    old = InputSpec(width=64, height=48).to_dict()
    del old["handedness"]  # a checkpoint made before the field existed: trained with handedness
    assert InputSpec.from_dict(old).handedness is True and InputSpec.from_dict(old).width == 64
    assert np.allclose(preprocess_skeleton(_hand(), "Left", InputSpec.from_dict(old))[6], 1.0)
    for value in (False, True):  # a stored value is kept
        assert InputSpec.from_dict(InputSpec(handedness=value).to_dict()).handedness is value
    assert InputSpec.from_dict({}) == InputSpec(handedness=True)
