"""An actions file from load to stop, as the engine runs it."""

from __future__ import annotations

import sys
from typing import Sequence, TextIO

from app.actions.config import load_actions
from app.actions.dispatch import ActionDispatcher


def start_actions(path: str, labels: Sequence[str], *, log: TextIO | None = None) -> ActionDispatcher:
    """Load ``path``, checked against ``labels`` (the model that will run: a fine-tuned model's new
    gestures can have actions), print its warnings on ``log`` (stderr), and start its thread."""
    dispatcher = ActionDispatcher(load_actions(path, labels=labels))
    for line in dispatcher.warnings:
        print(line, file=log or sys.stderr)
    dispatcher.start()
    return dispatcher


def stop_actions(dispatcher: ActionDispatcher, *, timeout: float = 5.0) -> None:
    dispatcher.stop()
    dispatcher.join(timeout=timeout)
