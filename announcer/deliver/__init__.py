"""Deliverables: the clip and its companions, written under temp names and renamed only when all are done."""
from __future__ import annotations

import errno
import math
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from ..assets import sha256_of
from ..errors import InputError
from ..media.subtitles import to_srt, to_vtt
from ..scratch import scratch_file, sweep
from ..timeline import TimedUnit


def manifest_file(path) -> dict | None:
    """An input file as a clip's manifest records it: where it was and what it held (None for no file)."""
    return {"path": str(Path(path).resolve()), "sha256": sha256_of(Path(path))} if path else None


def manifest_number(value) -> float | None:
    """A measured figure for the manifest: two decimals, None where there is none or it is not finite (JSON has no
    -Infinity, and silence measures -inf LUFS)."""
    return None if value is None or not math.isfinite(value) else round(float(value), 2)


MAX_OUTPUT_NAME_BYTES = 180
"""A file name holds 255 bytes; the clip's temp names, its layouts' and its close-up sheet's add up to about 70."""


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

    @property
    def tone_sheet(self) -> Path:
        """A frame of each sentence with its tone and the face's readings; written with the close-ups."""
        return self.video.with_suffix(".tone.png")

    def for_review(self) -> list[Path]:
        """The sheets written only when asked for: close-ups and tone."""
        return [self.closeups, self.tone_sheet]

    def all(self) -> list[Path]:
        """Every file of a delivered clip (the close-up sheet, written only on request, is not among them)."""
        return [self.video, self.subtitles_srt, self.subtitles_vtt, self.thumbnail, self.manifest]

    @staticmethod
    def for_path(path: str | Path) -> "OutputSet":
        path = Path(path).expanduser().resolve()
        if path.suffix.lower() != ".mp4":
            raise InputError("output must be an .mp4 file", path=path, fix="use -o NAME.mp4")
        if len(path.name.encode()) > MAX_OUTPUT_NAME_BYTES:
            raise InputError(f"output name is {len(path.name.encode())} bytes long, more than {MAX_OUTPUT_NAME_BYTES}",
                             path=path.parent / f"{path.name[:40]}...", fix="choose a shorter name")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise InputError(f"cannot create the output folder ({error.strerror})", path=path.parent,
                             fix="choose a folder you can write to") from None
        return OutputSet(path).checked()

    def for_layouts(self, aspects: list[str | None]) -> list["OutputSet"]:
        """This set (OUT.mp4) for one layout; OUT.16x9.mp4, OUT.9x16.mp4 ... beside it for several."""
        if len(aspects) < 2:
            return [self]
        return [OutputSet.for_path(OutputSet.layout_video(self.video, aspect)) for aspect in aspects]

    @staticmethod
    def layout_video(video: Path, aspect: str) -> Path:
        """Where one of several layouts of the clip `video` goes: OUT.mp4 -> OUT.16x9.mp4, OUT.9x16.mp4 ..."""
        return video.with_name(f"{video.stem}.{aspect.replace(':', 'x')}.mp4")

    @staticmethod
    def inside(folder: Path, name: str) -> "OutputSet":
        """An output named by a script (front matter `output:`), kept inside `folder`."""
        folder = folder.resolve()
        if str(name).endswith(("/", "\\")) or not Path(str(name)).name.strip(". "):
            raise InputError(f"'{name}' names a folder, not a file", fix="write the clip's file name, e.g. output: news")
        candidate = (folder / name).with_suffix(".mp4").resolve()
        if candidate.parent != folder and folder not in candidate.parents:
            raise InputError(f"output name '{name}' leads outside the output folder", fix="use a plain file name")
        candidate.parent.mkdir(parents=True, exist_ok=True)
        return OutputSet(candidate).checked()

    def checked(self) -> "OutputSet":
        """Fail now, before any work, when a file cannot be delivered: a folder in its way, or a folder that cannot be
        written to (tried by making and removing a temp file, which also catches read-only mounts and immutable folders)."""
        for final in [*self.all(), *self.for_review()]:
            refuse_folder_at(final)
        _create_beside(self.video, "probe").unlink()
        return self


class StagedOutputs:
    """Temp files beside the final paths; `commit()` puts them all in place or none, `discard()` removes them."""

    def __init__(self, outputs: OutputSet):
        self.outputs = outputs
        self._temps: dict[Path, Path] = {}

    def temp_for(self, final: Path) -> Path:
        temp = _create_beside(final, "part")
        self._temps[final] = temp
        return temp

    def write_text(self, final: Path, text: str) -> None:
        self.write_bytes(final, text.encode("utf-8"))

    def write_bytes(self, final: Path, data: bytes) -> None:
        try:
            self.temp_for(final).write_bytes(data)
        except OSError as error:
            if error.errno == errno.ENOSPC:
                raise disk_full(final.parent, len(data)) from None
            raise

    def commit(self) -> None:
        """Every target is checked before the first rename; if a rename fails part way, what was there before is put
        back. The manifest goes last: its presence means the whole set is there."""
        for final in self._temps:
            refuse_folder_at(final)
        finals = sorted(self._temps, key=lambda p: p == self.outputs.manifest)
        kept: dict[Path, Path] = {}
        placed: list[Path] = []
        try:
            for final in finals:
                if final.exists():
                    kept[final] = _moved_aside(final)
                os.replace(self._temps[final], final)
                placed.append(final)
        except OSError as error:
            for final in placed:
                final.unlink(missing_ok=True)
            for final, old in kept.items():
                os.replace(old, final)
            raise InputError(f"cannot write the clip's files ({error.strerror})", path=error.filename or self.outputs.video,
                             fix="check the output folder's permissions and free space") from error
        for old in kept.values():
            old.unlink(missing_ok=True)
        self._temps.clear()

    @staticmethod
    def remove_leftovers(outputs: OutputSet) -> int:
        """Delete the temp files that stopped runs (their process gone) left in these outputs' folder; a live run's
        files are never touched."""
        return sweep(outputs.video.parent, ".*")

    def discard(self) -> None:
        for temp in self._temps.values():
            temp.unlink(missing_ok=True)
        self._temps.clear()


def _moved_aside(final: Path) -> Path:
    """The file now at `final`, renamed to a new name beside it."""
    aside = _create_beside(final, "old")
    try:
        os.replace(final, aside)
    except OSError:
        aside.unlink(missing_ok=True)
        raise
    return aside


def refuse_folder_at(final: Path) -> None:
    if final.is_dir():
        raise InputError("a folder is in the way of an output file", path=final,
                         fix="remove or rename that folder, or choose another -o")


BITS_PER_PIXEL = 0.08
"""What H.264 at the default CRF spends on a talking head, a little over what was measured (0.05 at 256 px)."""


def bytes_needed(seconds: float, sizes: list[tuple[int, int]], fps: int, audio_bits_per_s: int = 160_000) -> int:
    """About how much disk a clip's files take: each layout's video and sound, and a megabyte for the rest."""
    video = sum(width * height * fps * seconds * BITS_PER_PIXEL / 8 for width, height in sizes)
    return int(video + len(sizes) * seconds * audio_bits_per_s / 8 + 1_000_000)


def refuse_too_little_space(folder: Path, needed: int) -> None:
    """Exit 2 before encoding when the output folder's disk holds clearly less than the clip needs (less than half
    the estimate: the estimate is rough, and a clip that might fit is tried)."""
    try:
        free = shutil.disk_usage(folder).free
    except OSError:
        return
    if free < needed // 2:
        raise disk_full(folder, needed, free)


def disk_full(folder: Path, needed: int, free: int | None = None) -> InputError:
    if free is None:
        try:
            free = shutil.disk_usage(folder).free
        except OSError:
            free = 0
    return InputError(f"not enough disk space: the clip needs about {needed / 1e6:.0f} MB and {free / 1e6:.0f} MB are "
                      f"free", path=folder, fix="free some space there, or choose another -o")


def missing_folders(folder: Path) -> list[Path]:
    """`folder` and those of its parents that do not exist yet, deepest first (what making it would create)."""
    missing = []
    folder = Path(folder).expanduser().resolve()
    while not folder.exists() and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    return missing


def remove_empty(folders: list[Path]) -> None:
    """Remove these folders, deepest first, where they are (still) empty: a failed render leaves no new folder."""
    for folder in folders:
        try:
            folder.rmdir()
        except OSError:
            return


def refuse_overwriting_inputs(outputs: list[OutputSet], inputs: dict[str, Path | None]) -> None:
    """A clip never overwrites what it is made from: an input (script, avatar, narration, programme file, picture)
    that is one of the files the clip delivers is refused, before anything is written."""
    finals = [final for output in outputs for final in [*output.all(), *output.for_review()]]
    for role, path in inputs.items():
        if path is None:
            continue
        clash = next((final for final in finals if _same_file(Path(path), final)), None)
        if clash is not None:
            raise InputError(f"the {role} is also where the clip would write its {_kind(clash, outputs)}, and would be "
                             f"overwritten", path=path, fix=f"choose another -o, or keep the {role} elsewhere")


def _kind(final: Path, outputs: list[OutputSet]) -> str:
    for output in outputs:
        names = {output.video: "video", output.subtitles_srt: "SRT subtitles", output.subtitles_vtt: "VTT subtitles",
                 output.thumbnail: "thumbnail", output.manifest: "manifest", output.closeups: "close-up sheet",
                 output.tone_sheet: "tone sheet"}
        if final in names:
            return f"{names[final]} ({final.name})"
    return final.name


def _same_file(path: Path, final: Path) -> bool:
    """The same file by name (resolved through links) or by inode (a hard link)."""
    try:
        if path.expanduser().resolve() == final:
            return True
        return final.exists() and path.exists() and os.path.samefile(path, final)
    except OSError:
        return False


def _create_beside(final: Path, kind: str) -> Path:
    """A new empty temp file `.STEM.PID-HOST-RANDOM.KIND.SUFFIX` in the final file's folder, named so that a later run
    can tell when its maker has died."""
    try:
        return scratch_file(final.parent, f".{final.stem}", f".{kind}{final.suffix}")
    except FileExistsError:
        raise InputError("cannot find a free temp name in the output folder", path=final.parent,
                         fix="clear out .*.part files") from None
    except OSError as error:
        raise InputError(f"cannot write in the output folder ({error.strerror})", path=final.parent,
                         fix="make the folder writable, or choose another -o") from error


def write_companions(staged: StagedOutputs, captions: list[TimedUnit], thumbnail: np.ndarray,
                     closeups: bytes | None, tone_sheet: bytes | None = None) -> None:
    """A clip's subtitles, thumbnail and (when asked for) close-up and tone sheets, staged beside its video."""
    outputs = staged.outputs
    staged.write_text(outputs.subtitles_srt, to_srt(captions))
    staged.write_text(outputs.subtitles_vtt, to_vtt(captions))
    staged.write_bytes(outputs.thumbnail, _jpeg(thumbnail))
    if closeups is not None:
        staged.write_bytes(outputs.closeups, closeups)
    if tone_sheet is not None:
        staged.write_bytes(outputs.tone_sheet, tone_sheet)


def _jpeg(rgb: np.ndarray) -> bytes:
    ok, data = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 90])
    if not ok:
        raise RuntimeError("could not encode the thumbnail")
    return data.tobytes()
