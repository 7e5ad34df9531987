"""Gesture control: a TOML file maps gesture events to key presses, OSC messages, commands and
JSON lines (docs/actions.md).

``config`` parses and checks the file into frozen dataclasses; ``dispatch`` runs the actions.
"""

from app.actions.config import (
    ActionsConfig, CommandAction, GestureRule, JsonlAction, KeyAction, OscAction, load_actions, parse_actions,
)
from app.actions.dispatch import ActionDispatcher, CommandResult

__all__ = [
    "ActionDispatcher", "ActionsConfig", "CommandAction", "CommandResult", "GestureRule", "JsonlAction",
    "KeyAction", "OscAction", "load_actions", "parse_actions",
]
