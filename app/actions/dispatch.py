"""Gesture events → actions: key presses, OSC messages, commands, JSON lines.

``ActionDispatcher(config).handle(event)`` is called on the thread that produces events. Keys,
OSC and JSON lines are quick and happen there; commands go to the dispatcher's own worker thread
(a bounded queue: when ``max_pending_commands`` wait already, a new one is dropped and counted)
and run as argument lists, never through a shell, each with a timeout::

    dispatcher = ActionDispatcher(load_actions("actions.toml", labels=runner.labels))
    dispatcher.start()
    dispatcher.handle(event)   # -> ["osc 127.0.0.1:9000 /media/next []", ...]
    dispatcher.stop()
    dispatcher.join(timeout=2) # re-raises an error that ended the worker, if any
"""

from __future__ import annotations

import json
import logging
import os
import shlex
import subprocess
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Callable, Protocol, TextIO

from app.actions.config import (
    Action, ActionsConfig, CommandAction, GestureRule, JsonlAction, KeyAction, OscAction, OscArg, PLACEHOLDERS,
)
from app.thread_lifecycle import ThreadLifecycle

log = logging.getLogger(__name__)


class Event(Protocol):
    """What the dispatcher reads of a gesture event (``fusion.online.GestureEvent`` fits)."""

    label: str
    score: float
    t: float  # seconds since the stream's first frame

    def to_json(self) -> dict: ...


@dataclass(frozen=True)
class CommandResult:
    """How one command ended. ``error`` is None on success (exit code 0)."""

    argv: tuple[str, ...]
    returncode: int | None  # None: it never started
    error: str | None
    seconds: float

    @property
    def ok(self) -> bool:
        return self.error is None


class ActionDispatcher(ThreadLifecycle):
    """Runs the actions of a config for each gesture event; one worker thread for commands.

    ``on_command_done(result)`` is called on the worker after each command (failures are also
    logged as one warning line); ``stdout`` is where ``jsonl`` actions with path "-" write
    (default: ``sys.stdout`` at the time of writing). ``warnings`` holds one-line warnings found at
    construction, such as key actions that will be skipped for want of a display.
    """

    name = "actions"

    def __init__(self, config: ActionsConfig, *, on_command_done: Callable[[CommandResult], None] | None = None,
                 stdout: TextIO | None = None) -> None:
        super().__init__()
        self.config = config
        self._rules = {rule.label: rule for rule in config.gestures}
        self._on_command_done = on_command_done
        self._stdout = stdout
        self.warnings: list[str] = []

        self._lock = threading.Lock()  # cooldown state, files, counters of handle()
        self._last_t: dict[str, float] = {}
        self._last_any: float | None = None
        self._files: dict[str, TextIO] = {}
        self._counts = {"events": 0, "acted": 0, "skipped": 0, "failed": 0}

        self._keyboard: _Keyboard | None = None
        self._keyboard_reason = ""
        if any(isinstance(a, KeyAction) for r in config.gestures for a in r.actions):
            self._keyboard, self._keyboard_reason = open_keyboard()
            if self._keyboard is None:
                self._warn(f"{config.source}: key actions are skipped: {self._keyboard_reason}")

        self._osc: dict[tuple[str, int], object] = {}
        self._osc_errors: dict[tuple[str, int], str] = {}
        for target in {(a.host, a.port) for r in config.gestures for a in r.actions if isinstance(a, OscAction)}:
            self._open_osc(target)

        # command worker
        self._cond = threading.Condition()
        self._pending: deque[tuple[tuple[str, ...], float]] = deque()  # (argv, timeout_s)
        self._busy = False
        self._proc: subprocess.Popen | None = None
        self._state = "new"  # new -> running -> stopped, or running -> failed (worker error)
        self._results: deque[CommandResult] = deque(maxlen=64)
        self._command_counts = {"run": 0, "failed": 0, "dropped": 0}

    # --- lifecycle -------------------------------------------------------------------------------

    def start(self) -> None:
        with self._cond:
            if self._state != "new":
                raise RuntimeError("the action dispatcher was already started")
            self._state = "running"
        super().start()

    def stop(self) -> None:
        """Stop acting: pending commands are discarded and a running one is killed."""
        with self._cond:
            self._state = "stopped"
            self._pending.clear()
            proc = self._proc
            self._cond.notify_all()
        if proc is not None:
            _kill(proc)
        with self._lock:
            for f in self._files.values():
                f.close()
            self._files.clear()

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Wait until no command is pending or running; False on timeout."""
        with self._cond:
            return self._cond.wait_for(
                lambda: (not self._pending and not self._busy) or self._state in ("stopped", "failed"), timeout)

    def __enter__(self) -> ActionDispatcher:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
        self.join(timeout=5)

    # --- events ----------------------------------------------------------------------------------

    def handle(self, event: Event) -> list[str]:
        """Run the actions for ``event``; returns one line per action done or skipped, for logs."""
        label, score, t = event.label, float(event.score), float(event.t)
        rule = self._rules.get(label)
        with self._lock:
            self._counts["events"] += 1
            if rule is None or not rule.actions:
                return []
            skip = self._skip_reason(rule, score, t)
            if skip:
                self._counts["skipped"] += 1
                return [f"skip {label}: {skip}"]
            self._last_t[label] = t
            self._last_any = t
            self._counts["acted"] += 1
        return [self._act(action, event) for action in rule.actions]

    def counts(self) -> dict[str, int]:
        """Events seen, acted on and skipped; failed actions; commands run, failed and dropped."""
        with self._lock:
            out = dict(self._counts)
        with self._cond:
            out.update({f"commands_{k}": v for k, v in self._command_counts.items()})
        return out

    def recent_results(self) -> list[CommandResult]:
        """The last (up to 64) command results, oldest first."""
        with self._cond:
            return list(self._results)

    # --- internals: decisions --------------------------------------------------------------------

    def _skip_reason(self, rule: GestureRule, score: float, t: float) -> str:
        if self._state == "stopped":
            return "dispatcher stopped"
        if not self.config.enabled:
            return "actions disabled"
        if not rule.enabled:
            return "gesture disabled"
        if score < rule.min_score:
            return f"score {score:.3f} < min_score {rule.min_score:g}"
        last = self._last_t.get(rule.label)
        # cooldowns run on the stream's clock t; a t that goes back is a new stream
        if last is not None and 0.0 <= t - last < rule.cooldown_s:
            return f"cooldown ({rule.cooldown_s - (t - last):.3f} s left)"
        if self._last_any is not None and 0.0 <= t - self._last_any < self.config.cooldown_any_s:
            return f"cooldown_any ({self.config.cooldown_any_s - (t - self._last_any):.3f} s left)"
        return ""

    def _act(self, action: Action, event: Event) -> str:
        try:
            if isinstance(action, KeyAction):
                return self._key(action)
            if isinstance(action, OscAction):
                return self._send_osc(action, event)
            if isinstance(action, CommandAction):
                return self._submit(action, event)
            return self._write_jsonl(action, event)
        except Exception as e:  # an action that fails is reported, never fatal to the engine
            with self._lock:
                self._counts["failed"] += 1
            line = f"failed {_describe(action)}: {type(e).__name__}: {e}"
            log.warning("%s", line)
            return line

    def _key(self, action: KeyAction) -> str:
        chord = "+".join(action.keys)
        if self._keyboard is None:
            return f"skip key {chord}: {self._keyboard_reason}"
        self._keyboard.tap(action.keys)
        return f"key {chord}"

    def _send_osc(self, action: OscAction, event: Event) -> str:
        target = (action.host, action.port)
        client = self._osc.get(target)
        if client is None:
            raise OSError(self._osc_errors.get(target, "no OSC client"))
        args = [_substitute(a, event) for a in action.args]
        client.send_message(action.address, args)
        return f"osc {action.host}:{action.port} {action.address} {args}"

    def _write_jsonl(self, action: JsonlAction, event: Event) -> str:
        line = json.dumps(_event_json(event)) + "\n"
        with self._lock:
            if self._state == "stopped":  # stop() closed the files; never reopen one
                return f"skip jsonl {action.path}: dispatcher stopped"
            if action.path == "-":
                out = self._stdout or sys.stdout
            else:
                out = self._files.get(action.path)
                if out is None:
                    out = self._files[action.path] = open(action.path, "a", encoding="utf-8")
            out.write(line)
            out.flush()
        return f"jsonl {action.path}"

    def _open_osc(self, target: tuple[str, int]) -> None:
        try:
            from pythonosc.udp_client import SimpleUDPClient
        except ImportError:
            self._osc_errors[target] = "python-osc is not installed (pip install python-osc)"
            self._warn(f"{self.config.source}: OSC actions are skipped: {self._osc_errors[target]}")
            return
        try:
            self._osc[target] = SimpleUDPClient(*target)
        except (OSError, ValueError) as e:
            self._osc_errors[target] = f"cannot open OSC client for {target[0]}:{target[1]}: {e}"
            self._warn(f"{self.config.source}: {self._osc_errors[target]}")

    def _warn(self, line: str) -> None:
        self.warnings.append(line)
        log.warning("%s", line)

    # --- internals: the command worker -----------------------------------------------------------

    def _submit(self, action: CommandAction, event: Event) -> str:
        argv = tuple(str(_substitute(a, event)) for a in action.argv)
        shown = shlex.join(argv)
        with self._cond:
            if self._state != "running":
                self._command_counts["dropped"] += 1
                return f"command not run (dispatcher {self._state}): {shown}"
            if len(self._pending) >= self.config.max_pending_commands:
                self._command_counts["dropped"] += 1
                return f"command dropped ({len(self._pending)} pending): {shown}"
            self._pending.append((argv, action.timeout_s))
            self._cond.notify_all()
        return f"command queued: {shown}"

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._pending or self._state == "stopped")
                if self._state == "stopped":
                    return
                argv, timeout = self._pending.popleft()
                self._busy = True
            try:
                result = self._run_command(argv, timeout)
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()
            with self._cond:
                self._results.append(result)
                self._command_counts["run"] += 1
                self._command_counts["failed"] += not result.ok
            if not result.ok:
                log.warning("command failed: %s: %s", shlex.join(result.argv), result.error)
            if self._on_command_done is not None:
                self._on_command_done(result)

    def _set_error(self, error: BaseException) -> None:
        super()._set_error(error)  # handed to join(), never lost
        with self._cond:
            if self._state == "running":
                self._state = "failed"  # later commands say so instead of waiting forever
            self._pending.clear()

    def _cleanup(self) -> None:
        with self._cond:
            self._busy = False
            self._cond.notify_all()

    def _run_command(self, argv: tuple[str, ...], timeout: float) -> CommandResult:
        start = time.monotonic()
        try:
            # an argument list and shell=False: no shell ever sees the arguments
            proc = subprocess.Popen(list(argv), shell=False, stdin=subprocess.DEVNULL,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        except OSError as e:
            return CommandResult(argv, None, f"cannot start: {e}", time.monotonic() - start)
        with self._cond:
            self._proc = proc
            stopped = self._state == "stopped"
        if stopped:
            _kill(proc)
        error = None
        try:
            _, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill(proc)
            proc.communicate()
            error, err = f"timed out after {timeout:g} s (killed)", b""
        finally:
            with self._cond:
                self._proc = None
        if error is None and proc.returncode != 0:
            tail = err.decode("utf-8", "replace").strip().splitlines()
            error = f"exit code {proc.returncode}" + (f": {tail[-1][:200]}" if tail else "")
        return CommandResult(argv, proc.returncode, error, time.monotonic() - start)


# --- keyboard ------------------------------------------------------------------------------------

class _Keyboard:
    """A pynput keyboard controller that taps chords given by key names."""

    def __init__(self, keyboard_module) -> None:
        self._key = keyboard_module.Key
        self._controller = keyboard_module.Controller()

    def tap(self, names: tuple[str, ...]) -> None:
        keys = []
        for name in names:
            if len(name) == 1:
                keys.append(name)
            elif hasattr(self._key, name):
                keys.append(getattr(self._key, name))
            else:
                raise ValueError(f"key {name!r} does not exist on this platform")
        pressed = []
        try:
            for key in keys:
                self._controller.press(key)
                pressed.append(key)
        finally:
            for key in reversed(pressed):
                self._controller.release(key)


def open_keyboard() -> tuple[_Keyboard | None, str]:
    """A keyboard to press keys with, or None and the one-line reason there is none."""
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        return None, "no display (DISPLAY and WAYLAND_DISPLAY are unset)"
    try:
        from pynput import keyboard

        return _Keyboard(keyboard), ""
    except ImportError as e:
        if getattr(e, "name", None) == "pynput":
            return None, "pynput is not installed (pip install pynput)"
        return None, "pynput cannot reach the display: " + _first_line(e)
    except Exception as e:  # noqa: BLE001 - the backend's own failure, reported in one line
        return None, f"pynput keyboard unavailable: {type(e).__name__}: {_first_line(e)}"


def _first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


# --- helpers -------------------------------------------------------------------------------------

def _substitute(value: OscArg, event: Event) -> OscArg:
    """``$label``, ``$score`` and ``$t`` (as a whole value) become the event's own."""
    if isinstance(value, str) and value in PLACEHOLDERS:
        return {"$label": event.label, "$score": float(event.score), "$t": float(event.t)}[value]
    return value


def _event_json(event: Event) -> dict:
    to_json = getattr(event, "to_json", None)
    if callable(to_json):
        return to_json()
    return {"type": "gesture", "label": event.label, "score": float(event.score), "t": float(event.t)}


def _describe(action: Action) -> str:
    if isinstance(action, KeyAction):
        return "key " + "+".join(action.keys)
    if isinstance(action, OscAction):
        return f"osc {action.host}:{action.port} {action.address}"
    if isinstance(action, CommandAction):
        return "command " + shlex.join(action.argv)
    return f"jsonl {action.path}"


def _kill(proc: subprocess.Popen) -> None:
    try:
        proc.kill()
    except OSError:
        pass
