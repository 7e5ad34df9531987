"""Teach a skeleton model your gestures: a fast fine-tune on a few takes, replaying what it knows.

    takes = recording_clips(find_recordings("takes/"), labels=..., spec=...)   # or any PreparedClips
    report = teach(TeachConfig(model="assets/model_skeleton.pt", out="my_model.pt"), takes)

The takes (a gesture the model knows, done your way, or a new name) are mixed with ``replay``
clips of the synthetic skeleton world (drawn fresh with a fixed seed, every label of the base model,
seen by cameras at 15-60 fps) so that the old gestures are not forgotten, and the skeleton model is
fine-tuned for a few epochs (new labels grow the classifier). With ``freeze_stages`` (the default)
the per-frame graph stages, weights and batch-norm statistics, stay as shipped and only the temporal
layers and the classifier learn: the stages' picture of a hand was learnt from far more hands than a
few takes show. Frozen stages give each clip the same per-frame features throughout, so they are
computed once (``fusion.teach_fit``, for ``feature_views`` draws of the training's augmentation)
and the fine-tune trains the temporal layers on them, several times faster than the full training
loop (``feature_views = 0``, ``fusion.train`` with ``finetune``).

New gestures (every gesture taught a name the model does not know) are taught by their own recipe,
``TeachConfig.new`` (``NewGestures``; docs/BENCHMARKS.md "Teach"): five takes show one hand
held one way, so its copies are also turned out of the picture (``view_deg``) and made with other
finger lengths (``fingers``), more of them learn against more replay, and the replay holds more of
the old gestures the base model takes the new one's takes for (``confusable``: a wave's are open
palms); then the new gesture's classifier bias is set so that a share ``false_calls`` of
``calibration`` other synthetic clips are called it (its false-call budget, where training alone
leaves it wherever five takes put it). With ``new=None``, ``head_only_when_new`` keeps the
temporal layers as well and only the classifier learns (the recipe before), its copies turned only
within the leans the takes show (``head_turn_deg``), at a lower rate (``head_lr``). A known gesture
taught your way has to move how the model reads that gesture, so then the temporal layers learn.
The personal model keeps the base model's recogniser settings.

Each take is copied ``repeat`` times per epoch so that a handful of takes weigh as much as the
replay (a gesture of more than ``full_takes`` takes gets fewer copies of each: it weighs as that
many do, so more takes show more of it without drowning the others), each copy but the first turned
and played at a speed within ``speed`` (``fusion.take_augment``: five takes otherwise teach the
angle and pace they happened to have), then the training's own augmentation. With ``lean_span``
(the default) the copies of a gesture lean anywhere between the most different leans its takes
show, and ``turn_deg`` beyond: a user who shows an open palm held up and hanging down means both,
and the ones between. ``distill`` (off by default) adds the base model's own answers on the
replayed clips of the labels not taught (``TrainConfig.distill``); docs/BENCHMARKS.md "Teach"
measures what it keeps and what it costs.

``check`` (on by default) says what the user gets before using it: for each taught label, an
estimate from ``folds`` trainings that each hold one take of every taught label out (scored on the
held-out takes), and the new model's top-1 on ``held_back`` synthetic clips of the old labels
(drawn with another seed than the replay).

Gestures taught before (labels the synthetic world does not know) are not replayed: teach them again
with the new ones. Only skeleton models are taught (``assets/model_skeleton.pt`` and fine-tuned ones): the replay of a
fused model would need rendered images, minutes of them on a CPU.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import numpy as np

from fusion.errors import BadInput
from fusion.labels import DEFAULT_LABELS, NO_GESTURE

if TYPE_CHECKING:  # the command line reads TeachConfig's defaults without loading torch
    from fusion.data.model_inputs import PreparedClips

CAMERA_FPS = (15.0, 20.0, 25.0, 30.0, 60.0)
FRAME_STAGES = "streams.skeleton.stages"  # a skeleton model's per-frame graph stages
TEMPORAL_LAYERS = "streams.skeleton.temporal.layers"  # ... and its causal temporal layers (then the classifier)


@dataclass(frozen=True)
class NewGestures:
    """How new gestures are taught (``TeachConfig.new``: every gesture taught is a name the model does
    not know); its first six settings replace TeachConfig's. docs/BENCHMARKS.md "Teach" measures it."""

    epochs: int = 20
    repeat: int = 160
    turn_deg: float = 15.0
    view_deg: float = 60.0
    fingers: float = 0.15
    replay: int = 3400
    confusable: int = 680  # more replay clips, of the old gestures the base model takes the new ones' takes for
    false_calls: float = 0.01  # each new gesture's bias set so that this share of ...
    calibration: int = 680  # ... this many other synthetic clips are called it (0 share: as trained)

    def validate(self) -> None:
        if min(self.confusable, self.calibration) < 0 or not 0 <= self.false_calls < 0.5:
            raise BadInput("teach needs confusable and calibration >= 0 and false_calls in [0, 0.5)")


@dataclass(frozen=True)
class TeachConfig:
    model: str  # the skeleton model to start from
    out: str  # the personal model to write
    epochs: int = 12
    lr: float = 1e-3
    batch: int = 32
    repeat: int = 24  # copies of each take per epoch, ...
    full_takes: int = 5  # ... fewer for a gesture of more takes: it weighs as this many takes do
    turn_deg: float = 60.0  # each copy's hand turned in the image plane by up to ± this beyond the takes' leans
    lean_span: bool = True  # copies span the leans of a gesture's takes (False: ±turn_deg about each take)
    speed: tuple[float, float] = (0.67, 1.5)  # ... and played this many times as fast (log-uniform)
    view_deg: float = 0.0  # ... and turned out of the picture (yaw, pitch) by up to ± this (new gestures: NewGestures)
    fingers: float = 0.0  # ... and made by a hand whose fingers are 1 ± this times as long (the same)
    freeze_stages: bool = True  # the per-frame graph stages stay as shipped
    new: NewGestures | None = NewGestures()  # every gesture taught new: this recipe (None: as below)
    head_only_when_new: bool = True  # without ``new``, every gesture taught new: only the classifier learns, with
    head_turn_deg: float = 0.0  # ... the copies turned only within the takes' own leans and this beyond
    head_lr: float = 5e-4  # ... at this learning rate
    distill: float = 0.0  # weight of the base model's own answers on the replay of the labels not taught
    # With the stages frozen (and no distill): their per-frame features are computed once per clip, for
    # this many draws of the training's augmentation (fusion.teach_fit); 0: the full training loop.
    feature_views: int = 1
    replay: int = 680  # synthetic clips of the base model's labels (40 a class for 17 labels)
    held_back: int = 170  # synthetic clips for the old-gesture check
    folds: int = 3  # check: trainings with one take of each taught label held out (0: no estimate)
    check: bool = True
    seed: int = 0
    threads: int | None = None

    def validate(self) -> None:
        if self.epochs < 1 or self.repeat < 1 or self.full_takes < 1 or self.batch < 2 or not self.lr > 0:
            raise BadInput("teach needs epochs >= 1, repeat >= 1, full_takes >= 1, batch >= 2 and lr > 0")
        if min(self.replay, self.held_back, self.folds, self.feature_views) < 0:
            raise BadInput("teach needs replay, held_back, folds and feature_views >= 0")
        if not (0 <= self.turn_deg <= 180 and 0 <= self.head_turn_deg <= 180) or not self.head_lr > 0:
            raise BadInput("teach needs turn_deg and head_turn_deg in [0, 180] and head_lr > 0")
        if not (0 <= self.view_deg <= 80 and 0 <= self.fingers < 1):
            raise BadInput("teach needs view_deg in [0, 80] and fingers in [0, 1)")
        if not 0 < self.speed[0] <= self.speed[1]:
            raise BadInput("teach needs speed as (low, high) with 0 < low <= high")
        if self.new is not None:
            self.new.validate()
            replace(self, new=None, **_recipe(self.new)).validate()


@dataclass(frozen=True)
class TeachReport:
    out: str
    labels: tuple[str, ...]  # the personal model's labels
    taught: dict[str, int]  # label -> takes
    new_labels: tuple[str, ...]  # taught labels the base model did not have
    seconds: float  # the fine-tune that wrote ``out``
    frozen: tuple[str, ...]  # the modules that stayed as they were (TeachConfig.freeze_stages, head_only_when_new)
    recipe: str  # "new gestures" (TeachConfig.new), "classifier alone" or "temporal layers"
    estimate: dict[str, float]  # label -> share of held-out takes called right (check with folds)
    old_top1: float | None  # top-1 on held-back synthetic clips of the base model's labels
    base_old_top1: float | None  # the base model's top-1 on the same clips

    def to_dict(self) -> dict:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.__dict__.items()}


def teach(config: TeachConfig, takes: PreparedClips, *, log: Callable[[str], None] = lambda line: None
          ) -> TeachReport:
    """Fine-tune ``config.model`` on ``takes`` (module docstring) and write ``config.out``; ``log``
    gets a line as each step starts (the command prints them: the check takes a while)."""
    from fusion.checkpoint import read_checkpoint

    config.validate()
    meta, _ = read_checkpoint(config.model)
    if tuple(meta.config.modalities) != ("skeleton",):
        raise BadInput(f"{config.model}: teach fine-tunes skeleton models; this one reads "
                       f"{'+'.join(meta.config.modalities)} (use assets/model_skeleton.pt)")
    if len(takes) == 0:
        raise BadInput("no takes to teach")
    if "skeleton" in takes.missing:
        raise BadInput("the takes hold no hand skeletons (record them from a webcam, a video or a RealSense "
                       "with the hand tracked)")
    labels = tuple(meta.labels) + tuple(l for l in takes.labels if l not in meta.labels)
    takes = _skeleton_only(takes.relabel(labels))
    counts = {labels[k]: int(n) for k, n in zip(*np.unique(takes.label, return_counts=True))}
    taught = {l: n for l, n in counts.items() if l != NO_GESTURE}
    if not taught:
        raise BadInput("the takes hold no gesture (only no_gesture)")
    new = tuple(l for l in taught if l not in meta.labels)
    new_only = len(new) == len(taught)
    recipe = config.new if new_only else None  # None: the config's own settings
    if recipe is not None:
        name, config = "new gestures", replace(config, head_only_when_new=False, **_recipe(recipe))
    else:
        name = "classifier alone" if new_only and config.head_only_when_new else "temporal layers"
    spec = meta.config.input
    log(f"drawing {config.replay} synthetic clips of the gestures it knows")
    replay = skeleton_world_clips(meta.labels, spec, config.replay, seed=config.seed * 7 + 101, labels=labels)
    if recipe is not None and recipe.confusable:
        like = _taken_for(config.model, takes, new)
        log(f"drawing {recipe.confusable} more of the gestures the new ones are taken for ({', '.join(like)})")
        more = skeleton_world_clips(like, spec, recipe.confusable, seed=config.seed * 7 + 404, labels=labels)
        if more is not None:
            from fusion.data.model_inputs import concat

            replay = more if replay is None else concat([replay, more])
    start = time.monotonic()
    calibration = None
    if recipe is not None and recipe.false_calls and recipe.calibration:
        log(f"drawing {recipe.calibration} synthetic clips to set the new gestures' false-call rate by")
        calibration = skeleton_world_clips(meta.labels, spec, recipe.calibration, seed=config.seed * 7 + 303,
                                           labels=labels)
    log(f"fine-tuning on {len(takes)} takes ({config.epochs} epochs, {name})")
    kept = tuple(l for l in meta.labels if l not in taught)  # the labels it keeps its own answers on
    frozen = _frozen(config, new_only=new_only)
    if TEMPORAL_LAYERS in frozen:  # the classifier alone: its own turns and rate (the check trains the same)
        config = replace(config, turn_deg=config.head_turn_deg, lr=config.head_lr)
    tune = _Calibration(calibration, new, recipe.false_calls) if calibration is not None else None
    _fine_tune(config, config.out, _mix(takes, replay, config), kept, frozen, tune,
               on_epoch=lambda done, epochs: log(f"fine-tuning: epoch {done} of {epochs}"))
    seconds = time.monotonic() - start

    estimate: dict[str, float] = {}
    old_top1 = base_old_top1 = None
    if config.check:
        log(f"checking the old gestures on {config.held_back} held-back synthetic clips")
        held = skeleton_world_clips(meta.labels, spec, config.held_back, seed=config.seed * 7 + 202,
                                    labels=tuple(meta.labels))
        if held is not None:
            old_top1 = offline_top1(config.out, held.relabel(labels))
            base_old_top1 = offline_top1(config.model, held)
        if config.folds:
            estimate = _cross_validate(config, takes, replay, labels, taught, kept, frozen, tune, log)
    return TeachReport(out=config.out, labels=labels, taught=taught, new_labels=new, seconds=round(seconds, 1),
                       frozen=frozen, recipe=name, estimate=estimate, old_top1=old_top1,
                       base_old_top1=base_old_top1)


def _recipe(new: NewGestures) -> dict:
    """The TeachConfig settings that a new-gesture recipe replaces."""
    return dict(epochs=new.epochs, repeat=new.repeat, turn_deg=new.turn_deg, view_deg=new.view_deg,
                fingers=new.fingers, replay=new.replay)


def _frozen(config: TeachConfig, *, new_only: bool) -> tuple[str, ...]:
    """The modules the fine-tune leaves alone: only the classifier learns when every gesture taught is
    new (``head_only_when_new``), the temporal layers too otherwise; the stages with ``freeze_stages``."""
    if new_only and config.head_only_when_new:
        return FRAME_STAGES, TEMPORAL_LAYERS
    return (FRAME_STAGES,) if config.freeze_stages else ()


@dataclass(frozen=True)
class _Calibration:
    """What sets the new gestures' classifier biases: clips of the other gestures, and the share of
    them each new gesture may call itself (``NewGestures.false_calls``)."""

    clips: PreparedClips
    labels: tuple[str, ...]
    share: float


def _fine_tune(config: TeachConfig, out: str, clips: PreparedClips, kept: tuple[str, ...],
               frozen: tuple[str, ...], tune: _Calibration | None = None,
               on_epoch: Callable[[int, int], None] = lambda done, epochs: None) -> None:
    """The fine-tune: on the stages' cached features (``fusion.teach_fit``) when they are frozen
    and ``feature_views`` asks for it, else ``train`` with ``finetune`` (only the model is kept: no
    resumable state, no curves); ``on_epoch(done, epochs)`` after each epoch. Then each new gesture's bias is set by ``tune``, and the personal
    model keeps the base model's recogniser settings (``training["online"]``): they were tuned for
    the gestures it shares with it."""
    from fusion.checkpoint import load_checkpoint, read_checkpoint, save_checkpoint

    if config.feature_views and FRAME_STAGES in frozen and not config.distill:
        from fusion.teach_fit import fit_cached

        fit_cached(config.model, out, clips, frozen=frozen, epochs=config.epochs, lr=config.lr, batch=config.batch,
                   seed=config.seed, views=config.feature_views, threads=config.threads, on_epoch=on_epoch)
    else:
        from fusion.train import curves_path, train
        from fusion.train_config import TrainConfig
        from fusion.train_state import state_path

        train(TrainConfig(data="takes", out=out, finetune=config.model, epochs=config.epochs, batch=config.batch,
                          lr=config.lr, seed=config.seed, threads=config.threads, val_fraction=0.0, progress=False,
                          freeze=frozen, distill=config.distill,
                          distill_labels=kept, command="teach"), clips=clips,
              on_epoch=lambda done, model: on_epoch(done, config.epochs))
        state_path(out).unlink(missing_ok=True)
        curves_path(out).unlink(missing_ok=True)
    model, meta = load_checkpoint(out)
    training = dict(meta.training)
    online = read_checkpoint(config.model)[0].training.get("online")
    if online:
        training["online"] = online
    if tune is not None:
        training["calibrated"] = _set_biases(model, meta.labels, tune)
    save_checkpoint(out, model, labels=meta.labels, training=training)


def _set_biases(model, labels: tuple[str, ...], tune: _Calibration) -> dict:
    """Move each new label's classifier bias so that a share ``tune.share`` of ``tune.clips`` (windows
    centred on their gestures) score it above every other label; what was done, for the metadata."""
    import torch

    logits = _logits(model, tune.clips)
    bias = model.streams["skeleton"].temporal.fc.bias
    shifts = {}
    for label in tune.labels:
        k = labels.index(label)
        margin = logits[:, k] - np.delete(logits, k, axis=1).max(axis=1)
        shift = -float(np.quantile(margin, 1.0 - tune.share))
        with torch.no_grad():
            bias[k] += shift
        logits[:, k] += shift
        shifts[label] = round(shift, 4)
    return {"share": tune.share, "clips": len(tune.clips), "shifts": shifts}


def _logits(model, clips: PreparedClips, batch: int = 64) -> np.ndarray:
    """A model's logits (N, K) on ``clips``, a window centred on each gesture."""
    import torch

    model.eval()
    out = []
    with torch.no_grad():
        for i in range(0, len(clips), batch):
            x, _ = clips.batch(np.arange(i, min(i + batch, len(clips))), ("skeleton",), lead=model.lead_frames)
            out.append(model(x).logits.numpy())
    return np.concatenate(out)


def _cross_validate(config: TeachConfig, takes: PreparedClips, replay: PreparedClips, labels: tuple[str, ...],
                    taught: dict[str, int], kept: tuple[str, ...], frozen: tuple[str, ...],
                    tune: _Calibration | None, log: Callable[[str], None]) -> dict[str, float]:
    """Fold k holds out the k-th take (mod its count) of every taught label; share called right."""
    folds = min(config.folds, min(taught.values()))
    if folds < 2:
        return {}
    take_no = np.zeros(len(takes), np.int64)
    for k in np.unique(takes.label):
        idx = np.flatnonzero(takes.label == k)
        take_no[idx] = np.arange(len(idx))
    right = {l: 0 for l in taught}
    seen = {l: 0 for l in taught}
    with tempfile.TemporaryDirectory(prefix="mmtm-teach-") as tmp:
        for fold in range(folds):
            log(f"estimating from held-out takes: training {fold + 1} of {folds}")
            out_mask = (take_no % folds == fold) & np.isin(takes.label, [labels.index(l) for l in taught])
            out = str(Path(tmp) / f"fold{fold}.pt")
            _fine_tune(config, out, _mix(takes.subset(np.flatnonzero(~out_mask)), replay, config), kept, frozen, tune)
            held = takes.subset(np.flatnonzero(out_mask))
            called = _predict(out, held)
            for truth, got in zip(held.label, called):
                seen[labels[truth]] += 1
                right[labels[truth]] += int(truth == got)
    return {l: round(right[l] / seen[l], 3) for l in taught if seen[l]}


def _skeleton_only(clips: PreparedClips) -> PreparedClips:
    """The clips without their images (a recording's color and depth, which a skeleton model never reads)."""
    from fusion.data.model_inputs import SKELETON_ONLY, PreparedClips

    n, frames = clips.skeleton.shape[:2]
    return PreparedClips(rgb=np.zeros((n, frames, 0, 0, 3), np.uint8), depth=np.zeros((n, frames, 0, 0), np.float16),
                         skeleton=clips.skeleton, label=clips.label, active=clips.active, labels=clips.labels,
                         spec=clips.spec, missing=SKELETON_ONLY)


def _mix(takes: PreparedClips, replay: PreparedClips | None, config: TeachConfig) -> PreparedClips:
    """``config.repeat`` varied copies of each take (fewer past ``full_takes``), then the replay clips."""
    from fusion.data.model_inputs import concat
    from fusion.take_augment import copies_per_take, varied_copies

    copies = varied_copies(takes, copies_per_take(takes.label, config.repeat, config.full_takes),
                           np.random.default_rng([config.seed, 31]), turn_deg=config.turn_deg, speed=config.speed,
                           span=config.lean_span, view_deg=config.view_deg, fingers=config.fingers)
    return concat([copies, replay]) if replay is not None else copies


def skeleton_world_clips(base_labels, spec, count: int, *, seed: int, labels: tuple[str, ...]
                         ) -> PreparedClips | None:
    """``count`` skeleton-world clips of the base model's labels that the synthetic world knows,
    prepared for ``spec`` and labelled in ``labels``; None for none."""
    from fusion.data.model_inputs import prepare_dataset
    from fusion.data.synthetic.dataset_files import write_dataset
    from fusion.data.synthetic.world import SynthConfig

    known = tuple(l for l in base_labels if l in DEFAULT_LABELS)
    if count == 0 or not known:
        return None
    config = SynthConfig(labels=known, render=False, camera_fps=CAMERA_FPS)
    with tempfile.TemporaryDirectory(prefix="mmtm-replay-") as tmp:
        write_dataset(Path(tmp), clips=count, streams=0, seed=seed, config=config, workers=1)
        clips = prepare_dataset(tmp, spec, cache=False, write_cache=False, progress=False, streams=False)
    return clips.relabel(labels)


def _taken_for(model_path: str, takes: PreparedClips, new: tuple[str, ...]) -> tuple[str, ...]:
    """The base model's labels it calls the takes of the ``new`` labels (windows centred on them)."""
    from fusion.checkpoint import read_checkpoint

    mine = np.flatnonzero(np.isin(takes.label, [takes.labels.index(l) for l in new]))
    base = read_checkpoint(model_path)[0].labels
    return tuple(sorted({base[k] for k in _predict(model_path, takes.subset(mine))}))


def _predict(model_path: str, clips: PreparedClips) -> np.ndarray:
    from fusion.checkpoint import load_checkpoint
    from fusion.train import predict

    model, _ = load_checkpoint(model_path)
    called, _ = predict(model, clips, np.arange(len(clips)), ("skeleton",))
    return called


def offline_top1(model_path: str, clips: PreparedClips) -> float:
    """A skeleton model's top-1 on ``clips`` (labelled in its labels), a window centred on each gesture."""
    return round(float(np.mean(_predict(model_path, clips) == clips.label)), 3)
