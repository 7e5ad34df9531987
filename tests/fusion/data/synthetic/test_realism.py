"""Generated skeletons against what MediaPipe returns on the real footage in ../shared/data/real."""

import numpy as np
import pytest

from fusion.data.synthetic import camera, gestures, hand, hand_stats, landmarks, realism
from fusion.labels import DEFAULT_LABELS
from tests.conftest import REAL_DATA

REFERENCE = realism.reference()
CAM = camera.Intrinsics.realsense(160, 120)
skeletons = realism.skeletons


def _range(section: str, key: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
    table = REFERENCE[section][key]
    names = list(table)
    return np.array([table[n][0] for n in names]), np.array([table[n][2] for n in names]), names


def test_bone_ratios_match_mediapipe_on_the_real_video():
    world, _ = skeletons("open_palm", 20)
    ratios = hand_stats.bone_ratios(world)
    lo, hi, names = _range("video", "bone_ratios")
    med = np.median(ratios, axis=0)
    # within the video's range, 5 % either way; 10 % above it for the ring and little fingers, made
    # 8 % longer than this one palm-up video gave so that the development set's open hands are covered
    assert np.all(med >= lo * 0.95) and np.all(med <= hi * 1.10), dict(zip(names, med.round(3)))
    # subjects vary, but each bone stays within the real range widened by 15 % (20 % above)
    p5, p95 = np.percentile(ratios, [5, 95], axis=0)
    assert np.all(p5 >= lo * 0.85) and np.all(p95 <= hi * 1.20)


def test_the_generated_hands_cover_every_class_of_the_development_set(real_data):
    # Real hands per class (keypoint-table rows of the evaluation blocks, the MediaPipe test photos):
    # their median shape statistics lie within the generated hands' 5-95 % range, and most real
    # hands' nearest generated hand has their label (the OK sign of no_gesture is one of eighteen
    # negative shapes: its medians are compared, not its nearest neighbours).
    report = realism.coverage(real_data, per_class=200)
    assert {"fist", "open_palm", "pointing_up", "thumbs_up", "victory", "no_gesture"} <= set(report)
    for label, c in report.items():
        inside = (c["real_median"] >= c["generated_5"] - 0.05) & (c["real_median"] <= c["generated_95"] + 0.05)
        assert inside.sum() >= len(inside) - 1, (label, dict(zip(realism.SHAPE_STATISTICS, inside)))
        if label != "no_gesture":
            assert c["nearest_agrees"] >= 0.6, (label, c["nearest_agrees"])


JOINT_KINDS = {"thumb_mcp": [0], "thumb_ip": [1], "mcp": [2, 5, 8, 11], "pip": [3, 6, 9, 12], "dip": [4, 7, 10, 13]}


def test_every_class_stays_within_the_real_joint_angle_range():
    # Real ranges per kind of joint (fingers pooled: one photo cannot give each finger's limits),
    # over the open hand of the video, the curled fingers of the thumbs-up photo and the development
    # set's landmark files (thumbs-up, fist, pointing, victory; measured into the reference, so the
    # test is the same without the footage), widened by 15° (20° above, where the hand shapes outside
    # the vocabulary fold the thumb into the palm).
    ranges = [_range(section, "joint_angles") for section in ("video", "photo", "landmarks")]
    lo = np.min([r[0] for r in ranges], axis=0)
    hi = np.max([r[1] for r in ranges], axis=0)
    for label in DEFAULT_LABELS:
        world, _ = skeletons(label, 4)
        p2, p98 = np.percentile(hand_stats.joint_angles(world), [2, 98], axis=0)
        for kind, idx in JOINT_KINDS.items():
            assert p2[idx].min() >= lo[idx].min() - 15, (label, kind, p2[idx])
            assert p98[idx].max() <= hi[idx].max() + 20, (label, kind, p98[idx])  # a thumb folded in: "four"


def test_thumbs_up_skeleton_is_what_mediapipe_returns_on_the_real_photo():
    # a nearest-neighbour over generated static poses puts the real photo in thumbs_up
    width, height = REFERENCE["photo"]["size"]
    photo = np.array(REFERENCE["photo"]["image_landmarks"]) * [width, height, width]
    nearest = realism.nearest_static_class(photo)
    assert min(nearest, key=nearest.get) == "thumbs_up", nearest
    others = sorted(v for k, v in nearest.items() if k != "thumbs_up")
    assert nearest["thumbs_up"] < 0.6 * others[0], nearest


def test_generated_handedness_has_mediapipes_chirality():
    # MediaPipe on the real footage: "Right" <-> a right hand's chirality in the image as given
    assert REFERENCE["photo"]["handedness"] == "Right"
    assert hand.chirality(np.array(REFERENCE["photo"]["world_landmarks"])) == 1
    for right in (True, False):
        rng = np.random.default_rng(5)
        subject = hand.random_subject(rng, right=right)
        for label in ("open_palm", "thumbs_up", "fist", "rotate_cw"):
            m = gestures.perform(label, rng, CAM, 16)
            t = m.end - 1
            joints = hand.to_camera(subject, hand.joints_local(subject, m.pose[t]), m.rotvec[t], m.roll[t], m.wrist[t])
            expected = 1 if landmarks.handedness(right) == "Right" else -1
            assert hand.chirality(joints) == expected, (label, right)


def test_mediapipe_on_the_real_photo_agrees_with_the_stored_reference(real_data):
    pytest.importorskip("mediapipe")
    from app.hand_model import ensure_hand_model
    from fusion.data.synthetic.measure_real import detect_image

    image, world, handed, size = detect_image(ensure_hand_model(), real_data / "hand_test_image.jpg")
    assert handed == REFERENCE["photo"]["handedness"]
    assert list(size) == REFERENCE["photo"]["size"]
    np.testing.assert_allclose(image[:, :2], np.array(REFERENCE["photo"]["image_landmarks"])[:, :2], atol=0.01)
    stored = np.array([v[1] for v in REFERENCE["photo"]["bone_ratios"].values()])
    np.testing.assert_allclose(hand_stats.bone_ratios(world), stored, atol=0.02)


def test_rendered_depth_noise_follows_the_realsense_model():
    for z in (0.4, 1.0):
        expected = float(camera.depth_noise_std(np.array(z)))
        # the rendered noise mixes white and correlated parts (1.0x) and is quantised to 1 mm
        assert 0.6 * expected < realism.depth_noise_at(z, frames=10) < 1.6 * expected + 0.0005


def test_reading_depth_measures_how_a_reading_follows_the_true_z():
    rng = np.random.default_rng(0)
    truth = np.c_[rng.uniform(0.3, 0.7, (50 * 21, 2)), rng.normal(0, 0.05, 50 * 21)].reshape(50, 21, 3)
    same = realism.reading_depth(truth, truth, 4 / 3)
    assert same["slope"] == pytest.approx(1.0) and same["correlation"] == pytest.approx(1.0)
    assert same["error_std"] == pytest.approx(0.0, abs=1e-9) and same["read_std"] == pytest.approx(same["true_std"])
    read = truth.copy()
    read[..., 2] = 0.5 * truth[..., 2] + rng.normal(0, 0.02, (50, 21))  # flattened and noisy, as MediaPipe's
    half = realism.reading_depth(truth, read, 4 / 3)
    assert 0.4 < half["slope"] < 0.6 and 0.0 < half["correlation"] < 0.99 and half["error_std"] > 0.0
    moved = read.copy()
    moved[..., 2] += 0.3  # only depths relative to the wrist count
    assert realism.reading_depth(truth, moved, 4 / 3) == pytest.approx(half)


def test_mediapipe_finds_the_rendered_hand_where_the_generator_put_it():
    pytest.importorskip("mediapipe")
    from app.hand_model import ensure_hand_model

    # 32 clips: on 8, one hand more or less moves the share by 0.13 (found 33 of 42 frames over seeds 0-2
    # at 16 clips each, with and without the looser curls of poses.CURL_SPREAD:
    # realism.mediapipe_on_rendered(ensure_hand_model(), count=16, seed=s))
    r = realism.mediapipe_on_rendered(ensure_hand_model(), count=32)
    assert r["frames"] >= 24
    assert r["found"] >= 0.7 * r["frames"], r
    assert r["handedness_agrees"] >= 0.7 * r["found"], r
    assert r["median_error_over_palm"] < 0.2, r  # hands turned from the camera are harder for it
