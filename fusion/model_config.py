"""The model configuration and the one function that builds a model from it.

    model = build_model(ModelConfig())                      # default: streaming, rgb+depth+skeleton, MMTM
    model = build_model(ModelConfig(shape="windowed", fusion="late"))
    model = build_model(ModelConfig(modalities=("skeleton",), fusion="none"))
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from fusion.labels import DEFAULT_LABELS
from fusion.preprocess import InputSpec

MODALITIES = ("rgb", "depth", "skeleton")
FUSIONS = ("none", "late", "mmtm")
SHAPES = ("streaming", "windowed")
IN_CHANNELS = {"rgb": 3, "depth": 1}
# What the rgb stream sees of each frame t (streaming shape): the frame, its difference from the
# frame before (the moving hand stands out, the static scene cancels), or both stacked.
RGB_INPUTS = {"frames": 3, "motion": 3, "frames+motion": 6}


@dataclass(frozen=True)
class ModelConfig:
    """Everything that fixes a model's architecture; stored in every checkpoint."""

    shape: str = "streaming"  # "streaming" (per-frame 2D + causal temporal, step()) or "windowed" (3D convs)
    modalities: tuple[str, ...] = MODALITIES  # any subset of rgb, depth, skeleton, in this order
    fusion: str = "mmtm"  # "none" (one stream), "late" (average of logits), "mmtm" (MMTM + average)
    num_classes: int = len(DEFAULT_LABELS)
    mmtm_stages: tuple[int, ...] = (2, 3)  # MMTM after these stages (0 = stem); see docs/BENCHMARKS.md, Model
    # one more MMTM on each stream's window-level feature, just before its classifier (streaming: the
    # causal temporal layers' output averaged over the window; windowed: the last stage pooled over T,H,W)
    mmtm_pooled: bool = False
    # streaming: MMTM after these causal temporal layers (0 = the first), on each time step's features,
    # which have seen the layers' receptive field so far (3, 7, 15 frames with the default dilations)
    mmtm_temporal: tuple[int, ...] = ()
    mmtm_ratio: float = 4.0
    mmtm_variant: str = "paper"  # "paper" (identity at init) or "official"
    video_widths: tuple[int, ...] = (16, 24, 48, 64)  # rgb and depth stage widths, each stage halves H and W
    skeleton_widths: tuple[int, ...] = (32, 48, 64, 64)  # skeleton stage widths (same number of stages)
    temporal_channels: int = 64  # streaming: width of the causal temporal layers
    temporal_kernel: int = 3
    temporal_dilations: tuple[int, ...] = (1, 2, 4)  # receptive field 1 + (k−1)·Σd = 15 frames
    temporal_strides: tuple[int, ...] = (1, 1, 2, 2)  # windowed: temporal stride of each stage
    dropout: float = 0.2
    rgb_input: str = "frames"  # see RGB_INPUTS; "motion" needs the frame before each window (lead_frames)
    input: InputSpec = field(default_factory=InputSpec)

    def __post_init__(self) -> None:
        if self.shape not in SHAPES:
            raise ValueError(f"shape must be one of {SHAPES}, got {self.shape!r}")
        if self.fusion not in FUSIONS:
            raise ValueError(f"fusion must be one of {FUSIONS}, got {self.fusion!r}")
        mods = tuple(self.modalities)
        if not mods or len(set(mods)) != len(mods) or any(m not in MODALITIES for m in mods):
            raise ValueError(f"modalities must be distinct names from {MODALITIES}, got {mods}")
        object.__setattr__(self, "modalities", tuple(m for m in MODALITIES if m in mods))  # canonical order
        if self.fusion == "none" and len(mods) != 1:
            raise ValueError(f"fusion 'none' is one stream, got modalities {mods}")
        if self.fusion != "none" and len(mods) < 2:
            raise ValueError(f"fusion {self.fusion!r} needs two or more modalities, got {mods}")
        if len(self.video_widths) != len(self.skeleton_widths):
            raise ValueError("video_widths and skeleton_widths need the same number of stages")
        if len(self.temporal_strides) != len(self.video_widths):
            raise ValueError("one temporal stride per stage")
        stages = len(self.video_widths)
        if any(not 0 <= s < stages for s in self.mmtm_stages):
            raise ValueError(f"mmtm_stages must lie in 0..{stages - 1}, got {self.mmtm_stages}")
        layers = len(self.temporal_dilations)
        if any(not 0 <= t < layers for t in self.mmtm_temporal):
            raise ValueError(f"mmtm_temporal must lie in 0..{layers - 1}, got {self.mmtm_temporal}")
        if self.mmtm_temporal and self.shape != "streaming":
            raise ValueError("mmtm_temporal needs the streaming shape (the windowed shape has no temporal layers)")
        if self.fusion == "mmtm" and not (self.mmtm_stages or self.mmtm_pooled or self.mmtm_temporal):
            raise ValueError("fusion 'mmtm' needs MMTM somewhere: mmtm_stages, mmtm_temporal or mmtm_pooled")
        if self.num_classes < 2:
            raise ValueError("num_classes must be at least 2")
        if self.rgb_input not in RGB_INPUTS:
            raise ValueError(f"rgb_input must be one of {tuple(RGB_INPUTS)}, got {self.rgb_input!r}")
        if self.rgb_input != "frames" and self.shape != "streaming":
            raise ValueError(f"rgb_input {self.rgb_input!r} needs the streaming shape")

    @property
    def lead_frames(self) -> int:
        """Frames a window needs before its T frames: 1 when the rgb stream sees frame differences."""
        return int(self.rgb_input != "frames" and "rgb" in self.modalities)

    def replace(self, **changes) -> "ModelConfig":
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        data = dataclasses.asdict(self)
        data["input"] = self.input.to_dict()
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "ModelConfig":
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - names
        if unknown:
            raise ValueError(f"unknown model config fields {sorted(unknown)}")
        kwargs = dict(data)
        for key in ("modalities", "mmtm_stages", "mmtm_temporal", "video_widths", "skeleton_widths",
                    "temporal_dilations", "temporal_strides"):
            if key in kwargs:
                kwargs[key] = tuple(kwargs[key])
        if "input" in kwargs:
            kwargs["input"] = InputSpec.from_dict(kwargs["input"])
        return cls(**kwargs)


def build_model(config: ModelConfig):
    """The fusion network of ``config``: a ``StreamingFusionNet`` or a ``WindowedFusionNet``."""
    if config.shape == "streaming":
        from fusion.streaming import StreamingFusionNet

        return StreamingFusionNet(config=config)
    from fusion.windowed import WindowedFusionNet

    return WindowedFusionNet(config=config)
