"""fusion.resample: camera frames at any rate → model steps at the model's rate."""

import numpy as np
import pytest

from fusion.resample import HOLD_S, SkeletonResampler, resample_sequence

FPS = 30.0
T0 = 12.345  # timestamps come from a clock that did not start at the first frame


def _hand(t: float) -> np.ndarray:
    """A smooth motion of 21 joints: 0.1 image widths at 0.7 Hz across, 0.05 at 0.4 Hz up and down."""
    base = np.linspace(0.3, 0.7, 21 * 3).reshape(21, 3)
    drift = np.array([0.1 * np.sin(2 * np.pi * 0.7 * t), 0.05 * np.cos(2 * np.pi * 0.4 * t), 0.02 * t])
    return (base + drift).astype(np.float32)


MAX_SPEED = np.hypot(np.hypot(0.1 * 2 * np.pi * 0.7, 0.05 * 2 * np.pi * 0.4), 0.02)  # per second


def _run(resampler: SkeletonResampler, times, hands) -> list[list[tuple[float, np.ndarray | None]]]:
    return [resampler.push(float(t), h) for t, h in zip(times, hands)]


@pytest.mark.parametrize("camera_fps", [15.0, 25.0, 30.0, 60.0])
def test_any_camera_rate_gives_ticks_at_the_model_rate_close_to_the_true_motion(camera_fps):
    times = T0 + np.arange(int(3 * camera_fps)) / camera_fps
    per_frame = _run(SkeletonResampler(FPS), times, [_hand(t - T0) for t in times])
    ticks = [tick for out in per_frame for tick in out]
    k = np.arange(len(ticks))
    assert np.allclose([t for t, _ in ticks], T0 + k / FPS, rtol=0, atol=1e-9)
    # every tick up to half a model period past the last frame is given, no more
    assert len(ticks) == int(np.floor((times[-1] - T0) * FPS + 0.5 - 1e-6)) + 1
    # interpolated between frames, or the newest frame when it is less than half a period old
    tolerance = 0.5 / FPS * MAX_SPEED + 1e-4
    for tick, hand in ticks:
        assert hand is not None and hand.shape == (21, 3) and hand.dtype == np.float32
        assert np.abs(hand - _hand(tick - T0)).max() <= tolerance
    if camera_fps == 15.0:  # two steps per frame; the one between frames is their midpoint
        assert [len(out) for out in per_frame[1:]] == [2] * (len(times) - 1)
        _, between = per_frame[2][0]
        assert np.allclose(between, (_hand(times[1] - T0) + _hand(times[2] - T0)) / 2, atol=1e-6)
    if camera_fps == 60.0:  # a step every other frame, with that frame's hand
        assert [len(out) for out in per_frame] == [1, 0] * (len(times) // 2)
        assert all(np.array_equal(out[0][1], _hand(t - T0)) for t, out in zip(times, per_frame) if out)


def test_model_rate_camera_with_jittering_timestamps_gives_one_step_per_frame():
    rng = np.random.default_rng(3)
    times = T0 + np.arange(300) / FPS + rng.uniform(-0.003, 0.003, 300)
    hands = [_hand(t) for t in times]
    per_frame = _run(SkeletonResampler(FPS), times, hands)
    assert [len(out) for out in per_frame] == [1] * 300
    for k, (out, t) in enumerate(zip(per_frame, times)):
        tick, hand = out[0]
        assert tick == pytest.approx(times[0] + k / FPS, abs=1e-9)
        # the frame itself when the tick is not later than it, else interpolated from the one before
        if tick >= t:
            assert np.array_equal(hand, hands[k])
        assert np.abs(hand - _hand(tick)).max() <= 0.006 * MAX_SPEED + 1e-5


@pytest.mark.parametrize("camera_fps", [30.0, 15.0])
def test_a_hand_lost_briefly_is_held_and_one_lost_longer_than_hold_s_is_gone(camera_fps):
    assert HOLD_S == 0.5
    for gap, held_all in ((0.3, True), (0.7, False)):
        n = int(round((1.0 + gap + 0.5) * camera_fps))
        times = T0 + np.arange(n) / camera_fps
        lost = (times - T0 > 1.0 + 1e-6) & (times - T0 < 1.0 + gap - 1e-6)
        hands = [None if out else _hand(t - T0) for t, out in zip(times, lost)]
        last_seen = int(np.flatnonzero(lost)[0]) - 1
        ticks = [tick for out in _run(SkeletonResampler(FPS), times, hands) for tick in out]
        for tick, hand in ticks:
            if times[last_seen] < tick < times[last_seen] + gap - 1e-6:  # while the hand is lost
                since = tick - times[last_seen]
                if since <= HOLD_S:
                    assert hand is not None and np.array_equal(hand, hands[last_seen]), (gap, since)
                else:
                    assert hand is None, (gap, since)
            else:
                assert hand is not None
        gone = [hand is None for tick, hand in ticks]
        assert (not any(gone)) == held_all
        if not held_all:  # None from 0.5 s after the last sighting until the hand is back
            first = gone.index(True)
            assert ticks[first][0] - times[last_seen] == pytest.approx(HOLD_S, abs=1.01 / FPS)
        # the hand is back where it reappears
        back = int(np.flatnonzero(lost)[-1]) + 1
        assert any(np.array_equal(hand, hands[back]) for _, hand in ticks if hand is not None)


def test_never_seen_hand_gives_none_steps():
    out = _run(SkeletonResampler(FPS), T0 + np.arange(10) / FPS, [None] * 10)
    assert [len(o) for o in out] == [1] * 10 and all(o[0][1] is None for o in out)


def test_repeated_or_earlier_timestamps_give_no_ticks():
    r = SkeletonResampler(FPS)
    assert len(r.push(T0, _hand(0))) == 1
    assert r.push(T0, _hand(0)) == []
    assert r.push(T0 - 0.5, _hand(0)) == []
    out = r.push(T0 + 1 / FPS, _hand(1 / FPS))
    assert len(out) == 1 and out[0][0] == pytest.approx(T0 + 1 / FPS)
    assert r.push(T0 + 1 / FPS, _hand(0)) == [] and r.push(T0 + 0.5 / FPS, _hand(0)) == []
    r.reset()  # a new stream starts its own clock
    assert [t for t, _ in r.push(5.0, None)] == [5.0]


@pytest.mark.parametrize("fps", [0.0, -30.0, float("nan"), float("inf")])
def test_bad_rate_is_refused(fps):
    with pytest.raises(ValueError):
        SkeletonResampler(fps)


def test_resample_sequence_matches_the_resampler_and_marks_absent_ticks():
    times = np.arange(45) / 15.0
    hands = np.stack([_hand(t) for t in times])
    present = np.ones(45, bool)
    present[10:25] = False   # 1 s lost: held, then gone
    present[30] = False      # one frame lost: held
    ticks, out, mask = resample_sequence(times, hands, present, FPS)
    K = len(ticks)
    assert ticks.shape == (K,) and out.shape == (K, 21, 3) and mask.shape == (K,)
    assert out.dtype == np.float32 and mask.dtype == bool and K == 2 * 44 + 1
    assert np.allclose(ticks, np.arange(K) / FPS, atol=1e-9)
    assert not out[~mask].any() and mask[:20].all() and not mask.all()
    r = SkeletonResampler(FPS)
    expected = [tick for t, h, p in zip(times, hands, present) for tick in r.push(float(t), h if p else None)]
    assert len(expected) == K
    for (t, hand), got, seen in zip(expected, out, mask):
        assert seen == (hand is not None)
        if hand is not None:
            assert np.array_equal(got, hand)
    empty = resample_sequence(np.zeros(0), np.zeros((0, 21, 3), np.float32), np.zeros(0, bool), FPS)
    assert [a.shape[0] for a in empty] == [0, 0, 0]
