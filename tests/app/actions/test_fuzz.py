"""Fuzzing the actions file: whatever the text, load_actions gives a checked config or one BadInput line.

Hypothesis writes TOML-ish documents from the schema's own headers and keys with hostile values
(huge, NaN and infinite numbers, dates, nested arrays and tables), plain text and raw bytes.
Crafted cases pin each crash the fuzzing found.
"""

import json
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.actions import ActionsConfig, CommandAction, OscAction, load_actions, parse_actions
from app.actions.config import ACTION_KEYS, GESTURE_KEYS, GLOBAL_KEYS, KINDS, MAX_SECONDS
from fusion.errors import BadInput
from fusion.labels import DEFAULT_LABELS

def fuzz(examples: int) -> settings:
    """Reproducible and bounded for CI: fixed examples, no deadline on a loaded machine, no database."""
    return settings(max_examples=examples, derandomize=True, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow])

HEADERS = ("[global]", "[gestures]", "[gestures.fist]", "[gestures.swipe_left]", "[gestures.wave]",
           "[[gestures.fist.actions]]", "[[gestures.push.actions]]", "[global.osc]", "[[global]]", "[gestures.fist.x]")
KEYS = sorted(set(GLOBAL_KEYS + GESTURE_KEYS + sum(ACTION_KEYS.values(), ())) | {"bogus", "gestures", "global"})
SPECIAL_NUMBERS = ("inf", "-inf", "nan", "+nan", "1e400", "-0.0", "0", "1e308", "-1", "0x7fffffffffffffff",
                   "9" * 40, "1" * 5000, "1979-05-27T07:32:00Z", "07:32:00", "1979-05-27", "1e-320")
WORDS = KINDS + ("/a/b", "a b", "", "media_next", "ctrl", "space", "$label", "$score", "-", "localhost", "\u00e9")


def _toml_string(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)  # JSON's escapes are TOML basic-string escapes


scalars = st.one_of(
    st.integers(min_value=-2**70, max_value=2**70).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(lambda x: repr(x).replace("inf", "inf").lower()),
    st.sampled_from(SPECIAL_NUMBERS),
    st.booleans().map(lambda b: "true" if b else "false"),
    st.sampled_from(WORDS).map(_toml_string),
    st.text(max_size=8).map(_toml_string),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4).map(lambda items: "[" + ", ".join(items) + "]"),
        st.dictionaries(st.sampled_from(KEYS), inner, max_size=3).map(
            lambda table: "{ " + ", ".join(f"{k} = {v}" for k, v in table.items()) + " }")),
    max_leaves=8,
)
lines = st.one_of(
    st.sampled_from(HEADERS),
    st.tuples(st.sampled_from(KEYS), values).map(lambda kv: f"{kv[0]} = {kv[1]}"),
)
documents = st.lists(lines, max_size=14).map("\n".join)  # mostly TOML errors: duplicate keys and tables


def _entries(draw, keys, plausible) -> list[str]:
    """``key = value`` lines for some of ``keys`` (a plausible value or a hostile one), now and then a bogus key."""
    chosen = draw(st.lists(st.sampled_from(keys), unique=True, max_size=len(keys)))
    out = [f"{k} = {draw(values if k not in plausible or draw(st.integers(0, 7)) == 0 else plausible[k])}"
           for k in chosen]
    if draw(st.integers(0, 9)) == 0:
        out.append(f"{draw(st.sampled_from(KEYS))}_x = 1")
    return out


PLAUSIBLE = {  # values of the right type, at and beyond their bounds
    "enabled": st.sampled_from(["true", "false"]),
    "cooldown_s": st.sampled_from(["0", "1.5", "-1", "1e6", "1000001", "inf", "nan"]),
    "cooldown_any_s": st.sampled_from(["0", "0.3", "-0.0", "1e7"]),
    "min_score": st.sampled_from(["0", "0.5", "1", "1.0000001", "-0.1", "nan"]),
    "osc_host": st.sampled_from(['"127.0.0.1"', '""', '"::1"']),
    "osc_port": st.sampled_from(["1", "9000", "65535", "0", "65536", "-1"]),
    "port": st.sampled_from(["1", "9000", "65535", "0", "65536"]),
    "command_timeout_s": st.sampled_from(["0", "0.001", "10", "1e6", "1e300", "inf"]),
    "timeout_s": st.sampled_from(["0", "5", "-5", "1e300", "inf", "nan"]),
    "max_pending_commands": st.sampled_from(["1", "4", "1024", "0", "1025"]),
    "keys": st.sampled_from(['["media_next"]', '"a"', '["ctrl", "shift", "p"]', '["hyper"]', '[]', '[""]']),
    "address": st.sampled_from(['"/a/b"', '"a/b"', '"/a b"', '"/#"', '""']),
    "args": st.sampled_from(['[1, 2.5, "s", true]', '["$label", "$score", "$t"]', '[2147483648]', '[[1]]', '[]']),
    "argv": st.sampled_from(['["true"]', '["echo", "$label"]', '[]', '"ls"', '[1]']),
    "path": st.sampled_from(['"-"', '"out.jsonl"', '""']),
    "kind": st.sampled_from([f'"{k}"' for k in KINDS] + ['"email"', "3"]),
}


@st.composite
def schema_documents(draw) -> str:
    """A document shaped like the schema: [global], gesture tables, their action tables, each key
    once, with plausible, boundary and hostile values."""
    out = []
    if draw(st.booleans()):
        out += ["[global]"] + _entries(draw, GLOBAL_KEYS, PLAUSIBLE)
    labels = draw(st.lists(st.sampled_from(DEFAULT_LABELS[:9] + ("wave",)), unique=True, max_size=3))
    for label in labels:
        out += [f"[gestures.{label}]"] + _entries(draw, ("enabled", "cooldown_s", "min_score"), PLAUSIBLE)
        for _ in range(draw(st.integers(0, 2))):
            kind = draw(st.sampled_from(KINDS))
            keys = [k for k in ACTION_KEYS[kind] if k != "kind"]
            out += [f"[[gestures.{label}.actions]]", f'kind = "{kind}"'] + _entries(draw, keys, PLAUSIBLE)
    return "\n".join(out)


def parses_cleanly(text: str) -> ActionsConfig | None:
    """The config of ``text``, or None when it is refused with one clean line naming the file."""
    try:
        config = parse_actions(text, labels=DEFAULT_LABELS, source="fuzz.toml")
    except BadInput as error:
        message = str(error)
        assert message.startswith("fuzz.toml: ") and "\n" not in message and len(message) < 600
        return None
    check_accepted(config)
    return config


def check_accepted(config: ActionsConfig) -> None:
    """What an accepted file promises the dispatcher: finite, bounded times, ports, labels."""
    assert 0 <= config.cooldown_any_s <= MAX_SECONDS and 1 <= config.max_pending_commands <= 1024
    for rule in config.gestures:
        assert rule.label in DEFAULT_LABELS
        assert 0 <= rule.cooldown_s <= MAX_SECONDS and 0 <= rule.min_score <= 1
        for action in rule.actions:
            if isinstance(action, CommandAction):
                assert 0 < action.timeout_s <= MAX_SECONDS and math.isfinite(action.timeout_s) and action.argv
            if isinstance(action, OscAction):
                assert 1 <= action.port <= 65535 and action.address.startswith("/")


@fuzz(400)
@given(schema_documents())
def test_schema_shaped_documents_load_or_fail_in_one_line(text):
    parses_cleanly(text)


@fuzz(200)
@given(documents)
def test_documents_of_any_headers_keys_and_values_load_or_fail_in_one_line(text):
    parses_cleanly(text)


@fuzz(200)
@given(st.text(alphabet=st.sampled_from(list('[]{}=."\'#\n ,_-+:01aefgilnst\\')), max_size=80))
def test_toml_like_text_loads_or_fails_in_one_line(text):
    parses_cleanly(text)


@fuzz(60)
@given(st.binary(max_size=64))
def test_any_bytes_in_the_file_load_or_fail_in_one_line(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("actions") / "fuzz.toml"
    path.write_bytes(data)
    try:
        check_accepted(load_actions(path, labels=DEFAULT_LABELS))
    except BadInput as error:
        assert str(error).startswith(str(path)) and "\n" not in str(error)


# --- crashes the fuzzing found (each a traceback before the fix) -----------------------------------

@pytest.mark.parametrize("text, problem", [
    ("[global]\ncooldown_s = " + "9" * 400, "global.cooldown_s: must be at least 0"),  # OverflowError
    ("[global]\ncommand_timeout_s = inf", "global.command_timeout_s: must be at least 0"),  # OverflowError at run time
    ("[[gestures.fist.actions]]\nkind = \"command\"\nargv = [\"true\"]\ntimeout_s = 1e300",
     "gestures.fist.actions[0].timeout_s"),  # "timeout is too large" in the dispatcher
    ("[gestures.fist]\ncooldown_s = inf", "gestures.fist.cooldown_s"),
    ("a = " + "1" * 5000, "not valid TOML: Exceeds the limit"),  # ValueError from int()
    ("a = " + "[" * 3000 + "]" * 3000, "nested too deeply"),  # RecursionError
    ("a = " + "{b = " * 3000 + "1" + "}" * 3000, "nested too deeply"),
])
def test_crashes_found_by_fuzzing_are_one_line(text, problem):
    with pytest.raises(BadInput, match="^fuzz.toml: ") as caught:
        parse_actions(text, labels=DEFAULT_LABELS, source="fuzz.toml")
    assert problem in str(caught.value) and "\n" not in str(caught.value)


@pytest.mark.parametrize("text, problem", [
    ("[global]\nosc_port = 1979-05-27", "global.osc_port: expected an integer, got date"),
    ("[global]\nmin_score = -0.0001", "global.min_score: must be between 0 and 1"),
    ("[global]\nmax_pending_commands = 0", "global.max_pending_commands"),
    ("[global]\nenabled = 1", "global.enabled: expected true or false"),
    ("[gestures]\nfist = 3", "gestures.fist: expected a table"),
    ("[gestures.fist]\nactions = { kind = \"key\" }", "gestures.fist.actions: expected a list"),
    ("[[gestures.fist.actions]]\nkind = \"osc\"\naddress = \"/a\"\nargs = [[1]]", "args[0]: expected a number"),
    ("[[gestures.fist.actions]]\nkind = \"osc\"\naddress = \"/a\"\nargs = [2147483648]", "32-bit"),
    ("[[gestures.fist.actions]]\nkind = \"osc\"\naddress = \"/a\"\nport = 70000", "port"),
    ("[[gestures.fist.actions]]\nkind = \"command\"\nargv = []", "argv: expected a non-empty list"),
    ("[[gestures.fist.actions]]\nkind = \"command\"\nargv = \"ls\"", "argv: expected a non-empty list"),
    ("[[gestures.fist.actions]]\nkind = \"key\"\nkeys = [\"\"]", "keys[0]: expected a non-empty string"),
    ("[[gestures.fist.actions]]\nkind = \"jsonl\"\npath = 3", "path: expected a non-empty string"),
    ("[[gestures.fist.actions]]\nkind = 3", "kind: expected a non-empty string"),
    ("[[global]]\nenabled = true", "global: expected a table"),
    ("gestures = [1]", "gestures: expected a table"),
])
def test_schema_violations_are_one_line_naming_the_key(text, problem):
    with pytest.raises(BadInput) as caught:
        parse_actions(text, labels=DEFAULT_LABELS, source="fuzz.toml")
    assert problem in str(caught.value) and "\n" not in str(caught.value)
