"""PNG figures for training and evaluation: confusion matrix, training curves, latency CDF.

matplotlib's Agg canvas (no display, no pyplot, no global backend switch); each function writes one PNG and returns
its path. Inputs that cannot make a meaningful figure raise ValueError.
"""
from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence

import numpy as np


def _figure(width: float, height: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    # A Figure on its own Agg canvas, without pyplot: no global backend switch, no display,
    # safe beside a Qt GUI in the same process.
    fig = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(fig)
    return fig


def _save(fig, path: Path | str) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, format="png")
    return path


def confusion_matrix_png(path: Path | str, matrix: np.ndarray, labels: Sequence[str], *,
                         normalise: bool = True, title: str = "Confusion matrix") -> Path:
    """Rows true, columns predicted; cells show counts, coloured (and printed) row-normalised
    when ``normalise`` (rows with no samples stay 0)."""
    cm = np.asarray(matrix)
    k = len(labels)
    if cm.ndim != 2 or cm.shape != (k, k) or k == 0:
        raise ValueError(f"need a ({k}, {k}) matrix for {k} labels, got shape {cm.shape}")
    if not np.all(np.isfinite(cm)) or (cm < 0).any():
        raise ValueError("confusion matrix entries must be finite and non-negative")
    rows = cm.sum(axis=1, keepdims=True).astype(np.float64)
    shown = np.divide(cm, rows, out=np.zeros(cm.shape), where=rows > 0) if normalise else cm
    side = max(4.0, 0.45 * k + 2.0)
    fig = _figure(side + 1.0, side)
    ax = fig.add_subplot()
    image = ax.imshow(shown, cmap="Blues", vmin=0, vmax=1 if normalise else max(1, shown.max()))
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    ax.set_xticks(range(k), labels=list(labels), rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(k), labels=list(labels), fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title + (" (row-normalised)" if normalise else " (counts)"))
    if k <= 30:
        limit = 0.5 * (1 if normalise else max(1, shown.max()))
        for i in range(k):
            for j in range(k):
                if cm[i, j]:
                    text = f"{shown[i, j]:.2f}" if normalise else f"{int(cm[i, j])}"
                    ax.text(j, i, text, ha="center", va="center", fontsize=7,
                            color="white" if shown[i, j] > limit else "black")
    return _save(fig, path)


def training_curves_png(path: Path | str, history: Mapping[str, Sequence[float]], *,
                        title: str = "Training") -> Path:
    """Loss (left) and accuracy (right) against epoch (1, 2, …).

    ``history`` maps series names to per-epoch values; names containing "loss" go to the loss
    panel, names containing "acc" to the accuracy panel (e.g. train_loss, val_loss, train_acc,
    val_acc), each with one value per epoch starting at epoch 1.
    """
    loss = {k: np.asarray(v, dtype=np.float64) for k, v in history.items() if "loss" in k}
    acc = {k: np.asarray(v, dtype=np.float64) for k, v in history.items() if "acc" in k}
    if not loss and not acc:
        raise ValueError("history needs at least one series named *loss* or *acc*")
    for name, values in {**loss, **acc}.items():
        if values.ndim != 1 or values.size == 0:
            raise ValueError(f"series {name!r} must be a non-empty list of numbers")
    from matplotlib.ticker import MaxNLocator

    panels = [(p, n) for p, n in ((loss, "loss"), (acc, "accuracy")) if p]
    fig = _figure(5.0 * len(panels), 4.0)
    for i, (series, name) in enumerate(panels, start=1):
        ax = fig.add_subplot(1, len(panels), i)
        for key, values in series.items():
            ax.plot(np.arange(1, values.size + 1), values, marker="o", markersize=3, label=key)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel(name)
        if name == "accuracy":
            ax.set_ylim(0.0, 1.0)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(title)
    return _save(fig, path)


def latency_cdf_png(path: Path | str, latencies_ms: Mapping[str, Sequence[float]] | Sequence[float],
                    *, title: str = "Latency") -> Path:
    """Empirical CDF of one or more latency samples (ms), with p50 and p95 marked per series."""
    series = latencies_ms if isinstance(latencies_ms, Mapping) else {"latency": latencies_ms}
    data = {k: np.sort(np.asarray(v, dtype=np.float64).reshape(-1)) for k, v in series.items()}
    if not data or any(v.size == 0 for v in data.values()):
        raise ValueError("latency CDF needs at least one non-empty series")
    if any(not np.all(np.isfinite(v)) for v in data.values()):
        raise ValueError("latencies must be finite")
    fig = _figure(6.0, 4.0)
    ax = fig.add_subplot()
    for name, values in data.items():
        y = np.arange(1, values.size + 1) / values.size
        p50, p95 = np.percentile(values, [50, 95])
        ax.step(values, y, where="post", label=f"{name} (p50 {p50:.1f}, p95 {p95:.1f} ms)")
    ax.axhline(0.5, color="grey", lw=0.5, ls="--")
    ax.axhline(0.95, color="grey", lw=0.5, ls="--")
    ax.set_xlabel("latency (ms)")
    ax.set_ylabel("fraction ≤ x")
    ax.set_ylim(0.0, 1.01)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title(title)
    return _save(fig, path)
