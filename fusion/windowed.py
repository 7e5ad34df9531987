"""The windowed shape, the paper's setting: 3D-conv streams over a clip, MMTM between stages.

MMTM squeezes video features over (T, H, W) and skeleton features over (T, J). The whole window is
recomputed at every evaluation; see ``fusion.streaming`` for the real-time shape.
"""

from __future__ import annotations

from typing import Mapping

import torch

from fusion.fusion_net import FusionNet, FusionOutput
from fusion.model_config import IN_CHANNELS, ModelConfig
from fusion.skeleton_stream import ClipSkeletonStream
from fusion.video_stream import ClipVideoStream


class WindowedFusionNet(FusionNet):
    """R(2+1)D-like rgb/depth streams and a (T, J) skeleton stream, fused by ``config.fusion``.

    ``forward(inputs, present=None)``: ``inputs`` maps modality → rgb (B,3,T,H,W), depth (B,1,T,H,W),
    skeleton (B,C,T,J) float32; ``present`` optionally maps modality → (B,) 0/1 mask. Returns
    ``FusionOutput(logits (B,K), streams {modality: (B,K)})``.
    """

    def __init__(self, *, config: ModelConfig) -> None:
        streams = {}
        for m in config.modalities:
            if m == "skeleton":
                streams[m] = ClipSkeletonStream(in_channels=config.input.skeleton_channels,
                                                widths=config.skeleton_widths, joints=config.input.joints,
                                                num_classes=config.num_classes,
                                                temporal_strides=config.temporal_strides, dropout=config.dropout)
            else:
                streams[m] = ClipVideoStream(in_channels=IN_CHANNELS[m], widths=config.video_widths,
                                             num_classes=config.num_classes,
                                             temporal_strides=config.temporal_strides, dropout=config.dropout)
        super().__init__(config=config, streams=streams)

    def forward(self, inputs: Mapping[str, torch.Tensor],
                present: Mapping[str, torch.Tensor] | None = None) -> FusionOutput:
        xs, weights, batch = self._gather(inputs, present, windowed=True)
        feats = self._run_stages(xs)
        logits = self._heads(feats, batch, weights)  # present streams only
        return FusionOutput(self._average(logits, weights), logits)
