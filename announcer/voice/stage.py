"""The voice stage as the pipeline runs it: a script spoken, or a recording timed, from what it is made of."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from ..assets import sha256_of
from ..cache import cache_key
from ..config import VoiceConfig
from ..script import Script
from . import ARTIFACT_VERSION, choose_engine, load_narration, synthesize, voice_file_identity
from .types import Speech, VoiceEngine


@dataclass(frozen=True)
class VoiceRequest:
    script: Script | None
    narration: Path | None
    """Recorded narration to time instead of speaking the script (which then gives only the subtitles)."""
    config: VoiceConfig


class VoiceStage:
    """Speaks with engines loaded once (`engine_for`, a Runtime's) and times recordings with its recognisers."""

    def __init__(self, engine_for: Callable[[VoiceConfig], VoiceEngine], models_dir: Path,
                 aligner: Callable | None = None, phone_recogniser: Callable | None = None, progress: bool = False):
        self.engine_for, self.models_dir = engine_for, models_dir
        self.aligner, self.phone_recogniser, self.progress = aligner, phone_recogniser, progress

    def settled(self, request: VoiceRequest) -> VoiceRequest:
        """The request with the voice that will speak it (a script in another language than English gets its
        default voice); a recording that is not there is refused now, naming it."""
        if request.narration is None:
            return replace(request, config=choose_engine(request.config, self.models_dir))
        if not request.narration.is_file():
            load_narration(request.narration, request.config, request.script)  # says what is wrong with the path
        return request

    def cache_key(self, request: VoiceRequest) -> str:
        """The spoken text, the voice's settings and its model file's content, or the recording's content. Not the
        device: speech made on a cluster's CPU task is what its GPU task then renders."""
        script = request.script
        segments = [(s.spoken, s.display, s.pause_after_ms, s.start_s) for s in script.segments] if script else None
        recording = sha256_of(request.narration) if request.narration is not None else None
        return cache_key("voice", ARTIFACT_VERSION, segments, asdict(replace(request.config, device="")), recording,
                         voice_file_identity(request.config))

    def __call__(self, request: VoiceRequest) -> Speech:
        if request.narration is not None:
            return load_narration(request.narration, request.config, request.script, self.aligner, self.phone_recogniser)
        return synthesize(request.script, request.config, self.engine_for(request.config), progress=self.progress)


__all__ = ["VoiceRequest", "VoiceStage"]
