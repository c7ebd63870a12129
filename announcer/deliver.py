"""Deliverables: the clip and its companions, written under temp names and renamed only when all are done."""
from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .errors import InputError

COMPANIONS = ("srt", "vtt", "jpg", "json")


@dataclass(frozen=True)
class OutputSet:
    video: Path

    @property
    def subtitles_srt(self) -> Path:
        return self.video.with_suffix(".srt")

    @property
    def subtitles_vtt(self) -> Path:
        return self.video.with_suffix(".vtt")

    @property
    def thumbnail(self) -> Path:
        return self.video.with_suffix(".jpg")

    @property
    def manifest(self) -> Path:
        return self.video.with_suffix(".json")

    @property
    def closeups(self) -> Path:
        """Written only when asked for (`render --closeups`)."""
        return self.video.with_suffix(".closeups.png")

    def all(self) -> list[Path]:
        """Every file of a delivered clip (the close-up sheet, written only on request, is not among them)."""
        return [self.video, self.subtitles_srt, self.subtitles_vtt, self.thumbnail, self.manifest]

    @staticmethod
    def for_path(path: str | Path) -> "OutputSet":
        path = Path(path).expanduser().resolve()
        if path.suffix.lower() != ".mp4":
            raise InputError("output must be an .mp4 file", path=path, fix="use -o NAME.mp4")
        if not path.parent.is_dir():
            raise InputError("output folder does not exist", path=path.parent, fix="create it first")
        return OutputSet(path)

    @staticmethod
    def inside(folder: Path, name: str) -> "OutputSet":
        """An output named by a script (front matter `output:`), kept inside `folder`."""
        folder = folder.resolve()
        candidate = (folder / name).with_suffix(".mp4").resolve()
        if candidate.parent != folder and folder not in candidate.parents:
            raise InputError(f"output name '{name}' leads outside the output folder", fix="use a plain file name")
        candidate.parent.mkdir(parents=True, exist_ok=True)
        return OutputSet(candidate)


class StagedOutputs:
    """Temp files beside the final paths; `commit()` renames them all, `discard()` removes them."""

    def __init__(self, outputs: OutputSet):
        self.outputs = outputs
        self._temps: dict[Path, Path] = {}

    def temp_for(self, final: Path) -> Path:
        descriptor, name = tempfile.mkstemp(dir=final.parent, prefix=f".{final.stem}.", suffix=f".part{final.suffix}")
        os.close(descriptor)
        self._temps[final] = Path(name)
        return Path(name)

    def write_text(self, final: Path, text: str) -> None:
        self.temp_for(final).write_text(text, encoding="utf-8")

    def write_bytes(self, final: Path, data: bytes) -> None:
        self.temp_for(final).write_bytes(data)

    def commit(self) -> None:
        """The manifest goes last: its presence means the whole set is there."""
        mode = 0o666 & ~_current_umask()
        for final in sorted(self._temps, key=lambda p: p == self.outputs.manifest):
            os.chmod(self._temps[final], mode)  # mkstemp makes 0600; deliverables follow the umask
            os.replace(self._temps[final], final)
        self._temps.clear()

    @staticmethod
    def remove_leftovers(outputs: OutputSet) -> int:
        """Delete temp files a killed render left beside these outputs. Only for a caller that owns the outputs (a job lease)."""
        removed = 0
        for final in [*outputs.all(), outputs.closeups]:
            for temp in final.parent.glob(f".{final.stem}.????????.part{final.suffix}"):  # mkstemp adds 8 characters
                temp.unlink(missing_ok=True)
                removed += 1
        return removed

    def discard(self) -> None:
        for temp in self._temps.values():
            temp.unlink(missing_ok=True)
        self._temps.clear()


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
