"""When actions run (scores, cooldowns, switches), and the quick kinds: JSON lines, OSC, keys."""

import io
import json
import logging
import socket
import sys
import types
from pathlib import Path

import pytest
from pythonosc.osc_message import OscMessage

from app.actions import ActionDispatcher
from tests.app.actions.action_fixtures import Event, config

pytestmark = pytest.mark.timeout(60)


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
