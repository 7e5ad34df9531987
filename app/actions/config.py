"""The gesture → action TOML file, parsed into frozen dataclasses and checked key by key.

The schema (docs/actions.md has the full description and assets/actions.example.toml an example)::

    [global]                      # optional; every key optional
    enabled = true                # false: no gesture does anything
    cooldown_s = 1.0              # default of each gesture's cooldown_s
    min_score = 0.5               # default of each gesture's min_score
    cooldown_any_s = 0.0          # least time between two gestures that both act
    osc_host = "127.0.0.1"        # default host of OSC actions
    osc_port = 9000               # default port of OSC actions
    command_timeout_s = 10.0      # default timeout of command actions
    max_pending_commands = 4      # commands waiting beyond this are dropped and counted

    [gestures.swipe_right]        # one table per gesture label of the model that runs
    enabled = true
    cooldown_s = 1.0
    min_score = 0.6

    [[gestures.swipe_right.actions]]
    kind = "key"                  # key | osc | command | jsonl
    keys = ["media_next"]

Every problem is a one-line ``BadInput`` naming the file: a TOML syntax error with tomllib's own
message (which gives line and column), any other problem with the key path at fault, such as
``gestures.swipe_right.actions[0].keys`` (tomllib does not say on which line a key was).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence, Union

from fusion.errors import BadInput

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

KINDS = ("key", "osc", "command", "jsonl")
MAX_SECONDS = 1e6  # the largest time (cooldown, timeout) a file may give: 11.6 days; the OS refuses an inf timeout
PLACEHOLDERS = ("$label", "$score", "$t")  # an OSC argument or argv item that is exactly one of these

# pynput.keyboard.Key names (pynput 1.7+); a few exist only on some platforms, and a name the
# running platform lacks is reported when the action runs. Single characters are keys too.
KEY_NAMES = frozenset(
    "alt alt_l alt_r alt_gr backspace caps_lock cmd cmd_l cmd_r ctrl ctrl_l ctrl_r delete down end "
    "enter esc home left page_down page_up right shift shift_l shift_r space tab up insert menu "
    "num_lock pause print_screen scroll_lock media_play_pause media_volume_mute media_volume_down "
    "media_volume_up media_previous media_next".split()
) | frozenset(f"f{i}" for i in range(1, 21))

OscArg = Union[bool, int, float, str]


@dataclass(frozen=True)
class KeyAction:
    """Press ``keys`` in order, release them in reverse (a chord such as ctrl+shift+p)."""

    keys: tuple[str, ...]


@dataclass(frozen=True)
class OscAction:
    """Send one OSC message over UDP."""

    address: str
    args: tuple[OscArg, ...] = ()
    host: str = "127.0.0.1"
    port: int = 9000


@dataclass(frozen=True)
class CommandAction:
    """Run ``argv`` as an argument list (never through a shell), on the dispatcher's worker."""

    argv: tuple[str, ...]
    timeout_s: float = 10.0


@dataclass(frozen=True)
class JsonlAction:
    """Append the event as one JSON line to ``path`` ("-": standard output)."""

    path: str = "-"


Action = Union[KeyAction, OscAction, CommandAction, JsonlAction]


@dataclass(frozen=True)
class GestureRule:
    """What one gesture label does, and when."""

    label: str
    actions: tuple[Action, ...] = ()
    enabled: bool = True
    cooldown_s: float = 1.0
    min_score: float = 0.5


@dataclass(frozen=True)
class ActionsConfig:
    """A whole actions file. ``source`` names the file in messages."""

    gestures: tuple[GestureRule, ...] = ()
    enabled: bool = True
    cooldown_any_s: float = 0.0
    max_pending_commands: int = 4
    source: str = "<actions>"

    def rule(self, label: str) -> GestureRule | None:
        for rule in self.gestures:
            if rule.label == label:
                return rule
        return None


GLOBAL_KEYS = ("enabled", "cooldown_s", "min_score", "cooldown_any_s", "osc_host", "osc_port",
               "command_timeout_s", "max_pending_commands")
GESTURE_KEYS = ("enabled", "cooldown_s", "min_score", "actions")
ACTION_KEYS = {
    "key": ("kind", "keys"),
    "osc": ("kind", "address", "args", "host", "port"),
    "command": ("kind", "argv", "timeout_s"),
    "jsonl": ("kind", "path"),
}


def load_actions(path: str | Path, *, labels: Sequence[str]) -> ActionsConfig:
    """Read and check an actions file; ``labels`` are the labels of the model that will run."""
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise BadInput(f"{path}: actions file not found") from None
    except (OSError, UnicodeDecodeError) as e:
        raise BadInput(f"{path}: cannot read actions file: {e}") from None
    return parse_actions(text, source=str(path), labels=labels)


def parse_actions(text: str, *, labels: Sequence[str], source: str = "<actions>") -> ActionsConfig:
    """Parse and check the TOML ``text`` of an actions file (``source`` names it in messages)."""
    if isinstance(labels, str):
        raise TypeError("labels is a sequence of label strings, not one string")
    try:
        data = tomllib.loads(text)
    except ValueError as e:  # TOMLDecodeError, or an integer of over 4300 digits
        raise BadInput(f"{source}: not valid TOML: {' '.join(str(e).split())[:200]}") from None
    except RecursionError:
        raise BadInput(f"{source}: not valid TOML: arrays or tables nested too deeply") from None
    return _Checker(source, tuple(labels)).config(data)


class _Checker:
    """Builds the config from the parsed TOML; every error names the file and the key path."""

    def __init__(self, source: str, labels: tuple[str, ...]) -> None:
        self.source = source
        self.labels = labels

    def fail(self, path: tuple, problem: str) -> BadInput:
        return BadInput(f"{self.source}: {dotted(path)}: {problem}")

    # --- typed getters -----------------------------------------------------------------------

    def table(self, value: object, path: tuple) -> dict:
        if not isinstance(value, dict):
            raise self.fail(path, f"expected a table, got {_type(value)}")
        return value

    def keys(self, table: dict, allowed: Sequence[str], path: tuple) -> None:
        for key in table:
            if key not in allowed:
                raise self.fail(path + (key,), f"unknown key; allowed here: {', '.join(allowed)}")

    def boolean(self, table: dict, key: str, default: bool, path: tuple) -> bool:
        value = table.get(key, default)
        if not isinstance(value, bool):
            raise self.fail(path + (key,), f"expected true or false, got {_type(value)}")
        return value

    def number(self, table: dict, key: str, default: float, path: tuple, *, lo: float = 0.0,
               hi: float = MAX_SECONDS) -> float:
        value = table.get(key, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.fail(path + (key,), f"expected a number, got {_type(value)}")
        if not lo <= value <= hi:  # also NaN; an int too large for a float; inf (a timeout the OS refuses)
            bound = f"at least {lo:g} (at most {hi:g})" if hi == MAX_SECONDS else f"between {lo:g} and {hi:g}"
            raise self.fail(path + (key,), f"must be {bound}, got {value!r:.40}")
        return float(value)

    def integer(self, table: dict, key: str, default: int, path: tuple, *, lo: int, hi: int) -> int:
        value = table.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(path + (key,), f"expected an integer, got {_type(value)}")
        if not lo <= value <= hi:
            raise self.fail(path + (key,), f"must be an integer from {lo} to {hi}, got {value}")
        return value

    def string(self, table: dict, key: str, default: str | None, path: tuple) -> str:
        value = table.get(key, default)
        if value is None:
            raise self.fail(path + (key,), "missing (required)")
        if not isinstance(value, str) or not value:
            raise self.fail(path + (key,), f"expected a non-empty string, got {_type(value)}")
        return value

    def strings(self, table: dict, key: str, path: tuple, *, allow_one: bool) -> tuple[str, ...]:
        if key not in table:
            raise self.fail(path + (key,), "missing (required)")
        value = table[key]
        if allow_one and isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not value:
            raise self.fail(path + (key,), f"expected a non-empty list of strings, got {_type(value)}")
        for i, item in enumerate(value):
            if not isinstance(item, str) or not item:
                raise self.fail(path + (key, i), f"expected a non-empty string, got {_type(item)}")
        return tuple(value)

    # --- sections ----------------------------------------------------------------------------

    def config(self, data: dict) -> ActionsConfig:
        self.keys(data, ("global", "gestures"), ())
        glob = self.table(data.get("global", {}), ("global",))
        g = ("global",)
        self.keys(glob, GLOBAL_KEYS, g)
        defaults = {
            "cooldown_s": self.number(glob, "cooldown_s", 1.0, g),
            "min_score": self.number(glob, "min_score", 0.5, g, hi=1.0),
            "osc_host": self.string(glob, "osc_host", "127.0.0.1", g),
            "osc_port": self.integer(glob, "osc_port", 9000, g, lo=1, hi=65535),
            "command_timeout_s": self.number(glob, "command_timeout_s", 10.0, g),
        }
        if defaults["command_timeout_s"] <= 0:
            raise self.fail(g + ("command_timeout_s",), "must be more than 0")
        gestures = self.table(data.get("gestures", {}), ("gestures",))
        rules = tuple(self.gesture(label, value, defaults) for label, value in gestures.items())
        return ActionsConfig(
            gestures=rules,
            enabled=self.boolean(glob, "enabled", True, g),
            cooldown_any_s=self.number(glob, "cooldown_any_s", 0.0, g),
            max_pending_commands=self.integer(glob, "max_pending_commands", 4, g, lo=1, hi=1024),
            source=self.source,
        )

    def gesture(self, label: str, value: object, defaults: dict) -> GestureRule:
        path = ("gestures", label)
        if label not in self.labels:
            raise self.fail(path, f"the model has no label {label!r}; its labels are {', '.join(self.labels)}")
        table = self.table(value, path)
        self.keys(table, GESTURE_KEYS, path)
        actions = table.get("actions", [])
        if not isinstance(actions, list):
            raise self.fail(path + ("actions",), f"expected a list of action tables, got {_type(actions)}")
        return GestureRule(
            label=label,
            actions=tuple(self.action(a, path + ("actions", i), defaults) for i, a in enumerate(actions)),
            enabled=self.boolean(table, "enabled", True, path),
            cooldown_s=self.number(table, "cooldown_s", defaults["cooldown_s"], path),
            min_score=self.number(table, "min_score", defaults["min_score"], path, hi=1.0),
        )

    def action(self, value: object, path: tuple, defaults: dict) -> Action:
        table = self.table(value, path)
        kind = self.string(table, "kind", None, path)
        if kind not in KINDS:
            raise self.fail(path + ("kind",), f"unknown action kind {kind!r}; kinds are {', '.join(KINDS)}")
        self.keys(table, ACTION_KEYS[kind], path)
        if kind == "key":
            keys = self.strings(table, "keys", path, allow_one=True)
            for i, key in enumerate(keys):
                if len(key) != 1 and key not in KEY_NAMES:
                    raise self.fail(path + ("keys", i), f"unknown key {key!r}: use one character or a "
                                    "pynput Key name such as space, enter, ctrl, media_next")
            return KeyAction(keys=keys)
        if kind == "osc":
            address = self.string(table, "address", None, path)
            if not address.startswith("/") or any(c in address for c in " #"):
                raise self.fail(path + ("address",), "an OSC address starts with '/' and has no spaces "
                                f"or '#', got {address!r}")
            args = table.get("args", [])
            if not isinstance(args, list):
                raise self.fail(path + ("args",), f"expected a list, got {_type(args)}")
            for i, arg in enumerate(args):
                if not isinstance(arg, (bool, int, float, str)):
                    raise self.fail(path + ("args", i), f"expected a number, string or boolean, got {_type(arg)}")
                if isinstance(arg, int) and not isinstance(arg, bool) and not -2**31 <= arg < 2**31:
                    raise self.fail(path + ("args", i), "integer out of OSC's 32-bit range")
            return OscAction(
                address=address,
                args=tuple(args),
                host=self.string(table, "host", defaults["osc_host"], path),
                port=self.integer(table, "port", defaults["osc_port"], path, lo=1, hi=65535),
            )
        if kind == "command":
            timeout = self.number(table, "timeout_s", defaults["command_timeout_s"], path)
            if timeout <= 0:
                raise self.fail(path + ("timeout_s",), "must be more than 0")
            return CommandAction(argv=self.strings(table, "argv", path, allow_one=False), timeout_s=timeout)
        return JsonlAction(path=self.string(table, "path", "-", path))


def dotted(path: tuple) -> str:
    """``("gestures", "fist", "actions", 1, "port")`` → ``gestures.fist.actions[1].port``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _type(value: object) -> str:
    names = {bool: "a boolean", int: "an integer", float: "a number", str: "a string",
             list: "a list", dict: "a table"}
    return names.get(type(value), type(value).__name__)
