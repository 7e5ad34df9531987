"""The values of a recording's JSON chunks (``META``, ``STRM``, ``LABL``), checked: whatever passes
its checksum can still hold anything, so each is parsed here or refused with a ValueError saying why."""

from __future__ import annotations

import json
from dataclasses import dataclass

from fusion.data.recording import format as fmt


@dataclass(frozen=True)
class LabelSegment:
    """A gesture performed from ``start_ns`` to ``end_ns`` (the clock of the frames' ``host_ns``)."""

    label: str
    start_ns: int
    end_ns: int


MAX_JSON_DEPTH = 32  # metadata nested deeper than this is damage (and would overflow recursive readers)
MAX_LABEL = 100  # characters
INT64 = (-(1 << 63), (1 << 63) - 1)


def json_object(payload: bytes) -> dict:
    """A chunk's JSON object; ValueError for anything else (bad UTF-8 or JSON, too deep, not an object)."""
    try:
        value = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:  # JSONDecodeError, too many digits
        raise ValueError(str(error)[:80]) from None
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None
    if not isinstance(value, dict):
        raise ValueError("not a JSON object")
    stack, depth = [(value, 1)], 1
    while stack:
        node, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise ValueError(f"JSON nested deeper than {MAX_JSON_DEPTH}")
        children = node.values() if isinstance(node, dict) else node
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return value


def _number(value: object, low: float, high: float, *, integer: bool = False) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    if integer and not isinstance(value, int):
        return False
    return low <= value <= high  # false for NaN


def _flat_numbers(value: object) -> bool:
    """Intrinsics: a flat object of finite numbers, short strings and short lists of finite numbers."""
    if not isinstance(value, dict) or len(value) > 32:
        return False
    for item in value.values():
        if isinstance(item, str):
            ok = len(item) <= 64
        elif isinstance(item, list):
            ok = len(item) <= 16 and all(_number(x, -1e9, 1e9) for x in item)
        else:
            ok = _number(item, -1e9, 1e9)
        if not ok:
            return False
    return True


STREAM_FIELDS = {
    "width": lambda v: _number(v, 0, fmt.MAX_SIDE, integer=True),
    "height": lambda v: _number(v, 0, fmt.MAX_SIDE, integer=True),
    "fps": lambda v: _number(v, 0, 1000),
    "rate": lambda v: _number(v, 0, 1_000_000, integer=True),
    "depth_scale": lambda v: _number(v, 0, 1),  # metres per depth unit
    "intrinsics": _flat_numbers,
}


def stream_info(value: dict) -> tuple[dict, list[str]]:
    """A stream description without its invalid fields, and the names of those."""
    bad = [k for k, valid in STREAM_FIELDS.items() if k in value and not valid(value[k])]
    drop = set(bad) | ({"width", "height"} if {"width", "height"} & set(bad) else set())  # a size is a pair
    return {k: v for k, v in value.items() if k not in drop}, bad


def label_segment(value: dict) -> LabelSegment:
    label, start, end = value.get("label"), value.get("start_ns"), value.get("end_ns")
    if not isinstance(label, str) or not 0 < len(label) <= MAX_LABEL or not label.isprintable():
        raise ValueError("no label" if label is None else f"label {str(label)[:20]!r}")
    if not (_number(start, *INT64, integer=True) and _number(end, *INT64, integer=True)):
        raise ValueError(f"times {str(start)[:20]}..{str(end)[:20]} are not integers")
    if end < start:
        raise ValueError("it ends before it starts")
    return LabelSegment(label, start, end)
