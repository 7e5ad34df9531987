import json
import math

import numpy as np
import pytest

from fusion.online import GestureEvent, OnlineConfig, OnlineRecognizer, recognize

LABELS = ("no_gesture", "thumbs_up", "swipe_left", "swipe_right")
FPS = 30.0


def _onehot(label: str, p: float) -> np.ndarray:
    """p on `label`, the rest shared evenly by the other classes."""
    v = np.full(len(LABELS), (1.0 - p) / (len(LABELS) - 1))
    v[LABELS.index(label)] = p
    return v


def _stream(*parts: tuple[str, float, float]) -> tuple[np.ndarray, np.ndarray]:
    """parts: (label, seconds, probability) -> scores (N, K), times (N,) at 30 Hz."""
    rows = []
    for label, seconds, p in parts:
        rows += [_onehot(label, p)] * int(round(seconds * FPS))
    return np.stack(rows), np.arange(len(rows)) / FPS


IDLE = ("no_gesture", 1.0, 0.97)


def test_clean_dynamic_gesture_gives_one_event_at_its_end():
    scores, times = _stream(IDLE, ("swipe_left", 0.5, 0.8), IDLE)
    events = recognize(OnlineConfig(), LABELS, scores, times)
    assert len(events) == 1
    e = events[0]
    assert e.label == "swipe_left" and not e.early
    # The true gesture spans [1.0, 1.5) s; the smoothed score lags a few frames behind.
    assert 1.0 <= e.start <= 1.1
    assert 1.5 <= e.end <= 1.6
    assert e.end < e.t <= 1.7
    assert 0.7 < e.score <= 0.8


def test_held_static_gesture_gives_one_event_after_the_hold_time():
    cfg = OnlineConfig()
    scores, times = _stream(IDLE, ("thumbs_up", 2.0, 0.95), IDLE)
    events = recognize(cfg, LABELS, scores, times)
    assert [e.label for e in events] == ["thumbs_up"]
    e = events[0]
    assert e.early and e.end is None
    assert e.t - e.start == pytest.approx(cfg.static_hold_s, abs=1.5 / FPS)
    assert e.t < 2.0  # called while still held


def test_static_flicker_below_hold_time_gives_nothing():
    parts = []
    for _ in range(5):
        parts += [("thumbs_up", 0.3, 0.95), ("no_gesture", 0.3, 0.97)]
    scores, times = _stream(IDLE, *parts)
    assert recognize(OnlineConfig(), LABELS, scores, times) == []
    # The same flicker is long enough once the hold time is shorter than each burst.
    assert len(recognize(OnlineConfig(static_hold_s=0.2, cooldown_s=0.0), LABELS, scores, times)) == 5


def test_two_gestures_separated_by_idle_give_two_events():
    scores, times = _stream(IDLE, ("swipe_left", 0.5, 0.8), IDLE, ("swipe_right", 0.5, 0.8), IDLE)
    events = recognize(OnlineConfig(), LABELS, scores, times)
    assert [e.label for e in events] == ["swipe_left", "swipe_right"]
    assert events[0].t < 2.0 < events[1].start


def test_one_gesture_overtaken_by_another_gives_two_events():
    scores, times = _stream(IDLE, ("swipe_left", 0.5, 0.8), ("swipe_right", 0.5, 0.8), IDLE)
    events = recognize(OnlineConfig(cooldown_s=0.0), LABELS, scores, times)
    assert [e.label for e in events] == ["swipe_left", "swipe_right"]


def test_supersede_drops_what_another_gesture_overtakes_but_not_what_ends_by_itself():
    # the lead-in (swipe_left at 0.8) runs straight into the gesture (swipe_right): only the latter
    scores, times = _stream(IDLE, ("swipe_left", 0.5, 0.8), ("swipe_right", 0.5, 0.8), IDLE)
    events = recognize(OnlineConfig(supersede=True, cooldown_s=1.0), LABELS, scores, times)
    assert [e.label for e in events] == ["swipe_right"]
    # without it the lead-in is called and its cooldown blocks the real gesture
    assert [e.label for e in recognize(OnlineConfig(cooldown_s=1.0), LABELS, scores, times)] == ["swipe_left"]
    # a gesture that ends by itself (back to no_gesture) is still called
    scores, times = _stream(IDLE, ("swipe_left", 0.5, 0.8), IDLE, ("swipe_right", 0.5, 0.8), IDLE)
    events = recognize(OnlineConfig(supersede=True), LABELS, scores, times)
    assert [e.label for e in events] == ["swipe_left", "swipe_right"]
    # and one called early is not taken back
    scores, times = _stream(IDLE, ("swipe_left", 0.5, 0.99), ("swipe_right", 0.5, 0.8), IDLE)
    events = recognize(OnlineConfig(supersede=True, cooldown_s=0.0), LABELS, scores, times)
    assert [(e.label, e.early) for e in events] == [("swipe_left", True), ("swipe_right", False)]


def test_cooldown_suppresses_a_quick_repeat():
    scores, times = _stream(IDLE, ("swipe_left", 0.3, 0.8), ("no_gesture", 0.2, 0.97),
                            ("swipe_left", 0.3, 0.8), IDLE)
    assert len(recognize(OnlineConfig(cooldown_s=0.0), LABELS, scores, times)) == 2
    events = recognize(OnlineConfig(cooldown_s=0.8), LABELS, scores, times)
    assert len(events) == 1 and events[0].end < 1.5


def test_early_call_timing_matches_hand_computation():
    cfg = OnlineConfig()
    scores, times = _stream(IDLE, ("swipe_right", 1.0, 0.97), IDLE)
    events = recognize(cfg, LABELS, scores, times)
    assert len(events) == 1
    e = events[0]
    assert e.early and e.end is None and e.label == "swipe_right"
    # From idle (0.01) towards 0.97 the EMA is s_n = 0.97 - 0.96 * exp(-n dt / tau) after n frames;
    # it first reaches 0.9 at n_hi, and the call comes early_min_s later (rounded up to a frame).
    dt = 1.0 / FPS
    n_hi = math.ceil(math.log(0.96 / 0.07) * cfg.ema_tau_s / dt)
    n_call = n_hi + math.ceil(cfg.early_min_s / dt - 1e-9)
    assert e.t == pytest.approx(1.0 + (n_call - 1) * dt)
    # Segment opens when s >= 0.3 (rise) -> start = first frame with s_n >= 0.3.
    n_rise = math.ceil(math.log(0.96 / 0.67) * cfg.ema_tau_s / dt)
    assert e.start == pytest.approx(1.0 + (n_rise - 1) * dt)


def test_no_gesture_is_never_emitted_and_labels_without_it_work():
    scores, times = _stream(("no_gesture", 3.0, 1.0))
    assert recognize(OnlineConfig(), LABELS, scores, times) == []
    labels = ("swipe_left", "swipe_right")
    rows = np.array([[0.9, 0.1]] * 15 + [[0.1, 0.9]] * 15)
    events = recognize(OnlineConfig(cooldown_s=0.0), labels, rows, np.arange(30) / FPS)
    assert [e.label for e in events] == ["swipe_left", "swipe_right"]


def test_flush_calls_a_gesture_still_running_at_the_end():
    scores, times = _stream(IDLE, ("swipe_left", 0.5, 0.8))
    rec = OnlineRecognizer(OnlineConfig(), LABELS)
    events = []
    for row, t in zip(scores, times):
        events += rec.update(row, t)
    assert events == []
    assert rec.active is not None and rec.active[0] == "swipe_left"
    events = rec.flush(times[-1])
    assert rec.active is None
    assert len(events) == 1 and events[0].label == "swipe_left" and events[0].end == times[-1]
    assert rec.flush(times[-1]) == []


def test_logits_give_the_same_events_as_probabilities():
    scores, times = _stream(IDLE, ("swipe_left", 0.5, 0.8), IDLE, ("thumbs_up", 1.0, 0.9), IDLE)
    probs = recognize(OnlineConfig(), LABELS, scores, times)
    logits = recognize(OnlineConfig(from_logits=True), LABELS, np.log(scores) + 3.0, times)
    assert [(e.label, e.t) for e in probs] == [(e.label, e.t) for e in logits]
    assert len(probs) == 2


def test_deterministic_and_reset_restores_a_fresh_state():
    rng = np.random.default_rng(0)
    # A noisy stream: random class bursts of random length.
    rows = []
    for _ in range(40):
        label = LABELS[rng.integers(len(LABELS))]
        rows += [_onehot(label, rng.uniform(0.4, 1.0)) + rng.uniform(0, 0.1, len(LABELS))] \
            * int(rng.integers(3, 40))
    scores = np.stack(rows)
    scores /= scores.sum(1, keepdims=True)
    times = np.arange(len(scores)) / FPS
    first = recognize(OnlineConfig(), LABELS, scores, times)
    assert first == recognize(OnlineConfig(), LABELS, scores, times)
    assert len(first) > 3
    rec = OnlineRecognizer(OnlineConfig(), LABELS)
    for row, t in zip(scores[:200], times[:200]):
        rec.update(row, t)
    rec.reset()
    again = []
    for row, t in zip(scores, times):
        again += rec.update(row, t)
    again += rec.flush(times[-1])
    assert again == first


def test_static_gestures_open_at_their_own_threshold_dynamic_ones_at_the_start_threshold():
    # a real hand held still scores lower than a synthetic one: a static gesture may open lower and
    # is still guarded by its hold time; a dynamic one at the same score stays quiet
    held, swiped = ("thumbs_up", 1.5, 0.6), ("swipe_left", 0.5, 0.6)
    strict = OnlineConfig(start_threshold=0.7)
    split = OnlineConfig(start_threshold=0.7, static_start_threshold=0.5)
    for cfg, want in ((strict, []), (split, ["thumbs_up"])):
        assert [e.label for e in recognize(cfg, LABELS, *_stream(IDLE, held, IDLE, swiped, IDLE))] == want
    flicker = [("thumbs_up", 0.3, 0.6), ("no_gesture", 0.3, 0.97)] * 4
    assert recognize(split, LABELS, *_stream(IDLE, *flicker)) == []  # the hold time still guards it
    with pytest.raises(ValueError, match="static_start_threshold"):
        OnlineConfig(end_threshold=0.4, static_start_threshold=0.3)


def test_bad_calls_raise():
    rec = OnlineRecognizer(OnlineConfig(), LABELS)
    rec.update(_onehot("no_gesture", 0.9), 1.0)
    with pytest.raises(ValueError, match="increase"):
        rec.update(_onehot("no_gesture", 0.9), 1.0)
    with pytest.raises(ValueError, match="expected 4 scores"):
        rec.update(np.ones(3) / 3, 2.0)
    with pytest.raises(ValueError, match="finite"):
        rec.update(np.array([np.nan, 0, 0, 1.0]), 2.0)
    with pytest.raises(ValueError):
        OnlineConfig(start_threshold=0.2, end_threshold=0.4)
    with pytest.raises(ValueError):
        OnlineRecognizer(OnlineConfig(), ["a", "a"])


def test_event_json_matches_the_gesture_line_contract():
    e = GestureEvent(label="push", score=0.91234567, t=3.5, start=3.1, end=None, early=True)
    line = json.loads(json.dumps(e.to_json()))
    assert line["type"] == "gesture" and line["label"] == "push"
    assert line["score"] == pytest.approx(0.9123) and line["t"] == 3.5
    assert line["start"] == 3.1 and line["end"] is None and line["early"] is True


def test_settings_from_the_command_line_replace_only_what_they_name():
    from fusion.online import SETTABLE, with_settings

    base = OnlineConfig(from_logits=True, cooldown_s=1.5, supersede=True)
    changed = with_settings(base, ["cooldown_s=0.8", " supersede = false ", "static_start_threshold=0.6"])
    assert (changed.cooldown_s, changed.supersede, changed.static_start_threshold) == (0.8, False, 0.6)
    assert changed.from_logits and changed.start_threshold == base.start_threshold  # the rest as it was
    assert with_settings(base, []) == base
    assert "from_logits" not in SETTABLE and "static_labels" not in SETTABLE and "cooldown_s" in SETTABLE


@pytest.mark.parametrize("item, needle", [
    ("nope=1", "expected NAME=VALUE"), ("cooldown_s", "expected NAME=VALUE"), ("cooldown_s=", "expected NAME=VALUE"),
    ("from_logits=false", "expected NAME=VALUE"), ("cooldown_s=soon", "is a number"), ("cooldown_s=nan", "finite"),
    ("supersede=1", "true or false"), ("cooldown_s=-1", "cooldown_s must be >= 0"),
    ("end_threshold=0.9", "end_threshold <= start_threshold"),
])
def test_bad_settings_are_one_clear_bad_input(item, needle):
    from fusion.errors import BadInput
    from fusion.online import with_settings

    with pytest.raises(BadInput, match=needle):
        with_settings(OnlineConfig(), [item])
