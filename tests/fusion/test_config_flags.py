"""Flags derived from a config dataclass: the defaults shown and kept come from an instance, values
are converted by the field's type, and bad values raise BadInput naming the flag."""

from __future__ import annotations

import argparse
import dataclasses

import pytest

from fusion.config_flags import add_flags, from_flags, given_flags, option
from fusion.errors import BadInput


@dataclasses.dataclass(frozen=True)
class Example:
    path: str = option(help="where to", metavar="P")
    count: int = option(3, "how many")
    ratio: float | None = option(None, "a ratio")
    kind: str = option("a", "which one", choices=("a", "b"))
    names: tuple[str, ...] = option(("x",), "some names", choices=("x", "y", "z"))
    sizes: tuple[int, ...] = option((1, 2), "some sizes")
    loud: bool = option(False, "say it")
    steps: int | None = option(None, "at most", flag="max-steps")
    hidden: int = 7  # no flag

    def __post_init__(self) -> None:
        if self.count < 0:
            raise ValueError("count must be >= 0")


def _parser(defaults: Example | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="example")
    add_flags(parser, Example, defaults)
    return parser


def test_the_flags_given_make_the_config():
    args = _parser().parse_args(["--path", "p", "--count", "5", "--ratio", "0.5", "--names", "z, y", "--sizes", "",
                                 "--loud", "--max-steps", "9", "--kind", "b"])
    assert from_flags(args, Example) == Example(path="p", count=5, ratio=0.5, kind="b", names=("z", "y"), sizes=(),
                                                loud=True, steps=9)


def test_flags_left_out_keep_the_instances_values_not_the_classes():
    base = Example(path="p", count=9, kind="b", loud=True)
    args = _parser(base).parse_args(["--sizes", "4"])
    assert given_flags(args, Example) == {"sizes": (4,)}
    assert from_flags(args, Example, base) == dataclasses.replace(base, sizes=(4,))
    assert from_flags(args, Example, base, hidden=1).hidden == 1


def test_help_shows_the_instances_defaults_choices_and_flag_names(monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    text = _parser(Example(path="p", count=9, sizes=())).format_help()
    assert "how many (default: 9)" in text and "some sizes (default: none)" in text
    assert "--kind a|b" in text and "--max-steps STEPS" in text and "--path P" in text
    assert "--hidden" not in text and "(default" not in text.split("--loud")[1].split("\n")[0]


def test_a_field_without_default_is_a_required_flag(capsys):
    with pytest.raises(SystemExit):
        _parser().parse_args(["--count", "1"])
    assert "--path" in capsys.readouterr().err


@pytest.mark.parametrize("argv, message", [
    (["--sizes", "1,x"], "--sizes wants comma-separated integers, got '1,x'"),
    (["--kind", "c"], "--kind must be one of a, b, got 'c'"),
    (["--names", "x,w"], "--names takes names from x,y,z, got w"),
    (["--count", "-1"], "bad options: count must be >= 0"),
])
def test_bad_values_raise_bad_input_naming_the_flag(argv, message):
    args = _parser().parse_args(["--path", "p", *argv])
    with pytest.raises(BadInput) as error:
        from_flags(args, Example)
    assert str(error.value) == message


def test_only_the_named_fields_become_flags():
    parser = argparse.ArgumentParser()
    add_flags(parser, Example, names=("kind",))
    assert from_flags(parser.parse_args(["--kind", "b"]), Example, names=("kind",), path="p").kind == "b"
    with pytest.raises(SystemExit):
        parser.parse_args(["--count", "1"])
    with pytest.raises(TypeError, match="hidden"):
        add_flags(argparse.ArgumentParser(), Example, names=("hidden",))
