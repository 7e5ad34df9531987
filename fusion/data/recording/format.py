"""Byte layout of the project's recording format (``.mmtm``): chunks and frame codecs.

A file is an 8-byte magic followed by chunks, each::

    kind    4 bytes ASCII          b"META" b"STRM" b"FRAM" b"LABL" b"INDX" b"TAIL"
    length  uint32 little-endian   payload bytes
    crc     uint32                 zlib.crc32 of the payload
    hcrc    uint32                 zlib.crc32 of the 12 bytes before it (kind, length, crc)
    payload length bytes

docs/recording.md describes every payload. Only plain bytes, JSON and images are decoded: a file
never executes code.
"""

from __future__ import annotations

import json
import math
import struct
import zlib

import numpy as np

from fusion.data.sample import STREAMS, Skeleton

MAGIC = b"MMTMREC1"
VERSION = 1
HEADER = struct.Struct("<4sIII")  # kind, payload length, payload crc, header crc
FRAME_HEADER = struct.Struct("<BBqqd")  # stream id, codec, index, host_ns, device_ms (NaN = none)
SKELETON_HEADER = struct.Struct("<BBfH")  # flags (1 present, 2 world), handedness (0 L, 1 R), score, joints
TAIL = struct.Struct("<Q")  # offset of the INDX chunk
INDEX_DTYPE = np.dtype([("offset", "<u8"), ("host_ns", "<i8"), ("index", "<i8"),
                        ("kind", "u1"), ("stream", "u1")])

KINDS = (b"FRAM", b"META", b"STRM", b"LABL")  # INDEX_DTYPE.kind = position

# codecs
JPEG, PNG, SKEL, F32 = 1, 2, 3, 4
CODEC_NAMES = {JPEG: "jpeg", PNG: "png", SKEL: "skeleton", F32: "float32"}

MAX_CHUNK = 1 << 30  # a length beyond this is damage, not data


def chunk(kind: bytes, payload: bytes) -> bytes:
    head = struct.pack("<4sII", kind, len(payload), zlib.crc32(payload))
    return head + struct.pack("<I", zlib.crc32(head)) + payload


def parse_header(raw: bytes) -> tuple[bytes, int, int] | None:
    """(kind, length, payload crc) of a 16-byte chunk header, or None if it is damaged."""
    if len(raw) < HEADER.size:
        return None
    kind, length, crc, hcrc = HEADER.unpack(raw[:HEADER.size])
    if zlib.crc32(raw[:12]) != hcrc or length > MAX_CHUNK:
        return None
    return kind, length, crc


def json_bytes(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":"), allow_nan=False).encode("utf-8")


def encode_frame(stream: str, data: object, *, index: int, host_ns: int, device_ms: float | None,
                 lossless: bool, jpeg_quality: int) -> bytes:
    """The payload of a FRAM chunk for one sample (a ``fusion.data.sample.Sample``'s data)."""
    if stream not in STREAMS:
        raise ValueError(f"unknown stream {stream!r}; expected one of {STREAMS}")
    if stream == "color":
        codec, body = (PNG, _png(_rgb(data)[..., ::-1])) if lossless else (JPEG, _jpeg(_rgb(data)[..., ::-1], jpeg_quality))
    elif stream == "depth":
        depth = np.asarray(data)
        if depth.dtype != np.uint16 or depth.ndim != 2:
            raise ValueError(f"depth must be (H, W) uint16, got {depth.shape} {depth.dtype}")
        codec, body = PNG, _png(depth)
    elif stream == "skeleton":
        codec, body = SKEL, _skeleton(data)
    else:
        audio = np.asarray(data, dtype="<f4")
        if audio.ndim != 1:
            raise ValueError(f"audio must be (N,) float32, got {audio.shape}")
        codec, body = F32, audio.tobytes()
    device = math.nan if device_ms is None else float(device_ms)
    return FRAME_HEADER.pack(STREAMS.index(stream), codec, int(index), int(host_ns), device) + body


def decode_body(codec: int, body: bytes) -> object:
    """The sample data of a FRAM payload after its header; ValueError when it cannot be decoded."""
    if codec in (JPEG, PNG):
        import cv2

        image = cv2.imdecode(np.frombuffer(body, np.uint8), cv2.IMREAD_UNCHANGED)
        if image is None:
            raise ValueError("image does not decode")
        if image.ndim == 3:
            return np.ascontiguousarray(image[..., ::-1])  # BGR -> RGB, (H, W, 3) uint8
        if image.dtype == np.uint8:  # a grey JPEG/PNG color frame
            return np.repeat(image[..., None], 3, axis=2)
        return image  # (H, W) uint16 depth
    if codec == SKEL:
        return _unskeleton(body)
    if codec == F32:
        if len(body) % 4:
            raise ValueError("audio length is not a multiple of 4")
        return np.frombuffer(body, "<f4").astype(np.float32)
    raise ValueError(f"unknown codec {codec}")


def _rgb(data: object) -> np.ndarray:
    image = np.asarray(data)
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"color must be (H, W, 3) uint8 RGB, got {image.shape} {image.dtype}")
    return image


def _jpeg(bgr: np.ndarray, quality: int) -> bytes:
    import cv2

    ok, buf = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise ValueError("JPEG encoding failed")
    return buf.tobytes()


def _png(image: np.ndarray) -> bytes:
    import cv2

    ok, buf = cv2.imencode(".png", image, [cv2.IMWRITE_PNG_COMPRESSION, 1])  # fast, still lossless
    if not ok:
        raise ValueError("PNG encoding failed")
    return buf.tobytes()


def _skeleton(skeleton: object) -> bytes:
    if skeleton is None:
        return SKELETON_HEADER.pack(0, 0, 0.0, 0)
    image = np.asarray(skeleton.image, dtype="<f4")
    world = getattr(skeleton, "world", None)
    if image.ndim != 2 or image.shape[1] != 3:
        raise ValueError(f"skeleton.image must be (J, 3), got {image.shape}")
    flags = 1 | (2 if world is not None else 0)
    hand = 0 if str(getattr(skeleton, "handedness", "Right")).lower().startswith("l") else 1
    head = SKELETON_HEADER.pack(flags, hand, float(getattr(skeleton, "score", 1.0)), image.shape[0])
    body = head + image.tobytes()
    if world is not None:
        world = np.asarray(world, dtype="<f4")
        if world.shape != image.shape:
            raise ValueError(f"skeleton.world must be {image.shape}, got {world.shape}")
        body += world.tobytes()
    return body


def _unskeleton(body: bytes) -> Skeleton | None:
    flags, hand, score, joints = SKELETON_HEADER.unpack_from(body)
    if not flags & 1:
        return None
    size = joints * 3 * 4
    need = SKELETON_HEADER.size + size * (2 if flags & 2 else 1)
    if len(body) != need:
        raise ValueError(f"skeleton payload is {len(body)} bytes, expected {need}")
    start = SKELETON_HEADER.size
    image = np.frombuffer(body, "<f4", joints * 3, start).reshape(joints, 3).astype(np.float32)
    world = None
    if flags & 2:
        world = np.frombuffer(body, "<f4", joints * 3, start + size).reshape(joints, 3).astype(np.float32)
    return Skeleton(image=image, world=world, handedness="Left" if hand == 0 else "Right", score=float(score))
