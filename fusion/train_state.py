"""A training run's resumable state, written beside its checkpoint as ``OUT.state.pt``: the optimizer,
the schedule position, the epoch, the history, the RNG states and the seconds spent (``--resume``).
Read with ``torch.load(weights_only=True)``."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import torch

from fusion.errors import BadInput

STATE_FORMAT = "mmtm-live-train-state/1"


def state_path(out: str | Path) -> Path:
    return Path(str(out) + ".state.pt")


def save_state(path: Path, *, optimizer, step: int, epoch: int, history: Mapping[str, list[float]],
               np_rng: np.random.Generator, torch_gen: torch.Generator, seconds: float) -> None:
    payload = {
        "format": STATE_FORMAT, "optimizer": optimizer.state_dict(), "step": int(step), "epoch": int(epoch),
        "history": {k: [float(v) for v in vals] for k, vals in history.items()},
        "np_rng": np_rng.bit_generator.state, "torch_rng": torch.get_rng_state(),
        "torch_gen": torch_gen.get_state(), "seconds": float(seconds),
    }
    tmp = path.with_name(path.name + ".tmp")
    torch.save(payload, tmp)
    tmp.replace(path)


def load_state(path: Path) -> dict:
    if not path.is_file():
        raise BadInput(f"cannot resume: training state {path} not found (it is written beside the checkpoint)")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:
        raise BadInput(f"{path}: not a readable training state ({str(error).splitlines()[0][:120]})") from None
    if not isinstance(payload, dict) or payload.get("format") != STATE_FORMAT:
        raise BadInput(f"{path}: not an mmtm-live training state")
    return payload
