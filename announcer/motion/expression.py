"""How the presenter's face acts the script (the motion stage reads it): the tone each sentence is read in, and how
expressive the presenter is."""
from __future__ import annotations

from dataclasses import dataclass

STYLES = {"still": 0.0, "calm": 0.5, "anchor": 0.8, "lively": 1.0}
"""A presenter's manner, as the expressiveness it stands for: a still face, a calm anchor, the usual newsreader, a
lively host."""
DEFAULT_STYLE = "anchor"


@dataclass(frozen=True)
class ExpressionConfig:
    tone: str | None = None
    """The whole clip's tone (config.TONES: warm, neutral, grave, urgent), where no inline [tone X] tag sets one;
    None: each sentence's own, from the text (script.tone)."""
    expressiveness: float | None = None
    """0 (the still face of earlier releases) .. 1 (a lively host): how far the smile follows the tone, the brows rise
    and the head beats. None: the style's."""
    style: str = DEFAULT_STYLE
    """A presenter's manner (STYLES), which sets the expressiveness where none is given."""

    @property
    def level(self) -> float:
        return STYLES[self.style] if self.expressiveness is None else float(self.expressiveness)


__all__ = ["DEFAULT_STYLE", "ExpressionConfig", "STYLES"]
