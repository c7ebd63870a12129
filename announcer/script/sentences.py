"""Sentence splitting that knows English abbreviations and decimals, and Korean sentence endings."""
from __future__ import annotations

import re

from .normalize_en import ABBREVIATIONS

_NO_BREAK_AFTER = {a for a in ABBREVIATIONS} | {"Mt.", "Ft.", "Inc.", "Ltd.", "Co.", "Corp."}
# A sentence ends at . ! ? … (or their full-width forms) plus closing quotes, before whitespace.
_END = re.compile(r"([.!?…。！？]+[\"'”’)\]]*)(\s+)")


def split_sentences(text: str, language: str) -> list[str]:
    """Split a paragraph into sentences; keeps 'Dr. Kim', '3.5', 'U.S. forces' and '다. 그러나' right."""
    text = re.sub(r"\s+", " ", text).strip()
    if not text:
        return []
    sentences, start = [], 0
    for match in _END.finditer(text):
        candidate = text[start:match.end(1)]
        last_word = candidate.rsplit(" ", 1)[-1]
        if language.startswith("en") and (last_word in _NO_BREAK_AFTER or re.fullmatch(r"(?:[A-Z]\.)+", last_word)):
            continue
        following = text[match.end():match.end() + 1]
        if language.startswith("en") and following and following.islower():
            continue
        sentences.append(candidate.strip())
        start = match.end()
    if text[start:].strip():
        sentences.append(text[start:].strip())
    return sentences
