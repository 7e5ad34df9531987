"""A stand-in gesture event and a parser with the default labels, for the action tests."""

from dataclasses import dataclass

from app.actions import ActionsConfig, parse_actions
from fusion.labels import DEFAULT_LABELS


@dataclass(frozen=True)
class Event:
    """Stands in for fusion.online.GestureEvent: label, score, t and to_json()."""

    label: str
    score: float = 0.9
    t: float = 0.0

    def to_json(self) -> dict:
        return {"type": "gesture", "label": self.label, "score": self.score, "t": self.t}


def config(text: str, *, labels=DEFAULT_LABELS) -> ActionsConfig:
    """``text`` parsed as the file ``test.toml`` for a model with ``labels``."""
    return parse_actions(text, source="test.toml", labels=labels)
