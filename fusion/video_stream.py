"""Video streams for RGB (3 channels) and depth (1 channel), in both model shapes.

``FrameVideoStream`` (streaming shape): per-frame 2D stages, then causal temporal layers::

    x (B,C,T,H,W) ─fold─▶ (B·T,C,H,W) ─stem s2─▶ stage s2 ─▶ stage s2 ─▶ stage s2 ─▶ pool (B·T,C')
                  ─unfold─▶ (B,C',T) ─▶ TemporalHead ─▶ logits (B,K)

``ClipVideoStream`` (windowed shape, the paper's setting): R(2+1)D-like stages over the whole clip::

    x (B,C,T,H,W) ─(2+1)D stem─▶ (2+1)D stages (spatial s2, temporal strides) ─▶ pool over (T,H,W) ─▶ linear

Each has ``stages`` (an ``nn.ModuleList``; stage 0 is the stem), ``widths``, ``forward_features``
(every stage's output), ``forward_head`` and ``forward``.
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from fusion.temporal_head import FrameStream, StagedStream, TemporalHead


def _conv_bn(conv: nn.Module, channels: int, bn: type[nn.Module]) -> nn.Sequential:
    return nn.Sequential(conv, bn(channels), nn.ReLU(inplace=True))


class FrameStage(nn.Module):
    """A 3×3 stride-2 conv, then a residual 3×3 conv: (N,C,H,W) → (N,C',H/2,W/2)."""

    def __init__(self, in_channels: int, out_channels: int, *, residual: bool = True) -> None:
        super().__init__()
        self.down = _conv_bn(nn.Conv2d(in_channels, out_channels, 3, stride=2, padding=1, bias=False),
                             out_channels, nn.BatchNorm2d)
        self.conv = None
        if residual:
            self.conv = nn.Sequential(nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False),
                                      nn.BatchNorm2d(out_channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.down(x)
        if self.conv is not None:
            y = torch.relu(y + self.conv(y))
        return y


class FrameVideoStream(FrameStream):
    """Per-frame 2D CNN + causal temporal head (streaming shape)."""

    def __init__(self, *, in_channels: int, widths: Sequence[int], num_classes: int, window: int,
                 temporal_channels: int, temporal_kernel: int = 3, temporal_dilations: Sequence[int] = (1, 2, 4),
                 dropout: float = 0.2) -> None:
        super().__init__()
        self.widths = tuple(widths)
        chans = (in_channels,) + self.widths
        # stage 0 is a plain stride-2 stem; the later stages are residual.
        self.stages = nn.ModuleList(FrameStage(chans[i], chans[i + 1], residual=i > 0) for i in range(len(widths)))
        self.temporal = TemporalHead(in_channels=self.widths[-1], channels=temporal_channels, num_classes=num_classes,
                                     window=window, kernel=temporal_kernel, dilations=temporal_dilations,
                                     dropout=dropout)

    @staticmethod
    def fold(x: torch.Tensor) -> torch.Tensor:
        """(B,C,T,H,W) → (B·T,C,H,W)."""
        b, c, t, h, w = x.shape
        return x.transpose(1, 2).reshape(b * t, c, h, w)

    @staticmethod
    def embed(feature: torch.Tensor) -> torch.Tensor:
        """Last stage output (N,C,h,w) → per-frame feature (N,C)."""
        return feature.mean(dim=(2, 3))


class Conv2Plus1D(nn.Sequential):
    """A (1,3,3) spatial conv then a (3,1,1) temporal conv, BN and ReLU between (R(2+1)D)."""

    def __init__(self, in_channels: int, out_channels: int, *, spatial_stride: int, temporal_stride: int) -> None:
        mid = max(out_channels, in_channels)
        super().__init__(
            nn.Conv3d(in_channels, mid, (1, 3, 3), stride=(1, spatial_stride, spatial_stride), padding=(0, 1, 1),
                      bias=False),
            nn.BatchNorm3d(mid), nn.ReLU(inplace=True),
            nn.Conv3d(mid, out_channels, (3, 1, 1), stride=(temporal_stride, 1, 1), padding=(1, 0, 0), bias=False),
        )


class ClipStage(nn.Module):
    """A strided (2+1)D conv, then a residual (2+1)D conv: (B,C,T,H,W) → (B,C',T/s,H/2,W/2)."""

    def __init__(self, in_channels: int, out_channels: int, *, temporal_stride: int, residual: bool = True) -> None:
        super().__init__()
        self.down = nn.Sequential(Conv2Plus1D(in_channels, out_channels, spatial_stride=2,
                                              temporal_stride=temporal_stride),
                                  nn.BatchNorm3d(out_channels), nn.ReLU(inplace=True))
        self.conv = None
        if residual:
            self.conv = nn.Sequential(Conv2Plus1D(out_channels, out_channels, spatial_stride=1, temporal_stride=1),
                                      nn.BatchNorm3d(out_channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.down(x)
        if self.conv is not None:
            y = torch.relu(y + self.conv(y))
        return y


class ClipVideoStream(StagedStream):
    """R(2+1)D-like 3D CNN over a whole clip (windowed shape)."""

    def __init__(self, *, in_channels: int, widths: Sequence[int], num_classes: int,
                 temporal_strides: Sequence[int], dropout: float = 0.2) -> None:
        super().__init__()
        if len(temporal_strides) != len(widths):
            raise ValueError("one temporal stride per stage")
        self.widths = tuple(widths)
        chans = (in_channels,) + self.widths
        self.stages = nn.ModuleList(
            ClipStage(chans[i], chans[i + 1], temporal_stride=temporal_strides[i], residual=i > 0)
            for i in range(len(widths)))
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(self.widths[-1], num_classes)

    def pool(self, feature: torch.Tensor, batch: int) -> torch.Tensor:
        return feature.mean(dim=(2, 3, 4))  # (B, C)

    def classify(self, pooled: torch.Tensor) -> torch.Tensor:
        return self.fc(self.dropout(pooled))  # (B, K)
