"""How the presenter's face acts the script (the motion stage reads it): the tone each sentence is read in."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ExpressionConfig:
    tone: str | None = None
    """The whole clip's tone (config.TONES: warm, neutral, grave, urgent), where no inline [tone X] tag sets one;
    None: each sentence's own, from the text (script.tone)."""


__all__ = ["ExpressionConfig"]
