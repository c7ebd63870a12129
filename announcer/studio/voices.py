"""The voices a studio client may choose, and the voice preview, spoken in a process of its own.

A client names a voice; it never names a file. Only voices the product lists are taken: the default Piper voice and
the catalogued ones, espeak-ng's own voices, and Supertonic's styles. Anything else (`piper:probe.onnx`,
`coqui:.`, `espeak:..`) is refused before any engine sees it, with the same answer whether or not such a file exists.

Previews run in one child process that keeps its few engines loaded: a native library that crashes (espeak-ng on a
name it does not know segfaults) takes the child down, never the server, and the next preview starts a new one.
The child keeps at most PREVIEW_ENGINES engines, so previews in ever new languages cannot grow it without limit.
"""
from __future__ import annotations

import functools
import multiprocessing
import threading
from collections import OrderedDict
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from ..errors import InputError

PREVIEW_ENGINES = 3
PREVIEW_SECONDS = 60.0
"""A preview that takes longer than this is given up (its child is replaced)."""


def checked_voice(spec: str, label: str | None = None, line: int | None = None) -> str:
    """`spec` when it names a voice the studio offers; InputError otherwise (the same for a path that exists)."""
    engine, _, name = str(spec).strip().partition(":")
    if engine in offered_voices() and (not name or f"{engine}:{name}" in offered_voices()):
        return str(spec).strip()
    if engine == "espeak" and name:
        from ..voice.espeak_engine import is_espeak_voice

        if is_espeak_voice(name):
            return str(spec).strip()
    raise InputError(f"voice '{str(spec)[:80]}' is not one the studio offers", path=label, line=line,
                     fix="choose a voice from the list on the New clip form (see `announcer voices`)")


@functools.cache
def offered_voices() -> tuple[str, ...]:
    """What the New clip form lists: the default Piper voice, every catalogued Piper voice, espeak-ng (its English
    and Korean voices by name; any other espeak voice is checked against espeak's own list), and Supertonic's styles."""
    from ..voice.catalogue import VoiceCatalogue

    catalogue = VoiceCatalogue.load()
    piper = sorted(f"piper:{name}" for name, voice in catalogue.voices.items() if voice.engine == "piper")
    supertonic = ["supertonic", *sorted(f"supertonic:{style}" for style in catalogue.supertonic.styles)] \
        if catalogue.supertonic else []
    return ("piper", *piper, "espeak", "espeak:ko", *supertonic)


class VoicePreviews:
    """Speaks preview lines in a child process; `close()` ends it."""

    def __init__(self, models_dir):
        self.models_dir = models_dir
        self._lock = threading.Lock()
        self._pool: ProcessPoolExecutor | None = None

    def speak(self, text: str, voice: str, language: str | None) -> bytes:
        """WAV bytes; InputError for a line or voice that cannot be spoken; RuntimeError when the child died."""
        future = self._executor().submit(_speak_in_child, text, voice, language, str(self.models_dir))
        try:
            outcome = future.result(timeout=PREVIEW_SECONDS)
        except (BrokenProcessPool, TimeoutError) as error:
            self._replace()
            raise RuntimeError("the voice engine stopped while speaking the preview; try again or choose another voice") \
                from error
        if isinstance(outcome, tuple):
            kind, message = outcome
            raise InputError(message) if kind == "input" else RuntimeError(message)
        return outcome

    def _executor(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
            return self._pool

    def _replace(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            for process in list(getattr(pool, "_processes", {}).values()):
                process.kill()  # a child stuck in a native call does not hear shutdown
            pool.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        self._replace()


_ENGINES: OrderedDict = OrderedDict()
"""In the child: the last few engines used, newest last."""


def _speak_in_child(text: str, voice: str, language: str | None, models_dir: str) -> bytes | tuple[str, str]:
    """The preview as WAV bytes, or ("input" | "failed", one line): an exception would not travel well."""
    from pathlib import Path

    from ..settings import parse_voice
    from ..config import VoiceConfig
    from ..script import parse_text
    from ..voice import load_engine, spoken_wav

    try:
        engine_name, name = parse_voice(voice)
        script = parse_text(text, language)
        config = VoiceConfig(engine=engine_name, voice=name, language=script.language)
        key = (engine_name, name, script.language)
        if key not in _ENGINES:
            while len(_ENGINES) >= PREVIEW_ENGINES:
                _ENGINES.popitem(last=False)
            _ENGINES[key] = load_engine(config, models_dir=Path(models_dir))
        _ENGINES.move_to_end(key)
        return spoken_wav(text, config, _ENGINES[key])
    except InputError as error:
        return "input", error.one_line()
    except Exception as error:  # an engine's own failure: the studio answers 503, never 500
        return "failed", f"the voice could not speak the preview ({type(error).__name__}: {str(error)[:200]})"


__all__ = ["PREVIEW_ENGINES", "VoicePreviews", "checked_voice", "offered_voices"]
