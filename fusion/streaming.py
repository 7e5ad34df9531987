"""The streaming shape: per-frame 2D stages with frame-level MMTM, then causal temporal layers.

Each frame is computed once: ``step`` runs the per-frame stages (MMTM squeezes over H, W and over
J of ONE frame), appends the per-frame features to each stream's causal temporal layers (cached
state) and averages the newest T − R + 1 temporal outputs. With ``ModelConfig.mmtm_temporal`` an
MMTM follows the chosen temporal layers, gating each time step from every stream's features at that
step (the streams' temporal layers then run one layer at a time across the streams); with
``ModelConfig.mmtm_pooled`` one more MMTM joins the streams' averages before each stream's
classifier (the paper's squeeze over the whole clip, at the last layer); in ``forward`` and ``step``
alike. After at least T frames, ``step`` on the newest frame equals ``forward`` over the last T
frames (eval mode); after R ≤ n < T frames it equals ``forward`` over all n frames.

When the rgb stream sees frame differences (``ModelConfig.rgb_input`` "motion" or "frames+motion",
``lead_frames`` 1), ``forward`` takes each window with the frame before it (T + 1 frames; the extra
one is only the first difference's reference) and ``step`` keeps the previous rgb frame in its
state; the first frame ``step`` sees is its own reference (zero difference), as in ``forward`` over
the first n frames with the first one repeated in front.

    forward({"rgb": (B,3,T,H,W), "depth": (B,1,T,H,W), "skeleton": (B,C,T,J)})  → FusionOutput
    step({"rgb": (B,3,H,W), "depth": (B,1,H,W), "skeleton": (B,C,J)})           → FusionOutput
    reset()
    step_functional(frames, present, state) → (logits, [stream logits], new state)   # exportable
"""

from __future__ import annotations

from typing import Mapping, Sequence

import torch

from fusion.fusion_net import FusionNet, FusionOutput
from fusion.mmtm_placement import MMTMPlacement
from fusion.model_config import IN_CHANNELS, RGB_INPUTS, ModelConfig
from fusion.skeleton_stream import FrameSkeletonStream
from fusion.video_stream import FrameVideoStream


class StreamingFusionNet(FusionNet):
    """Per-frame rgb/depth CNNs and skeleton graph stages, fused per frame, with causal temporal heads.

    ``forward(inputs, present=None)``: windows as in ``WindowedFusionNet`` (T ≥ ``receptive_field``).
    ``step(frames, present=None)``: one frame per modality; missing keys follow the missing-modality rule.
    """

    def __init__(self, *, config: ModelConfig) -> None:
        streams = {}
        common = dict(num_classes=config.num_classes, window=config.input.window,
                      temporal_channels=config.temporal_channels, temporal_kernel=config.temporal_kernel,
                      temporal_dilations=config.temporal_dilations, dropout=config.dropout)
        for m in config.modalities:
            if m == "skeleton":
                streams[m] = FrameSkeletonStream(in_channels=config.input.skeleton_channels,
                                                 widths=config.skeleton_widths, joints=config.input.joints, **common)
            else:
                channels = RGB_INPUTS[config.rgb_input] if m == "rgb" else IN_CHANNELS[m]
                streams[m] = FrameVideoStream(in_channels=channels, widths=config.video_widths, **common)
        super().__init__(config=config, streams=streams)
        first = self.streams[self.modalities[0]].temporal
        self.receptive_field = first.receptive_field
        self.window = config.input.window
        self._state: list[torch.Tensor] | None = None

    # --- windows --------------------------------------------------------------------------------

    def forward(self, inputs: Mapping[str, torch.Tensor],
                present: Mapping[str, torch.Tensor] | None = None) -> FusionOutput:
        xs, weights, batch = self._gather(inputs, present, windowed=True)
        xs = self._drop_lead(xs)
        xs = {m: self.streams[m].fold(x) for m, x in xs.items()}  # (B·T, C, …)
        feats = self._run_stages(xs)
        logits = self._heads(feats, batch, weights)  # present streams only
        return FusionOutput(self._average(logits, weights), logits)

    def _pool(self, feats: dict[str, torch.Tensor], batch: int) -> dict[str, torch.Tensor]:
        """The streams' temporal layers, each followed by its MMTM when it has one, averaged over the window."""
        if not self.config.mmtm_temporal:
            return super()._pool(feats, batch)
        ys = {m: self.streams[m].sequence(f, batch) for m, f in feats.items()}  # (B, C, T)
        self.streams[self.modalities[0]].temporal.check_frames(next(iter(ys.values())).shape[2])
        for layer in range(len(self.config.temporal_dilations)):
            ys = {m: self.streams[m].temporal.layers[layer](y) for m, y in ys.items()}  # (B, C', T − context)
            ys = self._fuse_temporal(layer, ys)
        return {m: y.mean(dim=2) for m, y in ys.items()}

    def _fuse_temporal(self, layer: int, ys: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """The MMTM after temporal layer ``layer``, when there is one, on each time step's features:
        ``ys`` (B, C, T') per stream (T' = 1 in ``step``); each step is gated on its own."""
        mmtm = self._mmtm_at(MMTMPlacement.temporal(layer))
        if mmtm is None:
            return ys
        fused = mmtm(*(ys[m].transpose(1, 2).flatten(0, 1) for m in self.modalities))  # (B·T', C') each
        return {m: f.unflatten(0, (ys[m].shape[0], ys[m].shape[2])).transpose(1, 2)
                for m, f in zip(self.modalities, fused)}

    def _drop_lead(self, xs: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Windows of ``lead_frames`` + T frames → T frames per stream, rgb made what its stream sees."""
        if not self.lead_frames:
            return xs
        frames = next(iter(xs.values())).shape[2]
        if frames < 2:
            raise ValueError(f"rgb_input {self.config.rgb_input!r} needs the frame before the window: "
                             f"windows of T + 1 frames, got {frames}")
        out = {m: x[:, :, 1:] for m, x in xs.items()}
        if "rgb" in xs:  # absent from a late-fusion network's inputs, it is not run at all
            out["rgb"] = rgb_stream_input(xs["rgb"][:, :, 1:], xs["rgb"][:, :, :-1], self.config.rgb_input)
        return out

    # --- streaming ------------------------------------------------------------------------------

    def initial_state(self, batch: int = 1, *, device=None, dtype=torch.float32) -> list[torch.Tensor]:
        """Zero state: per stream (modality order) its temporal buffers and output ring, the rgb frame
        before (B,3,H,W) when the rgb stream sees frame differences, then frames seen (B,)."""
        state: list[torch.Tensor] = []
        for m in self.modalities:
            state += self.streams[m].temporal.initial_state(batch, device=device, dtype=dtype)
        if self.lead_frames:
            spec = self.config.input
            state.append(torch.zeros(batch, IN_CHANNELS["rgb"], spec.height, spec.width, device=device, dtype=dtype))
        state.append(torch.zeros(batch, device=device, dtype=dtype))
        return state

    def step_functional(self, frames: Sequence[torch.Tensor], present: torch.Tensor, state: Sequence[torch.Tensor]
                        ) -> tuple[torch.Tensor, list[torch.Tensor], list[torch.Tensor]]:
        """One step with explicit state, for export.

        ``frames``: one tensor per modality in ``self.modalities`` order (zeros where missing);
        ``present`` (B, M) 0/1 per modality; ``state`` from ``initial_state`` or the previous step.
        Returns (logits (B,K), [per-stream logits (B,K)], new state).
        """
        seen = state[-1]  # (B,)
        xs = {}
        for i, m in enumerate(self.modalities):
            x = frames[i]
            xs[m] = x * present[:, i].reshape((x.shape[0],) + (1,) * (x.ndim - 1))
        last_rgb = []
        if self.lead_frames:
            # the first frame has none before it: it is its own (the difference is zero)
            now, first = xs["rgb"], (seen == 0).to(xs["rgb"].dtype).reshape(-1, 1, 1, 1)
            before = state[-2] * (1.0 - first) + now * first
            xs["rgb"] = rgb_stream_input(now, before, self.config.rgb_input)
            last_rgb = [now]
        feats = self._run_stages(xs)
        ys = {m: self.streams[m].embed(feats[m]).unsqueeze(2) for m in self.modalities}  # (B, C, 1) each
        layers = len(self.config.temporal_dilations)
        # per stream: one buffer per temporal layer, then the output ring
        states = {m: list(state[i * (layers + 1):(i + 1) * (layers + 1)]) for i, m in enumerate(self.modalities)}
        for layer in range(layers):
            for m in self.modalities:
                ys[m], states[m][layer] = self.streams[m].temporal.step_layer(layer, ys[m], states[m][layer])
            ys = self._fuse_temporal(layer, ys)
        pooled: dict[str, torch.Tensor] = {}
        for m in self.modalities:
            pooled[m], states[m][-1] = self.streams[m].temporal.step_average(ys[m], states[m][-1], seen)  # (B, C')
        new_state = [s for m in self.modalities for s in states[m]]
        pooled = self._fuse_pooled(pooled)
        stream_logits = [self.streams[m].classify(pooled[m]) for m in self.modalities]  # (B, K) each
        new_state += last_rgb
        new_state.append(seen + 1.0)
        total = sum(l * present[:, i:i + 1] for i, l in enumerate(stream_logits))
        logits = total / torch.clamp(present.sum(dim=1, keepdim=True), min=1e-6)  # (B, K)
        return logits, stream_logits, new_state

    def reset(self) -> None:
        """Forget every frame seen by ``step``."""
        self._state = None

    @property
    def warm_steps(self) -> int:
        """How many times ``warm`` steps the first frame: T − 1, so that the first real step's window
        (the last T frames) is full."""
        return self.config.input.window - 1

    def warm(self, frames: Mapping[str, torch.Tensor], present: Mapping[str, torch.Tensor] | None = None) -> None:
        """Start a stream as if its first ``frames`` had been held still before it: ``reset``, then
        ``step`` them ``warm_steps`` times (outputs discarded). Training windows are always full; a
        stream that starts mid-gesture (a video cut at the start of a swipe) is then read alike,
        instead of from empty temporal buffers."""
        self.reset()
        for _ in range(self.warm_steps):
            self.step(frames, present)

    @property
    def frames_seen(self) -> int:
        return 0 if self._state is None else int(self._state[-1][0].item())

    def step(self, frames: Mapping[str, torch.Tensor],
             present: Mapping[str, torch.Tensor] | None = None) -> FusionOutput:
        """Feed one frame per modality (rgb (B,3,H,W), depth (B,1,H,W), skeleton (B,C,J)); the newest prediction.

        The result is meaningful once ``frames_seen`` ≥ ``receptive_field`` (before that it is the
        heads' bias); it equals ``forward`` over the last T frames once T frames were fed.
        """
        given = [m for m in self.modalities if m in frames]
        if not given:
            raise ValueError(f"none of the model's modalities {self.modalities} is in the frames {sorted(frames)}")
        ref = frames[given[0]]
        batch = ref.shape[0]
        if self._state is None:
            self._state = self.initial_state(batch, device=ref.device, dtype=ref.dtype)
        elif self._state[-1].shape[0] != batch:
            raise ValueError(f"batch changed from {self._state[-1].shape[0]} to {batch} without reset()")
        xs, mask = [], []
        for m in self.modalities:
            if m in frames:
                xs.append(frames[m])
                p = present[m].to(ref.dtype) if present is not None and m in present else torch.ones(
                    batch, dtype=ref.dtype, device=ref.device)
            else:
                xs.append(self._zeros_like_input(m, batch, None, ref))
                p = torch.zeros(batch, dtype=ref.dtype, device=ref.device)
            mask.append(p)
        logits, stream_logits, self._state = self.step_functional(xs, torch.stack(mask, dim=1), self._state)
        streams = {m: l for m, l in zip(self.modalities, stream_logits) if m in frames}
        return FusionOutput(logits, streams)


def rgb_stream_input(now: torch.Tensor, before: torch.Tensor, kind: str) -> torch.Tensor:
    """What the rgb stream sees (``ModelConfig.rgb_input``): from normalised frames ``now`` and the
    frames ``before`` them (channel axis 1), ``now − before`` ("motion") or both stacked."""
    if kind == "frames":
        return now
    motion = now - before
    return motion if kind == "motion" else torch.cat([now, motion], dim=1)
