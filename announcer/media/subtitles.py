"""SRT and WebVTT from timed captions, split into readable cues (two lines of at most 42 characters)."""
from __future__ import annotations

import textwrap

from ..timeline import TimedUnit

MAX_LINE = 42
MAX_LINES = 2


def readable_cues(captions: list[TimedUnit]) -> list[TimedUnit]:
    """Long sentences become several cues, timed in proportion to their characters."""
    cues = []
    for caption in captions:
        lines = textwrap.wrap(caption.label, MAX_LINE) or [caption.label]
        chunks = ["\n".join(lines[k:k + MAX_LINES]) for k in range(0, len(lines), MAX_LINES)]
        total = sum(len(c) for c in chunks)
        start = caption.start
        for chunk in chunks:
            end = start + (caption.end - caption.start) * len(chunk) / total
            cues.append(TimedUnit(chunk, start, end))
            start = end
    return cues


def _timestamp(seconds: float, separator: str) -> str:
    millis = int(round(max(seconds, 0) * 1000))
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"


def to_srt(captions: list[TimedUnit]) -> str:
    blocks = [f"{n}\n{_timestamp(c.start, ',')} --> {_timestamp(c.end, ',')}\n{c.label}\n"
              for n, c in enumerate(readable_cues(captions), 1)]
    return "\n".join(blocks)


def to_vtt(captions: list[TimedUnit]) -> str:
    blocks = [f"{_timestamp(c.start, '.')} --> {_timestamp(c.end, '.')}\n{c.label}\n" for c in readable_cues(captions)]
    return "WEBVTT\n\n" + "\n".join(blocks)
