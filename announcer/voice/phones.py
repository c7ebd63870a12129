"""Phoneme timings for recorded narration in any language, from hama's waveform phoneme recogniser.

PocketSphinx (voice.align) knows only English. hama (Apache-2.0; its weights and a small native
engine ship inside the wheel, so nothing is downloaded) hears IPA phones in any language: a CTC
model on 20-ms frames. Each phone is timed from the frame it is heard in to the next phone (word
boundaries do not end it: the lips go on), never longer than MAX_PHONE_S, and cut where the voice
pauses, so the mouth shuts in pauses. The phones are what the lips did, whatever the language,
which is all the motion stage needs.
"""
from __future__ import annotations

import os
import queue
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from scipy.signal import resample_poly

from .ctc_align import ScriptPhonemiser, forced_alignment, is_modifier
from .types import TimedUnit

RECOGNISER_RATE = 16000
FRAME_SAMPLES = 320
"""hama's recogniser emits one token per 20 ms (a 160-sample hop, subsampled by 2)."""
ONSET_LEAD_S = 0.06
"""CTC emits a phone a little after it begins: against Piper's own phone times, 32 ms late (median). Leading by 60 ms
scored best on the held-out clips (benchmarks/RESULTS.md)."""
MAX_PHONE_S = 0.3
"""A phone heard before a pause ends this long after it starts at most (CTC only says where a phone begins)."""
MIN_PAUSE_S = 0.15
"""Quiet stretches this long are pauses (shorter ones are the closures of stops, where a phone goes on)."""
MIN_SCRIPT_FIT = -1.5
"""Below this ScriptFit.fit a recording is taken not to follow its script. Measured on jfk.wav and eight LJ Speech
clips: their own transcripts fit at -0.66 to -1.36, another clip's transcript at -1.82 to -3.77, and French text of
the same length on the German recording at -1.58."""
SCRIPT_SHARE = (0.7, 1.4)
"""The script's phones per phone heard, for a recording of that script: 0.90 to 1.10 on the same nine clips. A
script of two words on nine seconds of speech fits well (blanks absorb the rest) but holds a tenth of its phones."""
QUIET_SHARE = 0.05
STRETCH_S = 4.0
"""The model hears narration in stretches of at most this long, several at once, each cut in a pause or else at the
quietest moment. Its cost grows faster than the stretch: 28 s of German took 4.5 s in one piece, 2.4 s in 3.5-s
pieces."""
CONTEXT_FRAMES = 12
"""Each stretch is heard with this many 20-ms frames of its neighbours on either side, and only its own frames are
kept, so no phone near a cut is heard without what comes before and after it."""
MAX_SESSIONS = 4
"""hama's engine computes on one core and releases the GIL, so stretches are heard on this many sessions at once
(at most one per core). Each session is a copy of the 22 MB model."""


class PhoneRecogniser:
    """hama's phoneme recogniser, loaded once (a Runtime keeps it)."""

    def __init__(self, sessions: int | None = None):
        from hama import ASRModel

        self._model = ASRModel()
        self._sessions: queue.Queue = queue.Queue()
        for _ in range(sessions or min(MAX_SESSIONS, os.cpu_count() or 1)):
            self._sessions.put(self._model if self._sessions.empty() else ASRModel())
        self._script_phonemiser: ScriptPhonemiser | None = None
        self._token_ids: dict[str, int] = {}

    def phones(self, audio: np.ndarray, sample_rate: int) -> list[TimedUnit]:
        """IPA phones (hama's inventory) timed on the recording's timeline."""
        speech = _at_recogniser_rate(audio, sample_rate)
        quiet = pauses(speech, RECOGNISER_RATE)
        return self._heard(self._log_probs_by_stretch(speech, quiet), quiet)

    def script_phones(self, audio: np.ndarray, sample_rate: int, text: str, language: str) -> ScriptFit | None:
        """The phones `text` says (in `language`), timed by aligning them to the recording, with the phones heard
        in it from the same pass of the model; None where the recording is too short to hold them."""
        speech = _at_recogniser_rate(audio, sample_rate)
        quiet = pauses(speech, RECOGNISER_RATE)
        chunks = self._log_probs_by_stretch(speech, quiet)
        frame_s = FRAME_SAMPLES / RECOGNISER_RATE
        log_probs = np.concatenate([chunk for _, chunk in chunks])
        frame_times = np.concatenate([offset + np.arange(len(chunk)) * frame_s for offset, chunk in chunks])
        tokens = self._phonemiser()(text, language)
        ids = [self._token_ids[token] for token in tokens]
        aligned = forced_alignment(log_probs, ids, self._model.blank_id)
        if aligned is None:
            return None
        first_frames, fit = aligned
        said = [(float(frame_times[frame]), token) for frame, token in zip(first_frames, tokens, strict=True)
                if not is_modifier(token)]
        next_starts = [start for start, _ in said[1:]] + [float(frame_times[-1]) + frame_s]
        phones = [_timed(label, start, next_start) for (start, label), next_start in zip(said, next_starts, strict=True)]
        free_fit = float(log_probs.max(axis=1).mean())
        return ScriptFit(_ended_by_pauses(phones, quiet), fit - free_fit,
                         len(said) / max(self._phones_heard(log_probs), 1), self._heard(chunks, quiet))

    def _phones_heard(self, log_probs: np.ndarray) -> int:
        """How many phones free recognition hears in these frames (the greedy CTC path)."""
        tokens = self._model.decoder_tokens
        emitted = _emissions(list(log_probs.argmax(axis=1)), self._model.blank_id)
        return sum(1 for _, token in emitted if _is_sound(tokens[token]) and not is_modifier(tokens[token]))

    def _heard(self, chunks: list[tuple[float, np.ndarray]], quiet: list[tuple[float, float]]) -> list[TimedUnit]:
        phones: list[TimedUnit] = []
        for offset, log_probs in chunks:
            phones += [p.shifted(offset) for p in self._recognise(log_probs)]
        return _ended_by_pauses(phones, quiet)

    def _recognise(self, log_probs: np.ndarray) -> list[TimedUnit]:
        """One stretch's phones, decoded from its log-probabilities as hama decodes them."""
        frames = self._model._decode_single(log_probs, len(log_probs)).frame_token_ids
        tokens = self._model.decoder_tokens
        heard = [(frame, tokens[token]) for frame, token in _emissions(frames, self._model.blank_id)]
        # Word boundaries, unknown sounds and marks (links, tones, commas) are emissions too, but the lips go on
        # from one phone to the next.
        heard = [(frame, label) for frame, label in heard if _is_sound(label)]
        if not heard:  # a stretch of breath or noise: no phone at all
            return []
        frame_s = FRAME_SAMPLES / RECOGNISER_RATE
        next_frames = [frame for frame, _ in heard[1:]] + [len(frames)]
        return [_timed(label, frame * frame_s, next_frame * frame_s)
                for (frame, label), next_frame in zip(heard, next_frames, strict=True)]

    def _log_probs_by_stretch(self, speech: np.ndarray, quiet: list[tuple[float, float]]) -> list[tuple[float, np.ndarray]]:
        """(start in seconds, frames x tokens log-probabilities) for each of the recording's stretches (_stretches),
        heard several at once: the one pass of the model that both free recognition and alignment to a script read."""
        stretches = _stretches(speech, quiet)
        with ThreadPoolExecutor(max_workers=self._sessions.qsize() or 1) as pool:
            heard = list(pool.map(lambda stretch: self._stretch_log_probs(speech, *stretch), stretches))
        return [(start / RECOGNISER_RATE, log_probs) for (start, _), log_probs in zip(stretches, heard, strict=True)]

    def _stretch_log_probs(self, speech: np.ndarray, start: int, end: int) -> np.ndarray:
        """The frames of speech[start:end] (whole frames from `start`), heard with CONTEXT_FRAMES either side."""
        context = CONTEXT_FRAMES * FRAME_SAMPLES
        before = min(start, context) // FRAME_SAMPLES
        log_probs = self._log_probs(speech[start - before * FRAME_SAMPLES:end + context])
        return log_probs[before:before + -(-(end - start) // FRAME_SAMPLES)]

    def _log_probs(self, wav: np.ndarray) -> np.ndarray:
        """Audio through a free session (render threads that share a Runtime share these sessions too)."""
        wav = wav.reshape(1, -1).astype(np.float32)
        model = self._sessions.get()
        try:
            log_probs, lengths = model.session.run(
                [model._log_probs_output_name, model._out_lengths_output_name],
                {model._waveform_input_name: wav, model._waveform_lengths_input_name: np.array([wav.shape[1]], np.int64)})
        finally:
            self._sessions.put(model)
        return log_probs[0][: int(np.ravel(lengths)[0])]

    def _phonemiser(self) -> ScriptPhonemiser:
        if self._script_phonemiser is None:
            self._script_phonemiser = ScriptPhonemiser(list(self._model.decoder_tokens))
            self._token_ids = {token: index for index, token in enumerate(self._model.decoder_tokens)}
        return self._script_phonemiser


@dataclass
class ScriptFit:
    phones: list[TimedUnit]
    fit: float
    """How much worse the script's phones explain the recording than the recogniser's own best guess: mean
    log-probability per frame, script path minus free path (0 at best; more negative, a worse match)."""
    share: float
    """The script's phones as a share of the phones heard: far under 1, the recording says more than the script."""
    heard: list[TimedUnit]
    """The phones free recognition hears in the recording: what to time it by where it does not follow its script."""

    @property
    def follows_script(self) -> bool:
        return self.fit >= MIN_SCRIPT_FIT and SCRIPT_SHARE[0] <= self.share <= SCRIPT_SHARE[1]


def _at_recogniser_rate(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    if sample_rate == RECOGNISER_RATE:
        return audio
    return resample_poly(audio, RECOGNISER_RATE, sample_rate).astype(np.float32)


def _stretches(speech: np.ndarray, quiet: list[tuple[float, float]]) -> list[tuple[int, int]]:
    """(start, end) sample ranges covering the recording, at most STRETCH_S long, cut on frame boundaries: in the
    middle of the longest pause in the second half of each stretch, else at its quietest 20-ms frame there."""
    frames = len(speech) // FRAME_SAMPLES
    level = (speech[: frames * FRAME_SAMPLES].reshape(frames, FRAME_SAMPLES).astype(np.float32) ** 2).mean(axis=1)
    frame_s = FRAME_SAMPLES / RECOGNISER_RATE
    longest = int(STRETCH_S / frame_s)
    cuts = [0]
    while frames - cuts[-1] > longest:
        earliest, latest = cuts[-1] + longest // 2, cuts[-1] + longest
        inside = [(b - a, (a + b) / 2) for a, b in quiet if earliest * frame_s < (a + b) / 2 <= latest * frame_s]
        cuts.append(int(max(inside)[1] / frame_s) if inside else earliest + int(np.argmin(level[earliest:latest])))
    edges = [cut * FRAME_SAMPLES for cut in cuts] + [len(speech)]
    return list(zip(edges[:-1], edges[1:], strict=True))


def _is_sound(label: str) -> bool:
    """A phone (or a mark on one), not a word boundary, an unknown sound, a link, a tone number or a comma."""
    return any(c.isalpha() for c in label) and not label.startswith("<")


def _timed(label: str, start_s: float, next_start_s: float) -> TimedUnit:
    """A phone heard at `start_s`, running to the next phone (at most MAX_PHONE_S), led by ONSET_LEAD_S."""
    frame_s = FRAME_SAMPLES / RECOGNISER_RATE
    start = max(start_s - ONSET_LEAD_S, 0.0)
    end = min(next_start_s, start_s + MAX_PHONE_S) - ONSET_LEAD_S
    return TimedUnit(label, start, max(end, start + frame_s))


def _emissions(frame_tokens: list[int], blank: int) -> list[tuple[int, int]]:
    """(frame, token) where CTC emits a token: the first frame of each run of one token that is not blank."""
    emitted, previous = [], None
    for frame, token in enumerate(frame_tokens):
        if token != previous and token != blank:
            emitted.append((frame, token))
        previous = token
    return emitted


def pauses(audio: np.ndarray, sample_rate: int) -> list[tuple[float, float]]:
    """(start, end) seconds of every stretch of at least MIN_PAUSE_S where the voice is quiet: its level under
    QUIET_SHARE of the recording's loud level (the 95th percentile, in 10-ms frames)."""
    hop = sample_rate // 100
    frames = audio[: len(audio) // hop * hop].reshape(-1, hop)
    level = np.sqrt((frames.astype(np.float32) ** 2).mean(axis=1))
    quiet = np.concatenate([[False], level < QUIET_SHARE * np.percentile(level, 95), [False]]) if len(level) else np.zeros(2, bool)
    edges = np.flatnonzero(np.diff(quiet.astype(np.int8)))
    return [(a / 100, b / 100) for a, b in zip(edges[::2], edges[1::2], strict=True) if (b - a) / 100 >= MIN_PAUSE_S]


def _ended_by_pauses(phones: list[TimedUnit], quiet: list[tuple[float, float]]) -> list[TimedUnit]:
    """Each phone cut where a pause begins inside it: CTC times a phone's start, and the voice says where it stopped."""
    starts = np.array([start for start, _ in quiet])
    ended = []
    for phone in phones:
        inside = starts[(starts > phone.start) & (starts < phone.end)]
        ended.append(TimedUnit(phone.label, phone.start, max(float(inside[0]), phone.start + 0.02)) if len(inside) else phone)
    return ended


def load_phone_recogniser() -> PhoneRecogniser:
    return PhoneRecogniser()


def model_files() -> dict[str, Path]:
    from importlib import resources

    return {"phones": Path(str(resources.files("hama.assets").joinpath("asr_waveform.hama")))}


@lru_cache(maxsize=1)
def model_checksums() -> dict[str, str]:
    """Path -> sha256 of the recogniser's weights, for the clip's manifest."""
    from ..assets import sha256_of

    return {str(path): sha256_of(path) for path in model_files().values()}


__all__ = ["PhoneRecogniser", "load_phone_recogniser", "model_checksums", "MAX_PHONE_S"]
