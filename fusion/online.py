"""The online recogniser: a stream of per-step class scores in, gesture events out.

Pure and deterministic (no threads, no clocks): the same scores and times give the same events,
so the real-time engine, replay and evaluation all run this one class unchanged.

```
scores (K,) ──▶ softmax? ──▶ EMA (time constant) ──▶ segment state machine ──▶ GestureEvent
                                                      idle ⇄ active(label, start)
                                                      one event per segment:
                                                        static  → after hold time (early)
                                                        dynamic → early when confident,
                                                                  else at the segment's end
                                                      cooldown after every event
```

A *segment* is a run of steps in which one gesture class (never ``no_gesture``) leads the smoothed
scores: it opens when that class's smoothed score reaches ``start_threshold`` (a static gesture's:
``static_start_threshold``) while it is the top class, and closes when the score falls below
``end_threshold`` (hysteresis) or another gesture class overtakes it above its own opening score.
Each segment gives at most one event (single-time activation): a gesture held for two seconds is
one event.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace
from typing import Iterable, Sequence

import numpy as np

from fusion.errors import BadInput
from fusion.labels import NO_GESTURE, STATIC_GESTURES


@dataclass(frozen=True)
class OnlineConfig:
    """Settings of the online recogniser; the defaults suit 30 Hz per-frame scores."""

    # True: update() receives logits and applies a softmax; False: it receives probabilities.
    from_logits: bool = False
    # Time constant of the exponential moving average of the probabilities, seconds. The weight of a
    # new step is 1 - exp(-dt / tau), so smoothing does not depend on the frame rate; 0 = none.
    ema_tau_s: float = 0.1
    # A segment opens when the top class (not no_gesture) reaches this smoothed probability.
    start_threshold: float = 0.5
    # The same for static gestures (None: start_threshold). Their hold time guards them as well, and
    # a real hand held still scores lower than a synthetic one (docs/RESULTS.md, "Real footage").
    static_start_threshold: float | None = None
    # An open segment closes when its class falls below this smoothed probability (hysteresis).
    end_threshold: float = 0.3
    # Dynamic gestures are called early (before their end) once the smoothed probability stays at
    # or above this value for early_min_s.
    early_threshold: float = 0.9
    # How long the smoothed probability must stay at or above early_threshold for an early call, s.
    early_min_s: float = 0.15
    # A dynamic gesture that was not called early is called at its end if it lasted this long, s.
    min_dynamic_s: float = 0.15
    # Static gestures (fusion.labels.STATIC_GESTURES, or static_labels) must be held this long
    # before they are called; they are called as soon as the hold time is reached (early=True).
    static_hold_s: float = 0.5
    # No event is emitted within this many seconds after the previous event's call time.
    cooldown_s: float = 0.5
    # True: a dynamic segment not called early that another gesture overtakes is dropped, not
    # called: what leads into a gesture (spreading the fingers before zoom_out looks like zoom_in)
    # gives way to the gesture that follows it.
    supersede: bool = False
    # Labels treated as static; None means fusion.labels.STATIC_GESTURES.
    static_labels: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if not 0.0 <= self.end_threshold <= self.start_threshold <= 1.0:
            raise ValueError("need 0 <= end_threshold <= start_threshold <= 1")
        if self.static_start_threshold is not None and not self.end_threshold <= self.static_start_threshold <= 1.0:
            raise ValueError("need end_threshold <= static_start_threshold <= 1")
        if not 0.0 <= self.early_threshold <= 1.0:
            raise ValueError("early_threshold must be in [0, 1]")
        for name in ("ema_tau_s", "early_min_s", "min_dynamic_s", "static_hold_s", "cooldown_s"):
            if getattr(self, name) < 0.0:
                raise ValueError(f"{name} must be >= 0")


# The settings a user may change on the command line (``--online NAME=VALUE``): every number and switch.
SETTABLE = {f.name: type(f.default) for f in fields(OnlineConfig) if f.name not in ("from_logits", "static_labels")}


def with_settings(config: OnlineConfig, items: Iterable[str]) -> OnlineConfig:
    """``config`` with ``NAME=VALUE`` items replacing its settings (numbers, or true/false for
    ``supersede``); one clear ``BadInput`` for an unknown name, a bad value or settings that do not fit
    together (``end_threshold`` above ``start_threshold``, …)."""
    changes = {}
    for item in items:
        name, _, text = item.partition("=")
        name, text = name.strip(), text.strip()
        if name not in SETTABLE or not text:
            raise BadInput(f"recogniser setting {item!r}: expected NAME=VALUE with NAME one of {', '.join(SETTABLE)}")
        if SETTABLE[name] is bool:
            if text.lower() not in ("true", "false"):
                raise BadInput(f"recogniser setting {item!r}: {name} is true or false")
            changes[name] = text.lower() == "true"
            continue
        try:
            value = float(text)
        except ValueError:
            raise BadInput(f"recogniser setting {item!r}: {name} is a number") from None
        if not math.isfinite(value):
            raise BadInput(f"recogniser setting {item!r}: {name} must be finite")
        changes[name] = value
    try:
        return replace(config, **changes)
    except ValueError as error:
        raise BadInput(f"recogniser settings: {error}") from None


@dataclass(frozen=True)
class GestureEvent:
    """One recognised gesture.

    ``t`` is the call time (the time passed to the update that emitted it), ``start`` the estimated
    start (when the smoothed score of the label last rose above ``end_threshold``), ``end`` the time
    of the last step of the segment, or None for an early call made while the gesture was still on.
    ``score`` is the highest smoothed probability of the label in the segment up to the call.
    """

    label: str
    score: float
    t: float
    start: float
    end: float | None
    early: bool

    def to_json(self) -> dict:
        """The gesture line of the command-line contract (ARCHITECTURE.md, contract 2)."""
        return {
            "type": "gesture",
            "label": self.label,
            "score": round(float(self.score), 4),
            "t": round(float(self.t), 4),
            "start": round(float(self.start), 4),
            "end": None if self.end is None else round(float(self.end), 4),
            "early": self.early,
        }


class OnlineRecognizer:
    """Turns per-step class scores into gesture events (see the module docstring)."""

    def __init__(self, config: OnlineConfig, labels: Sequence[str]) -> None:
        self.config = config
        self.labels = tuple(labels)
        if len(self.labels) < 1 or len(set(self.labels)) != len(self.labels):
            raise ValueError("labels must be a non-empty list of distinct names")
        static = STATIC_GESTURES if config.static_labels is None else config.static_labels
        self._static = np.array([name in static for name in self.labels])
        static_start = config.start_threshold if config.static_start_threshold is None \
            else config.static_start_threshold
        self._opens_at = np.where(self._static, static_start, config.start_threshold)  # (K,) a segment opens at
        # Classes that may open a segment: every class except no_gesture.
        self._candidate = np.array([name != NO_GESTURE for name in self.labels])
        self.reset()

    def reset(self) -> None:
        """Forget everything: smoothing, the open segment, the cooldown and the time base."""
        k = len(self.labels)
        self._smooth: np.ndarray | None = None          # (K,) smoothed probabilities
        self._last_t: float | None = None
        self._rise = np.zeros(k)                         # (K,) when each class last rose above end
        self._above = np.zeros(k, dtype=bool)            # (K,) smoothed >= end_threshold
        self._active: int | None = None                  # class index of the open segment
        self._start = 0.0
        self._last_active_t = 0.0
        self._peak = 0.0
        self._fired = False
        self._high_since: float | None = None
        self._cool_until = -math.inf

    @property
    def smoothed(self) -> np.ndarray | None:
        """The current smoothed probabilities (K,), or None before the first update."""
        return None if self._smooth is None else self._smooth.copy()

    @property
    def active(self) -> tuple[str, float] | None:
        """The open segment as (label, smoothed score), or None when idle (for overlays)."""
        if self._active is None:
            return None
        return self.labels[self._active], float(self._smooth[self._active])

    def update(self, scores: np.ndarray, t: float) -> list[GestureEvent]:
        """Feed one step: scores (K,) (probabilities, or logits if config.from_logits) at time t (s).

        Times must increase strictly. Returns the events called at this step (usually none).
        """
        p = self._probabilities(scores)
        t = float(t)
        if self._last_t is not None and not t > self._last_t:
            raise ValueError(f"time must increase: got {t} after {self._last_t}")
        if self._smooth is None or self.config.ema_tau_s == 0.0:
            self._smooth = p.copy()
        else:
            alpha = 1.0 - math.exp(-(t - self._last_t) / self.config.ema_tau_s)
            self._smooth += alpha * (p - self._smooth)
        self._last_t = t
        s = self._smooth
        above = s >= self.config.end_threshold
        self._rise[above & ~self._above] = t
        self._above = above

        events: list[GestureEvent] = []
        top = self._top_candidate(s)
        if self._active is not None:
            a = self._active
            overtaken = top is not None and top != a and s[top] >= self._opens_at[top] and s[top] > s[a]
            if s[a] < self.config.end_threshold or overtaken:
                events += self._close(t, overtaken=overtaken)
            else:
                self._last_active_t = t
                self._peak = max(self._peak, float(s[a]))
        if self._active is None and top is not None and s[top] >= self._opens_at[top]:
            self._open(top, t)
        if self._active is not None and not self._fired:
            events += self._maybe_call_early(t)
        return events

    def flush(self, t: float) -> list[GestureEvent]:
        """End of stream at time t: close the open segment (calling it if it qualifies)."""
        if self._active is None:
            return []
        if self._last_t is not None and t < self._last_t:
            raise ValueError(f"flush time {t} is before the last update {self._last_t}")
        return self._close(float(t))

    # -- internals ---------------------------------------------------------------------------

    def _probabilities(self, scores: np.ndarray) -> np.ndarray:
        x = np.asarray(scores, dtype=np.float64).reshape(-1)
        if x.shape[0] != len(self.labels):
            raise ValueError(f"expected {len(self.labels)} scores, got {x.shape[0]}")
        if not np.all(np.isfinite(x)):
            raise ValueError("scores must be finite")
        if self.config.from_logits:
            x = np.exp(x - x.max())
            x /= x.sum()
        return x

    def _top_candidate(self, s: np.ndarray) -> int | None:
        """The leading gesture class, if it also leads no_gesture; else None."""
        top = int(np.argmax(s))
        return top if self._candidate[top] else None

    def _open(self, k: int, t: float) -> None:
        self._active = k
        self._start = float(min(self._rise[k], t))
        self._last_active_t = t
        self._peak = float(self._smooth[k])
        self._fired = False
        self._high_since = None

    def _close(self, t: float, *, overtaken: bool = False) -> list[GestureEvent]:
        k, self._active = self._active, None
        if self._fired or t < self._cool_until or (overtaken and self.config.supersede):
            return []
        end = self._last_active_t
        need = self.config.static_hold_s if self._static[k] else self.config.min_dynamic_s
        if end - self._start < need:
            return []
        # A static gesture is only ever called by its hold time (in _maybe_call_early).
        if self._static[k]:
            return []
        return [self._emit(k, t, end=end, early=False)]

    def _maybe_call_early(self, t: float) -> list[GestureEvent]:
        k = self._active
        if t < self._cool_until:
            return []
        if self._static[k]:
            if t - self._start >= self.config.static_hold_s:
                return [self._emit(k, t, end=None, early=True)]
            return []
        if self._smooth[k] >= self.config.early_threshold:
            if self._high_since is None:
                self._high_since = t
            if t - self._high_since >= self.config.early_min_s:
                return [self._emit(k, t, end=None, early=True)]
        else:
            self._high_since = None
        return []

    def _emit(self, k: int, t: float, *, end: float | None, early: bool) -> GestureEvent:
        self._fired = True
        self._cool_until = t + self.config.cooldown_s
        return GestureEvent(label=self.labels[k], score=self._peak, t=t, start=self._start,
                            end=end, early=early)


def recognize(config: OnlineConfig, labels: Sequence[str], scores: np.ndarray,
              times: np.ndarray) -> list[GestureEvent]:
    """Run a fresh recogniser over a whole stream: scores (N, K), times (N,); flushes at the end."""
    scores = np.asarray(scores)
    times = np.asarray(times, dtype=np.float64)
    if scores.ndim != 2 or times.shape != (scores.shape[0],):
        raise ValueError(f"need scores (N, K) and times (N,), got {scores.shape} and {times.shape}")
    rec = OnlineRecognizer(config, labels)
    events: list[GestureEvent] = []
    for row, t in zip(scores, times):
        events += rec.update(row, float(t))
    if len(times):
        events += rec.flush(float(times[-1]))
    return events
