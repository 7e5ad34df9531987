"""Command actions: argument lists without a shell, on the dispatcher's own bounded worker."""

import json
import logging
import shlex
import sys
import time
from pathlib import Path

import pytest

from app.actions import ActionDispatcher
from tests.app.actions.action_fixtures import Event, config

pytestmark = pytest.mark.timeout(60)


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


