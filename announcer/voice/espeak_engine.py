"""espeak-ng through its C library: any language it knows, phoneme events give the timings.

The library and its data come from the `espeakng-loader` wheel, so this works with no system install.
"""
from __future__ import annotations

import ctypes
import functools
import threading
from pathlib import Path

import numpy as np

from ..errors import InputError
from .types import SentenceAudio, TimedUnit, VoiceEngine

AUDIO_OUTPUT_SYNCHRONOUS = 2
INITIALIZE_PHONEME_EVENTS = 0x0001
INITIALIZE_PHONEME_IPA = 0x0002
CHARS_UTF8 = 1
POS_CHARACTER = 1
PARAMETER_RATE = 1
EVENT_LIST_TERMINATED = 0
EVENT_PHONEME = 7
DEFAULT_RATE_WPM = 165
DEFAULT_VOICES = {"en": "en-us", "ko": "ko"}


class _EventId(ctypes.Union):
    _fields_ = [("number", ctypes.c_int), ("name", ctypes.c_char_p), ("string", ctypes.c_char * 8)]


class _Event(ctypes.Structure):
    _fields_ = [("type", ctypes.c_int), ("unique_identifier", ctypes.c_uint), ("text_position", ctypes.c_int),
                ("length", ctypes.c_int), ("audio_position", ctypes.c_int), ("sample", ctypes.c_int),
                ("user_data", ctypes.c_void_p), ("id", _EventId)]


_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event))
# espeak-ng keeps global state: one library handle per process, used under a lock.
_LOCK = threading.Lock()
_LIBRARY: tuple[ctypes.CDLL, int] | None = None


def _library() -> tuple[ctypes.CDLL, int]:
    global _LIBRARY
    if _LIBRARY is None:
        import espeakng_loader

        library = ctypes.cdll.LoadLibrary(str(espeakng_loader.get_library_path()))
        library.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        library.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        library.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        library.espeak_SetSynthCallback.argtypes = [_CALLBACK]
        library.espeak_Synth.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int, ctypes.c_uint,
                                         ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p]
        data_path = str(Path(espeakng_loader.get_data_path()).parent).encode()
        sample_rate = library.espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, data_path,
                                                INITIALIZE_PHONEME_EVENTS | INITIALIZE_PHONEME_IPA)
        if sample_rate <= 0:
            raise RuntimeError("espeak-ng failed to initialise")
        _LIBRARY = (library, sample_rate)
    return _LIBRARY


def available_voices() -> list[str]:
    import espeakng_loader

    voices_dir = Path(espeakng_loader.get_data_path()) / "voices" / "!v"
    languages_dir = Path(espeakng_loader.get_data_path()) / "lang"
    names = {p.name for p in languages_dir.rglob("*") if p.is_file()}
    return sorted(names) + sorted(f"+{p.name}" for p in voices_dir.glob("*") if p.is_file())


def is_espeak_voice(name: str) -> bool:
    """A language espeak-ng lists (`en-us`, `ko`), optionally with one of its variants (`en-us+f3`)."""
    language, plus, variant = name.lower().partition("+")
    voices = _voice_names()
    return language in voices and (not plus or f"+{variant}" in voices)


@functools.cache
def _voice_names() -> frozenset[str]:
    return frozenset(voice.lower() for voice in available_voices())


class EspeakEngine(VoiceEngine):
    name = "espeak"

    def __init__(self, voice: str | None = None, language: str = "en", speed: float = 1.0):
        self.voice_name = voice or DEFAULT_VOICES.get(language, language)
        self.rate = int(DEFAULT_RATE_WPM * speed)
        if not is_espeak_voice(self.voice_name):  # a name espeak-ng does not list can crash it (`..` segfaults)
            raise InputError(f"espeak-ng has no voice '{self.voice_name[:80]}'", fix="see `announcer voices --engine espeak`")
        with _LOCK:
            library, self.sample_rate = _library()
            if library.espeak_SetVoiceByName(self.voice_name.encode()) != 0:
                raise InputError(f"espeak-ng has no voice '{self.voice_name}'", fix="see `announcer voices --engine espeak`")

    def speak(self, text: str) -> SentenceAudio:
        samples: list[np.ndarray] = []
        events: list[tuple[float, str]] = []

        def collect(wav, count, event_pointer):
            if count > 0:
                samples.append(np.ctypeslib.as_array(wav, shape=(count,)).copy())
            index = 0
            while event_pointer[index].type != EVENT_LIST_TERMINATED:
                event = event_pointer[index]
                if event.type == EVENT_PHONEME:
                    label = bytes(event.id.string).split(b"\0")[0].decode("utf-8", "replace")
                    events.append((event.sample / self.sample_rate, label))
                index += 1
            return 0

        callback = _CALLBACK(collect)
        encoded = text.encode("utf-8") + b"\0"
        with _LOCK:
            library, _ = _library()
            library.espeak_SetVoiceByName(self.voice_name.encode())
            library.espeak_SetParameter(PARAMETER_RATE, self.rate, 0)
            library.espeak_SetSynthCallback(callback)
            status = library.espeak_Synth(encoded, len(encoded), 0, POS_CHARACTER, 0, CHARS_UTF8, None, None)
        if status != 0:
            raise RuntimeError(f"espeak-ng could not speak {text[:40]!r} (error {status})")
        audio = (np.concatenate(samples).astype(np.float32) / 32768.0) if samples else np.zeros(0, np.float32)
        return SentenceAudio(audio, self.sample_rate, _phoneme_spans(events, len(audio) / self.sample_rate))


def _phoneme_spans(events: list[tuple[float, str]], duration: float) -> list[TimedUnit]:
    """Phoneme events mark starts; each phoneme lasts until the next one begins."""
    spans = []
    for index, (start, label) in enumerate(events):
        end = events[index + 1][0] if index + 1 < len(events) else duration
        if label.strip() and end > start:
            spans.append(TimedUnit(label, start, end))
    return spans
