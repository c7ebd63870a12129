"""The programme around and under the presenter: an intro and outro (compose.bookends) and a music bed
(compose.soundtrack), loaded once per clip and shared by every layout it is delivered in."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..config import ProgrammeConfig
from ..deliver import manifest_file, manifest_number
from ..errors import InputError
from ..media.ffmpeg import probe
from .bookends import Bookend, load_bookend
from .soundtrack import Soundtrack, programme_sound


def checked_music(path: Path) -> Path:
    """The music bed's file, once ffprobe has found sound in it (it is decoded only when the clip is mixed)."""
    if not any(stream.get("codec_type") == "audio" for stream in probe(path).get("streams", [])):
        raise InputError("music has no sound", path=path, fix="give an audio file (WAV, MP3, AAC, FLAC) as the music")
    return path


@dataclass(frozen=True)
class Programme:
    config: ProgrammeConfig
    intro: Bookend | None
    outro: Bookend | None
    music: Path | None

    @staticmethod
    def load(config: ProgrammeConfig, fps: int) -> "Programme":
        """The intro and outro decoded enough to know their length and sound (their pictures stream later)."""
        intro = load_bookend(Path(config.intro), "intro", fps) if config.intro else None
        outro = load_bookend(Path(config.outro), "outro", fps) if config.outro else None
        return Programme(config, intro, outro, checked_music(Path(config.music)) if config.music else None)

    @property
    def is_plain(self) -> bool:
        """Nothing around or under the presenter: the narration is the clip's sound as it is."""
        return self.intro is None and self.outro is None and self.music is None

    @property
    def intro_seconds(self) -> float:
        return self.intro.seconds if self.intro else 0.0

    def frames_around(self) -> int:
        return (self.intro.n_frames if self.intro else 0) + (self.outro.n_frames if self.outro else 0)

    def sound(self, speech: np.ndarray, sample_rate: int, main_seconds: float, target_lufs: float,
              ceiling_dbtp: float) -> Soundtrack:
        """The whole programme's sound: intro, narration with the bed ducked under it, outro, at the target."""
        return programme_sound(speech, sample_rate, main_seconds, self.intro.audio if self.intro else None,
                               self.outro.audio if self.outro else None, self.music, self.config, target_lufs,
                               ceiling_dbtp)

    def manifest_entry(self, soundtrack: Soundtrack | None) -> dict | None:
        """The intro, outro and music bed as used, and the programme's measured sound."""
        if self.is_plain or soundtrack is None:
            return None
        bookends = {b.role: {**manifest_file(b.path), "seconds": round(b.seconds, 3)} for b in (self.intro, self.outro) if b}
        music = {**manifest_file(self.music), "level_db": self.config.music_level_db, "duck_db": self.config.music_duck_db,
                 **soundtrack.bed_report()} if self.music else None
        return {"intro": bookends.get("intro"), "outro": bookends.get("outro"), "music": music,
                "loudness_lufs": manifest_number(soundtrack.loudness_lufs),
                "true_peak_dbtp": manifest_number(soundtrack.true_peak_dbtp)}


__all__ = ["Programme"]
