"""Read a script file (.txt, .md with YAML front matter, .srt) into typed segments."""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path

import yaml

from ..config import TONES
from ..errors import InputError
from ..languages import checked_language
from ..plain_yaml import load_plain_yaml
from ..plain_text import SSA_TAG, without_controls
from .normalize_en import normalize_english
from .normalize_ko import normalize_korean
from .sentences import split_sentences

MAX_SCRIPT_BYTES = 2_000_000
MAX_PAUSE_S = 60.0
MAX_SCRIPT_SECONDS = 3600.0
"""The longest clip a script may ask for: its pauses, its SRT times, or its words at a slow reading pace."""
SLOW_WORDS_PER_SECOND = 2.0
_PAUSE = re.compile(r"\[pause\s+(\d+(?:\.\d+)?)\s*(ms|s)\]", re.IGNORECASE)
_ANY_MARKER = re.compile(r"\[[^\]]*\]")
_TONE = re.compile(r"\[tone\s+(\w+)\s*\]", re.IGNORECASE)
_SRT_TIME = re.compile(r"(\d{1,2}):(\d{2}):(\d{2})[,.](\d{3})\s*-->\s*(\d{1,2}):(\d{2}):(\d{2})[,.](\d{3})")
_HANGUL = re.compile(r"[\uac00-\ud7a3]")
AUTO_TONE = "auto"
"""[tone auto] hands the tone back to the analysis of the text, after a [tone X] tag."""
EMPHASIS_OPEN, EMPHASIS_CLOSE = "\ue000", "\ue001"
"""Where Markdown's *emphasis* began and ended, kept through sentence splitting (private-use characters, which no
script holds: the parser drops control and private characters from what it reads)."""
_EMPHASIS_SPAN = re.compile(f"{EMPHASIS_OPEN}([^{EMPHASIS_CLOSE}]*)(?:{EMPHASIS_CLOSE}|$)|^([^{EMPHASIS_OPEN}]*){EMPHASIS_CLOSE}")


@dataclass(frozen=True)
class Segment:
    """One sentence as written (for subtitles) and as it is to be spoken (for the voice)."""
    display: str
    spoken: str
    line: int
    pause_after_ms: int = 0
    start_s: float | None = None
    """Only for .srt scripts: when this line must start."""
    end_s: float | None = None
    tone: str | None = None
    """The tone an inline [tone X] tag before it set (until the next tag, or [tone auto]); None: the clip's setting or
    analysis."""
    emphasis: tuple[str, ...] = ()
    """The words Markdown *emphasises*, as spoken (normalised, lower case, in order): the presenter stresses them."""


@dataclass(frozen=True)
class Script:
    path: Path | None
    language: str
    segments: tuple[Segment, ...]
    title: str = ""
    options: dict = field(default_factory=dict)
    """Front matter: the clip's settings (announcer.settings reads and checks them)."""
    option_lines: dict = field(default_factory=dict)
    """The line of each front matter key, for errors about its value."""

    @property
    def text(self) -> str:
        return " ".join(s.display for s in self.segments)

    @property
    def word_count(self) -> int:
        """Spoken words, as the voice will read them."""
        return sum(len(s.spoken.split()) for s in self.segments)


def read_script(path: str | Path, language: str | None = None) -> Script:
    """`language`, when given, wins over the front matter; with neither, the text decides (Hangul -> ko)."""
    path = Path(path)
    raw = _read_text(path)
    if path.suffix.lower() == ".srt":
        return _bounded(_parse_srt(path, raw, language))
    options, body, body_line = _split_front_matter(path, raw) if path.suffix.lower() == ".md" else ({}, raw, 1)
    try:
        chosen_language = _language(language or options.get("language"), body)
    except InputError as error:
        line = None if language else next((i + 1 for i, text in enumerate(raw.splitlines()) if text.startswith("language:")), None)
        raise InputError(error.what, path=path, line=line, fix=error.fix) from None
    if path.suffix.lower() == ".md":
        body = _strip_markdown(body)
    segments = _segments_from_body(path, body, body_line, chosen_language)
    lines = raw.splitlines()
    option_lines = {key: next((i + 1 for i, text in enumerate(lines) if text.startswith(f"{key}:")), 1) for key in options}
    return _bounded(Script(path, chosen_language, segments, str(options.get("title", path.stem)), options, option_lines))


def _bounded(script: Script) -> Script:
    """Refuse a script whose clip would run past MAX_SCRIPT_SECONDS, before any sample or frame is made for it."""
    if any(s.end_s is not None for s in script.segments):
        seconds = max(s.end_s for s in script.segments if s.end_s is not None)
    else:
        seconds = script.word_count / SLOW_WORDS_PER_SECOND + sum(s.pause_after_ms for s in script.segments) / 1000
    if seconds > MAX_SCRIPT_SECONDS:
        raise InputError(f"script would make a clip of about {seconds / 60:.0f} minutes, more than "
                         f"{MAX_SCRIPT_SECONDS / 60:.0f}", path=script.path, fix="split it into several scripts")
    return script


def parse_text(text: str, language: str | None = None) -> Script:
    """A script from a string, for the Python API."""
    text = SSA_TAG.sub("", without_controls(text))
    chosen_language = _language(language, text)
    return _bounded(Script(None, chosen_language, _segments_from_body(None, text, 1, chosen_language)))


def _read_text(path: Path) -> str:
    if path.is_dir():
        raise InputError("script is a folder, not a file", path=path,
                         fix="give a .txt, .md or .srt file; for a folder of scripts, use announcer batch")
    if not path.is_file():
        raise InputError("script not found", path=path, fix="check the path")
    data = path.read_bytes()
    if len(data) > MAX_SCRIPT_BYTES:
        raise InputError(f"script is {len(data)} bytes, more than {MAX_SCRIPT_BYTES}", path=path,
                         fix="split it into several scripts")
    encoding = "utf-16" if data[:2] in (b"\xff\xfe", b"\xfe\xff") else "utf-8-sig"  # UTF-16 only with its BOM
    if encoding == "utf-8-sig" and b"\x00" in data[:4096]:
        raise InputError("script is a binary file (or UTF-16 without a byte-order mark), not text", path=path,
                         fix="save it as UTF-8")
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as error:
        line = data[:error.start].count(b"\n") + 1
        raise InputError(f"script is not valid {'UTF-16' if encoding == 'utf-16' else 'UTF-8'}", path=path, line=line,
                         fix="save it as UTF-8") from error
    text = SSA_TAG.sub("", without_controls(text))
    if not text.strip():
        raise InputError("script is empty", path=path, fix="write the text to be read")
    return text


def _split_front_matter(path: Path, raw: str) -> tuple[dict, str, int]:
    if not raw.startswith("---"):
        return {}, raw, 1
    lines = raw.splitlines(keepends=True)
    closing = next((i for i in range(1, len(lines)) if lines[i].strip() == "---"), None)
    if closing is None:
        raise InputError("front matter has no closing '---'", path=path, line=1, fix="end the YAML block with a line '---'")
    try:
        options = load_plain_yaml("".join(lines[1:closing])) or {}
    except yaml.YAMLError as error:
        # context_mark is where the broken construct began; problem_mark is where YAML gave up (often later).
        mark = getattr(error, "context_mark", None) or getattr(error, "problem_mark", None)
        line = mark.line + 2 if mark else 1
        raise InputError(f"front matter is not valid YAML ({getattr(error, 'problem', error)})", path=path, line=line,
                         fix="write key: value pairs") from error
    if not isinstance(options, dict):
        raise InputError("front matter must be key: value pairs", path=path, line=2)
    return options, "".join(lines[closing + 1:]), closing + 2


def _strip_markdown(body: str) -> str:
    """Keep what is read aloud: drop headings' #, emphasis, links' targets, code, comments and tables' rules (a
    table's row is read as its cells, one after another)."""
    body = re.sub(r"<!--.*?-->", lambda m: "\n" * m.group(0).count("\n"), body, flags=re.S)
    body = re.sub(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$", "", body, flags=re.M)
    body = re.sub(r"^\s*\|(.*?)\|?\s*$", lambda m: ", ".join(c.strip() for c in m.group(1).split("|") if c.strip()) + ".",
                  body, flags=re.M)
    body = re.sub(r"^\s{0,3}(#{1,6}|[-*+]|\d+\.|>)\s+", "", body, flags=re.M)
    body = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", body)
    body = re.sub(r"`(\S.*?\S|\S)`", r"\1", body)
    marked = f"{EMPHASIS_OPEN}\\2{EMPHASIS_CLOSE}"
    body = re.sub(r"(\*\*|\*)(\S.*?\S|\S)\1", marked, body)
    return re.sub(r"(?<!\w)(__|_)(\S.*?\S|\S)\1(?!\w)", marked, body)  # snake_case_words are no emphasis


def _language(explicit: str | None, text: str) -> str:
    if explicit:
        return checked_language(explicit)
    letters = re.findall(r"\w", text)
    hangul = len(_HANGUL.findall(text))
    return "ko" if letters and hangul / len(letters) > 0.3 else "en"


def normalize(text: str, language: str) -> str:
    if language.startswith("en"):
        return normalize_english(text)
    if language.startswith("ko"):
        return normalize_korean(text)
    return text


def _segments_from_body(path: Path | None, body: str, first_line: int, language: str) -> tuple[Segment, ...]:
    segments: list[Segment] = []
    body_lines = body.splitlines()
    tone = None
    for paragraph, line in _paragraphs(body, first_line):
        _check_markers(path, paragraph, body_lines[line - first_line:], line)
        pieces = _TONE.split(paragraph)  # [text, tone, text, tone, ..., text]
        for index in range(0, len(pieces), 2):
            if index:
                tone = pieces[index - 1].lower()
                tone = None if tone == AUTO_TONE else tone
            _add_sentences(segments, path, pieces[index], line, body_lines[line - first_line:], language, tone)
    if not any(re.search(r"\w", s.spoken) for s in segments):
        raise InputError("script has no words to read", path=path, line=first_line, fix="write the text to be read")
    return tuple(segments)


def _add_sentences(segments: list[Segment], path: Path | None, text: str, line: int, lines_from_here: list[str],
                   language: str, tone: str | None) -> None:
    """`text`'s sentences, each with the pause a [pause] marker after it asks for, and the tone a tag set."""
    parts = _PAUSE.split(text)
    # _PAUSE.split yields [text, amount, unit, text, amount, unit, ..., text]
    for index in range(0, len(parts), 3):
        pause_ms = 0
        if index + 2 < len(parts):
            amount, unit = float(parts[index + 1]), parts[index + 2].lower()
            pause_ms = int(amount * (1000 if unit == "s" else 1))
            if pause_ms > MAX_PAUSE_S * 1000:
                raise InputError(f"pause of {pause_ms / 1000:g}s is longer than {MAX_PAUSE_S:g}s", path=path,
                                 line=_line_of(lines_from_here, f"[pause {parts[index + 1]}", line),
                                 fix=f"use pauses of at most {MAX_PAUSE_S:g}s")
        sentences = split_sentences(parts[index], language)
        for position, marked in enumerate(sentences):
            is_last = position == len(sentences) - 1
            sentence, emphasis = _emphasised(marked, language)
            segments.append(Segment(sentence, normalize(sentence, language), line, pause_ms if is_last else 0, tone=tone,
                                    emphasis=emphasis))
        if not sentences and pause_ms and segments:
            segments[-1] = replace(segments[-1], pause_after_ms=segments[-1].pause_after_ms + pause_ms)


def _emphasised(sentence: str, language: str) -> tuple[str, tuple[str, ...]]:
    """A sentence without its emphasis marks, and its emphasised words as they will be spoken. A span cut by a
    sentence break counts on both sides of it."""
    words = []
    for match in _EMPHASIS_SPAN.finditer(sentence):
        phrase = match.group(1) if match.group(1) is not None else match.group(2)
        words += spoken_words_of(normalize(phrase, language))
    plain = sentence.replace(EMPHASIS_OPEN, "").replace(EMPHASIS_CLOSE, "")
    return " ".join(plain.split()), tuple(words)


def spoken_words_of(text: str) -> list[str]:
    """Words as the motion stage matches them: lower case, without the punctuation around them."""
    return [word for word in (token.strip(".,;:!?\"'()[]{}«»“”‘’…—–-").lower() for token in text.split()) if word]


def _paragraphs(body: str, first_line: int):
    """(paragraph text, line number) for each block separated by blank lines."""
    block, block_line = [], None
    for offset, text in enumerate(body.splitlines()):
        if text.strip():
            block_line = block_line or first_line + offset
            block.append(text.strip())
        elif block:
            yield " ".join(block), block_line
            block, block_line = [], None
    if block:
        yield " ".join(block), block_line


def _check_markers(path: Path | None, paragraph: str, lines_from_here: list[str], line: int) -> None:
    for marker in _ANY_MARKER.findall(paragraph):
        tone = _TONE.fullmatch(marker)
        if tone and tone.group(1).lower() not in (*TONES, AUTO_TONE):
            raise InputError(f"unknown tone '{tone.group(1)}' in {marker}", path=path,
                             line=_line_of(lines_from_here, marker, line),
                             fix=f"use [tone {'], [tone '.join(TONES)}] or [tone {AUTO_TONE}]")
        if not (tone or _PAUSE.fullmatch(marker)):
            raise InputError(f"unknown marker '{marker}'", path=path, line=_line_of(lines_from_here, marker, line),
                             fix="use [pause 800ms], [pause 1.5s] or [tone grave]")


def _line_of(lines_from_here: list[str], text: str, line: int) -> int:
    """The line number of the first of `lines_from_here` (which starts at `line`) that holds `text`."""
    return line + next((k for k, candidate in enumerate(lines_from_here) if text.lower() in candidate.lower()), 0)


def _cue_text(line: str) -> str:
    """An SRT cue's line as words: its markup (HTML-like tags, SSA overrides such as {\\an8}) and any [pause] marker
    dropped (a cue's own times say when it is read)."""
    return " ".join(_PAUSE.sub(" ", SSA_TAG.sub("", re.sub(r"<[^>]+>", "", line))).split())


def _parse_srt(path: Path, raw: str, language: str | None) -> Script:
    lines = raw.splitlines()
    cues: list[tuple[float, float, str, int]] = []
    index = 0
    while index < len(lines):
        if not lines[index].strip():
            index += 1
            continue
        block_start = index
        if lines[index].strip().isdigit():
            index += 1
        match = _SRT_TIME.search(lines[index]) if index < len(lines) else None
        if not match:
            raise InputError("expected an SRT timing line like '00:00:01,000 --> 00:00:03,500'",
                             path=path, line=index + 1, fix="fix or remove this cue")
        start, end = _srt_seconds(match.groups()[:4]), _srt_seconds(match.groups()[4:])
        if end <= start:
            raise InputError("cue ends before it starts", path=path, line=index + 1, fix="swap or fix the times")
        if cues and start < cues[-1][0]:
            raise InputError("cue starts before the previous one", path=path, line=index + 1, fix="order cues by time")
        index += 1
        text_lines = []
        while index < len(lines) and lines[index].strip():
            text_lines += [_cue_text(lines[index])] if _cue_text(lines[index]) else []
            index += 1
        if not text_lines:
            raise InputError("cue has no text", path=path, line=block_start + 1, fix="add the line to be read or remove the cue")
        cues.append((start, end, " ".join(text_lines), block_start + 1))
    if not cues:
        raise InputError("no cues found in SRT", path=path, fix="write cues: number, timing line, text, blank line")
    chosen_language = _language(language, " ".join(c[2] for c in cues))
    segments = tuple(Segment(text, normalize(text, chosen_language), line, 0, start, end)
                     for start, end, text, line in cues)
    return Script(path, chosen_language, segments, path.stem, {})


def _srt_seconds(parts) -> float:
    hours, minutes, seconds, millis = (int(p) for p in parts)
    return hours * 3600 + minutes * 60 + seconds + millis / 1000
