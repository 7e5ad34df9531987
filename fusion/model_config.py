"""The model configuration: everything that fixes a fusion network's architecture.

    model = build_model(ModelConfig())                      # default: streaming, rgb+depth+skeleton, MMTM
    model = build_model(ModelConfig(shape="windowed", fusion="late"))
    model = build_model(ModelConfig(modalities=("skeleton",), fusion="none"))

(``build_model`` is in ``fusion.build``.) The fields declared with ``option`` are also the command
line's architecture flags (``train``, ``model-info``): ``--shape``, ``--modalities``, ….
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from fusion.config_flags import option
from fusion.field_checks import check_bool, check_int, check_ints, check_real
from fusion.labels import DEFAULT_LABELS
from fusion.mmtm_placement import MMTMPlacement
from fusion.preprocess import SKELETON_CHANNELS, InputSpec

MODALITIES = ("rgb", "depth", "skeleton")
FUSIONS = ("none", "late", "mmtm")
SHAPES = ("streaming", "windowed")
IN_CHANNELS = {"rgb": 3, "depth": 1}
# What the rgb stream sees of each frame t (streaming shape): the frame, its difference from the
# frame before (the moving hand stands out, the static scene cancels), or both stacked.
RGB_INPUTS = {"frames": 3, "motion": 3, "frames+motion": 6}
MMTM_VARIANTS = ("paper", "official")  # fusion.mmtm.MMTM's variants
# The most a model may hold: its weights plus one window's feature maps (float32, batch 1), as
# estimated by ModelConfig.footprint_bytes; a checkpoint asking for more is refused before it is built.
MAX_FOOTPRINT_BYTES = 4 * 2**30
MAX_WIDTH, MAX_STAGES, MAX_CLASSES = 2048, 8, 10_000


@dataclass(frozen=True)
class ModelConfig:
    """Everything that fixes a model's architecture; stored in every checkpoint."""

    shape: str = option("streaming", "streaming (per-frame 2D stages + causal temporal layers; step()) or "
                        "windowed (3D convs over the clip)", choices=SHAPES)
    modalities: tuple[str, ...] = option(MODALITIES, "comma-separated, any of rgb,depth,skeleton", metavar="M,M",
                                         choices=MODALITIES)
    fusion: str = option("mmtm", "none (one stream), late (average of the streams' logits) or mmtm "
                         "(MMTM between the streams, then the average)", choices=FUSIONS)
    num_classes: int = len(DEFAULT_LABELS)
    # see docs/BENCHMARKS.md, Model, for why after stages 2 and 3
    mmtm_stages: tuple[int, ...] = option((2, 3), "--fusion mmtm: MMTM after these stages, 0 the stem ('' for none)",
                                          metavar="S,S")
    # one more MMTM on each stream's window-level feature, just before its classifier (streaming: the
    # causal temporal layers' output averaged over the window; windowed: the last stage pooled over T,H,W)
    mmtm_pooled: bool = option(False, "--fusion mmtm: one more MMTM on the streams' window-level features, "
                               "just before their classifiers")
    # streaming: MMTM after these causal temporal layers (0 = the first), on each time step's features,
    # which have seen the layers' receptive field so far (3, 7, 15 frames with the default dilations)
    mmtm_temporal: tuple[int, ...] = option((), "--fusion mmtm (streaming): MMTM after these causal temporal "
                                            "layers, 0 the first, on each time step's features", metavar="L,L")
    mmtm_ratio: float = 4.0
    mmtm_variant: str = "paper"  # "paper" (identity at init) or "official"
    video_widths: tuple[int, ...] = option((16, 24, 48, 64), "rgb/depth stage widths; each stage halves H and W",
                                           metavar="W,W,W,W")
    skeleton_widths: tuple[int, ...] = option((32, 48, 64, 64), "skeleton stage widths (as many stages)",
                                              metavar="W,W,W,W")
    temporal_channels: int = option(64, "streaming: width of the causal temporal layers", metavar="C")
    temporal_kernel: int = 3
    temporal_dilations: tuple[int, ...] = (1, 2, 4)  # receptive field 1 + (k−1)·Σd = 15 frames
    temporal_strides: tuple[int, ...] = (1, 1, 2, 2)  # windowed: temporal stride of each stage
    dropout: float = 0.2
    rgb_input: str = option("frames", "what the rgb stream sees of each frame (streaming): the frame, its "
                            "difference from the frame before, or both", choices=tuple(RGB_INPUTS))
    input: InputSpec = field(default_factory=InputSpec)

    def __post_init__(self) -> None:
        self._check_fields()
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
        if self.shape == "streaming" and self.input.window < self.receptive_field:
            raise ValueError(f"window {self.input.window} is shorter than the temporal layers' receptive field "
                             f"{self.receptive_field}")
        footprint = self.footprint_bytes()
        if footprint > MAX_FOOTPRINT_BYTES:
            raise ValueError(f"this model would take about {footprint / 2**30:.1f} GiB (weights and one window's "
                             f"features); at most {MAX_FOOTPRINT_BYTES / 2**30:.0f} GiB is allowed")

    def _check_fields(self) -> None:
        """Types and ranges of the fields, before anything is computed from them (untrusted files)."""
        for name in ("shape", "fusion", "rgb_input", "mmtm_variant"):
            if not isinstance(getattr(self, name), str):
                raise ValueError(f"{name} must be a string, got {getattr(self, name)!r:.40}")
        if self.mmtm_variant not in MMTM_VARIANTS:
            raise ValueError(f"mmtm_variant must be one of {MMTM_VARIANTS}, got {self.mmtm_variant!r:.40}")
        if not isinstance(self.modalities, tuple) or not all(isinstance(m, str) for m in self.modalities):
            raise ValueError(f"modalities must be a list of names, got {self.modalities!r:.60}")
        check_int("num_classes", self.num_classes, 2, MAX_CLASSES)
        check_ints("video_widths", self.video_widths, 1, MAX_WIDTH, min_len=1, max_len=MAX_STAGES)
        check_ints("skeleton_widths", self.skeleton_widths, 1, MAX_WIDTH, min_len=1, max_len=MAX_STAGES)
        check_ints("temporal_strides", self.temporal_strides, 1, 8, max_len=MAX_STAGES)
        check_ints("mmtm_stages", self.mmtm_stages, 0, MAX_STAGES, max_len=MAX_STAGES)
        check_ints("mmtm_temporal", self.mmtm_temporal, 0, 64, max_len=64)
        for name in ("mmtm_stages", "mmtm_temporal"):
            if len(set(getattr(self, name))) != len(getattr(self, name)):
                raise ValueError(f"{name} must not repeat a place, got {getattr(self, name)}")
        check_bool("mmtm_pooled", self.mmtm_pooled)
        check_real("mmtm_ratio", self.mmtm_ratio, 1e-3, 4096.0)  # hidden = sum(C) / ratio units
        check_int("temporal_channels", self.temporal_channels, 1, MAX_WIDTH)
        check_int("temporal_kernel", self.temporal_kernel, 1, 31)
        check_ints("temporal_dilations", self.temporal_dilations, 1, 256, min_len=1, max_len=16)
        check_real("dropout", self.dropout, 0.0, 0.99)
        if not isinstance(self.input, InputSpec):
            raise ValueError(f"input must be an InputSpec, got {type(self.input).__name__}")

    @property
    def receptive_field(self) -> int:
        """Frames the causal temporal layers see (streaming shape): 1 + (kernel − 1)·Σ dilations."""
        return 1 + (self.temporal_kernel - 1) * sum(self.temporal_dilations)

    def footprint_bytes(self) -> int:
        """An upper estimate of the bytes a model of this config takes: its float32 weights plus
        the feature maps of one window at batch 1 (each stage counted four times: conv, norm,
        residual, the wider middle of a (2+1)D conv). Exact enough to refuse a config of tens of GB."""
        spec = self.input
        frames = spec.window + self.lead_frames
        weights = features = 0
        for modality in self.modalities:
            widths = self.skeleton_widths if modality == "skeleton" else self.video_widths
            channels = (len(SKELETON_CHANNELS) if modality == "skeleton"
                        else RGB_INPUTS[self.rgb_input] if modality == "rgb" else IN_CHANNELS[modality])
            height, width = spec.height, spec.width
            features += channels * frames * (spec.joints if modality == "skeleton" else height * width)
            for c_in, c_out in zip((channels,) + widths, widths):
                wide = max(c_in, c_out)
                if modality == "skeleton":
                    weights += 8 * wide * wide + spec.joints ** 2
                    features += 4 * wide * frames * spec.joints
                else:
                    height, width = -(-height // 2), -(-width // 2)  # each stage halves H and W
                    weights += 24 * wide * wide
                    features += 4 * wide * frames * height * width
            weights += len(self.temporal_dilations) * self.temporal_kernel * self.temporal_channels * max(
                self.temporal_channels, widths[-1])
            features += 4 * self.temporal_channels * frames
            weights += (max(widths[-1], self.temporal_channels) + 1) * self.num_classes
        joined = len(self.modalities) * max(self.video_widths + self.skeleton_widths + (self.temporal_channels,))
        weights += len(self.mmtm_placements) * 2 * joined * int(2 * joined / self.mmtm_ratio + 1)  # squeeze, excite
        return 4 * (weights + features)

    @property
    def lead_frames(self) -> int:
        """Frames a window needs before its T frames: 1 when the rgb stream sees frame differences."""
        return int(self.rgb_input != "frames" and "rgb" in self.modalities)

    @property
    def mmtm_placements(self) -> tuple[MMTMPlacement, ...]:
        """Where the network's MMTMs sit, in the order they are built: after the stages, on the pooled
        features, after the temporal layers; () unless ``fusion`` is "mmtm"."""
        if self.fusion != "mmtm":
            return ()
        return (tuple(MMTMPlacement.stage(s) for s in self.mmtm_stages)
                + ((MMTMPlacement.pooled(),) if self.mmtm_pooled else ())
                + tuple(MMTMPlacement.temporal(layer) for layer in self.mmtm_temporal))

    def stream_config(self, modality: str) -> "ModelConfig":
        """This network's ``modality`` stream as a unimodal network (fusion "none"), reduced to the
        fields that shape the stream's weights: no MMTM, and the MMTM settings, dropout and (outside
        the rgb stream) ``rgb_input`` at their defaults. A unimodal checkpoint fits the stream when its
        own ``stream_config`` is the same (``fusion.checkpoint.load_unimodal_checkpoints``)."""
        unshaped = ("mmtm_ratio", "mmtm_variant", "dropout") + (() if modality == "rgb" else ("rgb_input",))
        defaults = {f.name: f.default for f in dataclasses.fields(self) if f.name in unshaped}
        return self.replace(modalities=(modality,), fusion="none", mmtm_stages=(), mmtm_temporal=(),
                            mmtm_pooled=False, **defaults)

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
        kwargs = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}  # JSON lists
        if "input" in kwargs:
            if not isinstance(data["input"], dict):
                raise ValueError(f"input must be an object (the input spec), got {type(data['input']).__name__}")
            kwargs["input"] = InputSpec.from_dict(kwargs["input"])
        return cls(**kwargs)

