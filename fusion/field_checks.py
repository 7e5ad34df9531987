"""Type and range checks for configuration fields that may come from an untrusted file.

Each check raises ``ValueError`` naming the field, so that a config's ``__post_init__`` refuses a
bad value in one line (a checkpoint reader turns it into ``BadInput``). Booleans are not integers
here, and NaN or infinity is never a number in range.
"""

from __future__ import annotations

import math
import numbers


def check_int(name: str, value: object, lo: int, hi: int) -> None:
    """An integer (not a boolean) from ``lo`` to ``hi``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer, got {value!r:.40}")
    if not lo <= value <= hi:
        raise ValueError(f"{name} must be from {lo} to {hi}, got {value!r:.40}")


def check_real(name: str, value: object, lo: float, hi: float, *, above_lo: bool = False) -> None:
    """A finite number from ``lo`` to ``hi`` (more than ``lo`` when ``above_lo``)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a number, got {value!r:.40}")
    finite = isinstance(value, numbers.Integral) or math.isfinite(value)  # isfinite(10**400) overflows
    if not finite or not (lo < value if above_lo else lo <= value) or not value <= hi:
        low = f"more than {lo:g}" if above_lo else f"at least {lo:g}"
        raise ValueError(f"{name} must be finite, {low} and at most {hi:g}, got {value!r:.40}")


def check_ints(name: str, values: object, lo: int, hi: int, *, min_len: int = 0, max_len: int = 64) -> None:
    """A tuple of ``min_len`` to ``max_len`` integers, each from ``lo`` to ``hi``."""
    if not isinstance(values, tuple) or not min_len <= len(values) <= max_len:
        raise ValueError(f"{name} must be a list of {min_len} to {max_len} integers, got {values!r:.60}")
    for value in values:
        check_int(f"each of {name}", value, lo, hi)


def check_bool(name: str, value: object) -> None:
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be true or false, got {value!r:.40}")
