"""Opens files in a child process (``open_worker``): a crash or hang there is an outcome, not the end
of the test run. One child serves many files; it is restarted after it dies or stops answering."""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


class IsolatedOpener:
    """``open(path)`` → the worker's reply, or ``{"outcome": "crash" | "hang", ...}``."""

    def __init__(self, *, reply_timeout_s: float = 30.0, probe_timeout_s: float = 3.0) -> None:
        self.reply_timeout_s = reply_timeout_s
        self.env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
                        OPEN_WORKER_PROBE_S=str(probe_timeout_s))
        self.stderr = tempfile.TemporaryFile()
        self.proc: subprocess.Popen | None = None

    def _start(self) -> subprocess.Popen:
        if self.proc is None or self.proc.poll() is not None:
            self.proc = subprocess.Popen([sys.executable, "-m", "tests.app.sources.open_worker"], cwd=ROOT,
                                         env=self.env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=self.stderr, text=True)
        return self.proc

    def open(self, path: str | Path) -> dict:
        proc = self._start()
        proc.stdin.write(f"{path}\n")
        proc.stdin.flush()
        ready, _, _ = select.select([proc.stdout], [], [], self.reply_timeout_s)
        if not ready:
            self._kill()
            return {"outcome": "hang", "message": f"no answer in {self.reply_timeout_s:.0f} s"}
        line = proc.stdout.readline()
        if not line:
            code = proc.wait()
            self.proc = None
            return {"outcome": "crash", "message": f"the worker died (exit {code})"}
        return json.loads(line)

    def _kill(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None

    def close(self) -> None:
        if self.proc is not None:
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._kill()
        self.proc = None
        self.stderr.close()
