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
MAX_SIDE = 4096  # an image frame wider or taller than this is refused before it is decoded
MAX_COORD = 1000.0  # a skeleton coordinate beyond this (normalised image units, metres) is damage
STREAM_CODECS = {"color": (JPEG, PNG), "depth": (PNG,), "skeleton": (SKEL,), "audio": (F32,)}
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


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


def decode_body(codec: int, body: bytes, *, stream: str | None = None,
                size: tuple[int, int] | None = None) -> object:
    """The sample data of a FRAM payload after its header; ValueError when it cannot be decoded.

    ``stream``: the codecs it may use are checked; ``size``: (width, height) the stream declares. An
    image's size is read from its header and checked against ``size`` and ``MAX_SIDE`` before it
    is decoded, so a small file that claims a huge image never allocates it.
    """
    if stream is not None and codec not in STREAM_CODECS[stream]:
        raise ValueError(f"a {stream} frame with codec {CODEC_NAMES.get(codec, codec)}")
    if codec in (JPEG, PNG):
        return _decode_image(codec, body, stream, size)
    if codec == SKEL:
        return _unskeleton(body)
    if codec == F32:
        if len(body) % 4:
            raise ValueError("audio length is not a multiple of 4")
        audio = np.frombuffer(body, "<f4").astype(np.float32)
        if not np.isfinite(audio).all():
            raise ValueError("audio samples that are not finite")
        return audio
    raise ValueError(f"unknown codec {codec}")


def image_size(codec: int, body: bytes) -> tuple[int, int]:
    """(width, height) from a PNG's IHDR or a JPEG's SOF marker, without decoding; ValueError if
    the header is not there."""
    if codec == PNG:
        if len(body) < 33 or body[:16] != PNG_SIGNATURE + b"\x00\x00\x00\x0dIHDR":
            raise ValueError("not a PNG image")
        if zlib.crc32(body[12:29]) != struct.unpack(">I", body[29:33])[0]:
            raise ValueError("a PNG whose header is damaged")
        return struct.unpack(">II", body[16:24])
    if len(body) < 4 or body[:2] != b"\xff\xd8":
        raise ValueError("not a JPEG image")
    i = 2
    while i + 4 <= len(body):
        if body[i] != 0xFF:
            raise ValueError("damaged JPEG markers")
        marker = body[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker == 0x01 or 0xD0 <= marker <= 0xD7:  # markers without a length
            i += 2
            continue
        if marker in (0xD9, 0xDA):  # end of image, start of scan: no frame header came first
            break
        length = struct.unpack(">H", body[i + 2:i + 4])[0]
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):  # a start-of-frame marker
            if i + 9 > len(body):
                break
            height, width = struct.unpack(">HH", body[i + 5:i + 9])
            return width, height
        i += 2 + length
    raise ValueError("a JPEG without a frame header")


def _decode_image(codec: int, body: bytes, stream: str | None, size: tuple[int, int] | None) -> np.ndarray:
    import cv2

    width, height = image_size(codec, body)
    if not (0 < width <= MAX_SIDE and 0 < height <= MAX_SIDE):
        raise ValueError(f"an image of {width}x{height} (at most {MAX_SIDE}x{MAX_SIDE} is read)")
    if size is not None and size[0] and size[1] and (width, height) != tuple(size):
        raise ValueError(f"an image of {width}x{height} in a stream of {size[0]}x{size[1]}")
    if codec == PNG and stream is not None:
        depth, color_type = body[24], body[25]  # IHDR: bit depth, color type
        want = {"color": ((8, 0), (8, 2)), "depth": ((16, 0),)}[stream]
        if (depth, color_type) not in want:
            raise ValueError(f"a {stream} PNG of bit depth {depth}, color type {color_type}")
    try:
        image = cv2.imdecode(np.frombuffer(body, np.uint8), cv2.IMREAD_UNCHANGED)
    except cv2.error as error:
        raise ValueError(f"image does not decode ({str(error).strip().splitlines()[-1][:80]})") from None
    if image is None:
        raise ValueError("image does not decode")
    if image.shape[:2] != (height, width):
        raise ValueError(f"an image of {image.shape[1]}x{image.shape[0]} whose header says {width}x{height}")
    if image.ndim == 3:
        return np.ascontiguousarray(image[..., ::-1])  # BGR -> RGB, (H, W, 3) uint8
    if image.dtype == np.uint8:  # a grey JPEG/PNG color frame
        return np.repeat(image[..., None], 3, axis=2)
    return image  # (H, W) uint16 depth


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
    if len(body) < SKELETON_HEADER.size:
        raise ValueError(f"skeleton payload of {len(body)} bytes is shorter than its header")
    flags, hand, score, joints = SKELETON_HEADER.unpack_from(body)
    if not flags & 1:
        return None
    size = joints * 3 * 4
    need = SKELETON_HEADER.size + size * (2 if flags & 2 else 1)
    if len(body) != need:
        raise ValueError(f"skeleton payload is {len(body)} bytes, expected {need}")
    if not 0.0 <= score <= 1.0:  # also false for NaN
        raise ValueError(f"skeleton score {score} is not in [0, 1]")
    start = SKELETON_HEADER.size
    image = np.frombuffer(body, "<f4", joints * 3, start).reshape(joints, 3).astype(np.float32)
    world = None
    if flags & 2:
        world = np.frombuffer(body, "<f4", joints * 3, start + size).reshape(joints, 3).astype(np.float32)
    for name, xyz in (("image", image), ("world", world)):
        if xyz is not None and not (np.abs(xyz) <= MAX_COORD).all():  # NaN fails too
            raise ValueError(f"skeleton {name} coordinates that are not finite or larger than {MAX_COORD:g}")
    return Skeleton(image=image, world=world, handedness="Left" if hand == 0 else "Right", score=float(score))
