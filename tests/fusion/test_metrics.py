import json
import math

import numpy as np
import pytest

from fusion.metrics import (
    confusion_matrix, detection_delays, evaluate_online, levenshtein, levenshtein_accuracy,
    match_events, offline_report, per_class_accuracy, top1,
)
from fusion.online import GestureEvent


def test_offline_metrics_by_hand():
    y_true = [0, 0, 1, 1, 1, 2]
    y_pred = [0, 1, 1, 1, 0, 0]
    assert top1(y_true, y_pred) == pytest.approx(3 / 6)
    cm = confusion_matrix(y_true, y_pred, 4)
    expected = np.array([[1, 1, 0, 0], [1, 2, 0, 0], [1, 0, 0, 0], [0, 0, 0, 0]])
    assert cm.dtype == np.int64 and np.array_equal(cm, expected)
    per = per_class_accuracy(y_true, y_pred, ["a", "b", "c", "d"])
    assert per == pytest.approx({"a": 0.5, "b": 2 / 3, "c": 0.0})  # "d" absent from y_true
    report = offline_report(y_true, y_pred, ["a", "b", "c", "d"])
    assert json.loads(json.dumps(report))["confusion"] == expected.tolist()
    assert math.isnan(top1([], []))


def test_offline_bad_inputs_raise():
    with pytest.raises(ValueError, match="length"):
        top1([0, 1], [0])
    with pytest.raises(ValueError, match="class indices"):
        confusion_matrix([0, 3], [0, 0], 3)


@pytest.mark.parametrize("a, b, d", [
    ("", "", 0),
    ("abc", "abc", 0),
    ("abc", "abxc", 1),     # insertion
    ("abc", "ac", 1),       # deletion
    ("abc", "abd", 1),      # substitution
    ("kitten", "sitting", 3),
    ("", "xyz", 3),
    ("ab", "ba", 2),
])
def test_levenshtein_cases(a, b, d):
    assert levenshtein(list(a), list(b)) == d
    assert levenshtein(list(b), list(a)) == d


def test_levenshtein_accuracy_is_floored_at_zero():
    true = ["push", "pull", "fist"]
    assert levenshtein_accuracy(true, true) == 1.0
    assert levenshtein_accuracy(true, ["push", "fist"]) == pytest.approx(2 / 3)           # deletion
    assert levenshtein_accuracy(true, ["push", "pull", "pull", "fist"]) == pytest.approx(2 / 3)
    assert levenshtein_accuracy(true, ["push", "zoom_in", "fist"]) == pytest.approx(2 / 3)
    assert levenshtein_accuracy(["push"], ["a", "b", "c"]) == 0.0                         # 1 - 3
    assert levenshtein_accuracy([], []) == 1.0
    assert levenshtein_accuracy([], ["push"]) == 0.0


SEGMENTS = [("swipe_left", 1.0, 2.0), ("no_gesture", 2.0, 4.0), ("fist", 4.0, 5.0),
            ("swipe_left", 6.0, 7.0)]


def test_matching_each_true_gesture_once():
    events = [("swipe_left", 1.8), ("swipe_left", 1.9), ("fist", 5.3), ("swipe_left", 7.6),
              ("push", 6.5)]
    # 1.8 -> segment 0; 1.9 has no unmatched swipe_left left near it; 5.3 within tolerance of fist;
    # 7.6 is past 7.0 + 0.5; push has no push segment.
    assert match_events(SEGMENTS, events, tolerance_s=0.5) == [(0, 0), (1, 2)]
    assert match_events(SEGMENTS, events, tolerance_s=0.7) == [(0, 0), (1, 2), (2, 4)]


def test_detection_delay_and_seen_fraction_by_hand():
    events = [GestureEvent(label="swipe_left", score=0.9, t=1.5, start=1.0, end=None, early=True),
              GestureEvent(label="fist", score=0.9, t=5.2, start=4.0, end=5.0, early=False)]
    delay, seen = detection_delays(SEGMENTS, events)
    assert delay == pytest.approx([-500.0, 200.0])
    assert seen == pytest.approx([0.5, 1.0])


def test_evaluate_online_by_hand():
    duration = 10.0
    events = [("swipe_left", 2.2),   # matches segment 0 (delay 200 ms)
              ("push", 3.0),         # false trigger: in no-gesture time
              ("fist", 4.5),         # matches fist (delay -500 ms, seen 0.5)
              ("swipe_left", 9.0)]   # false trigger
    m = evaluate_online([(SEGMENTS, events, duration)], tolerance_s=0.5)
    # true:   swipe_left fist swipe_left ; called: swipe_left push fist swipe_left -> 1 insertion
    assert m.levenshtein == pytest.approx(1 - 1 / 3)
    assert m.n_true == 3 and m.n_events == 4 and m.matched == 2
    # gesture windows [1, 2.5], [4, 5.5], [6, 7.5] -> 4.5 s; no-gesture time 5.5 s
    assert m.no_gesture_hours == pytest.approx(5.5 / 3600)
    assert m.false_triggers == 2
    assert m.false_triggers_per_hour == pytest.approx(2 / (5.5 / 3600))
    # the last swipe_left at 9.0 does not match segment 2 (ends 7.0 + 0.5); delays 200 and -500 ms
    assert m.delay_ms_p50 == pytest.approx(-150.0)
    assert m.delay_ms_p95 == pytest.approx(-500.0 + 0.95 * 700.0)
    assert m.seen_p50 == pytest.approx(0.75)
    out = json.loads(json.dumps(m.to_json()))
    for key in ("levenshtein", "false_triggers_per_hour", "delay_ms_p50", "delay_ms_p95"):
        assert isinstance(out[key], float)


def test_evaluate_online_pools_streams_and_percentiles():
    segs = [("push", 0.0, 1.0)]
    streams = [(segs, [("push", 1.0 + d / 1000)], 2.0) for d in (0, 100, 200, 300, 400)]
    m = evaluate_online(streams)
    assert m.levenshtein == 1.0 and m.matched == 5 and m.false_triggers == 0
    assert m.delay_ms_p50 == pytest.approx(200.0)
    assert m.delay_ms_p95 == pytest.approx(np.percentile([0, 100, 200, 300, 400], 95))
    assert m.false_triggers_per_hour == 0.0
    nothing = evaluate_online([([], [], 0.0)])
    assert nothing.levenshtein == 1.0 and math.isnan(nothing.false_triggers_per_hour)
    assert math.isnan(nothing.delay_ms_p50) and nothing.to_json()["delay_ms_p50"] is None


def test_segment_ending_before_start_raises():
    with pytest.raises(ValueError, match="ends before"):
        match_events([("push", 2.0, 1.0)], [])


def test_recogniser_and_online_metrics_together():
    from fusion.online import OnlineConfig, recognize

    labels = ("no_gesture", "fist", "swipe_left", "push")
    fps, rows, segments, t = 30, [], [], 0.0
    for label, seconds in [("no_gesture", 1.0), ("swipe_left", 0.6), ("no_gesture", 1.0),
                           ("fist", 1.5), ("no_gesture", 1.0), ("push", 0.5), ("no_gesture", 1.0)]:
        n = int(seconds * fps)
        p = np.full(len(labels), 0.02)
        p[labels.index(label)] = 1 - 0.02 * (len(labels) - 1)
        rows += [p] * n
        if label != "no_gesture":
            segments.append((label, t, t + (n - 1) / fps))
        t += n / fps
    times = np.arange(len(rows)) / fps
    events = recognize(OnlineConfig(), labels, np.stack(rows), times)
    m = evaluate_online([(segments, events, times[-1] + 1 / fps)])
    assert m.levenshtein == 1.0 and m.matched == 3 and m.false_triggers == 0
    assert m.false_triggers_per_hour == 0.0
    # dynamic gestures are called early (confident), the static one after its 0.5 s hold
    assert -600 < m.delay_ms_p50 < 0 and m.delay_ms_p95 < 300
    assert 0.0 < m.seen_p50 < 1.0
