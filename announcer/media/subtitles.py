"""SRT and WebVTT from timed captions, split into readable cues: two lines of at most 42 columns each.

Widths are counted as a screen shows them: a Hangul syllable or a CJK character takes two columns,
so a Korean line holds about 21 syllables. Lines break between words (for Korean, between eojeol);
only a word wider than a whole line (Japanese or Chinese written without spaces) is cut inside.
"""
from __future__ import annotations

import re
import unicodedata

from ..plain_text import SSA_TAG, without_controls
from ..timeline import TimedUnit

MAX_LINE = 42
"""Columns per line: the usual broadcast limit for Latin script (a wide character counts two)."""
MAX_LINES = 2


HOLD_THROUGH_PAUSE_S = 0.6
"""A pause shorter than this between two cues keeps the first on screen until just before the next: captions that
flash off for a breath between sentences are harder to follow than captions that stay."""
CUE_GAP_S = 0.08
"""What is left between two cues held together: two frames at 25 fps, so the change is seen."""


def readable_cues(captions: list[TimedUnit]) -> list[TimedUnit]:
    """Long sentences become several cues, timed in proportion to their characters; a cue stays up through a short
    pause before the next (HOLD_THROUGH_PAUSE_S)."""
    return _held_through_short_pauses(_split(captions))


def _split(captions: list[TimedUnit]) -> list[TimedUnit]:
    cues = []
    for caption in captions:
        lines = wrap_columns(caption.label, MAX_LINE) or [caption.label]
        chunks = ["\n".join(lines[k:k + MAX_LINES]) for k in range(0, len(lines), MAX_LINES)]
        total = sum(len(c) for c in chunks)
        start = caption.start
        for chunk in chunks:
            end = start + (caption.end - caption.start) * len(chunk) / total
            cues.append(TimedUnit(chunk, start, end))
            start = end
    return cues


def _held_through_short_pauses(cues: list[TimedUnit]) -> list[TimedUnit]:
    held = []
    for cue, following in zip(cues, cues[1:], strict=False):
        if 0 < following.start - cue.end < HOLD_THROUGH_PAUSE_S:
            cue = TimedUnit(cue.label, cue.start, max(cue.end, following.start - CUE_GAP_S))
        held.append(cue)
    return held + cues[-1:]


def display_width(text: str) -> int:
    """Columns `text` takes on screen: two for East Asian wide and full-width characters, none for combining marks."""
    return sum(0 if unicodedata.combining(ch) else 2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def wrap_columns(text: str, columns: int) -> list[str]:
    """Lines of at most `columns` display columns, broken between words; a word wider than a line is cut in it."""
    lines, line = [], ""
    for word in text.split():
        while display_width(word) > columns:
            if line:
                lines.append(line)
                line = ""
            head = _widest_prefix(word, columns)
            lines.append(head)
            word = word[len(head):]
        candidate = f"{line} {word}" if line else word
        if display_width(candidate) <= columns:
            line = candidate
        else:
            lines.append(line)
            line = word
    return lines + [line] if line else lines


def _widest_prefix(word: str, columns: int) -> str:
    width = 0
    for end, ch in enumerate(word):
        width += display_width(ch)
        if width > columns:
            return word[:max(end, 1)]
    return word


def _timestamp(seconds: float, separator: str) -> str:
    millis = int(round(max(seconds, 0) * 1000))
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"


def to_srt(captions: list[TimedUnit]) -> str:
    blocks = [f"{n}\n{_timestamp(c.start, ',')} --> {_timestamp(c.end, ',')}\n{_srt_text(c.label)}\n"
              for n, c in enumerate(readable_cues(captions), 1)]
    return "\n".join(blocks)


def to_vtt(captions: list[TimedUnit]) -> str:
    blocks = [f"{_timestamp(c.start, '.')} --> {_timestamp(c.end, '.')}\n{_vtt_text(c.label)}\n" for c in readable_cues(captions)]
    return "WEBVTT\n\n" + "\n".join(blocks)


def _plain_lines(text: str) -> str:
    """A cue's text that cannot be read as anything but text: no control or invisible characters, no blank line (which
    would end the cue) and no '-->' (which would start another), at least one character."""
    text = without_controls(text).replace("-->", "\u2192")
    return "\n".join(line.strip() for line in text.splitlines() if line.strip()) or "\u00a0"


def _srt_text(text: str) -> str:
    """Players read HTML-like tags (<font>, <i>) and SSA overrides ({\\an8}) inside SRT: neither is kept."""
    return _plain_lines(SSA_TAG.sub("", re.sub(r"<[^>]*>", "", text)).replace("{\\", "{"))


def _vtt_text(text: str) -> str:
    """WebVTT cue text with &, < and > escaped, so no tag, class or timestamp can be written into it."""
    return _plain_lines(SSA_TAG.sub("", text)).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
