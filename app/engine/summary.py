"""The summary, the last JSON line of a headless run (ARCHITECTURE.md, contract 2).

One source: contract 2's fields, then that source's sync and model details. Several sources: the
same fields pooled over all of them, and ``sources``: each one's own summary by its key. Both
shapes are built from the same parts below, so a field means the same in each.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import TYPE_CHECKING

from fusion.metrics import levenshtein

if TYPE_CHECKING:
    from app.engine.feed import Feed
    from app.inference_worker import InferenceWorker
    from app.latency import LatencyStats
    from app.model_runner import ModelRunner


def build_summary(feeds: list[Feed], *, several: bool, stats: LatencyStats, worker: InferenceWorker | None,
                  runner: ModelRunner | None, events: int, deterministic: bool, batches: Counter,
                  actions: dict | None) -> dict:
    """The summary line. ``stats``: the engine's (every decision); ``events``: every event emitted;
    ``batches``: decisions by the size of the batch they ran in; ``actions``: the dispatcher's counts."""
    overall = stats.summary()
    per = {f.label: source_summary(f, worker) for f in feeds} if several else {}
    feed = feeds[0] if feeds and not several else None
    if several:
        frames, dropped, fps = Counter(), Counter(), Counter()
        for one in per.values():
            frames.update(one["frames"])
            dropped.update(one["dropped"])
            fps.update(one["fps"])
        counts = {"frames": dict(frames), "dropped": dict(dropped)}
    else:
        counts = _counts(feed) if feed is not None else {"frames": {}, "dropped": {}}
    summary = {
        "type": "summary",
        **counts,
        "decisions": overall["decisions"],
        "latency_ms": _latency_ms(overall),
        "latency_of": "capture_to_decision",
        "stages_ms": {k: _rounded(v) for k, v in overall["stages_ms"].items()},
        "skipped": (sum(one["skipped"] for one in per.values()) if several
                    else sum(worker.skipped.values()) if worker is not None else 0),
        "events": events,
        "accuracy": _pooled_accuracy(feeds) if several else (feed.accuracy() if feed is not None else None),
    }
    if several:
        summary.update({
            "frame_sets": sum(f.sets for f in feeds),
            "fps": {k: round(v, 2) for k, v in fps.items()},
            **_model(runner, worker, deterministic),
            "batches": {str(k): n for k, n in sorted(batches.items())},
            "wall_s": round(time.monotonic() - min(f.started for f in feeds), 3) if feeds else 0.0,
            "sources": per,
        })
    elif feed is not None:
        summary.update({
            **_sync(feed, detail=True),
            "fps": overall["fps"],
            **_model(feed.runner, worker, deterministic),
            "wall_s": _wall_s(feed),
        })
    if actions is not None:
        summary["actions"] = actions
    return summary


def source_summary(feed: Feed, worker: InferenceWorker | None) -> dict:
    """One source's part of a several-source summary."""
    stats = feed.stats.summary()
    return {
        "source": feed.name,
        **_counts(feed),
        "decisions": feed.decisions,
        "skipped": worker.skipped.get(feed.key, 0) if worker is not None else 0,
        "events": len(feed.events),
        "accuracy": feed.accuracy(),
        "latency_ms": _latency_ms(stats),
        **_sync(feed, detail=False),
        "fps": stats["fps"],
        "wall_s": _wall_s(feed),
    }


def _counts(feed: Feed) -> dict:
    """``frames`` per stream (``skeleton``: frames with a hand) and ``dropped`` (index gaps)."""
    return {"frames": dict(feed.frames), "dropped": {s: st["dropped"] for s, st in feed.sync.stats().items()}}


def _sync(feed: Feed, *, detail: bool) -> dict:
    """How the source's frames were paired: sets, missing partners, duplicates, damage; with
    ``detail`` also the skew between streams and frames overwritten before they were read."""
    sync = feed.sync.stats()
    reference = feed.sync.reference
    fields = {
        "frame_sets": feed.sets,
        "reference": reference,
        "missing": {s: st["missing"] for s, st in sync.items() if s != reference and s != "audio"},
        "duplicates": {s: st["duplicates"] for s, st in sync.items()},
    }
    if detail:
        fields["skew_ms"] = {s: st["skew_ms"] for s, st in sync.items() if "skew_ms" in st}
        fields["overwritten_unread"] = {s: b.overwritten_unread for s, b in feed.sync.buffers.items()}
    fields["damaged"] = int(feed.source.damaged)
    fields["recovery"] = feed.source.recovery
    return fields


def _model(runner: ModelRunner | None, worker: InferenceWorker | None, deterministic: bool) -> dict:
    return {"model": runner.describe() if runner is not None else None,
            "mode": worker.mode if worker is not None else None, "deterministic": deterministic}


def _pooled_accuracy(feeds: list[Feed]) -> dict | None:
    """Over the sources with labels: 1 - sum of edit distances / sum of true gestures."""
    truths = [t for t in (f.truth() for f in feeds) if t is not None]
    if not truths:
        return None
    true = sum(len(truth) for truth, _ in truths)
    edits = sum(levenshtein(truth, called) for truth, called in truths)
    called = sum(len(c) for _, c in truths)
    value = max(0.0, 1.0 - edits / true) if true else float(called == 0)
    return {"levenshtein": round(value, 4), "true": true, "called": called}


def _latency_ms(stats: dict) -> dict:
    return {k: v for k, v in _rounded(stats["latency_ms"]).items() if k != "n"}


def _rounded(values: dict) -> dict:
    return {k: (None if v is None else round(v, 3)) for k, v in values.items()}


def _wall_s(feed: Feed) -> float:
    return round(time.monotonic() - feed.started, 3)
