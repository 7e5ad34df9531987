"""Isolated clips and continuous streams of the synthetic world, deterministic by seed.

``make_clip(seed, index, config)`` is clip ``index`` of the set drawn with ``seed``; its label is
fixed by (seed, index) so that every block of ``len(labels)`` clips holds each label once.
``clips()`` / ``streams()`` yield them in order, computed by a pool of worker processes; the
results do not depend on the number of workers.
"""

from __future__ import annotations

import multiprocessing
from dataclasses import dataclass, field
from typing import Iterator

import numpy as np

from fusion.data.synthetic import gestures, hand, landmarks, render
from fusion.data.synthetic.camera import Intrinsics
from fusion.data.synthetic.clip import Clip, Stream
from fusion.data.synthetic.motion import Motion
from fusion.errors import BadInput
from fusion.resample import resample_sequence
from fusion.labels import DEFAULT_LABELS, NO_GESTURE

# Footage slower than its camera rate, its frames repeated: the development set's swipe videos are
# 10 fps footage at 15 fps (every third frame a copy), as a webcam dropping frames in dim light is.
JUDDER_SHARE = 0.3                      # of the clips seen at camera rates (skeleton world)
JUDDER_RATE = (0.5, 0.8)                # the footage's own rate, times the camera's


@dataclass(frozen=True)
class SynthConfig:
    """What to generate."""

    width: int = 160                    # frame width in pixels
    height: int = 120                   # frame height in pixels
    frames: int = 32                    # frames per isolated clip
    fps: float = 30.0
    stream_gestures: int = 8            # gestures per continuous stream
    labels: tuple[str, ...] = field(default=DEFAULT_LABELS)
    miss_rate: float = 0.02             # chance per frame that the landmarker misses a visible hand
    render: bool = True                 # False: skeletons only (no rgb/depth): a webcam's model input, fast
    # skeletons only: each clip seen by a camera at one of these rates, then stepped at ``fps`` the way
    # the engine steps a real camera (fusion.resample); () = a camera at ``fps``
    camera_fps: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        if not (32 <= self.width <= 4096 and 24 <= self.height <= 4096):
            raise BadInput(f"frame size {self.width}x{self.height} is outside 32x24 .. 4096x4096")
        if self.frames < 8 or self.stream_gestures < 1 or self.fps <= 0:
            raise BadInput("clips need at least 8 frames, streams at least 1 gesture, fps > 0")
        if self.camera_fps and (self.render or any(not 1 <= f <= 240 for f in self.camera_fps)):
            raise BadInput("camera_fps needs render=False and rates of 1 to 240 fps")
        unknown = [label for label in self.labels if label not in DEFAULT_LABELS]
        if unknown or not self.labels:
            raise BadInput(f"labels must be a non-empty subset of {DEFAULT_LABELS}, got unknown {unknown}")

    def camera(self) -> Intrinsics:
        return Intrinsics.realsense(self.width, self.height)


def clip_label(seed: int, index: int, labels: tuple[str, ...]) -> str:
    """The label of clip ``index``: a seeded permutation of the labels per block of len(labels)."""
    n = len(labels)
    order = np.random.default_rng([seed, 2, index // n]).permutation(n)
    return labels[int(order[index % n])]


def render_motion(rng: np.random.Generator, cam: Intrinsics, subject: hand.Subject, motion: Motion,
                  config: SynthConfig):
    """Render a motion: rgb (T,H,W,3) uint8, depth (T,H,W) uint16, image and world landmarks, presence.
    Without ``config.render``, rgb and depth are empty ((T,0,0,3), (T,0,0)) and the landmarks are what
    the engine steps the model with from a camera at ``config.camera_fps``."""
    T = len(motion)
    joints = hand.to_camera_batch(subject, hand.joints_local(subject, motion.pose), motion.rotvec, motion.roll,
                                  motion.wrist)                   # (T, 21, 3) metres
    if not config.render:
        image, world, presence = landmarks.landmarks(rng, cam, joints, motion.drawn, config.miss_rate)
        if config.camera_fps:
            rate = float(config.camera_fps[int(rng.integers(len(config.camera_fps)))])
            content = rate * rng.uniform(*JUDDER_RATE) if rng.random() < JUDDER_SHARE else rate
            image, world, presence = _seen_at(rate, config.fps, image, world, presence, float(rng.uniform(0, 1 / rate)),
                                              content)
        return np.zeros((T, 0, 0, 3), np.uint8), np.zeros((T, 0, 0), np.uint16), image, world, presence
    drawn_z = motion.wrist[motion.drawn, 2]
    scene = render.Scene.random(rng, cam, float(np.median(drawn_z)) if len(drawn_z) else 0.7, subject.skin)
    centre = cam.project(joints[:, 9])                           # (T, 2) pixels
    rgb = np.empty((T, cam.height, cam.width, 3), np.uint8)
    depth = np.empty((T, cam.height, cam.width), np.uint16)
    for t in range(T):
        if motion.drawn[t]:
            elbow = render.forearm_end(subject, motion.rotvec[t], motion.roll[t], motion.wrist[t])
            ends, radii, ids = render.capsules(subject, joints[t], elbow)
            moved = centre[t] - centre[t - 1] if t else np.zeros(2)
            rgb[t], depth[t] = render.render_frame(rng, cam, scene, subject, ends, radii, ids, moved)
        else:
            rgb[t], depth[t] = render.render_frame(rng, cam, scene, subject, None, None, None, np.zeros(2))
    image, world, presence = landmarks.landmarks(rng, cam, joints, motion.drawn, config.miss_rate)
    return rgb, depth, image, world, presence


def _seen_at(rate: float, fps: float, image: np.ndarray, world: np.ndarray, presence: np.ndarray, phase: float,
             content: float | None = None):
    """Landmarks at ``fps`` as a camera at ``rate`` sees them (interpolated at its frame times, nearest
    presence) and the engine steps them back at ``fps`` (``fusion.resample``): same length. A
    ``content`` rate below ``rate`` repeats frames: each camera frame shows the newest of the slower
    footage's frames (``JUDDER_SHARE``)."""
    T = len(image)
    src = np.arange(T) / fps
    times = np.arange(phase, src[-1] + 1e-9, 1.0 / rate)                       # the camera's frame times
    shown = times if content is None or content >= rate else np.floor(times * content + 1e-6) / content
    k = np.clip(np.searchsorted(src, shown) - 1, 0, T - 2)
    w = np.clip((shown - src[k]) * fps, 0.0, 1.0).astype(np.float32)          # (K,) in [0, 1]
    near = np.where(w < 0.5, k, k + 1)
    both = presence[k] & presence[k + 1]
    lerp = image[k] * (1 - w)[:, None, None] + image[k + 1] * w[:, None, None]
    seen_image = np.where(both[:, None, None], lerp, image[near])
    seen = presence[near]
    nearest = np.clip(np.round(shown * fps).astype(int), 0, T - 1)
    ticks, stepped, stepped_seen = resample_sequence(times - times[0], seen_image, seen, fps)
    n = min(T, len(ticks))
    out_image = np.zeros_like(image)
    out_seen = np.zeros(T, bool)
    out_image[:n], out_seen[:n] = stepped[:n], stepped_seen[:n]
    out_image[n:], out_seen[n:] = out_image[n - 1], out_seen[n - 1]
    src_of_tick = np.clip(np.searchsorted(times, ticks[:n] + times[0]), 0, len(times) - 1)
    out_world = np.zeros_like(world)
    out_world[:n] = world[nearest[src_of_tick]]
    out_world[n:] = out_world[n - 1]
    out_world[~out_seen] = 0.0
    return out_image.astype(np.float32), out_world.astype(np.float32), out_seen


def make_clip(seed: int, index: int, config: SynthConfig = SynthConfig()) -> Clip:
    """Isolated clip ``index`` of the set drawn with ``seed``."""
    label = clip_label(seed, index, config.labels)
    rng = np.random.default_rng([seed, 0, index])
    cam = config.camera()
    subject = hand.random_subject(rng)
    motion = gestures.perform(label, rng, cam, config.frames, subject=subject)
    rgb, depth, image, world, presence = render_motion(rng, cam, subject, motion, config)
    return Clip(label=label, rgb=rgb, depth=depth, depth_scale=render.DEPTH_SCALE, skeleton=image, world=world,
                presence=presence, handedness=landmarks.handedness(subject.right), intrinsics=cam.as_tuple(),
                fps=config.fps, active=(motion.start, motion.end))


def make_stream(seed: int, index: int, config: SynthConfig = SynthConfig()) -> Stream:
    """Continuous stream ``index``: ``config.stream_gestures`` gestures separated by idle motion."""
    rng = np.random.default_rng([seed, 1, index])
    cam = config.camera()
    subject = hand.random_subject(rng)
    gestures_only = [label for label in config.labels if label != NO_GESTURE]
    if not gestures_only:
        raise BadInput("a stream needs at least one gesture label besides no_gesture")
    start = gestures.Start.random(rng, cam, float(rng.uniform(0.45, 0.9)))
    parts: list[Motion] = []
    segments: list[tuple[str, int, int]] = []
    frame = 0
    for k in range(config.stream_gestures):
        kind = str(rng.choice(["idle", "transition", "scratch", "open_away", "held", "ready"],
                              p=[0.25, 0.2, 0.1, 0.15, 0.2, 0.1]))
        gap = gestures.idle(rng, cam, int(rng.integers(15, 46)), start, kind, subject=subject)
        parts.append(gap)
        frame += len(gap)
        label = gestures_only[int(rng.integers(len(gestures_only)))]
        motion = gestures.perform(label, rng, cam, int(rng.integers(30, 46)), gestures.Start.of(gap), subject=subject)
        parts.append(motion)
        segments.append((label, frame + motion.start, frame + motion.end))
        frame += len(motion)
        start = gestures.Start.of(motion)
    parts.append(gestures.idle(rng, cam, int(rng.integers(15, 31)), start, "idle"))
    motion = Motion(
        pose=np.concatenate([p.pose for p in parts]), rotvec=np.concatenate([p.rotvec for p in parts]),
        roll=np.concatenate([p.roll for p in parts]), wrist=np.concatenate([p.wrist for p in parts]),
        drawn=np.concatenate([p.drawn for p in parts]), start=0, end=sum(len(p) for p in parts),
    )
    rgb, depth, image, world, presence = render_motion(rng, cam, subject, motion, config)
    frame_labels = np.full(len(motion), NO_GESTURE, dtype="<U16")
    for label, s, e in segments:
        frame_labels[s:e] = label
    return Stream(rgb=rgb, depth=depth, depth_scale=render.DEPTH_SCALE, skeleton=image, world=world,
                  presence=presence, handedness=landmarks.handedness(subject.right), intrinsics=cam.as_tuple(),
                  fps=config.fps, segments=tuple(segments), frame_labels=frame_labels)


def _clip_job(job: tuple[int, int, SynthConfig]) -> Clip:
    return make_clip(*job)


def _stream_job(job: tuple[int, int, SynthConfig]) -> Stream:
    return make_stream(*job)


def _init_worker() -> None:
    import cv2

    cv2.setNumThreads(1)


def _run(job, items: list, workers: int) -> Iterator:
    if workers <= 1 or len(items) <= 1:
        _init_worker()
        for item in items:
            yield job(item)
        return
    # Not "fork": forking a process that runs other threads (Qt, torch, a capture thread) can hang
    # or break the pool's own bookkeeping. A fork server starts clean workers once, cheaply.
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
    with context.Pool(workers, initializer=_init_worker) as pool:
        yield from pool.imap(job, items, chunksize=1)


def clips(seed: int, count: int, config: SynthConfig = SynthConfig(), *, workers: int = 2, first: int = 0) -> Iterator[Clip]:
    """Clips ``first .. first + count - 1`` of the set drawn with ``seed``, in order."""
    return _run(_clip_job, [(seed, i, config) for i in range(first, first + count)], workers)


def streams(seed: int, count: int, config: SynthConfig = SynthConfig(), *, workers: int = 2) -> Iterator[Stream]:
    """Streams ``0 .. count - 1`` of the set drawn with ``seed``, in order."""
    return _run(_stream_job, [(seed, i, config) for i in range(count)], workers)
