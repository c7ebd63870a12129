"""Text as it may reach a voice and a subtitle file: no control characters, no invisible ones, no markup.

A script comes from anyone with the studio's editor role, or from a CMS. ESC and BEL reach terminals and
players; BS and the bidi overrides (U+202E) make a subtitle read otherwise than it is spoken; zero-width spaces hide
words from a search. They are removed. Newlines and tabs stay (they shape the script). The zero-width joiner and
non-joiner stay too: Persian, the Indic scripts and emoji need them. The Basic Multilingual Plane's private-use
characters go as well: no font shows them, and the script parser uses two of them to mark emphasis.
"""
from __future__ import annotations

import re
import unicodedata

_INVISIBLE = re.compile("[\u200b\u2060\ufeff\u00ad\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c\ue000-\uf8ff]")
"""Zero-width space, word joiner, a BOM inside the text, soft hyphen, bidi embeddings, overrides, isolates and marks,
and the private-use area."""
SSA_TAG = re.compile(r"\{\\[^}]*\}")
"""An SSA/ASS override such as {\\an8} (move the cue to the top), which players honour inside SRT."""


_TERMINAL_SEQUENCE = re.compile(r"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)?|[@-Z\\-_])")
"""A terminal escape sequence (colour, cursor movement, a window title): ESC with what it would make a terminal do."""


def without_controls(text: str) -> str:
    """`text` without control characters (but newline and tab), terminal escape sequences and invisible formatting
    characters."""
    text = _INVISIBLE.sub("", _TERMINAL_SEQUENCE.sub("", text))
    return "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch) != "Cc")


__all__ = ["SSA_TAG", "without_controls"]
