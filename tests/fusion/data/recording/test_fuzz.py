"""Property-based fuzzing of the ``.mmtm`` reader (Hypothesis): byte-level damage of a small valid
recording, and chunks with VALID checksums but hostile payloads. Every input must end in frames
with an honest recovery line or in BadInput (``crafted.read_or_refuse``), never another exception,
a hang (pytest-timeout) or a non-finite value. Derandomised and bounded, so CI is reproducible and
each test takes a few seconds; ``MMTM_FUZZ_EXAMPLES=5000`` runs a deeper, random search."""

import json
import math
import os
import struct
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fusion.data.recording import format as fmt
from fusion.data.sample import STREAMS
from tests.fusion.data.recording.crafted import build, read_or_refuse, small_recording, split

BASE = small_recording()
CHUNKS = split(BASE)
EXAMPLES = os.environ.get("MMTM_FUZZ_EXAMPLES")
FUZZ = settings(max_examples=int(EXAMPLES or 60), deadline=None, derandomize=EXAMPLES is None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def check(data: bytes) -> dict | None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fuzz.mmtm"
        path.write_bytes(data)
        return read_or_refuse(path)


# --- byte-level damage ------------------------------------------------------------------------------

@pytest.mark.timeout(120)
@FUZZ
@given(st.lists(st.integers(0, len(BASE) * 8 - 1), min_size=1, max_size=12))
def test_bit_flips(bits):
    data = bytearray(BASE)
    for bit in bits:
        data[bit // 8] ^= 1 << (bit % 8)
    check(bytes(data))


@pytest.mark.timeout(120)
@FUZZ
@given(st.integers(0, len(BASE)), st.lists(st.integers(0, len(BASE) - 1), max_size=3))
def test_truncations_with_flips(keep, bytes_hit):
    data = bytearray(BASE[:keep])
    for k in bytes_hit:
        if k < len(data):
            data[k] ^= 0xFF
    check(bytes(data))


# --- valid checksums, hostile payloads -------------------------------------------------------------

JSON_LEAF = (st.none() | st.booleans() | st.integers(-(1 << 70), 1 << 70) | st.text(max_size=12)
             | st.floats(allow_nan=True, allow_infinity=True))
JSON_VALUE = st.recursive(JSON_LEAF, lambda inner: st.lists(inner, max_size=4)
                          | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=12)
STREAM_INFO = st.fixed_dictionaries({"stream": st.sampled_from(STREAMS + ("thermal", ""))},
                                    optional={k: JSON_VALUE for k in ("width", "height", "fps", "rate",
                                                                      "depth_scale", "intrinsics")})
LABEL = st.fixed_dictionaries({}, optional={"label": JSON_VALUE | st.text(max_size=120),
                                            "start_ns": JSON_VALUE, "end_ns": JSON_VALUE})


def _json(value) -> bytes:
    return json.dumps(value, allow_nan=True).encode()  # NaN and Infinity as the tokens Python reads back


def _positions(kind: bytes) -> list[int]:
    return [i for i, (tag, _) in enumerate(CHUNKS) if tag == kind]


@pytest.mark.timeout(120)
@FUZZ
@given(st.sampled_from([b"META", b"STRM", b"LABL"]), st.data(), st.booleans())
def test_json_payload_mutations(kind, data, finalise):
    value = data.draw({b"META": st.dictionaries(st.text(max_size=8), JSON_VALUE, max_size=6) | JSON_VALUE,
                       b"STRM": STREAM_INFO | JSON_VALUE, b"LABL": LABEL | JSON_VALUE}[kind])
    chunks = list(CHUNKS)
    where = data.draw(st.sampled_from(_positions(kind)))
    chunks[where] = (kind, _json(value))
    read = check(build(chunks, finalise=finalise))
    assert read is not None and len(read["frames"]) == 12  # a bad description never costs a frame


@pytest.mark.timeout(120)
@FUZZ
@given(st.integers(0, len(CHUNKS)), st.sampled_from(fmt.KINDS + (b"INDX", b"TAIL", b"JUNK")),
       st.binary(max_size=300), st.booleans())
def test_inserted_chunks_with_valid_checksums(where, kind, payload, finalise):
    chunks = CHUNKS[:where] + [(kind, payload)] + CHUNKS[where:]
    check(build(chunks, finalise=finalise))


FRAME_HEADER = st.tuples(st.integers(0, 255), st.integers(0, 255), st.integers(-(1 << 63), (1 << 63) - 1),
                         st.integers(-(1 << 63), (1 << 63) - 1), st.floats(allow_nan=True, allow_infinity=True))


@pytest.mark.timeout(120)
@FUZZ
@given(st.data(), st.booleans())
def test_frame_payload_mutations(data, finalise):
    """A frame chunk (valid CRC) with a new header, or its body damaged or replaced."""
    chunks = list(CHUNKS)
    where = data.draw(st.sampled_from(_positions(b"FRAM")))
    payload = bytearray(chunks[where][1])
    how = data.draw(st.sampled_from(["header", "body-bytes", "body-cut", "body-random"]))
    if how == "header":
        stream, codec, index, host_ns, device_ms = data.draw(FRAME_HEADER)
        payload[:fmt.FRAME_HEADER.size] = fmt.FRAME_HEADER.pack(stream, codec, index, host_ns, device_ms)
    elif how == "body-bytes":
        for k in data.draw(st.lists(st.integers(fmt.FRAME_HEADER.size, len(payload) - 1), min_size=1, max_size=6)):
            payload[k] = data.draw(st.integers(0, 255))
    elif how == "body-cut":
        del payload[data.draw(st.integers(0, len(payload) - 1)):]
    else:
        payload[fmt.FRAME_HEADER.size:] = data.draw(st.binary(max_size=400))
    chunks[where] = (b"FRAM", bytes(payload))
    check(build(chunks, finalise=finalise))


FLOAT32 = st.floats(width=32, allow_nan=True, allow_infinity=True)


@pytest.mark.timeout(120)
@FUZZ
@given(st.integers(0, 3), st.integers(0, 1), FLOAT32, st.integers(0, 40), st.data())
def test_skeleton_bodies(flags, hand, score, joints, data):
    """Skeleton frames of any flags, score, joint count and coordinates (NaN and infinities included)."""
    count = joints * 3 * (2 if flags & 2 else 1)
    values = data.draw(st.lists(FLOAT32, min_size=count, max_size=count) if count < 200 else
                       st.just([0.5] * count))
    extra = data.draw(st.sampled_from([0, 0, 0, -1, 4]))  # a body that is also too short or too long
    body = fmt.SKELETON_HEADER.pack(flags, hand, score, joints) + np.asarray(values, "<f4").tobytes()
    body = body[:len(body) + extra] if extra < 0 else body + b"\0" * extra
    frame = fmt.FRAME_HEADER.pack(STREAMS.index("skeleton"), fmt.SKEL, 9, 2_000_000_000, math.nan) + body
    read = check(build(CHUNKS + [(b"FRAM", frame)]))
    finite = all(math.isfinite(v) and abs(v) <= fmt.MAX_COORD for v in values)
    kept = [f for f in read["frames"] if f.stream == "skeleton" and f.index == 9]
    if kept and kept[0].data is not None:  # a hand is kept only when every value is sane
        assert finite and 0 <= score <= 1 and extra == 0


def test_struct_sizes_the_fuzzers_rely_on():
    assert fmt.FRAME_HEADER.size == 26 and fmt.SKELETON_HEADER.size == 8 and fmt.HEADER.size == 16
    assert struct.calcsize("<BBfH") == fmt.SKELETON_HEADER.size
