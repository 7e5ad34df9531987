"""Skeleton streams over (B, C, T, J) joints, in both model shapes.

A stage is a graph convolution over the joints: a 1×1 channel mix, then ``x @ A`` with a learnable
(J, J) joint-mixing matrix initialised to the normalised hand graph D^-½(I + adjacency)D^-½ for
MediaPipe's 21 hand joints (the identity for any other J). Channels are listed in
``fusion.preprocess.SKELETON_CHANNELS``.

``FrameSkeletonStream`` (streaming): per-frame graph stages on (B·T, C, J), pool over J, causal
temporal head. ``ClipSkeletonStream`` (windowed): graph stages on (B, C, T, J), each followed by a
temporal conv (3 × 1) with the stage's temporal stride, pool over (T, J), linear head.
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from fusion.temporal_head import FrameStream, StagedStream, TemporalHead

HAND_BONES = (
    (0, 1), (1, 2), (2, 3), (3, 4), (0, 5), (5, 6), (6, 7), (7, 8), (5, 9), (9, 10), (10, 11), (11, 12),
    (9, 13), (13, 14), (14, 15), (15, 16), (13, 17), (0, 17), (17, 18), (18, 19), (19, 20),
)


def joint_graph(joints: int) -> torch.Tensor:
    """D^-½(I + A)D^-½ for the 21 MediaPipe hand joints, the identity otherwise: (J, J)."""
    a = torch.eye(joints)
    if joints == 21:
        for i, j in HAND_BONES:
            a[i, j] = a[j, i] = 1.0
    d = a.sum(dim=1).rsqrt()
    return d[:, None] * a * d[None, :]


class GraphConv(nn.Module):
    """(N, C, ..., J) → (N, C', ..., J): channel mix, then joint mix with a learnable (J, J) matrix."""

    def __init__(self, in_channels: int, out_channels: int, *, joints: int, dims: int = 1) -> None:
        super().__init__()
        conv = nn.Conv1d if dims == 1 else nn.Conv2d
        self.mix = conv(in_channels, out_channels, 1, bias=False)
        self.graph = nn.Parameter(joint_graph(joints))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.matmul(self.mix(x), self.graph)


class FrameSkeletonStage(nn.Module):
    """Graph conv → BN → ReLU, with a residual (projected when the widths differ)."""

    def __init__(self, in_channels: int, out_channels: int, *, joints: int, dims: int = 1) -> None:
        super().__init__()
        bn = nn.BatchNorm1d if dims == 1 else nn.BatchNorm2d
        conv = nn.Conv1d if dims == 1 else nn.Conv2d
        self.gcn = GraphConv(in_channels, out_channels, joints=joints, dims=dims)
        self.bn = bn(out_channels)
        self.shortcut = nn.Identity() if in_channels == out_channels else conv(in_channels, out_channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.bn(self.gcn(x)) + self.shortcut(x))


class FrameSkeletonStream(FrameStream):
    """Per-frame graph stages over J + causal temporal head (streaming shape)."""

    def __init__(self, *, in_channels: int, widths: Sequence[int], joints: int, num_classes: int, window: int,
                 temporal_channels: int, temporal_kernel: int = 3, temporal_dilations: Sequence[int] = (1, 2, 4),
                 dropout: float = 0.2) -> None:
        super().__init__()
        self.widths = tuple(widths)
        chans = (in_channels,) + self.widths
        self.stages = nn.ModuleList(FrameSkeletonStage(chans[i], chans[i + 1], joints=joints)
                                    for i in range(len(widths)))
        self.temporal = TemporalHead(in_channels=self.widths[-1], channels=temporal_channels, num_classes=num_classes,
                                     window=window, kernel=temporal_kernel, dilations=temporal_dilations,
                                     dropout=dropout)

    @staticmethod
    def fold(x: torch.Tensor) -> torch.Tensor:
        """(B,C,T,J) → (B·T,C,J)."""
        b, c, t, j = x.shape
        return x.transpose(1, 2).reshape(b * t, c, j)

    @staticmethod
    def embed(feature: torch.Tensor) -> torch.Tensor:
        """Last stage output (N,C,J) → per-frame feature (N,C)."""
        return feature.mean(dim=2)


class ClipSkeletonStage(nn.Module):
    """Graph conv over J, then a (3,1) temporal conv with stride s: (B,C,T,J) → (B,C',T/s,J)."""

    def __init__(self, in_channels: int, out_channels: int, *, joints: int, temporal_stride: int) -> None:
        super().__init__()
        self.spatial = FrameSkeletonStage(in_channels, out_channels, joints=joints, dims=2)
        self.temporal = nn.Sequential(
            nn.Conv2d(out_channels, out_channels, (3, 1), stride=(temporal_stride, 1), padding=(1, 0), bias=False),
            nn.BatchNorm2d(out_channels))
        self.stride = temporal_stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.spatial(x)
        skip = y[:, :, :: self.stride] if self.stride > 1 else y
        return torch.relu(self.temporal(y) + skip)


class ClipSkeletonStream(StagedStream):
    """Graph + temporal convolutions over (T, J) (windowed shape)."""

    def __init__(self, *, in_channels: int, widths: Sequence[int], joints: int, num_classes: int,
                 temporal_strides: Sequence[int], dropout: float = 0.2) -> None:
        super().__init__()
        if len(temporal_strides) != len(widths):
            raise ValueError("one temporal stride per stage")
        self.widths = tuple(widths)
        chans = (in_channels,) + self.widths
        self.stages = nn.ModuleList(
            ClipSkeletonStage(chans[i], chans[i + 1], joints=joints, temporal_stride=temporal_strides[i])
            for i in range(len(widths)))
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(self.widths[-1], num_classes)

    def pool(self, feature: torch.Tensor, batch: int) -> torch.Tensor:
        return feature.mean(dim=(2, 3))  # (B, C)

    def classify(self, pooled: torch.Tensor) -> torch.Tensor:
        return self.fc(self.dropout(pooled))  # (B, K)
