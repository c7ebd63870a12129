"""User names a person can tell apart: `admin` and `аdmin` (a Cyrillic а) are not two accounts.

A name is NFKC-normalised (full-width letters, ligatures and the like become plain ones), may hold letters and
digits of one script only, with '.', '-' and '_', and is refused when it looks like an existing name: both are
compared as their skeletons (case folded, and Cyrillic or Greek letters that look Latin read as Latin).
"""
from __future__ import annotations

import unicodedata

from ..errors import InputError

MAX_NAME = 64
_LOOKALIKES = str.maketrans({
    "а": "a", "в": "b", "е": "e", "ё": "e", "з": "3", "і": "i", "ї": "i", "ј": "j", "к": "k", "м": "m", "н": "h",
    "о": "o", "р": "p", "с": "c", "т": "t", "у": "y", "х": "x", "ѕ": "s", "ԁ": "d", "ԛ": "q", "ԝ": "w", "ь": "b",
    "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p", "τ": "t", "υ": "u",
    "χ": "x", "ω": "w", "ϲ": "c", "ϳ": "j", "0": "o", "1": "l", "ı": "i", "ɡ": "g", "ⅼ": "l",
})


def checked_user_name(name: str, existing: list[str]) -> str:
    """`name` as it is stored (NFKC), or InputError saying why it cannot be an account's name."""
    name = unicodedata.normalize("NFKC", str(name)).strip()
    if not name or len(name) > MAX_NAME or not all(ch.isalnum() or ch in ".-_" for ch in name):
        raise InputError(f"user name '{name[:80]}' is not allowed", fix="use at most 64 letters, digits, '.', '-' and '_'")
    scripts = {_script(ch) for ch in name if ch.isalpha()}
    if len(scripts) > 1:
        raise InputError(f"user name '{name}' mixes {' and '.join(sorted(scripts))} letters",
                         fix="write the name in one script")
    looks = skeleton(name)
    twin = next((other for other in existing if other != name and skeleton(other) == looks), None)
    if twin is not None:
        raise InputError(f"user name '{name}' looks like the existing account '{twin}'", fix="choose a name that reads differently")
    return name


def skeleton(name: str) -> str:
    return unicodedata.normalize("NFKC", name).casefold().translate(_LOOKALIKES).replace("_", "-")


def _script(ch: str) -> str:
    """The script a letter belongs to, as Unicode names it (LATIN, CYRILLIC, HANGUL, CJK ...)."""
    return unicodedata.name(ch, "UNKNOWN").split(" ")[0]


__all__ = ["MAX_NAME", "checked_user_name", "skeleton"]
