"""Stage 2, voice: a script in, narration audio with phoneme and caption timings out.

>>> from announcer.script import parse_text
>>> config = VoiceConfig(engine="espeak")
>>> speech = synthesize(parse_text("Good evening."), config, load_engine(config, models_dir=Path("models")))
>>> speech.sample_rate, speech.phonemes[0].label  # doctest: +SKIP
(22050, 'ɡ')
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
from tqdm import tqdm

from ..config import VOICE_ENGINES, VoiceConfig
from ..assets import sha256_of
from ..errors import InputError
from ..media.ffmpeg import decode_audio, probe
from ..script import Script
from . import align, phones
from .align import NarrationTimings
from .loudness import normalize_loudness, voiced_span
from .types import SentenceAudio, Speech, TimedUnit, VoiceEngine, spread_by_length

log = logging.getLogger(__name__)
LEAD_IN_S = 0.4
TAIL_S = 0.6
NARRATION_SAMPLE_RATE = 48000
ARTIFACT_VERSION = 3
"""Raise when the speech made from the same script and voice config changes (see cache.py)."""
MAX_NARRATION_S = 3600
FAST_WORDS_PER_SECOND = 4.0
"""Faster than newsreaders read (about 3 words a second in English): a recording with less room than this for its
script's words does not hold them all."""
MIN_SHARE_HEARD = 0.5


def load_engine(config: VoiceConfig, registry=None, *, models_dir: Path, phone_recogniser: Callable | None = None) \
        -> VoiceEngine:
    """Build the engine once; it is reused for every sentence (and every clip of a batch). Voices fetched by name
    are kept under `models_dir` (the home's). `phone_recogniser` loads the recogniser that times the
    phones of engines without alignments of their own (Supertonic)."""
    build = _ENGINE_BUILDERS.get(config.engine)
    if build is None:
        raise InputError(f"unknown voice engine '{config.engine}'", fix=f"use {', '.join(VOICE_ENGINES)}")
    return build(config, registry, models_dir, phone_recogniser)


def _piper(config: VoiceConfig, registry, models_dir: Path, phone_recogniser) -> VoiceEngine:
    from .piper_engine import PiperEngine

    if not (config.language or "en").startswith("en") and config.voice is None:
        raise InputError(f"the default Piper voice speaks English, not '{config.language}'",
                         fix="use --voice supertonic or espeak for this language, or a Piper voice for it")
    return PiperEngine(config.voice, config.speed, use_cuda=config.device.startswith("cuda") and _onnx_has_cuda(),
                       registry=registry, voices_dir=models_dir / "voices")


def _supertonic(config: VoiceConfig, registry, models_dir: Path, phone_recogniser) -> VoiceEngine:
    from .supertonic_engine import SupertonicEngine

    return SupertonicEngine(config.voice, config.language or "en", config.speed, models_dir,
                            phone_recogniser)


def _espeak(config: VoiceConfig, registry, models_dir: Path, phone_recogniser) -> VoiceEngine:
    from .espeak_engine import EspeakEngine

    return EspeakEngine(config.voice, config.language or "en", config.speed)


def _coqui(config: VoiceConfig, registry, models_dir: Path, phone_recogniser) -> VoiceEngine:
    from .coqui_engine import CoquiEngine

    return CoquiEngine(config.voice, config.language or "en", config.device, models_dir / "coqui")


_ENGINE_BUILDERS = {"piper": _piper, "supertonic": _supertonic, "espeak": _espeak, "coqui": _coqui}
"""Each of config.VOICE_ENGINES, by name (tests/test_voice.py checks that the two agree)."""


def spoken_wav(text: str, config: VoiceConfig, engine: VoiceEngine) -> bytes:
    """One line through the whole voice stage (normalised, loudness included) as 16-bit WAV: what `announcer voices
    say` writes and the studio's preview plays."""
    import io

    import soundfile

    from ..script import parse_text

    speech = synthesize(parse_text(text, config.language), config, engine)
    buffer = io.BytesIO()
    soundfile.write(buffer, speech.audio, speech.sample_rate, subtype="PCM_16", format="WAV")
    return buffer.getvalue()


def voice_file_identity(config: VoiceConfig) -> list | None:
    """What a voice given as a file or folder holds: the sha256 of a file (and of the config beside it, as a Piper
    voice's .onnx.json), or each file's name, size and change time in a folder (a Coqui checkpoint: too large to
    read on every clip). Part of every key the voice is cached or loaded under, so a voice replaced in place is
    never served stale. None for a voice given by name (a catalogue's are pinned by their sha256)."""
    if not config.voice:
        return None
    path = Path(config.voice).expanduser()
    if path.is_file():
        beside = path.with_name(path.name + ".json")
        return [sha256_of(path), sha256_of(beside) if beside.is_file() else None]
    if path.is_dir():
        return sorted((str(p.relative_to(path)), p.stat().st_size, p.stat().st_mtime_ns) for p in path.rglob("*")
                      if p.is_file())
    return None


def choose_engine(config: VoiceConfig, models_dir: Path) -> VoiceConfig:
    """The default voice for a script that is not in English: Supertonic where its files are installed and it
    speaks the language, else espeak-ng. Any engine or voice the user chose is kept."""
    from .catalogue import VoiceCatalogue, supertonic_installed
    from .supertonic_engine import MODEL_NAME

    language = config.language or "en"
    if config.engine != "piper" or config.voice is not None or language.startswith("en"):
        return config
    release = VoiceCatalogue.load().supertonic
    if release is not None and release.speaks(language) and supertonic_installed(release, models_dir / MODEL_NAME):
        return replace(config, engine="supertonic")
    return replace(config, engine="espeak")


def _onnx_has_cuda() -> bool:
    """Piper runs on onnxruntime; its CUDA provider exists only in the onnxruntime-gpu build."""
    import onnxruntime

    return "CUDAExecutionProvider" in onnxruntime.get_available_providers()


def synthesize(script: Script, config: VoiceConfig, engine: VoiceEngine, progress: bool = False) -> Speech:
    """The script spoken by `engine` (loaded once by load_engine), laid out on the clip's timeline."""
    segments = tqdm(script.segments, desc="voice", unit="sentence", disable=None if progress else True, leave=False)
    sentences = [engine.speak(segment.spoken) for segment in segments]
    audio, phonemes, captions = _lay_out(script, sentences, config, engine.sample_rate)
    audio, lufs, peak = normalize_loudness(audio, engine.sample_rate, config.loudness_lufs, config.true_peak_dbtp)
    return Speech(audio, engine.sample_rate, phonemes, captions, engine.name, engine.voice_name, lufs, peak,
                  dict(engine.model_files))


def _lay_out(script: Script, sentences: list[SentenceAudio], config: VoiceConfig, sample_rate: int):
    """Place sentences on one timeline: SRT cues at their start times, others one after another."""
    pieces, phonemes, captions = [], [], []
    cursor = LEAD_IN_S
    for segment, sentence in zip(script.segments, sentences, strict=True):
        if segment.start_s is not None:
            if segment.start_s + 0.05 < cursor:
                log.warning("line %d starts late: the previous line runs to %.2fs, its cue is at %.2fs",
                            segment.line, cursor, segment.start_s)
            cursor = max(cursor, segment.start_s)
        start_sample = int(round(cursor * sample_rate))
        pieces.append((start_sample, sentence.audio))
        phonemes += [p.shifted(cursor) for p in sentence.phonemes]
        end = cursor + len(sentence.audio) / sample_rate
        captions.append(TimedUnit(segment.display, cursor, end))
        cursor = end + (segment.pause_after_ms + config.sentence_pause_ms) / 1000
    total = int(round((cursor + TAIL_S) * sample_rate))
    audio = np.zeros(total, np.float32)
    for start, samples in pieces:
        audio[start:start + len(samples)] += samples
    return audio, phonemes, captions


def load_narration(path: Path, config: VoiceConfig, script: Script | None = None,
                   recogniser: Callable[[], object] | None = None,
                   phone_recogniser: Callable[[], phones.PhoneRecogniser] | None = None) -> Speech:
    """Recorded narration instead of TTS; a script, if given, supplies the subtitles. Phoneme timings come from
    PocketSphinx for English (`recogniser`, a Runtime's loader) and from hama's phone recogniser for every other
    language (`phone_recogniser`); each is loaded for this call when no loader is given."""
    path = Path(path)
    if not path.is_file():
        raise InputError("narration file not found", path=path, fix="check the --audio path")
    info = probe(path)
    if not any(s.get("codec_type") == "audio" for s in info.get("streams", [])):
        raise InputError("narration has no audio track", path=path, fix="give a WAV, MP3, M4A or a video with sound")
    declared = float(info.get("format", {}).get("duration") or 0.0)
    if declared > MAX_NARRATION_S:  # before decoding: an hour of samples is 0.3 GB
        raise InputError(f"narration is {declared:.0f}s long, more than {MAX_NARRATION_S}s", path=path,
                         fix="split it into several clips")
    audio = decode_audio(path, NARRATION_SAMPLE_RATE)
    duration = len(audio) / NARRATION_SAMPLE_RATE
    if duration < 0.2 or not np.any(np.abs(audio) > 1e-4):
        raise InputError("narration is empty or silent", path=path, fix="check the recording")
    if duration > MAX_NARRATION_S:
        raise InputError(f"narration is {duration:.0f}s long, more than {MAX_NARRATION_S}s", path=path,
                         fix="split it into several clips")
    audio, lufs, peak = normalize_loudness(audio, NARRATION_SAMPLE_RATE, config.loudness_lufs, config.true_peak_dbtp)
    language = config.language or (script.language if script else None)
    segment_words = [align.transcript_words(s.spoken) for s in script.segments] if script else []
    timings = NarrationTimings([], [])
    models: dict[str, str] = {}
    if config.align_narration and config.narration_phones == "auto" and align.aligns(language):
        timings = align.align_narration(audio, NARRATION_SAMPLE_RATE, [w for words in segment_words for w in words],
                                        recogniser() if recogniser is not None else None)
        models = align.model_checksums()
    elif config.align_narration:
        heard = phone_recogniser() if phone_recogniser is not None else phones.load_phone_recogniser()
        follows_script = script is not None and config.narration_phones == "auto" and language is not None
        timings = NarrationTimings(_script_phones(heard, audio, script, language, path) if follows_script
                                   else heard.phones(audio, NARRATION_SAMPLE_RATE), [])
        models = phones.model_checksums()
    captions = _narration_captions(script, audio, segment_words, timings.words)
    return Speech(audio, NARRATION_SAMPLE_RATE, timings.phonemes, captions, "narration", path.name, lufs, peak, models)


def _script_phones(heard: phones.PhoneRecogniser, audio: np.ndarray, script: Script, language: str,
                   path: Path) -> list[TimedUnit]:
    """The script's own phones aligned to the narration; the phones heard in it where it does not follow the script."""
    text = " ".join(segment.spoken for segment in script.segments)
    aligned = heard.script_phones(audio, NARRATION_SAMPLE_RATE, text, language)
    if aligned is not None and aligned.follows_script:
        return aligned.phones
    measured = f"fit {aligned.fit:.2f}, {aligned.share:.0%} of the phones heard" if aligned else "too short for it"
    log.warning("%s: the narration does not follow its script closely (%s); the mouth follows the phones heard "
                "in it instead", path.name, measured)
    return aligned.heard if aligned is not None else heard.phones(audio, NARRATION_SAMPLE_RATE)


def script_share_heard(speech: Speech, word_count: int) -> float:
    """How much of a script of `word_count` words a recording can hold at most: its voiced time at a pace faster
    than any newsreader's, as a share of the words (1.0 when it has room for them all)."""
    span = voiced_span(speech.audio, speech.sample_rate)
    seconds = span[1] - span[0] if span else 0.0
    return min(1.0, seconds * FAST_WORDS_PER_SECOND / max(word_count, 1))


def _narration_captions(script: Script | None, audio: np.ndarray, segment_words: list[list[str]],
                        timed_words: list[TimedUnit]) -> list[TimedUnit]:
    """One subtitle per sentence: the SRT's own times; else from its first to its last aligned word;
    else (no alignment to the script) the voiced span shared between sentences by their length."""
    if script is None:
        return []
    if all(s.start_s is not None for s in script.segments):
        return [TimedUnit(s.display, s.start_s, s.end_s) for s in script.segments]
    if timed_words:
        captions, done = [], 0
        for segment, words in zip(script.segments, segment_words, strict=True):
            if words:
                start, end = timed_words[done].start, timed_words[done + len(words) - 1].end
            else:  # nothing spoken to align (a line of symbols): it sits between its neighbours' words
                start = timed_words[done - 1].end if done else 0.0
                end = timed_words[done].start if done < len(timed_words) else start
            captions.append(TimedUnit(segment.display, start, end))
            done += len(words)
        return captions
    begin, end = voiced_span(audio, NARRATION_SAMPLE_RATE)  # load_narration has refused silent audio
    return spread_by_length([s.display for s in script.segments], begin, end)


def available_voices() -> dict[str, list[str]]:
    """Voices beyond the catalogue (voice.catalogue): Coqui models and espeak-ng's languages."""
    from .espeak_engine import available_voices as espeak_voices

    piper = ["any Piper voice file: --voice piper:/path/to/voice.onnx (its .onnx.json beside it)"]
    coqui = ["tts_models/en/ljspeech/tacotron2-DDC", "tts_models/en/ljspeech/glow-tts", "tts_models/en/vctk/vits",
             "tts_models/multilingual/multi-dataset/xtts_v2 (Coqui Public Model License: non-commercial use only)",
             "a local checkpoint: --voice coqui:/path/to/folder"]
    return {"piper": piper, "coqui": coqui, "espeak": espeak_voices()}


def check_narration_holds(script: Script, speech: Speech, audio: Path, strict: bool) -> None:
    """Warn (fail when `strict`) when the recording is far too short for the script it comes with."""
    words = script.word_count
    share = script_share_heard(speech, words)
    if share >= MIN_SHARE_HEARD:
        return
    problem = (f"narration of {speech.duration:.1f}s can hold at most {share:.0%} of the script's {words} words; "
               f"the subtitles will not match")
    if strict:
        raise InputError(problem, path=audio, fix="check that the recording and the script belong together")
    log.warning("%s: %s", audio.name, problem)


__all__ = ["ARTIFACT_VERSION", "check_narration_holds", "MIN_SHARE_HEARD", "Speech", "TimedUnit", "VoiceConfig", "synthesize", "load_narration",
           "load_engine", "choose_engine", "available_voices", "script_share_heard", "voice_file_identity"]
