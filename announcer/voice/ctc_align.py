"""Narration aligned to its script's own phones, in any language: the script's phones in hama's inventory, and a
CTC forced alignment of them to the recogniser's per-frame log-probabilities.

Free recognition can hear sounds that are not there (a false "m" shuts the lips hard); aligning to the phones the
script says cannot. Korean phones come from hama's own G2P (the recogniser's inventory); every other language
from espeak-ng's IPA, split into the inventory's tokens by longest match.
"""
from __future__ import annotations

import re
import unicodedata

import numpy as np

ESPEAK_VOICES = {"zh": "cmn", "en": "en-us"}
"""espeak-ng voice for a language code, where it is not the code itself."""
_NOT_PHONES = re.compile(r"[\sˈˌ.,;:!?¡¿\"'()\[\]\-–—…‿|]+")


def is_modifier(token: str) -> bool:
    """Length marks, nasalisation, aspiration and the like: part of the phone before them, not a mouth shape."""
    return all(unicodedata.category(ch) in ("Mn", "Lm", "Sk") for ch in token)


class ScriptPhonemiser:
    """Text to phone tokens in the recogniser's inventory. hama's Korean G2P loads on first Korean text."""

    def __init__(self, inventory: list[str]):
        self._tokens = sorted({t for t in inventory if t.strip() and not t.startswith("<")}, key=len, reverse=True)
        self._longest = max(len(t) for t in self._tokens)
        self._known = set(self._tokens)
        self._korean = None
        self._espeak = None

    def __call__(self, text: str, language: str) -> list[str]:
        code = language.replace("_", "-").lower().split("-")[0]
        ipa = self._korean_ipa(text) if code == "ko" else self._espeak_ipa(text, code)
        return self._split(_NOT_PHONES.sub("", unicodedata.normalize("NFC", ipa)))

    def _korean_ipa(self, text: str) -> str:
        if self._korean is None:
            from hama import G2PModel

            self._korean = G2PModel()
        return self._korean.predict(text).ipa

    def _espeak_ipa(self, text: str, code: str) -> str:
        if self._espeak is None:
            from piper.phonemize_espeak import EspeakPhonemizer

            self._espeak = EspeakPhonemizer()
        sentences = self._espeak.phonemize(ESPEAK_VOICES.get(code, code), text)
        return "".join("".join(sentence) for sentence in sentences)

    def _split(self, ipa: str) -> list[str]:
        """Longest match against the inventory; a character it does not know is dropped."""
        tokens, at = [], 0
        while at < len(ipa):
            for size in range(min(self._longest, len(ipa) - at), 0, -1):
                if ipa[at:at + size] in self._known:
                    tokens.append(ipa[at:at + size])
                    at += size
                    break
            else:
                at += 1
        return tokens


def forced_alignment(log_probs: np.ndarray, tokens: list[int], blank: int) -> tuple[list[int], float] | None:
    """(first frame of each token, mean log-probability per frame of the best path), or None where the frames
    cannot hold the tokens. Viterbi over the CTC states: blank, token 1, blank, token 2, ..., blank."""
    frames = len(log_probs)
    states = np.full(2 * len(tokens) + 1, blank, np.int64)
    states[1::2] = tokens
    if not tokens or frames < len(tokens):
        return None
    may_skip = np.zeros(len(states), bool)  # a token may follow the token before it directly, unless it repeats it
    may_skip[3::2] = states[3::2] != states[1:-2:2]
    score = np.full(len(states), -np.inf)
    score[:2] = log_probs[0, states[:2]]
    moves = np.zeros((frames, len(states)), np.int8)
    for frame in range(1, frames):
        stay, step = score, np.concatenate([[-np.inf], score[:-1]])
        skip = np.where(may_skip, np.concatenate([[-np.inf, -np.inf], score[:-2]]), -np.inf)
        choices = np.stack([stay, step, skip])
        moves[frame] = choices.argmax(axis=0)
        score = choices.max(axis=0) + log_probs[frame, states]
    state = len(states) - 1 if score[-1] >= score[-2] else len(states) - 2
    best = float(score[state])
    if not np.isfinite(best):
        return None
    first_frame = [0] * len(tokens)
    for frame in range(frames - 1, -1, -1):
        if state % 2:
            first_frame[state // 2] = frame
        state -= int(moves[frame, state])
    return first_frame, best / frames


__all__ = ["ScriptPhonemiser", "forced_alignment", "is_modifier"]
