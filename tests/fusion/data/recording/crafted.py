"""Hostile ``.mmtm`` files for the fuzz and crafted tests: every chunk carries a VALID checksum, so
the reader's checks of the values (not the CRCs) are what is tested.

``small_recording()`` is a valid file (color JPEG, depth PNG, skeleton, audio, a label);
``split(data)`` its chunks; ``build(chunks)`` bytes again, with a fresh index and tail (or none);
``CRAFTED`` maps a case name to (bytes, what the reader must do: "frames" or "refuse").
"""

from __future__ import annotations

import functools
import json
import math
import struct
import tempfile
import zlib
from pathlib import Path

import numpy as np

from fusion.data.recording import RecordingWriter
from fusion.data.recording import format as fmt
from fusion.data.sample import STREAMS, Skeleton

H, W = 12, 16
T0 = 1_000_000_000
PERIOD = 33_333_333


@functools.lru_cache(maxsize=1)
def small_recording() -> bytes:
    """A complete recording of 3 instants of every stream, with one label."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "small.mmtm"
        with RecordingWriter(path, meta={"device": {"name": "fuzz"}}) as rec:
            rec.set_stream("color", {"width": W, "height": H, "fps": 30.0, "intrinsics": {"fx": 12.5}})
            rec.set_stream("depth", {"width": W, "height": H, "fps": 30.0, "depth_scale": 0.001})
            rec.set_stream("audio", {"rate": 16000})
            for i in range(3):
                t = T0 + i * PERIOD
                rec.write("color", np.full((H, W, 3), 40 * i, np.uint8), index=i, host_ns=t, device_ms=t / 1e6)
                rec.write("depth", np.full((H, W), 500 + i, np.uint16), index=i, host_ns=t + 1)
                rec.write("skeleton", Skeleton(np.full((21, 3), 0.5, np.float32), world=np.zeros((21, 3), np.float32)),
                          index=i, host_ns=t + 2)
                rec.write("audio", np.zeros(32, np.float32), index=i, host_ns=t + 3)
            rec.add_label("fist", start_ns=T0, end_ns=T0 + PERIOD)
        return path.read_bytes()


def split(data: bytes) -> list[tuple[bytes, bytes]]:
    """(kind, payload) of every chunk of a sound file, without its INDX and TAIL."""
    chunks, offset = [], len(fmt.MAGIC)
    while offset < len(data):
        kind, length, _crc, _hcrc = fmt.HEADER.unpack_from(data, offset)
        payload = data[offset + fmt.HEADER.size: offset + fmt.HEADER.size + length]
        if kind not in (b"INDX", b"TAIL"):
            chunks.append((kind, payload))
        offset += fmt.HEADER.size + length
    return chunks


def build(chunks: list[tuple[bytes, bytes]], *, finalise: bool = True) -> bytes:
    """A file of these chunks (valid checksums), with the index and tail a writer's close() adds."""
    out, rows = bytearray(fmt.MAGIC), []
    for kind, payload in chunks:
        if kind in fmt.KINDS:
            row = (len(out), 0, 0, fmt.KINDS.index(kind), 0)
            if kind == b"FRAM" and len(payload) >= fmt.FRAME_HEADER.size:
                stream, _codec, index, host_ns, _dev = fmt.FRAME_HEADER.unpack_from(payload)
                row = (len(out), host_ns, index, 0, stream)
            rows.append(row)
        out += fmt.chunk(kind, payload)
    if finalise:
        index_offset = len(out)
        out += fmt.chunk(b"INDX", np.array(rows, dtype=fmt.INDEX_DTYPE).tobytes())
        out += fmt.chunk(b"TAIL", fmt.TAIL.pack(index_offset))
    return bytes(out)


def frame(stream: str, codec: int, body: bytes, *, index: int = 0, host_ns: int = T0,
          device_ms: float = math.nan) -> tuple[bytes, bytes]:
    return b"FRAM", fmt.FRAME_HEADER.pack(STREAMS.index(stream), codec, index, host_ns, device_ms) + body


def skeleton_body(image: np.ndarray, *, score: float = 1.0, world: np.ndarray | None = None) -> bytes:
    image = np.asarray(image, "<f4")
    flags = 1 | (2 if world is not None else 0)
    body = fmt.SKELETON_HEADER.pack(flags, 1, score, image.shape[0]) + image.tobytes()
    return body + (np.asarray(world, "<f4").tobytes() if world is not None else b"")


def png_header_only(width: int, height: int, bit_depth: int = 16, color_type: int = 0) -> bytes:
    """A PNG that claims ``width`` x ``height``: its IHDR and a few rows of zeros (a bomb's shape)."""
    def png_chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0)
    row = b"\0" * (1 + width * bit_depth // 8)
    return (fmt.PNG_SIGNATURE + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", zlib.compress(row * 4, 9))
            + png_chunk(b"IEND", b""))


def jpeg_claiming(width: int, height: int) -> bytes:
    """A real small JPEG whose frame header is patched to claim ``width`` x ``height``."""
    jpeg = bytearray(fmt._jpeg(np.zeros((H, W, 3), np.uint8), 90))
    i = jpeg.index(b"\xff\xc0")
    jpeg[i + 5:i + 9] = struct.pack(">HH", height, width)
    return bytes(jpeg)


def _replace(chunks, kind: bytes, payload: bytes, nth: int = 0):
    """The chunks with the ``nth`` chunk of ``kind`` replaced by ``payload``."""
    out, seen = list(chunks), 0
    for k, (tag, _) in enumerate(out):
        if tag == kind:
            if seen == nth:
                out[k] = (tag, payload)
                return out
            seen += 1
    raise ValueError(f"no {kind} chunk #{nth}")


def _with(chunks, *extra):
    return list(chunks) + list(extra)


def _json(value) -> bytes:
    return json.dumps(value).encode()


def _nested(depth: int) -> bytes:
    return b'{"format":"mmtm-recording","deep":' + b"[" * depth + b"]" * depth + b"}"


def crafted() -> dict[str, tuple[bytes, str]]:
    """Case name -> (file bytes, "frames" when the reader must recover frames, "refuse" for BadInput)."""
    base = split(small_recording())
    nan21 = np.full((21, 3), np.nan, np.float32)
    cases = {
        "label_without_label": (_with(base, (b"LABL", _json({"start_ns": 1, "end_ns": 2}))), "frames"),
        "label_start_null": (_with(base, (b"LABL", _json({"label": "fist", "start_ns": None, "end_ns": 2}))), "frames"),
        "label_start_float_nan": (_with(base, (b"LABL", b'{"label":"fist","start_ns":NaN,"end_ns":2}')), "frames"),
        "label_ends_before_start": (_with(base, (b"LABL", _json({"label": "a", "start_ns": 9, "end_ns": 2}))), "frames"),
        "label_control_chars": (_with(base, (b"LABL", _json({"label": "a\x1b[2J", "start_ns": 1, "end_ns": 2}))),
                                "frames"),
        "label_beyond_int64": (_with(base, (b"LABL", _json({"label": "a", "start_ns": 1, "end_ns": 1 << 70}))), "frames"),
        "label_not_an_object": (_with(base, (b"LABL", b"[1, 2]")), "frames"),
        "meta_nested_100000": (_replace(base, b"META", _nested(100_000)), "frames"),
        "meta_nested_40": (_with(base, (b"META", _nested(40))), "frames"),
        "meta_huge_integer": (_with(base, (b"META", b'{"n":' + b"9" * 5000 + b"}")), "frames"),
        "meta_not_utf8": (_with(base, (b"META", b'{"a":"\xff\xfe"}')), "frames"),
        "meta_damaged_checksum": (None, "frames"),  # built below: the CRC is wrong, the index intact
        "meta_damaged_no_frames": (None, "refuse"),
        "stream_fps_fast": (_replace(base, b"STRM", _json({"stream": "color", "width": W, "height": H, "fps": "fast"})),
                            "frames"),
        "stream_width_infinity": (_replace(base, b"STRM", b'{"stream":"color","width":Infinity,"height":12}'),
                                  "frames"),
        "stream_width_huge": (_replace(base, b"STRM", _json({"stream": "color", "width": 10**9, "height": 12})),
                              "frames"),
        "stream_depth_scale_huge": (_replace(base, b"STRM", _json({"stream": "depth", "depth_scale": 1e300}), 1),
                                    "frames"),
        "stream_intrinsics_nested": (_replace(base, b"STRM", b'{"stream":"color","intrinsics":{"a":' + b"[" * 30
                                              + b"]" * 30 + b"}}"), "frames"),
        "stream_unknown": (_with(base, (b"STRM", _json({"stream": "thermal", "width": 4}))), "frames"),
        "skeleton_body_shorter_than_header": (_with(base, frame("skeleton", fmt.SKEL, b"\x01\x01\x00")), "frames"),
        "skeleton_nan": (_with(base, frame("skeleton", fmt.SKEL, skeleton_body(nan21), index=7)), "frames"),
        "skeleton_inf_world": (_with(base, frame("skeleton", fmt.SKEL, skeleton_body(
            np.zeros((21, 3)), world=np.full((21, 3), np.inf)), index=7)), "frames"),
        "skeleton_huge": (_with(base, frame("skeleton", fmt.SKEL, skeleton_body(np.full((21, 3), 3e38)), index=7)),
                          "frames"),
        "skeleton_nan_score": (_with(base, frame("skeleton", fmt.SKEL, skeleton_body(np.zeros((21, 3)),
                                                                                     score=math.nan))), "frames"),
        "audio_nan": (_with(base, frame("audio", fmt.F32, np.full(8, np.nan, "<f4").tobytes())), "frames"),
        "device_ms_infinite": (_with(base, frame("audio", fmt.F32, b"", device_ms=math.inf)), "frames"),
        "png_bomb_declared_size": (_with(base, frame("depth", fmt.PNG, png_header_only(20000, 20000))), "frames"),
        "png_bombs_undeclared_size": (
            [c for c in base if not (c[0] == b"STRM" and b'"depth"' in c[1])]
            + [frame("depth", fmt.PNG, png_header_only(20000, 20000), index=9 + k) for k in range(3)], "frames"),
        "jpeg_bomb": (_with(base, frame("color", fmt.JPEG, jpeg_claiming(60000, 60000))), "frames"),
        "jpeg_wrong_size": (_with(base, frame("color", fmt.JPEG, jpeg_claiming(W * 2, H))), "frames"),
        "png_rgba_color": (_with(base, frame("color", fmt.PNG, png_header_only(W, H, 8, 6))), "frames"),
        "depth_as_jpeg": (_with(base, frame("depth", fmt.JPEG, jpeg_claiming(W, H))), "frames"),
        "bmp_in_png_codec": (_with(base, frame("color", fmt.PNG, b"BM" + b"\0" * 60)), "frames"),
        "unknown_codec": (_with(base, frame("color", 77, b"xyz")), "frames"),
        "frame_header_cut_short": (_with(base, (b"FRAM", b"\x00\x01")), "frames"),
        "timestamps_jump_1e18": (_with(base, frame("depth", fmt.PNG, fmt._png(np.zeros((H, W), np.uint16)),
                                                   index=3, host_ns=T0 + 10**18)), "frames"),
        "only_magic_and_meta": ([base[0]], "frames-or-refuse"),
        "no_meta_at_all": ([c for c in base if c[0] != b"META"], "frames"),
    }
    out = {}
    for name, (chunks, expect) in cases.items():
        if chunks is not None:
            out[name] = (build(chunks), expect)
    # one damaged metadata chunk (a CRC that fails) in an otherwise intact, indexed file
    data = bytearray(small_recording())
    data[len(fmt.MAGIC) + fmt.HEADER.size + 5] ^= 0x20
    out["meta_damaged_checksum"] = (bytes(data), "frames")
    empty = bytearray(build([base[0]]))
    empty[len(fmt.MAGIC) + fmt.HEADER.size + 5] ^= 0x20
    out["meta_damaged_no_frames"] = (bytes(empty), "refuse")
    # an index whose rows repeat one frame many times (would decode it again and again)
    sound = small_recording()
    chunks = split(sound)
    body = build(chunks, finalise=False)
    first_frame = next(i for i, c in enumerate(chunks) if c[0] == b"FRAM")
    offset = len(fmt.MAGIC) + sum(fmt.HEADER.size + len(p) for _, p in chunks[:first_frame])
    rows = np.array([(offset, T0, 0, 0, 0)] * 1000, dtype=fmt.INDEX_DTYPE)
    out["index_repeats_a_frame"] = (body + fmt.chunk(b"INDX", rows.tobytes()) + fmt.chunk(b"TAIL", fmt.TAIL.pack(len(body))),
                                    "frames")
    # a tail that points past the end of the file (seeking there is an OS error)
    out["tail_points_past_the_end"] = (body + fmt.chunk(b"TAIL", fmt.TAIL.pack((1 << 64) - 1)), "frames")
    # the index says a frame is color, its header says skeleton
    rows = np.array([(offset, T0, 0, 0, 2)], dtype=fmt.INDEX_DTYPE)
    out["index_stream_disagrees"] = (body + fmt.chunk(b"INDX", rows.tobytes()) + fmt.chunk(b"TAIL", fmt.TAIL.pack(len(body))),
                                     "frames-or-refuse")
    return out


def read_or_refuse(path) -> dict | None:
    """The reader's contract on hostile input, checked: BadInput with one line (returns None), or
    frames of sane values with a one-line ``recovery`` that owns up to every skipped frame (returns
    what was read). Any other exception, a non-finite value or a dishonest line fails the caller."""
    from fusion.data.recording import RecordingReader
    from fusion.errors import BadInput

    try:
        with RecordingReader(path) as rec:
            frames = list(rec.frames())
            for i in range(min(len(rec), 40)):  # random access: the frame, or BadInput
                try:
                    rec.frame(i)
                except BadInput as error:
                    assert "\n" not in str(error)
            recovery = rec.recovery
            read = {"frames": frames, "recovery": recovery, "labels": list(rec.labels), "streams": rec.streams,
                    "meta": rec.meta, "complete": rec.complete, "rows": len(rec), "skipped": rec.skipped}
    except BadInput as error:
        assert "\n" not in str(error) and str(error)
        return None
    assert isinstance(recovery, str) and "\n" not in recovery
    assert f"{read['rows']} frames" in recovery
    if len(frames) < read["rows"]:
        assert "damaged frame" in recovery, recovery  # every skipped frame is owned up to
    if not read["complete"]:
        assert "recovered" in recovery
    for f in frames:
        _check_sample(f)
    for seg in read["labels"]:
        assert isinstance(seg.label, str) and seg.label and isinstance(seg.start_ns, int) and seg.start_ns <= seg.end_ns
    json.dumps(read["streams"], allow_nan=False)  # what the start line prints: plain, finite JSON
    for info in read["streams"].values():
        for key in ("width", "height", "rate"):
            assert key not in info or (type(info[key]) is int and info[key] >= 0)
    return read


def _check_sample(f) -> None:
    assert f.stream in STREAMS and isinstance(f.index, int) and isinstance(f.host_ns, int)
    assert f.device_ms is None or math.isfinite(f.device_ms)
    if f.stream == "color":
        assert f.data.dtype == np.uint8 and f.data.ndim == 3 and f.data.shape[2] == 3
        assert max(f.data.shape[:2]) <= fmt.MAX_SIDE
    elif f.stream == "depth":
        assert f.data.dtype == np.uint16 and f.data.ndim == 2 and max(f.data.shape) <= fmt.MAX_SIDE
    elif f.stream == "skeleton":
        if f.data is not None:
            assert np.isfinite(f.data.image).all() and (np.abs(f.data.image) <= fmt.MAX_COORD).all()
            assert f.data.world is None or np.isfinite(f.data.world).all()
            assert 0.0 <= f.data.score <= 1.0
    else:
        assert f.data.dtype == np.float32 and np.isfinite(f.data).all()
