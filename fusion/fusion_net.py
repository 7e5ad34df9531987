"""What both model shapes share: streams run stage by stage, MMTM between chosen stages, logits averaged.

::

    rgb   ─▶ stage 0 ─▶ stage 1 ─┐     ┌─▶ stage 2 ─┐     ┌─▶ stage 3 ─┐     ┌─▶ head ─▶ logits_rgb   ─┐
    depth ─▶ stage 0 ─▶ stage 1 ─┼MMTM─┼─▶ stage 2 ─┼MMTM─┼─▶ stage 3 ─┼MMTM─┼─▶ head ─▶ logits_depth ─┼─▶ mean ─▶ logits
    skel  ─▶ stage 0 ─▶ stage 1 ─┘     └─▶ stage 2 ─┘     └─▶ stage 3 ─┘     └─▶ head ─▶ logits_skel  ─┘

Missing modality rule: a modality the model was built for but that is absent from the inputs (a
webcam gives no depth) is fed zeros in the model's input space, which is what modality dropout
trains for, and its logits are left out of the average; with late fusion (no MMTM) its stream is
not run at all. A per-sample ``present`` mask (B,) does the same for some samples of a batch: their
input is multiplied by the mask (zeroed) and their logits get weight 0 in the average.
"""

from __future__ import annotations

from typing import Iterable, Mapping, NamedTuple

import torch
from torch import nn

from fusion.mmtm import MMTM
from fusion.mmtm_placement import MMTMPlacement, Site


class FusionOutput(NamedTuple):
    """``logits`` (B, K): the average of the present streams' logits; ``streams``: modality → (B, K)."""

    logits: torch.Tensor
    streams: dict[str, torch.Tensor]


class FusionNet(nn.Module):
    """Base of ``StreamingFusionNet`` and ``WindowedFusionNet``: streams, MMTMs, the averaging rule."""

    def __init__(self, *, config, streams: Mapping[str, nn.Module]) -> None:
        super().__init__()
        self.config = config
        self.modalities = tuple(config.modalities)
        self.streams = nn.ModuleDict(streams)
        self.num_stages = len(config.video_widths)
        self.lead_frames = config.lead_frames  # frames a window carries before its T (rgb differences)
        self.mmtm = nn.ModuleDict()  # one MMTM per placement, under its key ("2", "pooled", "temporal0")
        for place in config.mmtm_placements:
            widths = [self._mmtm_width(self.streams[m], place) for m in self.modalities]
            self.mmtm[place.key] = MMTM(widths, ratio=config.mmtm_ratio, variant=config.mmtm_variant)

    @staticmethod
    def _mmtm_width(stream: nn.Module, place: MMTMPlacement) -> int:
        """Channels of ``stream``'s features where the MMTM at ``place`` joins them."""
        if place.site is Site.STAGE:
            return stream.widths[place.index]
        if place.site is Site.TEMPORAL:
            return stream.temporal.channels
        return stream.pooled_width

    def _mmtm_at(self, place: MMTMPlacement) -> MMTM | None:
        """The MMTM at ``place``, None where the network has none."""
        return self.mmtm[place.key] if place.key in self.mmtm else None

    # --- inputs ---------------------------------------------------------------------------------

    def _zeros_like_input(self, modality: str, batch: int, frames: int | None, ref: torch.Tensor) -> torch.Tensor:
        """Zeros of ``modality``'s input shape; ``frames`` None for one frame (step)."""
        spec = self.config.input
        if modality == "skeleton":
            tail = (spec.skeleton_channels, spec.joints)
        else:
            tail = (3 if modality == "rgb" else 1, spec.height, spec.width)
        shape = (batch, tail[0]) + ((frames,) if frames is not None else ()) + tail[1:]
        return torch.zeros(shape, dtype=ref.dtype, device=ref.device)

    def _gather(self, inputs: Mapping[str, torch.Tensor], present: Mapping[str, torch.Tensor] | None,
                windowed: bool) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor | None], int]:
        """The tensors to run per modality (zeros where missing and MMTM needs them) and their weights."""
        given = [m for m in self.modalities if m in inputs]
        if not given:
            raise ValueError(f"none of the model's modalities {self.modalities} is in the inputs {sorted(inputs)}")
        ref = inputs[given[0]]
        batch = ref.shape[0]
        frames = ref.shape[2] if windowed else None
        xs: dict[str, torch.Tensor] = {}
        weights: dict[str, torch.Tensor | None] = {}
        for m in self.modalities:
            if m in inputs:
                x = inputs[m]
                mask = None if present is None or m not in present else present[m].to(x.dtype)
                if mask is not None:
                    x = x * mask.reshape((batch,) + (1,) * (x.ndim - 1))
                xs[m], weights[m] = x, mask
            elif self.mmtm:
                xs[m] = self._zeros_like_input(m, batch, frames, ref)
        return xs, weights, batch

    def _run_stages(self, xs: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Every stream's stages, with MMTM after the chosen stages."""
        for i in range(self.num_stages):
            xs = {m: self.streams[m].stages[i](x) for m, x in xs.items()}
            mmtm = self._mmtm_at(MMTMPlacement.stage(i))
            if mmtm is not None:
                xs = dict(zip(self.modalities, mmtm(*(xs[m] for m in self.modalities))))
        return xs

    def _fuse_pooled(self, pooled: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """The streams' window-level features through the pooled MMTM, when the network has one."""
        mmtm = self._mmtm_at(MMTMPlacement.pooled())
        if mmtm is None:
            return pooled
        return dict(zip(self.modalities, mmtm(*(pooled[m] for m in self.modalities))))

    def _pool(self, feats: dict[str, torch.Tensor], batch: int) -> dict[str, torch.Tensor]:
        """The given streams' last stage outputs → their window-level features (B, C')."""
        return {m: self.streams[m].pool(f, batch) for m, f in feats.items()}

    def _heads(self, feats: dict[str, torch.Tensor], batch: int, present: Iterable[str]) -> dict[str, torch.Tensor]:
        """The last stages' outputs → logits of the ``present`` streams (pooled, fused, classified)."""
        present = list(present)
        # an MMTM after the stages (pooled, or between temporal layers) needs every stream's features
        after_stages = any(place.site is not Site.STAGE and self._mmtm_at(place) is not None
                           for place in self.config.mmtm_placements)
        pooled = self._pool(feats if after_stages else {m: feats[m] for m in present}, batch)
        pooled = self._fuse_pooled(pooled)
        return {m: self.streams[m].classify(pooled[m]) for m in present}

    @staticmethod
    def _average(logits: dict[str, torch.Tensor], weights: Mapping[str, torch.Tensor | None]) -> torch.Tensor:
        """Mean of the present streams' logits; per-sample weights where a present mask was given."""
        if all(weights[m] is None for m in logits):
            return torch.stack(list(logits.values())).mean(dim=0)
        total = sum(l * (1.0 if weights[m] is None else weights[m].unsqueeze(1)) for m, l in logits.items())
        count = sum(torch.ones_like(l[:, :1]) if weights[m] is None else weights[m].unsqueeze(1)
                    for m, l in logits.items())
        return total / torch.clamp(count, min=1e-6)

    # --- unimodal checkpoints -------------------------------------------------------------------

    def load_stream(self, modality: str, state_dict: Mapping[str, torch.Tensor]) -> None:
        """Load a unimodal network's weights (its ``state_dict()``) into this network's stream."""
        if modality not in self.streams:
            raise ValueError(f"this network has no {modality!r} stream (it has {self.modalities})")
        prefix = f"streams.{modality}."
        sub = {k[len(prefix):]: v for k, v in state_dict.items() if k.startswith(prefix)}
        if not sub or len(sub) != len(state_dict):
            raise ValueError(f"not a unimodal {modality!r} state dict (keys must all start with {prefix!r})")
        self.streams[modality].load_state_dict(sub, strict=True)
