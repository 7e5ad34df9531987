"""Training: one stream alone, late fusion or MMTM, by the paper's recipe; resumable; DDP-ready.

The paper's recipe (Joze et al., CVPR 2020, §4)::

    train rgb, depth, skeleton alone          --fusion none --modalities rgb      → rgb.pt   (etc.)
    build the fusion net from those streams   --fusion mmtm --init rgb=rgb.pt,depth=depth.pt,skeleton=skel.pt
      (MMTM "paper" variant = identity at init, so training starts from the unimodal networks)
    fine-tune                                 --epochs N
    late fusion from the same checkpoints     --fusion late --init … --epochs 0   (plain averaging)

Files written by rank 0 (``OUT`` is ``--out``)::

    OUT                    the checkpoint (fusion.checkpoint format), after every epoch
    OUT.state.pt           optimizer, scheduler step, epoch, RNG states (for --resume; weights_only)
    OUT minus .pt + .curves.png   loss and accuracy per epoch

The same command runs under ``torchrun --nproc_per_node=N`` (DistributedDataParallel, a
DistributedSampler per epoch, gradients averaged, rank 0 writes).
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path
from typing import Callable, Mapping, NamedTuple

import numpy as np
import torch
import torch.nn.functional as F

from fusion import distributed
from fusion.augment import augment, modality_dropout
from fusion.build import build_model
from fusion.checkpoint import load_unimodal_checkpoints, read_checkpoint, save_checkpoint
from fusion.errors import BadInput
from fusion.model_config import ModelConfig
from fusion.preprocess import InputSpec
from fusion.progress import Progress
from fusion.train_config import TrainConfig
from fusion.train_state import load_state, save_state, state_path


def model_config_for(config: TrainConfig, num_classes: int) -> ModelConfig:
    """The network to train: ``config.model`` with ``num_classes``; with --init, the streams' architecture
    from the first checkpoint (what the rgb stream sees from the rgb one) and from ``config.model`` the
    modalities, the fusion, the shape and where MMTM sits."""
    model = config.model
    try:
        if not config.init:
            return model.replace(num_classes=num_classes)
        metas = {m: read_checkpoint(path)[0] for m, path in config.init}
        base = metas[config.init[0][0]].config
        # what the rgb stream sees comes from the rgb checkpoint, whichever --init is first
        rgb_input = metas["rgb"].config.rgb_input if "rgb" in metas else base.rgb_input
        return base.replace(modalities=model.modalities, fusion=model.fusion, shape=model.shape,
                            num_classes=num_classes, rgb_input=rgb_input, mmtm_stages=model.mmtm_stages,
                            mmtm_temporal=model.mmtm_temporal, mmtm_pooled=model.mmtm_pooled)
    except ValueError as error:
        raise BadInput(f"bad model options: {error}") from None


def _check_files(config: TrainConfig, *, data_given: bool = False) -> None:
    """``BadInput`` for a missing or damaged --init or --finetune checkpoint or --data folder (unless
    the clips are given), before any data is read."""
    for path in [config.finetune] if config.finetune else [path for _, path in config.init]:
        read_checkpoint(path)
    for part in [] if data_given else config.data.split(","):
        if not Path(part).exists():
            raise BadInput(f"data folder not found: {part}")
    if config.real:
        from fusion.data.readers.real import read_manifest

        read_manifest(config.real)  # missing or malformed: BadInput before any data is read
    if config.readings:
        from fusion.data.readings import load_readings

        load_readings(config.readings)


def curves_path(out: str | Path) -> Path:
    out = Path(out)
    return out.with_name(out.stem + ".curves.png")


# --- training ------------------------------------------------------------------------------------

def _split(n: int, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(train, val) clip indices; the split depends only on n and seed."""
    order = np.random.default_rng([seed, 7]).permutation(n)
    k = int(round(n * fraction)) if fraction > 0 else 0
    k = min(k, n - 2)
    return np.sort(order[k:]), np.sort(order[:k])


def _loss(out, labels: torch.Tensor, present: Mapping[str, torch.Tensor] | None, config: TrainConfig
          ) -> torch.Tensor:
    loss = F.cross_entropy(out.logits, labels, label_smoothing=config.label_smoothing)
    if config.aux_loss > 0 and len(out.streams) > 1:
        aux = []
        for m, logits in out.streams.items():
            each = F.cross_entropy(logits, labels, reduction="none", label_smoothing=config.label_smoothing)
            w = present[m].to(each.dtype) if present is not None else torch.ones_like(each)
            aux.append((each * w).sum() / w.sum().clamp(min=1.0))
        loss = loss + config.aux_loss * torch.stack(aux).mean()
    return loss


@torch.no_grad()
def predict(model, clips, indices: np.ndarray, modalities: tuple[str, ...], *, batch: int = 32,
            device: str = "cpu") -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Fused and per-stream predicted classes of clips ``indices`` (windows centred on the gesture)."""
    model.eval()
    fused, streams = [], {m: [] for m in modalities}
    for i in range(0, len(indices), batch):
        x, _ = clips.batch(indices[i:i + batch], modalities, lead=model.lead_frames)
        present = clips.presence(indices[i:i + batch], modalities)
        out = model({k: v.to(device) for k, v in x.items()},
                    None if present is None else {k: v.to(device) for k, v in present.items()})
        fused.append(out.logits.argmax(1).cpu().numpy())
        for m, logits in out.streams.items():
            streams[m].append(logits.argmax(1).cpu().numpy())
    return (np.concatenate(fused) if fused else np.zeros(0, np.int64),
            {m: np.concatenate(v) for m, v in streams.items() if v})


def _with_what_clips_lack(present: dict[str, torch.Tensor] | None, has: dict[str, torch.Tensor] | None
                          ) -> dict[str, torch.Tensor] | None:
    """Modality dropout's masks with what each clip lacks marked absent (``PreparedClips.presence``);
    a clip left with nothing gets back the first modality it has."""
    if has is None:
        return present
    kept = present or {m: torch.ones_like(v) for m, v in has.items()}
    present = {m: kept[m] * v for m, v in has.items()}
    none = sum(present.values()) == 0
    for m, v in has.items():
        back = none & (v > 0)
        present[m] = torch.where(back, torch.ones_like(present[m]), present[m])
        none = none & ~back
    return present


def _lr_at(step: int, total: int, base: float) -> float:
    warm = max(1, int(0.05 * total))
    if step < warm:
        return base * (step + 1) / warm
    progress = (step - warm) / max(1, total - warm)
    return base * (0.02 + 0.98 * 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress))))


def _freeze(model: torch.nn.Module, names: tuple[str, ...]) -> list[torch.nn.Module]:
    """The modules ``names`` of ``model``, their weights no longer trained; ``BadInput`` for a name
    the model does not have."""
    frozen = []
    for name in names:
        try:
            module = model.get_submodule(name)
        except AttributeError:
            raise BadInput(f"cannot freeze {name!r}: the model has no such module") from None
        module.requires_grad_(False)
        frozen.append(module)
    return frozen


DISTILL_T = 2.0  # softmax temperature of the distillation


class _Teacher(NamedTuple):
    """The model being fine-tuned as it was loaded (frozen, eval mode), and which clips it teaches:
    ``keep[label]`` for each label index of the training."""

    model: torch.nn.Module
    keep: torch.Tensor


def _teacher(config: TrainConfig, labels: tuple[str, ...], device: str) -> _Teacher | None:
    if not config.distill:
        return None
    from fusion.checkpoint import load_checkpoint

    model, meta = load_checkpoint(config.finetune, device=device)
    model.requires_grad_(False)
    keep = torch.tensor([l in config.distill_labels and l in meta.labels for l in labels], device=device)
    return _Teacher(model, keep)


def _distill_loss(logits: torch.Tensor, teacher: _Teacher, x: Mapping[str, torch.Tensor],
                  present: Mapping[str, torch.Tensor] | None, labels: torch.Tensor) -> torch.Tensor:
    """KL(teacher || student) at temperature ``DISTILL_T`` over the teacher's classes (the first of the
    student's), averaged over the batch's clips that the teacher teaches (0 for none)."""
    mask = teacher.keep[labels]
    if not bool(mask.any()):
        return logits.new_zeros(())
    with torch.no_grad():
        target = teacher.model(x, present).logits[mask]
    old = logits[mask, :target.shape[1]]
    return F.kl_div(F.log_softmax(old / DISTILL_T, dim=1), F.log_softmax(target / DISTILL_T, dim=1),
                    log_target=True, reduction="batchmean") * DISTILL_T ** 2


def train(config: TrainConfig, *, clips=None, on_epoch: Callable[[int, torch.nn.Module], None] | None = None) -> dict:
    """Run ``config``; returns a summary (epochs, history, val top-1, seconds, out).

    ``clips`` (a ``PreparedClips``) skips reading ``config.data`` (tests, fine-tuning);
    ``on_epoch(epoch, model)`` is called after each epoch's checkpoint is written.
    """
    config.validate()
    _check_files(config, data_given=clips is not None)
    info = distributed.setup(config.device)
    try:
        return _train(config, info, clips, on_epoch)
    finally:
        distributed.cleanup(info)


def _train(config: TrainConfig, info: distributed.DistInfo, clips, on_epoch) -> dict:
    from torch.utils.data import DistributedSampler

    if config.threads:
        torch.set_num_threads(config.threads)
    start_time = time.monotonic()
    torch.manual_seed(config.seed)

    # the data's labels, the label list and the architecture
    kind, data_labels, recordings = _data_source(config.data, clips)
    if config.resume:
        meta, state_dict = read_checkpoint(config.resume)
        mcfg, labels = meta.config, tuple(meta.labels)
        if not config.finetune and (mcfg.fusion != config.model.fusion or mcfg.modalities != config.model.modalities):
            raise BadInput(f"{config.resume}: is a {mcfg.fusion} model of {list(mcfg.modalities)}; "
                           "resume it with the same --fusion and --modalities")
    elif config.finetune:
        fmeta, fstate = read_checkpoint(config.finetune)
        labels = tuple(fmeta.labels) + tuple(l for l in data_labels if l not in fmeta.labels)
        mcfg = fmeta.config.replace(num_classes=len(labels))
    else:
        labels = tuple(data_labels)
        mcfg = model_config_for(config, len(labels))
    if clips is None:
        clips = _load_clips(kind, config, recordings, labels, mcfg.input, info)
    clips = clips.relabel(labels) if tuple(clips.labels) != labels else clips
    modalities = tuple(mcfg.modalities)
    base_present = [m for m in modalities if m not in clips.missing]
    if not base_present:
        raise BadInput(f"the data has none of the model's modalities {list(modalities)}")

    model = build_model(mcfg)
    if config.resume:
        model.load_state_dict(state_dict, strict=True)
    elif config.finetune:
        _load_growing_heads(model, fstate, len(fmeta.labels), config.finetune)
    elif config.init:
        load_unimodal_checkpoints(model, dict(config.init))
    frozen = _freeze(model, config.freeze)
    teacher = _teacher(config, labels, info.device)
    model.to(info.device)
    net = distributed.wrap(model, info)

    train_idx, val_idx = _split(len(clips), config.val_fraction, config.seed)
    sampler = DistributedSampler(train_idx, num_replicas=info.world_size, rank=info.rank, shuffle=True,
                                 seed=config.seed, drop_last=True)
    steps_per_epoch = len(sampler) // config.batch
    if config.max_steps_per_epoch:
        steps_per_epoch = min(steps_per_epoch, config.max_steps_per_epoch)
    if steps_per_epoch < 1 and config.epochs > 0:
        raise BadInput(f"too few clips ({len(train_idx)}) for --batch {config.batch} on {info.world_size} process(es)")
    total_steps = steps_per_epoch * config.epochs

    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    use_amp = info.device.startswith("cuda")
    scaler = torch.amp.GradScaler("cuda") if use_amp else None
    np_rng = np.random.default_rng([config.seed, info.rank, 11])
    gen = torch.Generator().manual_seed(config.seed * 1000 + info.rank)
    history: dict[str, list[float]] = {"train_loss": [], "train_acc": [], "val_acc": []}
    first_epoch, step, seconds_before = 0, 0, 0.0
    if config.resume:
        st = load_state(state_path(config.resume))
        optimizer.load_state_dict(st["optimizer"])
        step, first_epoch = int(st["step"]), int(st["epoch"])
        history = {k: list(v) for k, v in st["history"].items()}
        np_rng.bit_generator.state = st["np_rng"]
        torch.set_rng_state(st["torch_rng"])
        gen.set_state(st["torch_gen"])
        seconds_before = float(st["seconds"])

    def save(epoch: int) -> None:
        if not info.is_main:
            return
        seconds = seconds_before + time.monotonic() - start_time
        val = history["val_acc"][-1] if history["val_acc"] else None
        training = {
            "command": config.command,
            "recipe": {"fusion": mcfg.fusion, "init": dict(config.init), "finetune": config.finetune,
                       "freeze": list(config.freeze), "distill": config.distill},
            "data": {"path": ",".join(str(Path(d).resolve()) for d in config.data.split(",")), "kind": kind, "clips": len(clips), "train": len(train_idx),
                     "val": len(val_idx), "labels": list(clips.labels),
                     "sets": [_data_info(d) for d in config.data.split(",")]},
            "epochs": epoch, "epochs_planned": config.epochs, "batch": config.batch, "lr": config.lr,
            "seed": config.seed, "modality_dropout": config.modality_dropout, "world_size": info.world_size,
            "device": info.device, "seconds": round(seconds, 1), "history": history, "val_top1": val,
        }
        save_checkpoint(config.out, model, labels=clips.labels, training=training)
        save_state(state_path(config.out), optimizer=optimizer, step=step, epoch=epoch, history=history,
                   np_rng=np_rng, torch_gen=gen, seconds=seconds)
        if history["train_loss"]:
            try:
                from fusion.plots import training_curves_png

                curves = {k: v for k, v in history.items() if v}
                training_curves_png(curves_path(config.out), curves,
                                    title=f"{mcfg.fusion} {'+'.join(modalities)} ({mcfg.shape})")
            except ImportError:
                pass

    aug = config.augment
    for epoch in range(first_epoch, config.epochs):
        sampler.set_epoch(epoch)
        order = train_idx[np.fromiter(iter(sampler), dtype=np.int64)]
        net.train()
        for module in frozen:  # their batch-norm statistics stay as loaded too
            module.eval()
        bar = Progress(steps_per_epoch, label=f"epoch {epoch + 1}/{config.epochs}", width=24) \
            if config.progress and info.is_main else None
        sums = [0.0, 0.0, 0.0]  # loss·n, correct, n
        for s in range(steps_per_epoch):
            idx = order[s * config.batch:(s + 1) * config.batch]
            x, y = clips.batch(idx, modalities, rng=np_rng, lead=mcfg.lead_frames)
            if aug is not None:
                x = augment(x, aug, gen)
            present = _with_what_clips_lack(modality_dropout(modalities, len(idx), config.modality_dropout, gen),
                                            clips.presence(idx, modalities))
            x = {k: v.to(info.device, non_blocking=True) for k, v in x.items()}
            y = y.to(info.device)
            if present is not None:
                present = {k: v.to(info.device) for k, v in present.items()}
            for group in optimizer.param_groups:
                group["lr"] = _lr_at(step, total_steps, config.lr)
            with torch.autocast(device_type="cuda" if use_amp else "cpu", enabled=use_amp):
                out = net(x, present)
                loss = _loss(out, y, present, config)
                if teacher is not None:
                    loss = loss + config.distill * _distill_loss(out.logits, teacher, x, present, y)
            optimizer.zero_grad(set_to_none=True)
            if scaler is not None:
                scaler.scale(loss).backward()
                scaler.step(optimizer)
                scaler.update()
            else:
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
                optimizer.step()
            step += 1
            n = len(idx)
            sums[0] += float(loss.detach()) * n
            sums[1] += float((out.logits.detach().argmax(1) == y).sum())
            sums[2] += n
            if bar is not None:
                bar.update(s + 1, f"loss {sums[0] / sums[2]:.3f} acc {sums[1] / sums[2]:.3f}")
        total = distributed.all_sum(info, sums)
        history["train_loss"].append(total[0] / max(total[2], 1))
        history["train_acc"].append(total[1] / max(total[2], 1))
        if len(val_idx):
            pred, _ = predict(model, clips, val_idx, modalities, device=info.device)
            history["val_acc"].append(float((pred == clips.label[val_idx]).mean()))
        if info.is_main and config.progress:
            val = f" val_acc {history['val_acc'][-1]:.3f}" if history["val_acc"] else ""
            print(f"epoch {epoch + 1}: train_loss {history['train_loss'][-1]:.4f} "
                  f"train_acc {history['train_acc'][-1]:.3f}{val}", file=sys.stderr, flush=True)
        save(epoch + 1)
        distributed.barrier(info)
        if on_epoch is not None:
            on_epoch(epoch + 1, model)
    if config.epochs == 0 or first_epoch >= config.epochs:
        if len(val_idx) and not history["val_acc"]:
            pred, _ = predict(model, clips, val_idx, modalities, device=info.device)
            history["val_acc"].append(float((pred == clips.label[val_idx]).mean()))
        save(max(first_epoch, config.epochs))
        distributed.barrier(info)
    return {"out": config.out, "epochs": config.epochs, "history": history,
            "val_top1": history["val_acc"][-1] if history["val_acc"] else None,
            "seconds": round(seconds_before + time.monotonic() - start_time, 1), "world_size": info.world_size}


def _data_source(data: str, clips) -> tuple[str, tuple[str, ...], list]:
    """("synthetic" | "recordings" | "given", the data's labels, recording paths)."""
    if clips is not None:
        return "given", tuple(clips.labels), []
    dirs = data.split(",")
    if all((Path(d) / "index.json").is_file() for d in dirs):
        from fusion.data.synthetic.dataset_files import SyntheticDataset

        labels = [tuple(SyntheticDataset(d).labels) for d in dirs]
        if any(l != labels[0] for l in labels):
            raise BadInput(f"the datasets {dirs} have different label lists")
        return "synthetic", labels[0], []
    from fusion.data.recording.clips import find_recordings, recording_labels

    paths = find_recordings(data)
    if not paths:
        raise BadInput(f"{data}: neither a synthetic dataset (index.json) nor .mmtm recordings")
    from fusion.labels import NO_GESTURE

    return "recordings", (NO_GESTURE,) + tuple(l for l in recording_labels(paths) if l != NO_GESTURE), paths


def _load_clips(kind: str, config: TrainConfig, recordings: list, labels: tuple[str, ...], spec: InputSpec,
                info: distributed.DistInfo):
    if kind == "recordings":
        from fusion.data.recording.clips import recording_clips

        return recording_clips(recordings, labels=labels, spec=spec)
    from fusion.data.model_inputs import concat, prepare_dataset

    parts = []
    for d in config.data.split(","):
        if info.is_main:
            parts.append(prepare_dataset(d, spec, progress=config.progress))
        distributed.barrier(info)
        if not info.is_main:
            parts.append(prepare_dataset(d, spec, progress=False, write_cache=False))
    if config.real:
        from fusion.data.real_clips import table_clips

        parts.append(table_clips(config.real, labels, spec, frames=parts[0].frames, seed=config.seed))
    if config.readings:
        from fusion.data.readings import readings_clips

        parts.append(readings_clips(config.readings, labels, spec, frames=parts[0].frames, seed=config.seed))
    return concat(parts)


def _load_growing_heads(model: torch.nn.Module, state: Mapping[str, torch.Tensor], old_classes: int,
                        source: str) -> None:
    """Load a checkpoint's weights into ``model``, whose output layers may have more classes: the
    old classes' rows are copied, the new rows keep their fresh initialisation."""
    own = model.state_dict()
    new_classes = model.config.num_classes
    for key, value in state.items():
        if key not in own:
            raise BadInput(f"{source}: weight {key} does not fit the model")
        target = own[key]
        if target.shape == value.shape:
            target.copy_(value)
        elif (value.ndim >= 1 and value.shape[0] == old_classes and target.shape[0] == new_classes
              and target.shape[1:] == value.shape[1:]):
            target[:old_classes].copy_(value)
        else:
            raise BadInput(f"{source}: weight {key} has shape {tuple(value.shape)}, the model {tuple(target.shape)}")
    model.load_state_dict(own, strict=True)


def _data_info(path: str) -> dict:
    """Seed and size of a synthetic dataset (from its index.json), for the checkpoint's metadata."""
    import json

    try:
        index = json.loads((Path(path) / "index.json").read_text())
        return {"format": index.get("format"), "seed": index.get("seed"), "size": [index.get("width"), index.get("height")],
                "frames": index.get("frames")}
    except (OSError, ValueError):
        return {}
