"""Where an MMTM sits in a fusion network: after a stage, after a causal temporal layer, or on the
streams' window-level features (``ModelConfig.mmtm_placements`` lists a network's).

Each placement has the name under which its MMTM is kept in ``FusionNet.mmtm`` and so in state
dicts (``mmtm.<key>.squeeze.weight``, …): ``"2"`` after stage 2, ``"temporal0"`` after temporal
layer 0, ``"pooled"``, the names every checkpoint was written with.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Site(enum.Enum):
    STAGE = "stage"        # after stage ``index`` of every stream (0 the stem), on its feature maps
    TEMPORAL = "temporal"  # streaming: after causal temporal layer ``index`` (0 the first), on each time step
    POOLED = "pooled"      # on the window-level features, just before the classifiers


@dataclass(frozen=True)
class MMTMPlacement:
    """One MMTM's place; ``index`` is the stage or temporal layer (0 for ``Site.POOLED``)."""

    site: Site
    index: int = 0

    @classmethod
    def stage(cls, index: int) -> MMTMPlacement:
        return cls(Site.STAGE, index)

    @classmethod
    def temporal(cls, layer: int) -> MMTMPlacement:
        return cls(Site.TEMPORAL, layer)

    @classmethod
    def pooled(cls) -> MMTMPlacement:
        return cls(Site.POOLED)

    @property
    def key(self) -> str:
        """The MMTM's name in ``FusionNet.mmtm`` and in state dicts."""
        if self.site is Site.STAGE:
            return str(self.index)
        if self.site is Site.TEMPORAL:
            return f"temporal{self.index}"
        return "pooled"
