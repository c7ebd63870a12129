"""Phoneme and word timings for recorded English narration, from CMU PocketSphinx's
speaker-independent acoustic model (it ships inside the `pocketsphinx` wheel: nothing to download).

A recording has no phoneme timings of its own, and the mouth follows phonemes far better than it
follows the sound's spectrum (benchmarks/RESULTS.md). With the script's words, the narration is
force-aligned to them phone by phone, which also times every word (and so every subtitle).
Without a script, or when the script has a word the dictionary lacks or does not match the
recording, each stretch between pauses is recognised as words first and aligned to those: a
misheard word still aligns phones that look alike on the lips. Phones come back in IPA, so the
motion stage treats them exactly like a TTS engine's.
"""
from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise
from pathlib import Path

import numpy as np
from scipy.signal import resample_poly

from .types import TimedUnit, spread_by_length

log = logging.getLogger(__name__)

RECOGNISER_RATE = 16000
FRAMES_PER_SECOND = 100
"""PocketSphinx reports times in 10-ms frames."""
MAX_CHUNK_S = 30.0
"""Longer narration is cut at its pauses into pieces of at most this, aligned one by one."""
MIN_CUT_PAUSE_S = 0.25
MAX_TRANSCRIPT_S = 300.0
"""Longer narration is aligned to its script piece by piece (one alignment over the whole script would
have to hold every frame against every word)."""
ALIGNED_LANGUAGES = ("en",)
_DECODER_LOCK = threading.Lock()
"""A recogniser is switched between recognition and alignment, so one narration at a time (the job runner renders
on worker threads, which share a Runtime)."""

ARPABET_TO_IPA = {
    "AA": "ɑ", "AE": "æ", "AH": "ʌ", "AO": "ɔ", "AW": "aʊ", "AY": "aɪ", "B": "b", "CH": "tʃ", "D": "d", "DH": "ð",
    "EH": "ɛ", "ER": "ɝ", "EY": "eɪ", "F": "f", "G": "ɡ", "HH": "h", "IH": "ɪ", "IY": "i", "JH": "dʒ", "K": "k",
    "L": "l", "M": "m", "N": "n", "NG": "ŋ", "OW": "oʊ", "OY": "ɔɪ", "P": "p", "R": "ɹ", "S": "s", "SH": "ʃ",
    "T": "t", "TH": "θ", "UH": "ʊ", "UW": "u", "V": "v", "W": "w", "Y": "j", "Z": "z", "ZH": "ʒ",
}
"""The CMU dictionary's phones; anything else (SIL, breath and noise fillers) is a pause."""
IPA_TO_ARPABET = {**{ipa: arpabet for arpabet, ipa in ARPABET_TO_IPA.items()},
                  "ɒ": "AA", "a": "AE", "ə": "AH", "ɐ": "AH", "e": "EH", "ɚ": "ER", "ɜ": "ER", "ᵻ": "IH", "o": "OW",
                  "ɾ": "T", "ʔ": "T", "r": "R", "g": "G", "x": "K", "ç": "HH", "ɬ": "L"}
"""espeak-ng's English IPA to the dictionary's phones, for script words the dictionary lacks (names, places)."""


def aligns(language: str | None) -> bool:
    """Whether narration in `language` gets phoneme timings (unknown language: assumed English)."""
    return (language or "en").split("-")[0].lower() in ALIGNED_LANGUAGES


@dataclass
class NarrationTimings:
    phonemes: list[TimedUnit]
    """IPA phonemes; pauses are " " units, as between a TTS engine's words."""
    words: list[TimedUnit]
    """The transcript's words in order, timed; empty when the words were recognised, not given."""


def transcript_words(text: str) -> list[str]:
    """The words of a script's spoken text as the dictionary spells them: lower case, apostrophes kept."""
    return re.findall(r"[a-z]+(?:'[a-z]+)*", text.lower())


def align_narration(audio: np.ndarray, sample_rate: int, transcript: list[str] | None = None,
                    recogniser=None) -> NarrationTimings:
    """Time a mono recording's phonemes, against `transcript` (its words) when it is given and usable.
    `recogniser` is `load_recogniser()`'s, kept by the caller (a Runtime); without one, one is loaded for this call."""
    decoder = recogniser if recogniser is not None else load_recogniser()
    speech = resample_poly(audio, RECOGNISER_RATE, sample_rate) if sample_rate != RECOGNISER_RATE else audio
    pcm = (np.clip(speech, -1, 1) * 32767).astype(np.int16)
    with _DECODER_LOCK:
        if transcript and _pronounce(decoder, transcript):
            whole = _align_to_transcript(decoder, pcm.tobytes(), transcript) if len(pcm) <= MAX_TRANSCRIPT_S * RECOGNISER_RATE else None
            return whole or _align_chunks_to_transcript(decoder, pcm, transcript)
        phonemes: list[TimedUnit] = []
        for start, end in speech_chunks(pcm, RECOGNISER_RATE):
            phonemes += [p.shifted(start / RECOGNISER_RATE) for p in _align_to_recognised(decoder, pcm[start:end].tobytes())]
        return NarrationTimings(phonemes, [])


def speech_chunks(pcm: np.ndarray, sample_rate: int, max_chunk_s: float | None = None) -> list[tuple[int, int]]:
    """(start, end) sample ranges covering the recording, cut in the middle of pauses, none longer than
    `max_chunk_s` (default MAX_CHUNK_S)."""
    max_chunk_s = max_chunk_s or MAX_CHUNK_S
    hop = sample_rate // FRAMES_PER_SECOND
    frames = pcm[: len(pcm) // hop * hop].astype(np.float32).reshape(-1, hop)
    level = 10 * np.log10((frames ** 2).mean(axis=1) + 1.0)
    quiet = level < max(np.percentile(level, 95) - 35, level.min() + 3) if len(level) else np.zeros(0, bool)
    max_frames = int(max_chunk_s * FRAMES_PER_SECOND)
    cuts, start = [0], 0
    while len(quiet) - start > max_frames:
        window = quiet[start + max_frames // 2:start + max_frames]
        cut = start + max_frames // 2 + _middle_of_longest_pause(window) if window.any() else start + max_frames
        cuts.append(cut)
        start = cut
    edges = [c * hop for c in cuts] + [len(pcm)]
    return list(zip(edges[:-1], edges[1:], strict=True))


def _middle_of_longest_pause(quiet: np.ndarray) -> int:
    from ..signals import runs

    start, stop = max(runs(quiet), key=lambda pause: pause[1] - pause[0], default=(0, 0))
    return (start + stop) // 2 if stop - start >= MIN_CUT_PAUSE_S * FRAMES_PER_SECOND else len(quiet) - 1


def _pronounce(decoder, transcript: list[str]) -> bool:
    """Teach the dictionary the script's words it lacks (espeak-ng's pronunciation); False if one has none."""
    missing = sorted({word for word in transcript if decoder.lookup_word(word) is None})
    pronunciations = {word: espeak_pronunciation(word) for word in missing}
    unknown = [word for word, phones in pronunciations.items() if not phones]
    if unknown:
        log.info("no pronunciation for script words %s: recognising the narration instead", " ".join(unknown[:5]))
        return False
    for count, (word, phones) in enumerate(pronunciations.items(), 1):
        decoder.add_word(word, phones, count == len(pronunciations))
    return True


def _align_chunks_to_transcript(decoder, pcm: np.ndarray, transcript: list[str]) -> NarrationTimings:
    """Long narration, or one the whole script would not align to: cut at pauses, each piece recognised,
    the script shared out between the pieces by matching those words, and each piece force-aligned to
    its share. A piece whose share will not align keeps the phones of the words heard in it, and its
    share of the script is spread over its speech."""
    chunks = speech_chunks(pcm, RECOGNISER_RATE)
    heard = [_recognise(decoder, pcm[start:end].tobytes()) for start, end in chunks]
    phonemes: list[TimedUnit] = []
    words: list[TimedUnit] = []
    for (start, end), words_heard, (first, last) in zip(chunks, heard, share_transcript(transcript, heard), strict=True):
        piece, share = pcm[start:end].tobytes(), transcript[first:last]
        timed = _align_to_transcript(decoder, piece, share) if share else None
        if timed is None:
            recognised = _phones_of(decoder, piece, words_heard)
            timed = NarrationTimings(recognised, _spread(share, recognised, (end - start) / RECOGNISER_RATE))
        phonemes += [p.shifted(start / RECOGNISER_RATE) for p in timed.phonemes]
        words += [w.shifted(start / RECOGNISER_RATE) for w in timed.words]
    return NarrationTimings(phonemes, words)


def share_transcript(transcript: list[str], heard: list[list[str]]) -> list[tuple[int, int]]:
    """For each piece of narration, the (first, last + 1) range of transcript words it holds.

    Words recognised in a piece and matched to the script (longest common runs) pin the script
    there; the unmatched script words between two pins in different pieces are shared between
    those pieces in proportion to their unmatched recognised words."""
    from difflib import SequenceMatcher

    flat = [word for words in heard for word in words]
    owner = [k for k, words in enumerate(heard) for _ in words]
    pins = [(-1, -1, 0)]  # (script index, recognised index, piece): a pin before the first word...
    for block in SequenceMatcher(None, flat, transcript, autojunk=False).get_matching_blocks():
        pins += [(block.b + j, block.a + j, owner[block.a + j]) for j in range(block.size)]
    pins.append((len(transcript), len(flat), len(heard) - 1))  # ...and one after the last
    piece_of = np.zeros(len(transcript), int)
    for (word_a, heard_a, piece_a), (word_b, heard_b, piece_b) in pairwise(pins):
        if 0 <= word_b < len(transcript):
            piece_of[word_b] = piece_b
        gap = np.arange(word_a + 1, word_b)
        if not len(gap):
            continue
        # Unmatched recognised words per piece between the pins say how much of the gap each piece spoke.
        between = np.asarray(owner[heard_a + 1:heard_b], int)
        unmatched = np.bincount(between, minlength=len(heard))[piece_a:piece_b + 1].astype(float)
        if unmatched.sum() == 0:
            unmatched[[0, -1]] = 1.0
        share = np.cumsum(unmatched) / unmatched.sum() * len(gap)
        piece_of[gap] = piece_a + np.searchsorted(share, np.arange(len(gap)) + 0.5)
    piece_of = np.maximum.accumulate(piece_of) if len(piece_of) else piece_of
    return [(int(np.searchsorted(piece_of, k, "left")), int(np.searchsorted(piece_of, k, "right"))) for k in range(len(heard))]


def _spread(share: list[str], phonemes: list[TimedUnit], duration: float) -> list[TimedUnit]:
    """Words laid over a piece's voiced span in proportion to their length (their timing is not known)."""
    voiced = [p for p in phonemes if p.label.strip()]
    return spread_by_length(share, *((voiced[0].start, voiced[-1].end) if voiced else (0.0, duration)))


def _align_to_transcript(decoder, pcm: bytes, transcript: list[str]) -> NarrationTimings | None:
    """Force-alignment to the script's words (`_pronounce` has taught the dictionary any it lacked)."""
    alignment = _align(decoder, pcm, " ".join(transcript))
    if alignment is None:
        return None
    entries = _spoken(alignment.words())
    if len(entries) != len(transcript):
        return None
    words = [TimedUnit(word, entry.start / FRAMES_PER_SECOND, (entry.start + entry.duration) / FRAMES_PER_SECOND)
             for word, entry in zip(transcript, entries, strict=True)]
    return NarrationTimings(_phonemes(alignment), words)


def espeak_pronunciation(word: str) -> str | None:
    """A word the dictionary lacks, in its phones as espeak-ng's English rules say it ("K AH N T R IY")."""
    import unicodedata

    from piper.phonemize_espeak import EspeakPhonemizer

    ipa = "".join(unicodedata.normalize("NFD", "".join(p for sentence in EspeakPhonemizer().phonemize("en-us", word)
                                                          for p in sentence)))
    phones, index = [], 0
    while index < len(ipa):
        pair = ipa[index:index + 2]
        if pair in IPA_TO_ARPABET:
            phones.append(IPA_TO_ARPABET[pair])
            index += 2
            continue
        if ipa[index] in IPA_TO_ARPABET:
            phones.append(IPA_TO_ARPABET[ipa[index]])
        index += 1  # stress, length, palatalisation and other marks carry no phone
    return " ".join(phones) or None


def _recognise(decoder, pcm: bytes) -> list[str]:
    """The words heard in a stretch of narration."""
    decoder.activate_search()  # recognition, after whatever alignment ran last
    _decode(decoder, pcm)
    hypothesis = decoder.hyp()
    return hypothesis.hypstr.split() if hypothesis is not None else []


def _align_to_recognised(decoder, pcm: bytes) -> list[TimedUnit]:
    return _phones_of(decoder, pcm, _recognise(decoder, pcm))


def _phones_of(decoder, pcm: bytes, heard: list[str]) -> list[TimedUnit]:
    """The phones of the words recognised in a stretch, aligned to it."""
    alignment = _align(decoder, pcm, " ".join(heard)) if heard else None
    return _phonemes(alignment) if alignment is not None else []


def _align(decoder, pcm: bytes, text: str):
    """Word alignment, then the phone-level pass; None when the words cannot be aligned to the audio."""
    try:
        decoder.set_align_text(text)
        _decode(decoder, pcm)
        decoder.set_alignment()
        _decode(decoder, pcm)
        return decoder.get_alignment()
    except RuntimeError as error:
        log.warning("phoneme alignment failed on a stretch of narration (%s)", error)
        return None


def _spoken(entries):
    return [entry for entry in entries if not entry.name.startswith(("<", "["))]


def _phonemes(alignment) -> list[TimedUnit]:
    return [TimedUnit(ARPABET_TO_IPA.get(phone.name, " "), phone.start / FRAMES_PER_SECOND,
                      (phone.start + phone.duration) / FRAMES_PER_SECOND) for phone in alignment.phones()]


def _decode(decoder, pcm: bytes) -> None:
    # Only the recognition pass may be asked for hyp(): PocketSphinx 5 crashes on it in alignment mode.
    decoder.start_utt()
    decoder.process_raw(pcm, no_search=False, full_utt=True)
    decoder.end_utt()


def load_recogniser():
    """PocketSphinx's English recogniser (about a second to load: a 27 MB language model); a Runtime keeps one."""
    from pocketsphinx import Decoder

    files = model_files()
    return Decoder(hmm=str(files["acoustic"]), lm=str(files["language"]), dict=str(files["dictionary"]),
                   samprate=RECOGNISER_RATE, loglevel="FATAL")


def model_files() -> dict[str, Path]:
    from pocketsphinx import get_model_path

    root = Path(get_model_path()) / "en-us"
    return {"acoustic": root / "en-us", "language": root / "en-us.lm.bin", "dictionary": root / "cmudict-en-us.dict"}


@lru_cache(maxsize=1)
def model_checksums() -> dict[str, str]:
    """Path -> sha256 of the recogniser's files, for the clip's manifest."""
    from ..assets import sha256_of

    files = model_files()
    acoustic = sorted(p for p in files["acoustic"].iterdir() if p.is_file() and p.name != "README")
    paths = [files["language"], files["dictionary"], *acoustic]
    return {str(p): sha256_of(p) for p in paths}


__all__ = ["align_narration", "load_recogniser", "NarrationTimings", "transcript_words", "espeak_pronunciation", "aligns", "speech_chunks",
           "share_transcript", "model_checksums", "ARPABET_TO_IPA"]
