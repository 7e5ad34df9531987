"""Checkpoints (contract 4): ONE file holding the weights and JSON metadata.

The file is ``torch.save`` of a plain dict::

    {"format": "mmtm-live-checkpoint/1",
     "metadata": "<JSON text>",           # labels, modalities, input spec, model config, training
     "state_dict": {name: tensor, ...}}

and is read back with ``torch.load(weights_only=True)``, which unpickles tensors and plain
containers only: a file that tries to run code is refused, and any missing, truncated, foreign or
inconsistent file raises ``fusion.errors.BadInput`` with one clear line.

Metadata JSON::

    {"format": ..., "labels": [...], "modalities": [...], "input_spec": {...InputSpec...},
     "model": {...ModelConfig...}, "training": {...free: command, data, epochs, metrics...}}
"""

from __future__ import annotations

import json
import math
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Sequence

import torch

from fusion.build import build_model
from fusion.errors import BadInput
from fusion.labels import DEFAULT_LABELS
from fusion.model_config import ModelConfig
from fusion.online import OnlineConfig

FORMAT = "mmtm-live-checkpoint/1"
# The largest magnitude a weight may have. Trained weights and batch-norm statistics stay below 10
# (the bundled models: 8.8); a flipped exponent bit gives ~1e38, which overflows to inf scores.
MAX_WEIGHT = 1e6


@dataclass(frozen=True)
class CheckpointMeta:
    """What a checkpoint says about its model."""

    config: ModelConfig
    labels: tuple[str, ...] = DEFAULT_LABELS
    training: dict = field(default_factory=dict)  # free: the command and data that trained it, metrics, …

    def to_json(self) -> str:
        return json.dumps({
            "format": FORMAT,
            "labels": list(self.labels),
            "modalities": list(self.config.modalities),
            "input_spec": self.config.input.to_dict(),
            "model": self.config.to_dict(),
            "training": self.training,
        }, sort_keys=True)

    @classmethod
    def from_json(cls, text: str, *, source: str = "checkpoint") -> "CheckpointMeta":
        """The metadata of ``text``; BadInput (one line) for anything a model could not be built from."""
        try:
            data = json.loads(text)
            if not isinstance(data, dict) or not isinstance(data.get("model"), dict):
                raise ValueError("expected an object with a 'model' object")
            config = ModelConfig.from_dict(data["model"])
            labels = _labels(data.get("labels"))
            training = data.get("training") or {}
            if not isinstance(training, dict):
                raise ValueError(f"training must be an object, got {type(training).__name__}")
            _check_online(training.get("online"))
        except (ValueError, KeyError, TypeError, OverflowError, RecursionError) as error:
            raise BadInput(f"{source}: bad checkpoint metadata ({_first_line(error)})") from None
        if len(labels) != config.num_classes:
            raise BadInput(f"{source}: {len(labels)} labels for a model with {config.num_classes} classes")
        return cls(config=config, labels=labels, training=training)


LABEL = re.compile(r"[a-z][a-z0-9]*(_[a-z0-9]+)*")  # snake_case (ARCHITECTURE.md, contract 3)


def _labels(value: object) -> tuple[str, ...]:
    """The label list of the metadata: distinct snake_case strings."""
    if not isinstance(value, list) or not all(isinstance(label, str) for label in value):
        raise ValueError(f"labels must be a list of strings, got {value!r:.60}")
    bad = [label for label in value if len(label) > 64 or not LABEL.fullmatch(label)]
    if bad:
        raise ValueError(f"labels must be snake_case words, not {bad[0]!r:.60}")
    if len(set(value)) != len(value):
        raise ValueError(f"labels must be distinct, {sorted({l for l in value if value.count(l) > 1})[:3]} repeat")
    return tuple(value)


def _check_online(online: object) -> None:
    """The recogniser settings stored by scripts/tune_online.py: an object of finite numbers,
    booleans and label lists, that ``OnlineConfig`` accepts."""
    if online is None:
        return
    if not isinstance(online, dict):
        raise ValueError(f"training.online must be an object, got {type(online).__name__}")
    for key, value in online.items():
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"training.online.{key:.40} must be finite, got {value}")
        if key == "static_labels" and value is not None:
            _labels(value)
    OnlineConfig(**{key: tuple(v) if isinstance(v, list) else v for key, v in online.items()})


def save_checkpoint(path: str | os.PathLike, model: torch.nn.Module, *, labels: Sequence[str] = DEFAULT_LABELS,
                    training: Mapping | None = None) -> None:
    """Write ``model`` (built by ``build_model``) with its metadata to ``path`` (atomically)."""
    meta = CheckpointMeta(config=model.config, labels=tuple(labels), training=dict(training or {}))
    if len(meta.labels) != model.config.num_classes:
        raise ValueError(f"{len(meta.labels)} labels for a model with {model.config.num_classes} classes")
    payload = {
        "format": FORMAT,
        "metadata": meta.to_json(),
        "state_dict": {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()},
    }
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    os.close(fd)
    try:
        torch.save(payload, tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def read_checkpoint(path: str | os.PathLike) -> tuple[CheckpointMeta, dict[str, torch.Tensor]]:
    """The metadata and state dict of a checkpoint file, never executing code from it."""
    path = Path(path)
    if not path.is_file():
        raise BadInput(f"checkpoint not found: {path}")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # truncated zip, foreign or malicious pickle, …
        raise BadInput(f"{path}: not a readable mmtm-live checkpoint ({_first_line(error)})") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise BadInput(f"{path}: not an mmtm-live checkpoint (expected format {FORMAT!r})")
    state = payload.get("state_dict")
    text = payload.get("metadata")
    if not isinstance(text, str) or not isinstance(state, dict) or not all(
            isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state.items()):
        raise BadInput(f"{path}: damaged mmtm-live checkpoint (metadata or weights missing)")
    meta = CheckpointMeta.from_json(text, source=str(path))
    bad = _bad_weight(state)
    if bad:
        raise BadInput(f"{path}: damaged weights ({bad})")
    return meta, state


def _bad_weight(state: Mapping[str, torch.Tensor]) -> str | None:
    """What is wrong with the first unusable tensor of ``state`` (NaN, infinite or huge values, a
    negative batch-norm variance, a foreign kind of tensor), or None."""
    for name, tensor in state.items():
        if tensor.layout != torch.strided or tensor.is_complex() or tensor.is_quantized:
            return f"{name[:80]} is a {tensor.layout}/{tensor.dtype} tensor"
        if tensor.is_floating_point():
            if not bool(torch.isfinite(tensor).all()):
                return f"{name[:80]} holds NaN or infinite values"
            if tensor.numel() and float(tensor.abs().max()) > MAX_WEIGHT:
                return f"{name[:80]} holds {float(tensor.abs().max()):.3g}, beyond any trained weight"
            if name.endswith("running_var") and bool((tensor < 0).any()):
                return f"{name[:80]} holds a negative variance"
    return None


def load_checkpoint(path: str | os.PathLike, *, device: str | torch.device = "cpu"
                    ) -> tuple[torch.nn.Module, CheckpointMeta]:
    """The model of a checkpoint (in eval mode on ``device``) and its metadata."""
    meta, state = read_checkpoint(path)
    try:
        model = build_model(meta.config)
    except (ValueError, RuntimeError) as error:  # a combination the config's own checks let through
        raise BadInput(f"{path}: the model its metadata describes cannot be built ({_first_line(error)})") from None
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as error:
        raise BadInput(f"{path}: weights do not fit the model its metadata describes "
                       f"({str(error).splitlines()[0][:160]})") from None
    return model.to(device).eval(), meta


def load_unimodal_checkpoints(model: torch.nn.Module, paths: Mapping[str, str | os.PathLike]) -> None:
    """Load unimodal checkpoints (fusion "none") into the matching streams of a fusion network.

    The paper's recipe: pretrain each stream alone, then build the MMTM network, load the streams
    and fine-tune. Each checkpoint must match ``model``'s stream in ``ModelConfig.stream_config``.
    """
    for modality, path in paths.items():
        meta, state = read_checkpoint(path)
        cfg = meta.config
        if cfg.fusion != "none" or cfg.modalities != (modality,):
            raise BadInput(f"{path}: not a unimodal {modality!r} checkpoint "
                           f"(fusion {cfg.fusion!r}, modalities {list(cfg.modalities)})")
        expected, found = model.config.stream_config(modality).to_dict(), cfg.stream_config(modality).to_dict()
        mismatched = [k for k, v in expected.items() if found[k] != v]
        if mismatched:
            raise BadInput(f"{path}: its {modality} stream differs from the network's in {mismatched}")
        try:
            model.load_stream(modality, state)
        except (ValueError, RuntimeError) as error:
            raise BadInput(f"{path}: {str(error).splitlines()[0][:160]}") from None


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0][:160] if text else type(error).__name__
