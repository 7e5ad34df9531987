"""MMTM: the Multimodal Transfer Module (Joze et al., CVPR 2020).

A squeeze-and-excitation block shared by several modalities. Each modality's feature map is
squeezed to one vector per channel, the vectors are joined and mapped to a small joint code, and
from that code each modality gets its own channel gates::

    x_1 (B,C_1,...) ──mean──▶ S_1 ─┐                    ┌─▶ E_1 = excite[0](Z) ──gate──▶ gate(E_1)·x_1
    x_2 (B,C_2,...) ──mean──▶ S_2 ─┼─▶ Z = relu(W[S_1;…;S_n] + b) ─┼─▶ E_2 = excite[1](Z) ──gate──▶ gate(E_2)·x_2
    ...                            ┘                    └─▶ ...

The inputs may have different ranks and spatial shapes: a video feature (B,C,T,H,W), a skeleton
feature (B,C,T,J), an audio feature (B,C,T) or a vector (B,C) are all squeezed over every axis
after the channel axis.
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

VARIANTS = ("paper", "official")


class MMTM(nn.Module):
    """Multimodal transfer module between two or more streams.

    Args:
        channels: the channel count C_i of each modality's feature map, in the order of ``forward``.
        ratio: the reduction ratio of the joint code.
        variant: ``"paper"`` — hidden = int(sum(C) / ratio), gate = 2·sigmoid and zero-initialised
            excitation, so the module is exactly the identity until it is trained (pretrained
            streams start unchanged); ``"official"`` — hidden = int(2·sum(C) / ratio),
            gate = sigmoid and PyTorch's default initialisation, as in the authors' published code.
    """

    def __init__(self, channels: Sequence[int], *, ratio: float = 4.0, variant: str = "paper") -> None:
        super().__init__()
        channels = tuple(int(c) for c in channels)
        if len(channels) < 2:
            raise ValueError(f"MMTM joins two or more modalities, got channels={channels}")
        if any(c < 1 for c in channels):
            raise ValueError(f"every channel count must be positive, got {channels}")
        if variant not in VARIANTS:
            raise ValueError(f"variant must be one of {VARIANTS}, got {variant!r}")
        if ratio <= 0:
            raise ValueError(f"ratio must be positive, got {ratio}")
        total = sum(channels)
        hidden = int(total / ratio) if variant == "paper" else int(2 * total / ratio)
        if hidden < 1:
            raise ValueError(f"ratio {ratio} leaves no hidden unit for {total} channels")

        self.channels = channels
        self.variant = variant
        self.hidden = hidden
        self.squeeze = nn.Linear(total, hidden)
        self.excite = nn.ModuleList(nn.Linear(hidden, c) for c in channels)
        if variant == "paper":
            for layer in self.excite:
                nn.init.zeros_(layer.weight)
                nn.init.zeros_(layer.bias)

    def gates(self, *xs: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """The channel gates, one (B, C_i) tensor per modality."""
        self._check(xs)
        # S_i = mean of x_i over every axis after (batch, channel), accumulated in float32.
        squeezed = [x.mean(dim=tuple(range(2, x.ndim)), dtype=torch.float32) if x.ndim > 2 else x for x in xs]
        joint = torch.cat(squeezed, dim=1).to(self.squeeze.weight.dtype)  # (B, ΣC_i)
        z = torch.relu(self.squeeze(joint))  # (B, hidden)
        if self.variant == "paper":
            return tuple(2.0 * torch.sigmoid(excite(z)) for excite in self.excite)  # 2·σ(E_i)
        return tuple(torch.sigmoid(excite(z)) for excite in self.excite)  # σ(E_i)

    def forward(self, *xs: torch.Tensor) -> tuple[torch.Tensor, ...]:
        out = []
        for x, gate in zip(xs, self.gates(*xs)):
            gate = gate.to(x.dtype).reshape(gate.shape + (1,) * (x.ndim - 2))  # (B, C_i, 1, …)
            out.append(x * gate)
        return tuple(out)

    def _check(self, xs: Sequence[torch.Tensor]) -> None:
        if len(xs) != len(self.channels):
            raise ValueError(f"MMTM built for {len(self.channels)} modalities got {len(xs)} inputs")
        batch = xs[0].shape[0] if xs[0].ndim >= 1 else None
        for i, (x, c) in enumerate(zip(xs, self.channels)):
            if x.ndim < 2 or x.shape[1] != c:
                raise ValueError(f"input {i} must be (B, {c}, ...), got {tuple(x.shape)}")
            if x.shape[0] != batch:
                raise ValueError(f"inputs disagree on the batch size: {[tuple(t.shape) for t in xs]}")

    def extra_repr(self) -> str:
        return f"channels={self.channels}, hidden={self.hidden}, variant={self.variant!r}"
