"""Uploads: capped in size, checked by what they contain (never by their name), stored under generated names.

A script must be UTF-8 text without control bytes, a spreadsheet likewise; a presenter's photo must start like a
JPEG or PNG, their video like an MP4/MOV or WebM. The name a browser sends is kept only as a label: nothing is
ever written to, or read from, a path made from it.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

MAX_TEXT_BYTES = 2_000_000
IMAGE_SIGNATURES = {b"\xff\xd8\xff": ".jpg", b"\x89PNG\r\n\x1a\n": ".png"}
BINARY_SIGNATURES = (b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"PK\x03\x04", b"%PDF", b"\x1a\x45\xdf\xa3", b"RIFF",
                     b"\x00\x00\x00")


class UploadRefused(Exception):
    """An upload that is not what it claims to be (HTTP 415) or too large (HTTP 413)."""

    def __init__(self, message: str, status: int = 415):
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Stored:
    path: Path
    label: str
    """The name the client gave, for display only."""


def text_upload(data: bytes, what: str) -> str:
    """`data` as text, or UploadRefused: a PNG, a PDF or any binary renamed .md is not a script."""
    if len(data) > MAX_TEXT_BYTES:
        raise UploadRefused(f"{what} is larger than {MAX_TEXT_BYTES // 1_000_000} MB", 413)
    if data.startswith(BINARY_SIGNATURES) or b"\x00" in data:
        raise UploadRefused(f"{what} is not text (it is a binary file)")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UploadRefused(f"{what} is not UTF-8 text") from None
    if any(ord(c) < 32 and c not in "\n\r\t" for c in text):
        raise UploadRefused(f"{what} holds control characters, so it is not a text file")
    return text


def media_kind(head: bytes) -> str | None:
    """'.jpg', '.png', '.mp4' or '.webm' from a file's first bytes; None for anything else."""
    for signature, suffix in IMAGE_SIGNATURES.items():
        if head.startswith(signature):
            return suffix
    if head[4:8] == b"ftyp":
        return ".mp4"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return ".webm"
    return None


def store_bytes(folder: Path, data: bytes, suffix: str, label: str) -> Stored:
    """Write `data` under a new random name in `folder` (the label never becomes a path)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{secrets.token_hex(16)}{suffix}"
    with open(path, "xb") as handle:
        handle.write(data)
    return Stored(path, Path(label or "upload").name[:120])


__all__ = ["MAX_TEXT_BYTES", "Stored", "UploadRefused", "media_kind", "store_bytes", "text_upload"]
