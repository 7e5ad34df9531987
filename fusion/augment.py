"""Training-time augmentation of a batch of model inputs, and modality dropout.

Spatial: one random translation per clip, the same for rgb, depth and the skeleton's absolute
position channels (no flips: gesture directions are defined in the mirrored view); a skeleton
without images moves farther (``skeleton_shift``) and is scaled more (``skeleton_scale``): real
hands make every gesture anywhere in the frame (a raised open palm near its top) and at any size
(a photo's hand can fill a third of it); what stays is the hand's shape and how it moves. Colour:
brightness, contrast and per-channel gain of rgb. Depth: a small offset (the hand a bit nearer or
farther). Skeleton: the hand turned a little in the image plane, its size and z scaled, z dropped
for a whole clip (a keypoint table has none), joint jitter. Temporal: random window crops happen in
``PreparedClips.batch``.

Modality dropout: with probability ``p`` per sample, one present modality is marked absent
(``present`` mask 0: its input is zeroed and its logits leave the average), never the last one;
this is what makes a missing stream at run time (a webcam without depth) degrade gracefully.
"""

from __future__ import annotations

import math

import torch

from fusion.augment_config import AugmentConfig

# skeleton channels (fusion.preprocess.SKELETON_CHANNELS)
_SHAPE, _DX, _DY, _DZ, _X, _Y, _SCALE, _PRESENCE = slice(0, 3), 0, 1, 2, 3, 4, 5, 7


def _shift_images(x: torch.Tensor, dx: torch.Tensor, dy: torch.Tensor, fill: float) -> torch.Tensor:
    """Translate (B, C, T, H, W) images by integer pixels (dx, dy) per sample; uncovered pixels = fill."""
    B, C, T, H, W = x.shape
    out = torch.full_like(x, fill)
    for b in range(B):
        sx, sy = int(dx[b]), int(dy[b])
        xs_src = slice(max(0, -sx), W - max(0, sx))
        xs_dst = slice(max(0, sx), W - max(0, -sx))
        ys_src = slice(max(0, -sy), H - max(0, sy))
        ys_dst = slice(max(0, sy), H - max(0, -sy))
        out[b, :, :, ys_dst, xs_dst] = x[b, :, :, ys_src, xs_src]
    return out


def augment(inputs: dict[str, torch.Tensor], config: AugmentConfig, generator: torch.Generator
            ) -> dict[str, torch.Tensor]:
    """A new input dict with random augmentations applied per sample."""
    out = dict(inputs)
    ref = next(iter(inputs.values()))
    B = ref.shape[0]
    u = lambda *shape: torch.rand(shape, generator=generator) * 2.0 - 1.0  # noqa: E731 - uniform in [-1, 1)
    video = [m for m in ("rgb", "depth") if m in inputs]
    shift = config.shift if video else config.skeleton_shift
    fx, fy = u(B) * shift, u(B) * shift  # fraction of width / height
    if video and config.shift > 0:
        H, W = inputs[video[0]].shape[-2:]
        dx, dy = torch.round(fx * W), torch.round(fy * H)
        fx, fy = dx / W, dy / H  # the skeleton follows the pixels exactly
        for m in video:
            fill = float(inputs[m].amin()) if m == "rgb" else 0.0
            out[m] = _shift_images(inputs[m], dx, dy, fill)
    if "skeleton" in inputs:
        s = inputs["skeleton"].clone()  # (B, C, T, J)
        seen = s[:, _PRESENCE:_PRESENCE + 1]  # (B, 1, T, J)
        if shift > 0:
            s[:, _X:_X + 1] += fx.reshape(B, 1, 1, 1) * seen
            s[:, _Y:_Y + 1] += fy.reshape(B, 1, 1, 1) * seen
        if config.roll_deg > 0:  # the hand's shape turned in the image plane (isotropic x, y)
            angle = u(B) * torch.pi * config.roll_deg / 180.0
            c, n = torch.cos(angle).reshape(B, 1, 1), torch.sin(angle).reshape(B, 1, 1)
            dx, dy = s[:, _DX].clone(), s[:, _DY].clone()
            s[:, _DX], s[:, _DY] = c * dx - n * dy, n * dx + c * dy
        if video and config.hand_scale > 0:
            s[:, _SCALE] *= (1.0 + u(B) * config.hand_scale).reshape(B, 1, 1)
        elif not video and config.skeleton_scale > 1:
            s[:, _SCALE] *= torch.exp(u(B) * math.log(config.skeleton_scale)).reshape(B, 1, 1)
        if config.z_scale > 0:
            s[:, _DZ] *= (1.0 + u(B) * config.z_scale).reshape(B, 1, 1)
        if config.z_dropout > 0:
            s[:, _DZ] *= (torch.rand(B, generator=generator) >= config.z_dropout).float().reshape(B, 1, 1)
        if config.joint_jitter > 0:
            s[:, _SHAPE] += torch.randn(s[:, _SHAPE].shape, generator=generator) * config.joint_jitter * seen
        out["skeleton"] = s
    if "rgb" in inputs:
        x = out["rgb"]
        gain = 1.0 + u(B, 1, 1, 1, 1) * config.contrast
        gain = gain * (1.0 + u(B, 3, 1, 1, 1) * config.channel_gain)
        mean = x.mean(dim=(1, 2, 3, 4), keepdim=True)
        out["rgb"] = (x - mean) * gain + mean + u(B, 1, 1, 1, 1) * config.brightness
    if "depth" in inputs and config.depth_offset > 0:
        d = out["depth"]
        out["depth"] = torch.where(d > 0, (d + u(B, 1, 1, 1, 1) * config.depth_offset).clamp(0.0, 1.0), d)
    return out


def modality_dropout(modalities: tuple[str, ...], batch: int, p: float, generator: torch.Generator
                     ) -> dict[str, torch.Tensor] | None:
    """``present`` masks {modality: (B,) float 0/1}: per sample, with probability p one modality is dropped."""
    if p <= 0 or len(modalities) < 2:
        return None
    masks = torch.ones(len(modalities), batch)
    drop = torch.rand(batch, generator=generator) < p
    which = torch.randint(len(modalities), (batch,), generator=generator)
    masks[which[drop], torch.nonzero(drop).flatten()] = 0.0
    return {m: masks[i] for i, m in enumerate(modalities)}
