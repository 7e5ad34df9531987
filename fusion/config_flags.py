"""Command-line flags derived from configuration dataclasses, so that an option is declared once.

A config field declared with ``option(default, help)`` carries its help text (and, where needed, its
choices, placeholder and flag name) in its metadata. ``add_flags`` gives a parser one flag per such
field, with the default shown from a config instance; ``from_flags`` makes the config from the
flags given::

    add_flags(parser, ModelConfig, TRAIN_MODEL)           # --shape, --modalities, --fusion, …
    model = from_flags(args, ModelConfig, TRAIN_MODEL)    # TRAIN_MODEL with the flags given

A flag left out parses to None, so the config keeps the instance's value (which may differ from the
class's default). Values by the field's type: ``int`` and ``float`` (argparse converts them),
``str`` (``choices`` checked), ``bool`` (a switch that sets True), and comma-separated
``tuple[int, ...]`` and ``tuple[str, ...]`` (``''`` gives the empty tuple). A bad value, or a
config that refuses the combination (``ValueError``), raises ``BadInput`` with one line.
"""

from __future__ import annotations

import argparse
import dataclasses
import types
import typing
from collections.abc import Iterable, Sequence
from typing import Any

from fusion.errors import BadInput

_KEY = "flag"  # the metadata key that ``option`` fills


@dataclasses.dataclass(frozen=True)
class Flag:
    """How a config field appears on the command line."""

    help: str
    choices: tuple[str, ...] | None = None  # for str and tuple[str, ...] fields
    metavar: str | None = None
    name: str | None = None  # the flag without "--"; default: the field's name with dashes


def option(default: Any = dataclasses.MISSING, help: str = "", *, choices: Sequence[str] | None = None,
           metavar: str | None = None, flag: str | None = None) -> Any:
    """A dataclass field offered as a command-line flag (see the module docstring)."""
    spec = Flag(help=help, choices=tuple(choices) if choices is not None else None, metavar=metavar, name=flag)
    return dataclasses.field(default=default, metadata={_KEY: spec})


def _flag_name(field: dataclasses.Field) -> str:
    """The flag of ``field``: ``--aux-loss`` for ``aux_loss``, or ``--`` and the name given to ``option(flag=…)``."""
    return "--" + (field.metadata[_KEY].name or field.name.replace("_", "-"))


def _flagged(cls: type, names: Iterable[str] | None) -> list[dataclasses.Field]:
    fields = [f for f in dataclasses.fields(cls) if _KEY in f.metadata]
    if names is None:
        return fields
    wanted = tuple(names)
    found = {f.name: f for f in fields}
    missing = [n for n in wanted if n not in found]
    if missing:
        raise TypeError(f"{cls.__name__} has no option fields {missing}")
    return [found[n] for n in wanted]


def _value_type(cls: type, field: dataclasses.Field) -> tuple[type, type | None]:
    """(int | float | str | bool | tuple, the element type of a tuple) of ``field``, None stripped."""
    hint = typing.get_type_hints(cls)[field.name]
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        hint = next(a for a in typing.get_args(hint) if a is not type(None))
    if typing.get_origin(hint) is tuple:
        element = typing.get_args(hint)[0]
        if element not in (int, str):
            raise TypeError(f"{cls.__name__}.{field.name}: only tuple[int, ...] and tuple[str, ...] become flags")
        return tuple, element
    if hint not in (int, float, str, bool):
        raise TypeError(f"{cls.__name__}.{field.name}: a {hint} field cannot become a flag")
    return hint, None


def _shown(value: Any) -> str:
    if isinstance(value, tuple):
        return ",".join(str(v) for v in value) or "none"
    return str(value)


def add_flags(parser: argparse.ArgumentParser | argparse._ArgumentGroup, cls: type, defaults: Any = None, *,
              names: Iterable[str] | None = None) -> None:
    """One flag per ``option`` field of ``cls`` (or per field in ``names``), in field order; the
    defaults shown are ``defaults``' values (an instance of ``cls``), else the class's."""
    for field in _flagged(cls, names):
        spec: Flag = field.metadata[_KEY]
        kind, _ = _value_type(cls, field)
        if defaults is not None:
            default = getattr(defaults, field.name)
        elif field.default is not dataclasses.MISSING:
            default = field.default
        elif field.default_factory is not dataclasses.MISSING:
            default = field.default_factory()
        else:
            default = dataclasses.MISSING
        text = spec.help
        if default is not dataclasses.MISSING and default is not None and kind is not bool:
            text += f" (default: {_shown(default)})"
        kwargs: dict[str, Any] = {"dest": field.name, "default": None, "help": text.replace("%", "%%")}
        if kind is bool:
            kwargs["action"] = "store_true"
        else:
            kwargs["type"] = kind if kind in (int, float) else str
            choices = "|".join(spec.choices) if spec.choices else None
            kwargs["metavar"] = spec.metavar or choices or field.name.upper()
            kwargs["required"] = default is dataclasses.MISSING
        parser.add_argument(_flag_name(field), **kwargs)


def _convert(field: dataclasses.Field, kind: type, element: type | None, value: Any) -> Any:
    flag, choices = _flag_name(field), field.metadata[_KEY].choices
    if kind is tuple:
        parts = [part.strip() for part in value.split(",") if part.strip()]
        if element is int:
            try:
                return tuple(int(part) for part in parts)
            except ValueError:
                raise BadInput(f"{flag} wants comma-separated integers, got {value!r}") from None
        bad = [part for part in parts if choices and part not in choices]
        if bad:
            raise BadInput(f"{flag} takes names from {','.join(choices)}, got {','.join(bad)}")
        return tuple(parts)
    if choices and value not in choices:
        raise BadInput(f"{flag} must be one of {', '.join(choices)}, got {value!r}")
    return value


def given_flags(args: argparse.Namespace, cls: type, *, names: Iterable[str] | None = None) -> dict[str, Any]:
    """The ``option`` fields of ``cls`` whose flags were given, converted: {field name: value}."""
    values = {}
    for field in _flagged(cls, names):
        value = getattr(args, field.name, None)
        if value is not None:
            values[field.name] = _convert(field, *_value_type(cls, field), value)
    return values


def from_flags(args: argparse.Namespace, cls: type, defaults: Any = None, *, names: Iterable[str] | None = None,
               **values: Any) -> Any:
    """``defaults`` (an instance of ``cls``; None: a new one from the class's defaults) with the fields
    whose flags were given, and ``values``, replaced; ``BadInput`` when the config refuses them."""
    changes = {**given_flags(args, cls, names=names), **values}
    try:
        return dataclasses.replace(defaults, **changes) if defaults is not None else cls(**changes)
    except ValueError as error:
        raise BadInput(f"bad options: {error}") from None
