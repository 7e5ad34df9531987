import io
import json
import logging
import shlex
import socket
import sys
import types
from dataclasses import dataclass
from pathlib import Path

import pytest
from pythonosc.osc_message import OscMessage

from app.actions import (
    ActionDispatcher, CommandAction, JsonlAction, KeyAction, OscAction, load_actions, parse_actions,
)
from app.actions.config import key_lines
from fusion.errors import BadInput
from fusion.labels import DEFAULT_LABELS

EXAMPLE = Path(__file__).resolve().parents[2] / "assets" / "actions.example.toml"
pytestmark = pytest.mark.timeout(60)


@dataclass(frozen=True)
class Event:
    """Stands in for fusion.online.GestureEvent: label, score, t and to_json()."""

    label: str
    score: float = 0.9
    t: float = 0.0

    def to_json(self) -> dict:
        return {"type": "gesture", "label": self.label, "score": self.score, "t": self.t}


def config(text: str, **kw):
    return parse_actions(text, source="test.toml", **kw)


# --- the schema ----------------------------------------------------------------------------------

def test_example_file_parses_to_media_control():
    cfg = load_actions(EXAMPLE)
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
    # (toml, line, key, words of the problem)
    ("[globl]\nenabled = true\n", 1, "globl", "unknown key"),
    ("[global]\nenabled = true\ncooldown = 1\n", 3, "global.cooldown", "unknown key"),
    ("[global]\n\nmin_score = \"high\"\n", 3, "global.min_score", "expected a number"),
    ("[global]\ncooldown_s = true\n", 2, "global.cooldown_s", "expected a number"),
    ("[global]\nmin_score = 1.5\n", 2, "global.min_score", "between 0 and 1"),
    ("[global]\nenabled = 1\n", 2, "global.enabled", "true or false"),
    ("[global]\nosc_port = 0\n", 2, "global.osc_port", "from 1 to 65535"),
    ("[global]\ncommand_timeout_s = 0\n", 2, "global.command_timeout_s", "more than 0"),
    ("gestures = 3\n", 1, "gestures", "expected a table"),
    ("[gestures.wave]\nenabled = true\n", 1, "gestures.wave", "unknown gesture label"),
    ("[gestures.fist]\ncooldown_s = -1\n", 2, "gestures.fist.cooldown_s", "at least 0"),
    ("[gestures.fist]\nmin_score = 0.5\ncolour = 1\n", 3, "gestures.fist.colour", "unknown key"),
    ("[gestures.fist]\nactions = \"beep\"\n", 2, "gestures.fist.actions", "list of action tables"),
    ("[[gestures.fist.actions]]\nkind = \"email\"\n", 2, "gestures.fist.actions[0].kind", "unknown action kind"),
    ("[[gestures.fist.actions]]\nkeys = [\"a\"]\n", 1, "gestures.fist.actions[0].kind", "missing"),
    ("[[gestures.fist.actions]]\nkind = \"osc\"\naddress = \"/x\"\n\n"
     "[[gestures.fist.actions]]\nkind = \"osc\"\naddress = \"/y\"\nport = 70000\n",
     8, "gestures.fist.actions[1].port", "from 1 to 65535"),
    ("[[gestures.fist.actions]]\nkind = \"osc\"\naddress = \"/x\"\nport = \"9000\"\n",
     4, "gestures.fist.actions[0].port", "expected an integer"),
    ("[gestures.push]\nactions = [\n  {kind = \"osc\", address = \"/x\"},\n  {kind = \"osc\", address = \"/y\", port = -5},\n]\n",
     4, "gestures.push.actions[1].port", "from 1 to 65535"),
    ("[[gestures.fist.actions]]\nkind = \"osc\"\naddress = \"x y\"\n", 3, "gestures.fist.actions[0].address", "starts with '/'"),
    ("[[gestures.fist.actions]]\nkind = \"osc\"\naddress = \"/x\"\nargs = [[1]]\n", 4, "gestures.fist.actions[0].args[0]", "number, string"),
    ("[[gestures.fist.actions]]\nkind = \"key\"\nkey = \"a\"\n", 3, "gestures.fist.actions[0].key", "unknown key; allowed"),
    ("[[gestures.fist.actions]]\nkind = \"key\"\nkeys = [\"ctrl\", \"medianext\"]\n", 3,
     "gestures.fist.actions[0].keys[1]", "unknown key 'medianext'"),
    ("[[gestures.fist.actions]]\nkind = \"command\"\nargv = \"rm -rf /\"\n", 3, "gestures.fist.actions[0].argv", "list of strings"),
    ("[[gestures.fist.actions]]\nkind = \"command\"\nargv = [\"ls\", 3]\n", 3, "gestures.fist.actions[0].argv[1]", "non-empty string"),
    ("[[gestures.fist.actions]]\nkind = \"command\"\nargv = [\"ls\"]\ntimeout_s = 0\n", 4, "gestures.fist.actions[0].timeout_s", "more than 0"),
    ("[[gestures.fist.actions]]\nkind = \"jsonl\"\npath = 5\n", 3, "gestures.fist.actions[0].path", "non-empty string"),
]


@pytest.mark.parametrize("text,line,key,problem", BAD, ids=[b[2] + ":" + b[3] for b in BAD])
def test_bad_config_names_file_line_and_key(tmp_path, text, line, key, problem):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(BadInput) as info:
        load_actions(path)
    message = str(info.value)
    assert message.startswith(f"{path}:{line}: {key}: "), message
    assert problem in message
    assert "\n" not in message


def test_labels_are_passed_in():
    cfg = config("[gestures.wave]\n", labels=("wave", "clap"))
    assert cfg.rule("wave") is not None
    with pytest.raises(BadInput, match=r"test.toml:1: gestures.fist: unknown gesture label; labels are wave, clap"):
        config("[gestures.fist]\n", labels=("wave", "clap"))


def test_invalid_toml_and_missing_file(tmp_path):
    with pytest.raises(BadInput, match=r"^test.toml:2: not valid TOML: .*line 2"):
        config("[global]\nenabled = = true\n")
    with pytest.raises(BadInput, match="nope.toml: actions file not found"):
        load_actions(tmp_path / "nope.toml")
    (tmp_path / "bin.toml").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(BadInput, match="bin.toml: cannot read actions file"):
        load_actions(tmp_path / "bin.toml")


def test_key_lines_follow_toml_structure():
    text = ('# comment [x]\n[global]\n"osc_port" = 1 # [y]\ns = """a\n[b]\nc"""\n'
            '[[g.a]]\nk = 1\n[[g.a]]\nk = [\n 1,\n {x = "]"}\n]\n[g."b.c"]\nd.e = 2\n')
    lines = key_lines(text)
    assert lines[("global", "osc_port")] == 3 and lines[("global", "s")] == 4
    assert lines[("g", "a", 0, "k")] == 8 and lines[("g", "a", 1, "k")] == 10
    assert lines[("g", "a", 1, "k", 1, "x")] == 12
    assert lines[("g", "b.c")] == 14 and lines[("g", "b.c", "d", "e")] == 15


# --- when actions run ----------------------------------------------------------------------------

JSONL_RULES = """
[global]
cooldown_s = 1.0
min_score = 0.5
[[gestures.fist.actions]]
kind = "jsonl"
path = "-"
[gestures.push]
min_score = 0.8
cooldown_s = 0
actions = [{ kind = "jsonl" }]
[gestures.pull]
enabled = false
actions = [{ kind = "jsonl" }]
"""


def test_cooldown_min_score_and_enabled():
    out = io.StringIO()
    d = ActionDispatcher(config(JSONL_RULES), stdout=out)
    assert d.handle(Event("fist", 0.9, 10.0)) == ["jsonl -"]
    assert d.handle(Event("fist", 0.9, 10.5)) == ["skip fist: cooldown (0.500 s left)"]
    assert d.handle(Event("fist", 0.9, 11.0)) == ["jsonl -"]  # exactly cooldown_s later: acts
    assert d.handle(Event("fist", 0.4, 13.0)) == ["skip fist: score 0.400 < min_score 0.5"]
    assert d.handle(Event("fist", 0.5, 13.0)) == ["jsonl -"]  # min_score is inclusive
    assert d.handle(Event("fist", 0.9, 0.2)) == ["jsonl -"]  # t went back: a new stream
    assert d.handle(Event("push", 0.79, 20.0))[0].startswith("skip push: score")
    assert d.handle(Event("push", 0.8, 20.0)) == ["jsonl -"]
    assert d.handle(Event("push", 0.8, 20.0)) == ["jsonl -"]  # cooldown 0
    assert d.handle(Event("pull", 1.0, 30.0)) == ["skip pull: gesture disabled"]
    assert d.handle(Event("swipe_up", 1.0, 30.0)) == []  # no rule: nothing
    lines = [json.loads(x) for x in out.getvalue().splitlines()]
    assert [(x["label"], x["t"]) for x in lines] == [
        ("fist", 10.0), ("fist", 11.0), ("fist", 13.0), ("fist", 0.2), ("push", 20.0), ("push", 20.0)]
    assert d.counts() == {"events": 11, "acted": 6, "skipped": 4, "failed": 0,
                          "commands_run": 0, "commands_failed": 0, "commands_dropped": 0}


def test_global_switch_and_cooldown_any():
    d = ActionDispatcher(config("[global]\nenabled = false\n" + JSONL_RULES.split("[global]")[1]),
                         stdout=io.StringIO())
    assert d.handle(Event("fist", 1.0, 1.0)) == ["skip fist: actions disabled"]
    text = JSONL_RULES.replace("min_score = 0.5\n", "min_score = 0.5\ncooldown_any_s = 0.25\n", 1)
    d = ActionDispatcher(config(text), stdout=io.StringIO())
    assert d.handle(Event("fist", 1.0, 1.0)) == ["jsonl -"]
    assert d.handle(Event("push", 1.0, 1.1)) == ["skip push: cooldown_any (0.150 s left)"]
    assert d.handle(Event("push", 1.0, 1.25)) == ["jsonl -"]


def test_jsonl_to_a_file(tmp_path):
    path = tmp_path / "events.jsonl"
    path.write_text('{"type": "earlier"}\n')  # appended to, never truncated
    text = f'[gestures.fist]\ncooldown_s = 0\nactions = [{{ kind = "jsonl", path = {json.dumps(str(path))} }}]\n'
    d = ActionDispatcher(config(text))
    events = [Event("fist", 0.75, 1.5), Event("fist", 0.875, 2.0)]
    assert [d.handle(e) for e in events] == [[f"jsonl {path}"]] * 2
    d.stop()  # closes the file
    lines = [json.loads(x) for x in path.read_text().splitlines()]
    assert lines == [{"type": "earlier"}] + [e.to_json() for e in events]
    assert d.handle(Event("fist", 1.0, 9.0)) == ["skip fist: dispatcher stopped"]


def test_jsonl_failure_is_reported_not_raised(tmp_path, caplog):
    text = f'[[gestures.fist.actions]]\nkind = "jsonl"\npath = {json.dumps(str(tmp_path / "no" / "dir.jsonl"))}\n'
    d = ActionDispatcher(config(text))
    with caplog.at_level(logging.WARNING):
        done = d.handle(Event("fist"))
    assert len(done) == 1 and done[0].startswith("failed jsonl") and "FileNotFoundError" in done[0]
    assert d.counts()["failed"] == 1 and "failed jsonl" in caplog.text


# --- OSC -----------------------------------------------------------------------------------------

def test_osc_message_reaches_a_udp_socket_on_loopback():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(5.0)
        port = sock.getsockname()[1]
        text = (f'[global]\nosc_port = {port}\n[[gestures.swipe_right.actions]]\nkind = "osc"\n'
                f'address = "/media/next"\nargs = [1, 0.5, "x", "$label", "$score", "$t"]\n')
        d = ActionDispatcher(config(text))
        done = d.handle(Event("swipe_right", 0.75, 2.5))
        assert done == [f"osc 127.0.0.1:{port} /media/next [1, 0.5, 'x', 'swipe_right', 0.75, 2.5]"]
        data, _ = sock.recvfrom(4096)
    msg = OscMessage(data)
    assert msg.address == "/media/next"
    assert msg.params == [1, 0.5, "x", "swipe_right", 0.75, 2.5]


# --- commands ------------------------------------------------------------------------------------

WRITE = "import sys; open(sys.argv[1], 'w').write(sys.argv[2])"


def command_config(argv: list[str], *, timeout_s: float = 20.0, pending: int = 4) -> str:
    return (f"[global]\ncooldown_s = 0\nmax_pending_commands = {pending}\n"
            f'[[gestures.fist.actions]]\nkind = "command"\nargv = {json.dumps(argv)}\ntimeout_s = {timeout_s}\n')


def test_command_runs_as_an_argument_list_without_a_shell(tmp_path):
    out = tmp_path / "out.txt"
    nasty = "a b; echo pwned > x && $(touch y) `touch z` | cat * ' \" $HOME"
    results = []
    d = ActionDispatcher(config(command_config([sys.executable, "-c", WRITE, str(out), nasty + " $label"])),
                         on_command_done=results.append)
    with d:
        done = d.handle(Event("fist"))
        assert len(done) == 1 and done[0].startswith("command queued: ")
        assert d.wait_idle(timeout=30)
    assert out.read_text() == nasty + " $label"  # passed through byte for byte, nothing expanded
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]  # no x, y or z made by a shell
    assert len(results) == 1 and results[0].ok and results[0].returncode == 0
    assert d.counts()["commands_run"] == 1


def test_command_placeholders_and_failures_are_reported(tmp_path, caplog):
    out = tmp_path / "label.txt"
    d = ActionDispatcher(config(command_config([sys.executable, "-c", WRITE, str(out), "$label"])))
    fail = ActionDispatcher(config(command_config(
        [sys.executable, "-c", "import sys; sys.stderr.write('boom\\n'); sys.exit(3)"])))
    missing = ActionDispatcher(config(command_config([str(tmp_path / "no-such-program")])))
    slow = ActionDispatcher(config(command_config([sys.executable, "-c", "import time; time.sleep(60)"],
                                                  timeout_s=0.5)))
    with caplog.at_level(logging.WARNING), d, fail, missing, slow:
        for x in (d, fail, missing, slow):
            x.handle(Event("fist", 0.9, 1.0))
        for x in (d, fail, missing, slow):
            assert x.wait_idle(timeout=30)
    assert out.read_text() == "fist"
    r = fail.recent_results()[0]
    assert not r.ok and r.returncode == 3 and r.error == "exit code 3: boom"
    r = missing.recent_results()[0]
    assert r.returncode is None and r.error.startswith("cannot start:")
    r = slow.recent_results()[0]
    assert r.error == "timed out after 0.5 s (killed)"
    assert slow.counts()["commands_failed"] == 1
    assert "command failed" in caplog.text and "exit code 3: boom" in caplog.text


def blocker(tmp_path: Path) -> list[str]:
    """A command that says it started, then waits for a 'go' file (at most 30 s)."""
    code = ("import os, sys, time\nopen(sys.argv[1] + '.started.' + sys.argv[2], 'w').close()\n"
            "end = time.monotonic() + 30\n"
            "while not os.path.exists(sys.argv[1] + 'go') and time.monotonic() < end: time.sleep(0.01)\n")
    return [sys.executable, "-c", code, str(tmp_path) + "/", "$t"]


def wait_for(path: Path, seconds: float = 20.0) -> None:
    import time

    end = time.monotonic() + seconds
    while not path.exists():
        assert time.monotonic() < end, f"{path} never appeared"
        time.sleep(0.01)


def test_handle_does_not_wait_and_the_queue_is_bounded(tmp_path):
    d = ActionDispatcher(config(command_config(blocker(tmp_path), pending=1)))
    assert d.handle(Event("fist", 0.9, 0.0))[0].startswith("command not run (dispatcher new)")
    with d:
        assert d.handle(Event("fist", 0.9, 1.0))[0].startswith("command queued")
        wait_for(tmp_path / ".started.1.0")
        assert d.recent_results() == []  # handle returned while the command still runs
        assert d.handle(Event("fist", 0.9, 2.0))[0].startswith("command queued")
        assert d.handle(Event("fist", 0.9, 3.0))[0].startswith("command dropped (1 pending)")
        (tmp_path / "go").touch()
        assert d.wait_idle(timeout=30)
        assert [r.ok for r in d.recent_results()] == [True, True]
    assert d.counts()["commands_dropped"] == 2 and d.counts()["commands_run"] == 2


def test_stop_kills_a_running_command_and_join_returns(tmp_path):
    d = ActionDispatcher(config(command_config(blocker(tmp_path))))
    d.start()
    d.handle(Event("fist", 0.9, 1.0))
    d.handle(Event("fist", 0.9, 2.0))
    wait_for(tmp_path / ".started.1.0")
    d.stop()
    d.join(timeout=10)
    assert not (tmp_path / ".started.2.0").exists()  # the pending one was discarded
    assert d.recent_results()[0].returncode != 0
    with pytest.raises(RuntimeError, match="already started"):
        d.start()


def test_worker_errors_reach_join(tmp_path):
    def explode(result):
        raise KeyError("callback bug")

    d = ActionDispatcher(config(command_config([sys.executable, "-c", "pass"])), on_command_done=explode)
    d.start()
    d.handle(Event("fist"))
    d._thread.join(timeout=30)
    assert d.handle(Event("fist", 0.9, 5.0)) == ["command not run (dispatcher failed): " + shlex.join([sys.executable, "-c", "pass"])]
    assert d.wait_idle(timeout=1)
    d.stop()
    with pytest.raises(KeyError, match="callback bug"):
        d.join(timeout=5)
    d.join(timeout=5)  # reported once


# --- keys ----------------------------------------------------------------------------------------

KEY_RULES = """
[global]
cooldown_s = 0
[gestures.fist]
actions = [{ kind = "key", keys = ["ctrl", "shift", "p"] }, { kind = "jsonl" }]
[gestures.push]
actions = [{ kind = "key", keys = ["ctrl", "menu"] }]
"""


@pytest.fixture
def fake_pynput(monkeypatch):
    """A pynput stand-in that records presses; the real one needs an X server."""
    log: list[tuple[str, object]] = []

    class Key:
        ctrl = "<ctrl>"
        shift = "<shift>"
        media_next = "<media_next>"

    class Controller:
        def press(self, key):
            log.append(("press", key))

        def release(self, key):
            log.append(("release", key))

    keyboard = types.ModuleType("pynput.keyboard")
    keyboard.Key, keyboard.Controller = Key, Controller
    pynput = types.ModuleType("pynput")
    pynput.keyboard = keyboard
    monkeypatch.setitem(sys.modules, "pynput", pynput)
    monkeypatch.setitem(sys.modules, "pynput.keyboard", keyboard)
    monkeypatch.setenv("DISPLAY", ":0")
    return log


def test_key_chord_pressed_in_order_released_in_reverse(fake_pynput):
    d = ActionDispatcher(config(KEY_RULES), stdout=io.StringIO())
    assert d.warnings == []
    assert d.handle(Event("fist")) == ["key ctrl+shift+p", "jsonl -"]
    assert fake_pynput == [("press", "<ctrl>"), ("press", "<shift>"), ("press", "p"),
                           ("release", "p"), ("release", "<shift>"), ("release", "<ctrl>")]
    fake_pynput.clear()
    done = d.handle(Event("push"))  # 'menu' is a valid name this (fake) platform lacks
    assert done == ["failed key ctrl+menu: ValueError: key 'menu' does not exist on this platform"]
    assert fake_pynput == [] and d.counts()["failed"] == 1


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="display detection by $DISPLAY is Linux's")
def test_no_display_warns_once_and_skips_key_actions(monkeypatch, caplog):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    out = io.StringIO()
    with caplog.at_level(logging.WARNING):
        d = ActionDispatcher(config(KEY_RULES), stdout=out)
    assert d.warnings == ["test.toml: key actions are skipped: no display (DISPLAY and WAYLAND_DISPLAY are unset)"]
    assert caplog.text.count("key actions are skipped") == 1
    done = d.handle(Event("fist"))
    assert done == ["skip key ctrl+shift+p: no display (DISPLAY and WAYLAND_DISPLAY are unset)", "jsonl -"]
    assert json.loads(out.getvalue())["label"] == "fist"  # the other actions still run
    assert ActionDispatcher(config("[[gestures.fist.actions]]\nkind = 'jsonl'\n")).warnings == []


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="pynput's X backend is Linux's")
def test_unreachable_display_is_one_line_too(monkeypatch):
    if Path("/tmp/.X11-unix/X97").exists():
        pytest.skip("an X server runs on :97")
    monkeypatch.setenv("DISPLAY", ":97")  # no such X server
    for name in [m for m in sys.modules if m == "pynput" or m.startswith("pynput.")]:
        monkeypatch.delitem(sys.modules, name)
    d = ActionDispatcher(config(KEY_RULES))
    assert len(d.warnings) == 1 and "key actions are skipped: pynput" in d.warnings[0]
    assert "\n" not in d.warnings[0]
    assert d.handle(Event("push"))[0].startswith("skip key ctrl+menu: pynput")
