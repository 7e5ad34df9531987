"""Fit the synthetic world's kinematic hand to real MediaPipe landmarks: the joint angles real hands hold.

    python scripts/fit_real_poses.py [--real ../shared/data/real] [--every 15]

For each held hand of the development set (the MediaPipe test-photo landmark files, in 3D, and every
``--every``-th keypoint-table row, in 2D: the tables have no z), finds the pose (the 20 angles of
``fusion.data.synthetic.hand.POSE_FIELDS``, within the joint limits) and the orientation whose
joints, wrist-relative and divided by the palm length, come nearest the real ones (gradient descent
from several starts, either chirality: a table row's view is mirrored). Prints each landmark file's
fitted pose and, per table label, the median and interquartile range of the fitted angles. The
prototypes of ``fusion/data/synthetic/poses.py`` were read off this output (docs/synthetic.md).
A 2D fit cannot tell how far a joint bends towards the camera: the table figures are a guide.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

from fusion.data.readers.real import read_landmarks_pbtxt, read_manifest, read_table, table_hands
from fusion.data.synthetic import hand

LOW = torch.tensor(hand.LIMITS_LOW, dtype=torch.float64)
HIGH = torch.tensor(hand.LIMITS_HIGH, dtype=torch.float64)


def _rodrigues(v: torch.Tensor, axis: torch.Tensor, angle: torch.Tensor) -> torch.Tensor:
    axis = axis / (axis.norm(dim=-1, keepdim=True) + 1e-12)
    c, s = torch.cos(angle)[..., None], torch.sin(angle)[..., None]
    return v * c + torch.cross(axis, v, dim=-1) * s + axis * (axis * v).sum(-1, keepdim=True) * (1 - c)


def joints(pose_deg: torch.Tensor) -> torch.Tensor:
    """``hand.joints_local`` of the template hand (palm length 1) in torch: (B, 20) → (B, 21, 3)."""
    p = torch.deg2rad(pose_deg)
    B = p.shape[0]
    bones, mcps = torch.tensor(hand.FINGER_BONES), torch.tensor(hand.MCPS)
    fingers = p[:, :16].reshape(B, 4, 4)
    theta = torch.cumsum(fingers[..., 1:], -1)
    abd = fingers[..., 0][..., None]
    d = torch.stack([torch.sin(abd) * torch.cos(theta), torch.cos(abd) * torch.cos(theta), torch.sin(theta)], -1)
    chain = mcps[None, :, None, :] + torch.cumsum(d * bones[None, :, :, None], 2)   # (B, 4, 3, 3)
    d = torch.stack([torch.sin(p[:, 16]) * torch.cos(p[:, 17]), torch.cos(p[:, 16]) * torch.cos(p[:, 17]),
                     torch.sin(p[:, 17])], -1)
    axis = torch.cross(d, torch.tensor(hand.THUMB_BEND).expand(B, 3), dim=-1)
    base = torch.tensor(hand.CMC).expand(B, 3)
    points = [torch.zeros(B, 3, dtype=p.dtype), base]
    for k, flex in enumerate((torch.zeros(B, dtype=p.dtype), p[:, 18], p[:, 19])):
        d = _rodrigues(d, axis, flex)
        base = base + d * float(hand.THUMB_BONES[k])
        points.append(base)
    for f in range(4):
        points += [mcps[f].expand(B, 3), chain[:, f, 0], chain[:, f, 1], chain[:, f, 2]]
    return torch.stack(points, 1)


def _rotations(v: torch.Tensor) -> torch.Tensor:
    angle = v.norm(dim=-1).clamp_min(1e-9)
    k = v / angle[:, None]
    K = torch.zeros(v.shape[0], 3, 3, dtype=v.dtype)
    K[:, 0, 1], K[:, 0, 2], K[:, 1, 0] = -k[:, 2], k[:, 1], k[:, 2]
    K[:, 1, 2], K[:, 2, 0], K[:, 2, 1] = -k[:, 0], -k[:, 1], k[:, 0]
    s, c = torch.sin(angle)[:, None, None], torch.cos(angle)[:, None, None]
    return torch.eye(3, dtype=v.dtype)[None] + s * K + (1 - c) * K @ K


def _normalised(x: torch.Tensor) -> torch.Tensor:
    x = x - x[:, :1]
    return x / (x[:, 9].norm(dim=-1)[:, None, None] + 1e-9)


def fit(target: np.ndarray, *, starts: int = 4, steps: int = 250, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Poses (N, 20) and residuals (N,) (palm lengths) of hands (N, 21, D), D = 2 or 3, image axes."""
    n, _, dims = target.shape
    goal = _normalised(torch.tensor(target, dtype=torch.float64))
    facing = torch.tensor(hand.R_FACING)
    generator = torch.Generator().manual_seed(seed)
    best_pose = torch.zeros(n, 20, dtype=torch.float64)
    best_err = torch.full((n,), np.inf, dtype=torch.float64)
    for _ in range(starts):
        for mirror in (1.0, -1.0):
            u = torch.zeros(n, 20, dtype=torch.float64, requires_grad=True)
            turn = (torch.randn(n, 3, generator=generator, dtype=torch.float64) * 1.2).requires_grad_(True)
            optimiser = torch.optim.Adam([u, turn], lr=0.05)
            for _ in range(steps):
                pose = LOW + (HIGH - LOW) * torch.sigmoid(u)
                seen = joints(pose) @ (_rotations(turn) @ facing).transpose(1, 2)
                seen = seen * torch.tensor([mirror, 1.0, 1.0], dtype=seen.dtype)
                err = ((_normalised(seen[..., :dims]) - goal) ** 2).sum(-1).mean(-1)
                optimiser.zero_grad()
                (err.sum() + 1e-4 * (u ** 2).sum()).backward()
                optimiser.step()
            with torch.no_grad():
                better = err < best_err
                best_err[better], best_pose[better] = err[better], pose.detach()[better]
    return best_pose.numpy(), np.sqrt(best_err.numpy())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--real", default=str(Path(__file__).resolve().parents[2] / "shared" / "data" / "real"))
    parser.add_argument("--every", type=int, default=15, help="fit every k-th table row (default: 15)")
    args = parser.parse_args(argv)
    manifest = read_manifest(args.real)
    names = ", ".join(hand.POSE_FIELDS)
    print(f"angles (degrees): {names}")
    files = manifest.landmarks
    if files:
        poses, errors = fit(np.stack([read_landmarks_pbtxt(f.path).image for f in files]), starts=6)
        for f, pose, error in zip(files, poses, errors):
            print(f"{f.path.name} ({f.label}, residual {error:.3f}): {np.round(pose).astype(int).tolist()}")
    for table in manifest.tables:
        if table.kind != "keypoints":
            continue
        rows, labels = read_table(table)
        pick = np.arange(0, len(rows), args.every)
        poses, errors = fit(table_hands(rows[pick])[..., :2])
        picked = np.array(labels)[pick]
        for label in sorted(set(picked)):
            mine = poses[picked == label]
            iqr = np.percentile(mine, 75, axis=0) - np.percentile(mine, 25, axis=0)
            print(f"{table.path.name} {label} ({len(mine)} rows, residual median {np.median(errors[picked == label]):.3f})")
            print(f"  median {np.round(np.median(mine, axis=0)).astype(int).tolist()}")
            print(f"  IQR    {np.round(iqr).astype(int).tolist()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
