"""The skeleton-only world: clips without images, seen by cameras at other rates, held-stroke swipes,
and skeleton-only datasets through to model batches."""

import json

import numpy as np
import pytest
import torch

import main
from fusion.data.model_inputs import SKELETON_ONLY, prepare_dataset
from fusion.data.synthetic import camera, gestures, hand, held_strokes, world
from fusion.data.synthetic.dataset_files import SyntheticDataset
from fusion.data.synthetic.world import SynthConfig
from fusion.errors import BadInput
from fusion.preprocess import InputSpec

SKELETON = SynthConfig(width=64, height=48, frames=16, render=False, camera_fps=(15.0,))
RENDERED = SynthConfig(width=64, height=48, frames=16)
CAM = camera.Intrinsics.realsense(160, 120)


@pytest.mark.parametrize("index", range(4))
def test_skeleton_only_clip_has_empty_images_and_the_rendered_length(index):
    clip, rendered = world.make_clip(3, index, SKELETON), world.make_clip(3, index, RENDERED)
    T = len(rendered.rgb)
    assert T == 16 and clip.label == rendered.label
    assert clip.rgb.shape == (T, 0, 0, 3) and clip.rgb.dtype == np.uint8
    assert clip.depth.shape == (T, 0, 0) and clip.depth.dtype == np.uint16
    assert clip.skeleton.shape == (T, 21, 3) and clip.skeleton.dtype == np.float32
    assert clip.world.shape == (T, 21, 3) and clip.presence.shape == (T,) and clip.presence.dtype == bool
    assert not clip.skeleton[~clip.presence].any() and not clip.world[~clip.presence].any()
    assert np.isfinite(clip.skeleton).all() and clip.fps == 30.0
    assert 0 <= clip.active[0] < clip.active[1] <= T


def test_skeleton_only_clips_are_deterministic_by_seed():
    for config in (SKELETON, SynthConfig(frames=32, render=False, camera_fps=(15.0, 25.0, 60.0)),
                   SynthConfig(render=False)):
        a, b = world.make_clip(11, 5, config), world.make_clip(11, 5, config)
        assert a.label == b.label and a.active == b.active and a.handedness == b.handedness
        for key in ("skeleton", "world", "presence"):
            assert np.array_equal(getattr(a, key), getattr(b, key)), key
        assert not np.array_equal(a.skeleton, world.make_clip(12, 5, config).skeleton)


def test_a_15fps_camera_stepped_at_30fps_is_smooth_between_its_frames():
    # a clip seen at 15 fps gives every other 30 fps step interpolated: steps k-1, k, k+1 on one line
    clip = world.make_clip(2, 0, SynthConfig(frames=32, render=False, camera_fps=(15.0,), miss_rate=0.0))
    sk = clip.skeleton
    both = clip.presence[:-2] & clip.presence[1:-1] & clip.presence[2:]
    residual = np.abs(sk[1:-1] - (sk[:-2] + sk[2:]) / 2).max(axis=(1, 2))[both]
    assert both.sum() >= 10 and (residual < 1e-5).mean() >= 0.4  # the interpolated steps lie on a line


def test_footage_slower_than_its_camera_repeats_frames_as_the_real_swipe_videos_do():
    # 10 fps footage from a 15 fps camera (the development set's swipe videos): every third camera
    # frame is a copy; stepped at 30 fps the hand stops for a step and catches up
    T = 60
    image = np.zeros((T, 21, 3), np.float32)
    image[:, :, 0] = np.linspace(0.2, 0.8, T)[:, None]        # a steady sweep
    world_xyz, seen = np.zeros_like(image), np.ones(T, bool)
    smooth, _, _ = world._seen_at(15.0, 30.0, image, world_xyz, seen, 0.0)
    judder, _, ok = world._seen_at(15.0, 30.0, image, world_xyz, seen, 0.0, content=10.0)
    step_smooth, step_judder = np.diff(smooth[:40, 0, 0]), np.diff(judder[:40, 0, 0])
    assert np.allclose(step_smooth, step_smooth[0], atol=1e-5)            # steady at 30 fps
    assert (np.abs(step_judder) < 1e-6).sum() >= 8                        # stops ...
    assert step_judder.max() > 1.4 * step_smooth[0]                       # ... and catches up
    assert abs(judder[39, 0, 0] - smooth[39, 0, 0]) < 3 * step_smooth[0] and ok.all()  # never far behind


def test_some_skeleton_world_clips_are_seen_with_repeated_frames(monkeypatch):
    def stop_and_go(share: float) -> int:
        """Clips of 40 whose hand stops for single steps between moving ones five times or more."""
        monkeypatch.setattr(world, "JUDDER_SHARE", share)
        config = SynthConfig(frames=32, render=False, camera_fps=(30.0,), miss_rate=0.0)
        count = 0
        for index in range(40):
            moved = np.abs(np.diff(world.make_clip(5, index, config).skeleton[:, 0, :2], axis=0)).max(axis=1)
            go, stop = moved > 1e-4, moved < 1e-7
            count += int((go[:-2] & stop[1:-1] & go[2:]).sum() >= 5)
        return count

    share = world.JUDDER_SHARE
    assert 4 <= stop_and_go(share) <= 20 and stop_and_go(0.0) == 0


@pytest.mark.parametrize("kwargs", [dict(render=True, camera_fps=(15.0,)), dict(render=False, camera_fps=(0.5,)),
                                    dict(render=False, camera_fps=(500.0,))])
def test_camera_rates_need_skeleton_only_and_a_sane_rate(kwargs):
    with pytest.raises(BadInput):
        SynthConfig(**kwargs)


def _aims(subject: hand.Subject, m) -> np.ndarray:
    joints = hand.to_camera_batch(subject, hand.joints_local(subject, m.pose), m.rotvec, m.roll, m.wrist)
    v = joints[:, 9] - joints[:, 0]
    return np.degrees(np.arctan2(v[:, 0], -v[:, 1]))


@pytest.mark.parametrize("label", sorted(held_strokes.DIRECTIONS))
@pytest.mark.parametrize("seed", range(4))
def test_held_stroke_swipe_moves_the_labelled_way_inside_start_end(label, seed):
    rng = np.random.default_rng([seed, 17])
    subject = hand.random_subject(rng)
    start = gestures.Start.random(rng, CAM, 0.7)
    n = 32
    m = held_strokes.swipe(label, rng, CAM, n, start, subject)
    assert len(m) == n and m.drawn.all() and 0 < m.start < m.end <= n
    uv = CAM.project(m.wrist)
    # the raw (unmirrored) camera image: the user's left is +X, up is -Y
    along = {"swipe_left": (1, 0), "swipe_right": (-1, 0), "swipe_up": (0, -1), "swipe_down": (0, 1)}[label]
    along = np.array(along, float)
    across = along[::-1]
    moved = uv[m.end - 1] - uv[m.start]
    extent = CAM.width if along[0] else CAM.height
    assert moved @ along > 0.24 * extent and abs(moved @ across) < 0.05 * extent
    # the stroke lies inside [start, end): held before it, still after it
    assert np.abs(uv[m.end - 1:] - uv[m.end - 1]).max() < 1e-6
    speed = np.linalg.norm(np.diff(uv[m.start:], axis=0), axis=1)   # speed[i]: frame start+i -> start+i+1
    moving = np.flatnonzero(speed > 0.1 * speed.max()) + m.start
    assert moving.min() >= m.start and moving.max() + 1 <= m.end - 1
    assert (((uv[m.start:m.end] - uv[m.start]) @ along) >= -1e-6).all()  # never back against the stroke
    # the hand turns: a left/right swipe rolls from pointing back to pointing ahead, up/down flips it over
    aim = _aims(subject, m)
    if along[0]:
        assert aim[m.start] * along[0] < -30 and aim[m.end - 1] * along[0] > 30
    elif along[1] > 0:  # fingers up above, fingers down below
        assert abs(aim[m.start]) < 60 and abs(aim[m.end - 1]) > 120
    else:
        assert abs(aim[m.start]) > 120 and abs(aim[m.end - 1]) < 60


@pytest.mark.parametrize("seed", range(6))
def test_a_ready_hand_waits_where_a_swipe_starts_and_never_strokes(seed):
    rng = np.random.default_rng([seed, 23])
    subject = hand.random_subject(rng)
    n = 40
    m = gestures.idle(rng, CAM, n, gestures.Start.random(rng, CAM, 0.7), "ready", subject=subject)
    assert len(m) == n and m.drawn.all() and (m.start, m.end) == (0, n)  # no_gesture throughout
    uv = CAM.project(m.wrist)
    speed = np.linalg.norm(np.diff(uv, axis=0), axis=1)
    settled = int(np.flatnonzero(speed > 0.5)[-1]) + 1 if (speed > 0.5).any() else 0
    assert settled < n - 10  # it arrives, then holds (a slight drift) for the rest
    assert np.ptp(uv[settled:], axis=0).max() < 0.04 * CAM.width
    # turned as a swipe's wait is: rolled sideways (left/right) or fingers down (swipe_up); never upright
    assert abs(_aims(subject, m)[-1]) > 30


@pytest.fixture(scope="module")
def skeleton_set(tmp_path_factory):
    out = tmp_path_factory.mktemp("skeleton_set")
    code = main.main(["generate", "--skeleton-only", "--camera-fps", "15,30", "--clips", "20", "--streams", "1",
                      "--seed", "4", "--frames", "16", "--stream-gestures", "2", "--workers", "1", "--out", str(out),
                      "--json"])
    assert code == 0
    return out


def test_generated_skeleton_only_set_reads_back(skeleton_set):
    index = json.loads((skeleton_set / "index.json").read_text())
    assert index["config"]["render"] is False and index["config"]["camera_fps"] == [15.0, 30.0]
    ds = SyntheticDataset(skeleton_set)
    assert len(ds) == 20 and ds.num_streams == 1 and not ds.rendered
    config = SynthConfig(frames=16, stream_gestures=2, render=False, camera_fps=(15.0, 30.0))
    for i in (0, 19):
        got, made = ds.clip(i), world.make_clip(4, i, config)
        assert got.rgb.shape == (16, 0, 0, 3) and got.label == made.label and got.active == made.active
        assert np.array_equal(got.skeleton, made.skeleton) and np.array_equal(got.presence, made.presence)
    stream = ds.stream(0)
    assert stream.rgb.shape[1:] == (0, 0, 3) and stream.skeleton.shape == (len(stream.rgb), 21, 3)


def test_skeleton_only_set_prepares_and_batches_with_zero_images(skeleton_set):
    spec = InputSpec()
    clips = prepare_dataset(skeleton_set, spec, cache=False, progress=False)
    assert clips.missing == SKELETON_ONLY == ("depth", "rgb")
    assert len(clips) > 20 and clips.frames == 16 and clips.rgb.size == 0 and clips.depth.size == 0
    assert clips.skeleton.shape[1:] == (16, spec.skeleton_channels, spec.joints)
    idx = np.arange(4)
    inputs, labels = clips.batch(idx, ("skeleton",))
    assert set(inputs) == {"skeleton"} and inputs["skeleton"].shape == (4, spec.skeleton_channels, 16, spec.joints)
    assert labels.shape == (4,) and labels.dtype == torch.int64
    assert torch.isfinite(inputs["skeleton"]).all() and inputs["skeleton"][:, 7].amax() == 1.0  # hands seen
    inputs, _ = clips.batch(idx, ("rgb", "depth", "skeleton"), rng=np.random.default_rng(0))
    assert inputs["rgb"].shape == (4, 3, 16, spec.height, spec.width)
    assert inputs["depth"].shape == (4, 1, 16, spec.height, spec.width) and not inputs["depth"].any()
    black = -spec.rgb_mean[0] / spec.rgb_std[0]  # zero images, normalised
    assert torch.allclose(inputs["rgb"], torch.full_like(inputs["rgb"], black))


def test_prepared_skeleton_only_clips_hold_lost_hands_like_the_engine(skeleton_set):
    ds = SyntheticDataset(skeleton_set)
    clips = prepare_dataset(skeleton_set, InputSpec(), cache=False, progress=False, streams=False)
    assert len(clips) == 20
    for i in range(20):
        presence = ds.clip(i).presence
        prepared = clips.skeleton[i, :, 7, 0] > 0                  # channel 7: presence
        assert (prepared >= presence).all()                         # never loses a hand it saw
        gaps = ~presence & prepared                                 # held: a lost hand keeps its landmarks
        for t in np.flatnonzero(gaps):
            assert np.array_equal(clips.skeleton[i, t], clips.skeleton[i, t - 1])


def test_generate_refuses_camera_rates_without_skeleton_only(tmp_path, capsys):
    assert main.main(["generate", "--camera-fps", "15", "--clips", "1", "--out", str(tmp_path / "a")]) == 2
    assert "--skeleton-only" in capsys.readouterr().err
    assert main.main(["generate", "--skeleton-only", "--camera-fps", "fast", "--clips", "1",
                      "--out", str(tmp_path / "b")]) == 2
    assert main.main(["generate", "--skeleton-only", "--camera-fps", "0.1", "--clips", "1",
                      "--out", str(tmp_path / "c")]) == 2
