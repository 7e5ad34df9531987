"""Teach's fine-tune with the per-frame stages frozen: each clip's stage features computed once.

A skeleton model spends nearly all of a training step in its per-frame graph stages (measured:
14 of 16 ms for a batch of 32 windows on the 2-core CPU). When teach keeps the stages as shipped,
weights and batch-norm statistics (``TeachConfig.freeze_stages``, the default), a clip's per-frame
features cannot change while the temporal layers and the classifier learn, so ``fit_cached``
computes them once and trains on them:

```
clips (N, T, C, J) ──▶ the training's augmentation, drawn ``views`` times per clip ──▶ frozen stages
   ──▶ features (views, N, C', T) ──▶ each epoch: a random window of each clip, view e mod views
   ──▶ temporal layers (learning, or frozen too) ──▶ classifier ──▶ cross-entropy
```

What differs from ``fusion.train.train`` on the same clips: the augmentation (``AugmentConfig``:
shift, size, in-picture turn, z, jitter) is drawn ``views`` times per clip instead of once per
epoch; the windows are cropped as ``PreparedClips.batch`` crops them, the optimiser, learning-rate
schedule, label smoothing and gradient clipping are the same. docs/BENCHMARKS.md "Teach" measures
what the cache changes in the results and the time.
"""

from __future__ import annotations

import time
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

from fusion.augment import augment
from fusion.augment_config import AugmentConfig
from fusion.checkpoint import read_checkpoint, save_checkpoint
from fusion.data.model_inputs import PreparedClips, to_inputs
from fusion.train import _load_growing_heads, _lr_at  # the training loop's own weight loading and schedule
from fusion.train_config import TrainConfig

STREAM = "skeleton"


def fit_cached(base: str, out: str, clips: PreparedClips, *, frozen: tuple[str, ...], epochs: int, lr: float,
               batch: int, seed: int, views: int, augment_config: AugmentConfig | None = AugmentConfig(),
               threads: int | None = None, command: str = "teach",
               on_epoch: Callable[[int, int], None] = lambda done, epochs: None) -> float:
    """Fine-tune skeleton model ``base`` on ``clips`` (labelled in its labels and any new ones after
    them) with the stages frozen, and write ``out``; the seconds it took. ``on_epoch(done, epochs)``
    is called after each epoch (the command's progress lines).

    ``frozen`` names the modules that stay as loaded (``fusion.teach``'s FRAME_STAGES, and its
    TEMPORAL_LAYERS when only the classifier learns); it must hold the stages."""
    if threads:
        torch.set_num_threads(threads)
    start = time.monotonic()
    torch.manual_seed(seed)
    model, labels = _grown(base, clips.labels)
    stream = model.streams[STREAM]
    modules = [model.get_submodule(name) for name in frozen]
    if stream.stages not in modules:
        raise ValueError("fit_cached needs the per-frame stages frozen")
    for module in modules:
        module.requires_grad_(False)
    gen = torch.Generator().manual_seed(seed * 1000 + 17)
    features = features_of(model, clips, views, augment_config, gen)  # (views, N, C, T)

    rng = np.random.default_rng([seed, 11])
    label = torch.as_tensor(clips.label)
    steps_per_epoch = len(clips) // batch
    total = steps_per_epoch * epochs
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=lr, weight_decay=TrainConfig.weight_decay)
    smoothing = TrainConfig.label_smoothing
    history: dict[str, list[float]] = {"train_loss": [], "train_acc": []}
    step = 0
    for epoch in range(epochs):
        model.train()
        for module in modules:  # their batch-norm statistics stay as loaded
            module.eval()
        order = rng.permutation(len(clips))
        sums = [0.0, 0.0, 0]
        for s in range(steps_per_epoch):
            idx = order[s * batch:(s + 1) * batch]
            x = windows(features[epoch % views], clips, idx, clips.crop_starts(idx, rng))
            for group in optimizer.param_groups:
                group["lr"] = _lr_at(step, total, lr)
            logits = stream.temporal(x)
            loss = F.cross_entropy(logits, label[idx], label_smoothing=smoothing)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 5.0)
            optimizer.step()
            step += 1
            sums[0] += float(loss.detach()) * len(idx)
            sums[1] += float((logits.detach().argmax(1) == label[idx]).sum())
            sums[2] += len(idx)
        history["train_loss"].append(sums[0] / max(sums[2], 1))
        history["train_acc"].append(sums[1] / max(sums[2], 1))
        on_epoch(epoch + 1, epochs)
    seconds = time.monotonic() - start
    training = {"command": command, "seed": seed, "epochs": epochs, "epochs_planned": epochs, "batch": batch,
                "lr": lr, "seconds": round(seconds, 1), "history": history, "device": "cpu",
                "recipe": {"fusion": "none", "init": {}, "finetune": base, "freeze": list(frozen), "distill": 0.0,
                           "cached_features": {"views": views}},
                "data": {"kind": "takes", "clips": len(clips), "train": len(clips), "val": 0,
                         "labels": list(clips.labels)}}
    save_checkpoint(out, model, labels=labels, training=training)
    return seconds


def _grown(base: str, data_labels: tuple[str, ...]):
    """The base skeleton model, its classifier grown by the labels it does not have, and the labels."""
    from fusion.build import build_model

    meta, state = read_checkpoint(base)
    if tuple(meta.config.modalities) != (STREAM,) or meta.config.shape != "streaming":
        raise ValueError(f"{base}: fit_cached fine-tunes streaming skeleton models")
    labels = tuple(meta.labels) + tuple(l for l in data_labels if l not in meta.labels)
    model = build_model(meta.config.replace(num_classes=len(labels)))
    _load_growing_heads(model, state, len(meta.labels), base)
    return model, labels


@torch.no_grad()
def features_of(model, clips: PreparedClips, views: int, augment_config: AugmentConfig | None,
              gen: torch.Generator, chunk: int = 64) -> torch.Tensor:
    """Every frame of every clip through the frozen stages, once per view: (views, N, C, T).

    Each view of a clip draws the training's augmentation anew (one draw for the whole clip, as the
    training draws one for a window); the stages run in eval mode, as they do frozen."""
    stream = model.streams[STREAM]
    stream.stages.eval()
    out = []
    for _ in range(views):
        parts = []
        for i in range(0, len(clips), chunk):
            x = to_inputs(None, None, clips.skeleton[i:i + chunk], clips.spec, (STREAM,))
            if augment_config is not None:
                x = augment(x, augment_config, gen)
            skeleton = x[STREAM]
            parts.append(stream.sequence(stream.forward_features(skeleton)[-1], skeleton.shape[0]))
        out.append(torch.cat(parts))
    return torch.stack(out)


def windows(features: torch.Tensor, clips: PreparedClips, idx: np.ndarray, starts: np.ndarray) -> torch.Tensor:
    """The features (B, C, T_window) of the windows of clips ``idx`` that begin at ``starts`` (as
    ``PreparedClips.batch`` crops frames: a skeleton model reads no frame before its window)."""
    cols = torch.as_tensor(starts[:, None] + np.arange(min(clips.spec.window, clips.frames))[None, :])
    picked = features[torch.as_tensor(idx)]  # (B, C, T)
    return torch.gather(picked, 2, cols[:, None, :].expand(-1, picked.shape[1], -1))
