"""The one function that builds a fusion network from its configuration.

    from fusion.build import build_model
    model = build_model(ModelConfig())   # a StreamingFusionNet; shape="windowed": a WindowedFusionNet
"""

from __future__ import annotations

from fusion.model_config import ModelConfig
from fusion.streaming import StreamingFusionNet
from fusion.windowed import WindowedFusionNet


def build_model(config: ModelConfig) -> StreamingFusionNet | WindowedFusionNet:
    """The fusion network of ``config``: a ``StreamingFusionNet`` or a ``WindowedFusionNet``."""
    if config.shape == "streaming":
        return StreamingFusionNet(config=config)
    return WindowedFusionNet(config=config)
