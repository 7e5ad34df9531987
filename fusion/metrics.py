"""Offline and online metrics (numpy only).

Offline (one label per clip): top-1, per-class accuracy, confusion matrix.

Online (a continuous stream with true segments and recognised events):

- **Levenshtein accuracy** = max(0, 1 - edit_distance(true labels, called labels) / n_true), the
  label sequences in time order (true by segment start, called by event time). It is floored at 0
  (more wrong calls than true gestures would otherwise go negative). With no true gestures it is
  1.0 when nothing was called and 0.0 otherwise.
- **Matching** (`match_events`): an event matches a true gesture of the same label when its call
  time t lies in [start, end + tolerance_s]; events are taken in time order and each one takes the
  earliest still unmatched true gesture it can match, so every true gesture and every event is
  matched at most once.
- **False triggers per hour**: events whose call time lies in no gesture's [start, end + tolerance_s]
  window (of any label), divided by the hours of no-gesture time, which is the stream duration
  minus the union of those windows. Segments labelled ``no_gesture`` count as no-gesture time.
- **Detection delay** (ms) of each matched event: t - end. Early calls give negative delays.
  Its normalised form is the fraction of the gesture seen when it was called,
  clip((t - start) / (end - start), 0, 1). Reported as p50 and p95; NaN when nothing matched.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from fusion.labels import NO_GESTURE

Segment = tuple[str, float, float]  # (label, start_s, end_s)


# -- offline -----------------------------------------------------------------------------------

def _labels_pair(y_true: Sequence[int], y_pred: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    t = np.asarray(y_true, dtype=np.int64).reshape(-1)
    p = np.asarray(y_pred, dtype=np.int64).reshape(-1)
    if t.shape != p.shape:
        raise ValueError(f"y_true and y_pred differ in length: {t.shape[0]} vs {p.shape[0]}")
    return t, p


def top1(y_true: Sequence[int], y_pred: Sequence[int]) -> float:
    """Fraction of samples whose predicted class equals the true class (NaN if empty)."""
    t, p = _labels_pair(y_true, y_pred)
    return float(np.mean(t == p)) if t.size else float("nan")


def confusion_matrix(y_true: Sequence[int], y_pred: Sequence[int], num_classes: int) -> np.ndarray:
    """(num_classes, num_classes) int64 counts; rows are true classes, columns predicted ones."""
    t, p = _labels_pair(y_true, y_pred)
    if t.size and (min(t.min(), p.min()) < 0 or max(t.max(), p.max()) >= num_classes):
        raise ValueError(f"class indices must be in [0, {num_classes})")
    cm = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(cm, (t, p), 1)
    return cm


def per_class_accuracy(y_true: Sequence[int], y_pred: Sequence[int],
                       labels: Sequence[str]) -> dict[str, float]:
    """{label: recall} for every class that occurs in y_true (absent classes are left out)."""
    cm = confusion_matrix(y_true, y_pred, len(labels))
    support = cm.sum(axis=1)
    return {labels[k]: float(cm[k, k] / support[k]) for k in range(len(labels)) if support[k]}


# -- online ------------------------------------------------------------------------------------

def levenshtein(a: Sequence[Any], b: Sequence[Any]) -> int:
    """Edit distance (insertions, deletions, substitutions, each cost 1) between two sequences."""
    prev = list(range(len(b) + 1))
    for i, x in enumerate(a, start=1):
        cur = [i] + [0] * len(b)
        for j, y in enumerate(b, start=1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x != y))
        prev = cur
    return prev[-1]


def levenshtein_accuracy(true_labels: Sequence[str], called_labels: Sequence[str]) -> float:
    """max(0, 1 - levenshtein / len(true_labels)); see the module docstring for empty inputs."""
    if not true_labels:
        return 1.0 if not called_labels else 0.0
    return max(0.0, 1.0 - levenshtein(true_labels, called_labels) / len(true_labels))


def _event_pairs(events: Iterable[Any]) -> list[tuple[str, float]]:
    """(label, t) of each event, in time order; events are GestureEvent-like or (label, t) pairs."""
    out = []
    for e in events:
        label, t = (e.label, e.t) if hasattr(e, "label") else (e[0], e[1])
        out.append((str(label), float(t)))
    return sorted(out, key=lambda x: x[1])


def _gesture_segments(segments: Iterable[Segment]) -> list[Segment]:
    out = []
    for label, start, end in segments:
        if end < start:
            raise ValueError(f"segment {label!r} ends before it starts: {start} > {end}")
        if label != NO_GESTURE:
            out.append((str(label), float(start), float(end)))
    return sorted(out, key=lambda s: s[1])


def match_events(segments: Iterable[Segment], events: Iterable[Any], *,
                 tolerance_s: float = 0.5) -> list[tuple[int, int]]:
    """Pairs (segment index, event index) into the time-sorted gesture segments and events."""
    segs = _gesture_segments(segments)
    evs = _event_pairs(events)
    used = [False] * len(segs)
    pairs = []
    for j, (label, t) in enumerate(evs):
        for i, (seg_label, start, end) in enumerate(segs):
            if not used[i] and seg_label == label and start <= t <= end + tolerance_s:
                used[i] = True
                pairs.append((i, j))
                break
    return pairs


def _union_length(windows: list[tuple[float, float]], lo: float, hi: float) -> float:
    total, cur_a, cur_b = 0.0, None, None
    for a, b in sorted((max(a, lo), min(b, hi)) for a, b in windows):
        if b <= a:
            continue
        if cur_b is None or a > cur_b:
            if cur_b is not None:
                total += cur_b - cur_a
            cur_a, cur_b = a, b
        else:
            cur_b = max(cur_b, b)
    if cur_b is not None:
        total += cur_b - cur_a
    return total


@dataclass(frozen=True)
class OnlineMetrics:
    """The online scores of one or more streams (see the module docstring for definitions)."""

    levenshtein: float              # Levenshtein accuracy in [0, 1]
    false_triggers: int             # events in no-gesture time
    no_gesture_hours: float         # hours of no-gesture time
    false_triggers_per_hour: float  # false_triggers / no_gesture_hours (NaN if no such time)
    delay_ms_p50: float             # median of t - end over matched events, ms (NaN if none)
    delay_ms_p95: float
    seen_p50: float                 # median fraction of the gesture seen when called (NaN if none)
    seen_p95: float
    matched: int                    # matched events (= correctly recognised true gestures)
    n_true: int                     # true gesture segments (no_gesture excluded)
    n_events: int

    def to_json(self) -> dict:
        """The "online" object of `main.py eval --json` (NaN becomes None: JSON has no NaN)."""
        def f(x: float) -> float | None:
            return None if np.isnan(x) else round(float(x), 4)
        return {
            "levenshtein": f(self.levenshtein),
            "false_triggers_per_hour": f(self.false_triggers_per_hour),
            "delay_ms_p50": f(self.delay_ms_p50),
            "delay_ms_p95": f(self.delay_ms_p95),
            "seen_p50": f(self.seen_p50),
            "seen_p95": f(self.seen_p95),
            "false_triggers": self.false_triggers,
            "no_gesture_hours": f(self.no_gesture_hours),
            "matched": self.matched,
            "n_true": self.n_true,
            "n_events": self.n_events,
        }


def detection_delays(segments: Iterable[Segment], events: Iterable[Any], *,
                     tolerance_s: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """(delay_ms, seen) float64 arrays over matched events: t - end in ms, and the seen fraction."""
    segs = _gesture_segments(segments)
    evs = _event_pairs(events)
    delay, seen = [], []
    for i, j in match_events(segs, evs, tolerance_s=tolerance_s):
        _, start, end = segs[i]
        t = evs[j][1]
        delay.append((t - end) * 1000.0)
        seen.append(1.0 if end <= start else min(1.0, max(0.0, (t - start) / (end - start))))
    return np.asarray(delay, dtype=np.float64), np.asarray(seen, dtype=np.float64)


def evaluate_online(streams: Sequence[tuple[Sequence[Segment], Sequence[Any], float]], *,
                    tolerance_s: float = 0.5) -> OnlineMetrics:
    """Online metrics over streams of (true segments, events, duration_s).

    Levenshtein accuracy is computed per stream and averaged weighted by its true gestures
    (i.e. total edits / total true gestures, floored at 0); the rest is pooled over all streams.
    """
    edits = n_true = n_events = false = matched = 0
    no_gesture_s = 0.0
    delays, seens = [], []
    empty_ok = True
    for segments, events, duration_s in streams:
        segs = _gesture_segments(segments)
        evs = _event_pairs(events)
        true_seq = [s[0] for s in segs]
        called = [e[0] for e in evs]
        edits += levenshtein(true_seq, called)
        n_true += len(segs)
        n_events += len(evs)
        empty_ok &= not (not segs and evs)
        windows = [(start, end + tolerance_s) for _, start, end in segs]
        no_gesture_s += max(0.0, float(duration_s) - _union_length(windows, 0.0, float(duration_s)))
        false += sum(1 for _, t in evs if not any(a <= t <= b for a, b in windows))
        d, s = detection_delays(segs, evs, tolerance_s=tolerance_s)
        delays.append(d)
        seens.append(s)
        matched += d.size
    lev = max(0.0, 1.0 - edits / n_true) if n_true else (1.0 if empty_ok else 0.0)
    delay = np.concatenate(delays) if delays else np.zeros(0)
    seen = np.concatenate(seens) if seens else np.zeros(0)
    hours = no_gesture_s / 3600.0

    def pct(x: np.ndarray, q: float) -> float:
        return float(np.percentile(x, q)) if x.size else float("nan")

    return OnlineMetrics(
        levenshtein=lev, false_triggers=false, no_gesture_hours=hours,
        false_triggers_per_hour=false / hours if hours > 0 else float("nan"),
        delay_ms_p50=pct(delay, 50), delay_ms_p95=pct(delay, 95),
        seen_p50=pct(seen, 50), seen_p95=pct(seen, 95),
        matched=matched, n_true=n_true, n_events=n_events)


def offline_report(y_true: Sequence[int], y_pred: Sequence[int],
                   labels: Sequence[str]) -> Mapping[str, Any]:
    """{"top1": float, "per_class": {label: float}, "confusion": (K, K) list of lists}."""
    return {"top1": top1(y_true, y_pred),
            "per_class": per_class_accuracy(y_true, y_pred, labels),
            "confusion": confusion_matrix(y_true, y_pred, len(labels)).tolist()}
