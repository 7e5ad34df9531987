"""Causal temporal layers over per-frame features, averaged over the window, then a classifier.

A stack of valid (unpadded) dilated 1D convolutions over time, each ``conv → BN → ReLU`` with a
residual from the newest inputs when the widths agree::

    f (B,C,T) ─▶ conv k,d=1 ─▶ conv k,d=2 ─▶ conv k,d=4 ─▶ y (B,C',T−R+1) ─▶ mean over time ─▶ linear ─▶ logits

R = 1 + (k−1)·Σd is the receptive field. Every output depends on the R newest frames only, so a
streaming ``step`` keeps the last (k−1)·d inputs of each layer and a ring of the last T−R+1 outputs,
and computes one new output per frame: the same numbers as the window forward over the last T frames.
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import nn


class TemporalLayer(nn.Module):
    def __init__(self, in_channels: int, out_channels: int, *, kernel: int, dilation: int) -> None:
        super().__init__()
        self.conv = nn.Conv1d(in_channels, out_channels, kernel, dilation=dilation, bias=False)
        self.bn = nn.BatchNorm1d(out_channels)
        self.residual = in_channels == out_channels
        self.context = (kernel - 1) * dilation  # past inputs needed beyond the newest

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = torch.relu(self.bn(self.conv(x)))  # (B, C', T − context)
        if self.residual:
            y = y + x[:, :, self.context:]
        return y


class TemporalHead(nn.Module):
    """Causal temporal convolutions, a time average and a linear classifier.

    Args:
        in_channels: width of the per-frame features.
        channels: width of the temporal layers.
        num_classes: classifier outputs.
        window: T, the frames of one window; the streaming ring holds T − R + 1 outputs.
        kernel, dilations: the temporal convolutions.
        dropout: before the classifier.
    """

    def __init__(self, *, in_channels: int, channels: int, num_classes: int, window: int,
                 kernel: int = 3, dilations: Sequence[int] = (1, 2, 4), dropout: float = 0.2) -> None:
        super().__init__()
        widths = [in_channels] + [channels] * len(dilations)
        self.layers = nn.ModuleList(
            TemporalLayer(widths[i], widths[i + 1], kernel=kernel, dilation=d) for i, d in enumerate(dilations))
        self.receptive_field = 1 + sum(layer.context for layer in self.layers)
        if window < self.receptive_field:
            raise ValueError(f"window {window} is shorter than the temporal receptive field {self.receptive_field}")
        self.window = window
        self.ring = window - self.receptive_field + 1  # outputs averaged per window
        self.channels = channels
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(channels, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, T) per-frame features → (B, K) logits; T ≥ the receptive field."""
        return self.classify(self.pool(x))

    def pool(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, T) per-frame features → (B, C') the last layer's outputs averaged over the window."""
        self.check_frames(x.shape[2])
        for layer in self.layers:
            x = layer(x)  # (B, C', T − R + 1) at the end
        return x.mean(dim=2)

    def check_frames(self, frames: int) -> None:
        """ValueError unless ``frames`` reach the receptive field."""
        if frames < self.receptive_field:
            raise ValueError(f"need at least {self.receptive_field} frames, got {frames}")

    def classify(self, pooled: torch.Tensor) -> torch.Tensor:
        """(B, C') pooled feature → (B, K) logits."""
        return self.fc(self.dropout(pooled))

    # --- streaming ----------------------------------------------------------------------------

    def initial_state(self, batch: int, *, device=None, dtype=torch.float32) -> list[torch.Tensor]:
        """Zero state: one (B, C_l, context_l) buffer per layer, then the (B, C', ring) output ring."""
        state = [torch.zeros(batch, layer.conv.in_channels, layer.context, device=device, dtype=dtype)
                 for layer in self.layers]
        state.append(torch.zeros(batch, self.channels, self.ring, device=device, dtype=dtype))
        return state

    def step_layer(self, index: int, x: torch.Tensor, buffer: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Layer ``index`` on one frame: its input (B, C, 1) and past inputs ``buffer`` (B, C, context)
        → (its output (B, C', 1), the new buffer)."""
        window = torch.cat([buffer, x], dim=2)  # (B, C, context + 1)
        return self.layers[index](window), window[:, :, 1:]

    def step_average(self, y: torch.Tensor, ring: torch.Tensor, seen: torch.Tensor
                     ) -> tuple[torch.Tensor, torch.Tensor]:
        """The last layer's newest output (B, C', 1) into the ring (B, C', T − R + 1) → (the mean over
        the entries computed from real frames (B, C'), the new ring), as ``pool`` over the window.

        ``seen`` (B,) counts the frames before this one; the entries from real frames are the last
        min(seen + 1 − R + 1, ring) of them.
        """
        ring = torch.cat([ring[:, :, 1:], y], dim=2)
        n_valid = torch.clamp(seen + 2 - self.receptive_field, min=0.0, max=float(self.ring))  # (B,)
        position = torch.arange(self.ring, device=y.device, dtype=y.dtype)  # 0 … ring−1, newest last
        mask = (position.unsqueeze(0) >= (self.ring - n_valid).unsqueeze(1)).to(y.dtype)  # (B, ring)
        mean = (ring * mask.unsqueeze(1)).sum(dim=2) / torch.clamp(n_valid, min=1.0).unsqueeze(1)  # (B, C')
        return mean, ring


class StagedStream(nn.Module):
    """A stream of ``stages`` (an ``nn.ModuleList``, stage 0 the stem) and a head on the last one.

    ``forward_features`` gives every stage's output (what MMTM and the fusion network read),
    ``pool(feature, batch)`` (subclasses) the last one's window-level vector (B, C'), ``classify``
    (subclasses) its logits, ``forward_head`` the two in a row and ``forward`` all of it.
    """

    stages: nn.ModuleList

    def _stage_input(self, x: torch.Tensor) -> torch.Tensor:
        """What stage 0 takes, made from the stream's input (the input itself by default)."""
        return x

    def forward_features(self, x: torch.Tensor) -> list[torch.Tensor]:
        """A window → every stage's output."""
        x = self._stage_input(x)
        out = []
        for stage in self.stages:
            x = stage(x)
            out.append(x)
        return out

    @property
    def pooled_width(self) -> int:
        """Channels of ``pool``'s output."""
        return self.widths[-1]

    def pool(self, feature: torch.Tensor, batch: int) -> torch.Tensor:
        raise NotImplementedError

    def classify(self, pooled: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def forward_head(self, feature: torch.Tensor, batch: int) -> torch.Tensor:
        """Last stage output → logits (B, K)."""
        return self.classify(self.pool(feature, batch))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x)[-1], x.shape[0])


class FrameStream(StagedStream):
    """A per-frame stream: ``stages`` run on every frame, ``temporal`` (a ``TemporalHead``) over them.

    Subclasses set ``stages`` and ``temporal`` and give ``fold`` (window → frames) and ``embed``
    (last stage output → one vector per frame). ``forward_features`` gives each stage's per-frame
    output (B·T, C_i, …).
    """

    temporal: "TemporalHead"

    @property
    def pooled_width(self) -> int:
        return self.temporal.channels

    def _stage_input(self, x: torch.Tensor) -> torch.Tensor:
        return self.fold(x)

    def sequence(self, feature: torch.Tensor, batch: int) -> torch.Tensor:
        """Last stage output (B·T, C, …) → the temporal layers' input (B, C, T)."""
        f = self.embed(feature)  # (B·T, C)
        return f.reshape(batch, -1, f.shape[1]).transpose(1, 2)

    def pool(self, feature: torch.Tensor, batch: int) -> torch.Tensor:
        """Last stage output (B·T, C, …) → the temporal layers' output averaged over the window (B, C')."""
        return self.temporal.pool(self.sequence(feature, batch))

    def classify(self, pooled: torch.Tensor) -> torch.Tensor:
        return self.temporal.classify(pooled)

