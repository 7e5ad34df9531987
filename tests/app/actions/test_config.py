"""The actions file: its schema, and one clear line for each kind of mistake in it."""

from pathlib import Path

import pytest

from app.actions import CommandAction, JsonlAction, KeyAction, OscAction, load_actions
from fusion.errors import BadInput
from fusion.labels import DEFAULT_LABELS
from tests.app.actions.action_fixtures import config

EXAMPLE = Path(__file__).resolve().parents[3] / "assets" / "actions.example.toml"


def test_example_file_parses_to_media_control():
    cfg = load_actions(EXAMPLE, labels=DEFAULT_LABELS)
    assert cfg.source == str(EXAMPLE) and cfg.enabled and cfg.cooldown_any_s == 0.3
    keys = {r.label: [a.keys for a in r.actions if isinstance(a, KeyAction)] for r in cfg.gestures}
    assert keys["open_palm"] == [("media_play_pause",)]
    assert keys["swipe_right"] == [("media_next",)] and keys["swipe_left"] == [("media_previous",)]
    assert keys["swipe_up"] == [("media_volume_up",)] and keys["swipe_down"] == [("media_volume_down",)]
    osc = cfg.rule("swipe_up").actions[1]
    assert osc == OscAction(address="/media/volume", args=("up", "$score"), host="127.0.0.1", port=9000)
    assert cfg.rule("open_palm").min_score == 0.7 and cfg.rule("swipe_right").min_score == 0.6
    assert cfg.rule("swipe_up").cooldown_s == 0.4 and cfg.rule("swipe_right").cooldown_s == 1.0
    assert cfg.rule("fist").enabled is False
    assert all(r.label in DEFAULT_LABELS for r in cfg.gestures)


def test_all_kinds_and_defaults():
    cfg = config("""
[global]
osc_port = 7000
command_timeout_s = 3
max_pending_commands = 2
[gestures.fist]
actions = [
  { kind = "osc", address = "/a/b", args = [1, 2.5, "s", true], host = "localhost" },
  { kind = "command", argv = ["echo", "hi"] },
  { kind = "jsonl" },
  { kind = "key", keys = "space" },
]
""")
    rule = cfg.rule("fist")
    assert rule.enabled and rule.cooldown_s == 1.0 and rule.min_score == 0.5
    assert rule.actions == (
        OscAction(address="/a/b", args=(1, 2.5, "s", True), host="localhost", port=7000),
        CommandAction(argv=("echo", "hi"), timeout_s=3.0),
        JsonlAction(path="-"),
        KeyAction(keys=("space",)),
    )
    assert cfg.max_pending_commands == 2 and cfg.rule("push") is None
    empty = config("")
    assert empty.gestures == () and empty.enabled


BAD = [
    # (toml, key path, words of the problem)
    ("[globl]\nenabled = true\n", "globl", "unknown key"),
    ("[global]\nenabled = true\ncooldown = 1\n", "global.cooldown", "unknown key"),
    ("[global]\n\nmin_score = \"high\"\n", "global.min_score", "expected a number"),
    ("[global]\ncooldown_s = true\n", "global.cooldown_s", "expected a number"),
    ("[global]\nmin_score = 1.5\n", "global.min_score", "between 0 and 1"),
    ("[global]\nmin_score = nan\n", "global.min_score", "between 0 and 1"),
    ("[global]\nenabled = 1\n", "global.enabled", "true or false"),
    ("[global]\nosc_port = 0\n", "global.osc_port", "from 1 to 65535"),
    ("[global]\nosc_host = \"\"\n", "global.osc_host", "non-empty string"),
    ("[global]\ncommand_timeout_s = 0\n", "global.command_timeout_s", "more than 0"),
    ("[global]\nmax_pending_commands = 0\n", "global.max_pending_commands", "from 1 to 1024"),
    ("global = 3\n", "global", "expected a table"),
    ("gestures = 3\n", "gestures", "expected a table"),
    ("[gestures]\nfist = 3\n", "gestures.fist", "expected a table"),
    ("[gestures.wave]\nenabled = true\n", "gestures.wave", "the model has no label 'wave'"),
    ("[gestures.fist]\ncooldown_s = -1\n", "gestures.fist.cooldown_s", "at least 0"),
    ("[gestures.fist]\nmin_score = 0.5\ncolour = 1\n", "gestures.fist.colour", "unknown key"),
    ("[gestures.fist]\nactions = \"beep\"\n", "gestures.fist.actions", "list of action tables"),
    ("[gestures.fist]\nactions = [3]\n", "gestures.fist.actions[0]", "expected a table"),
    ("[[gestures.fist.actions]]\nkind = \"email\"\n", "gestures.fist.actions[0].kind", "unknown action kind"),
    ("[[gestures.fist.actions]]\nkeys = [\"a\"]\n", "gestures.fist.actions[0].kind", "missing"),
    ("[[gestures.fist.actions]]\nkind = \"osc\"\naddress = \"/x\"\n\n"
     "[[gestures.fist.actions]]\nkind = \"osc\"\naddress = \"/y\"\nport = 70000\n",
     "gestures.fist.actions[1].port", "from 1 to 65535"),
    ("[[gestures.fist.actions]]\nkind = \"osc\"\naddress = \"/x\"\nport = \"9000\"\n",
     "gestures.fist.actions[0].port", "expected an integer"),
    ("[gestures.push]\nactions = [\n  {kind = \"osc\", address = \"/x\"},\n  {kind = \"osc\", address = \"/y\", port = -5},\n]\n",
     "gestures.push.actions[1].port", "from 1 to 65535"),
    ("[[gestures.fist.actions]]\nkind = \"osc\"\n", "gestures.fist.actions[0].address", "missing"),
    ("[[gestures.fist.actions]]\nkind = \"osc\"\naddress = \"x y\"\n", "gestures.fist.actions[0].address",
     "starts with '/' and has no spaces or '#', got 'x y'"),
    ("[[gestures.fist.actions]]\nkind = \"osc\"\naddress = \"/x\"\nargs = 1\n", "gestures.fist.actions[0].args", "expected a list"),
    ("[[gestures.fist.actions]]\nkind = \"osc\"\naddress = \"/x\"\nargs = [[1]]\n", "gestures.fist.actions[0].args[0]", "number, string"),
    ("[[gestures.fist.actions]]\nkind = \"osc\"\naddress = \"/x\"\nargs = [1, 2147483648]\n",
     "gestures.fist.actions[0].args[1]", "32-bit range"),
    ("[[gestures.fist.actions]]\nkind = \"key\"\nkey = \"a\"\n", "gestures.fist.actions[0].key", "unknown key; allowed"),
    ("[[gestures.fist.actions]]\nkind = \"key\"\nkeys = []\n", "gestures.fist.actions[0].keys", "non-empty list"),
    ("[[gestures.fist.actions]]\nkind = \"key\"\nkeys = [\"ctrl\", \"medianext\"]\n",
     "gestures.fist.actions[0].keys[1]", "unknown key 'medianext'"),
    ("[[gestures.fist.actions]]\nkind = \"command\"\nargv = \"rm -rf /\"\n", "gestures.fist.actions[0].argv", "list of strings"),
    ("[[gestures.fist.actions]]\nkind = \"command\"\nargv = [\"ls\", 3]\n", "gestures.fist.actions[0].argv[1]", "non-empty string"),
    ("[[gestures.fist.actions]]\nkind = \"command\"\nargv = [\"ls\"]\ntimeout_s = 0\n", "gestures.fist.actions[0].timeout_s", "more than 0"),
    ("[[gestures.fist.actions]]\nkind = \"jsonl\"\npath = 5\n", "gestures.fist.actions[0].path", "non-empty string"),
]


@pytest.mark.parametrize("text,key,problem", BAD, ids=[b[1] + ":" + b[2] for b in BAD])
def test_bad_value_names_the_file_and_the_key_path(tmp_path, text, key, problem):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(BadInput) as info:
        load_actions(path, labels=DEFAULT_LABELS)
    message = str(info.value)
    assert message.startswith(f"{path}: {key}: "), message
    assert problem in message
    assert "\n" not in message


SYNTAX = [
    # (toml, where tomllib says the error is)
    ("[global]\nenabled = = true\n", "line 2, column 11"),
    ("[global]\nenabled = true\nenabled = false\n", "line 3"),
    ("[gestures.fist]\n\n[gestures.fist]\n", "line 3"),
    ("[[gestures.fist.actions]]\nkind = 'key'\nkeys = [\"a\" \"b\"]\n", "line 3"),
    ('a = """x\n\n', "end of document"),
]


@pytest.mark.parametrize("text,where", SYNTAX, ids=[s[1] for s in SYNTAX])
def test_toml_syntax_error_is_one_line_with_where_it_is(tmp_path, text, where):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(BadInput) as info:
        load_actions(path, labels=DEFAULT_LABELS)
    message = str(info.value)
    assert message.startswith(f"{path}: not valid TOML: "), message
    assert f"(at {where}" in message and "\n" not in message


def test_missing_or_unreadable_file(tmp_path):
    with pytest.raises(BadInput, match="nope.toml: actions file not found"):
        load_actions(tmp_path / "nope.toml", labels=DEFAULT_LABELS)
    (tmp_path / "bin.toml").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(BadInput, match="bin.toml: cannot read actions file"):
        load_actions(tmp_path / "bin.toml", labels=DEFAULT_LABELS)
