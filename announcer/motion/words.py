"""The script's words on the clip's timeline, with the moment of each word's stressed vowel, and the words a reader
accents: where the head beats and the brows rise.

Times come from the voice's phonemes (Piper and espeak mark word breaks and primary stress); a voice without phoneme
timings (recorded narration that was not aligned) spreads each sentence's words over its caption by length.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..script.parse import Script, spoken_words_of
from ..timeline import TimedUnit, spread_by_length

VOWELS = set("aeiouyæɑɐɒɔəɘɚɛɜɝɞɤɨɪɯɵøœɶʉʊʌ")
PRIMARY_STRESS, WORD_BREAK, PHRASE_MARKS = "ˈ", " ", set(",.;:!?—")
BOUNDARY_PHONES = {"^", "$", "_"}
STRESS_SHARE = 0.35
"""Where in a word of unknown phonemes its stressed vowel is taken to start, as a share of the word's length."""
FUNCTION_WORDS_EN = frozenset(
    "a an the and or but nor so yet of to in on at by for with from into onto over under about as than then that this "
    "these those there here it its it's is are was were be been being am has have had do does did will would shall "
    "should can could may might must i you he she we they me him her us them my your his our their who whom whose "
    "which what when where why how not no if also just very too up out off down all any some such each both".split())


@dataclass(frozen=True)
class SpokenWord:
    text: str
    """As spoken (normalised, lower case); "" where the voice read more words than the script shows."""
    start: float
    end: float
    stress: float
    """When its stressed vowel starts, in seconds on the clip's timeline."""
    sentence: int
    phrase_end: bool
    """The last word before a comma or the sentence's end."""


def spoken_words(script: Script, captions: list[TimedUnit], phonemes: list[TimedUnit]) -> list[SpokenWord]:
    """Every spoken word of the script, in order. Sentences are the captions (one per script segment)."""
    words: list[SpokenWord] = []
    for index, (segment, caption) in enumerate(zip(script.segments, captions, strict=False)):
        texts = spoken_words_of(segment.spoken)
        phrase_ends = _phrase_ends(segment.spoken)
        heard = [p for p in phonemes if caption.start - 1e-3 <= p.start < caption.end + 1e-3]
        timed = _phoneme_words(heard) if heard else _spread(texts, caption)
        sources = _matching([size for *_, size in timed], [len(text) for text in texts])
        for position, ((start, end, stress, phrase_end, _), source) in enumerate(zip(timed, sources, strict=True)):
            text = texts[source] if source is not None else ""
            ends_phrase = phrase_end if heard else phrase_ends[source] if source is not None else False
            words.append(SpokenWord(text, start, end, stress, index, ends_phrase or position == len(timed) - 1))
    return words


def focal_words(words: list[SpokenWord], emphasis: dict[int, tuple[str, ...]], language: str) -> list[int]:
    """Indices into `words` of those a newsreader accents: every emphasised word, the last content word of each phrase
    (English puts its nuclear accent there; Korean accents a phrase's first word), and the first content word of a
    long phrase. Sorted by time."""
    chosen: set[int] = set()
    phrase: list[int] = []
    for index, word in enumerate(words):
        if word.text and word.text in emphasis.get(word.sentence, ()):
            chosen.add(index)
        phrase.append(index)
        if word.phrase_end:
            chosen.update(_phrase_accents(words, phrase, language))
            phrase = []
    return sorted(chosen, key=lambda k: words[k].stress)


def emphasised(words: list[SpokenWord], emphasis: dict[int, tuple[str, ...]]) -> list[int]:
    return [k for k, word in enumerate(words) if word.text and word.text in emphasis.get(word.sentence, ())]


def _phrase_accents(words: list[SpokenWord], phrase: list[int], language: str) -> list[int]:
    content = [k for k in phrase if _is_content(words[k].text, language)] or phrase[-1:]
    nuclear = content[0] if language.startswith("ko") else content[-1]
    accents = [nuclear]
    if len(phrase) >= 6 and content[0] != nuclear:
        accents.append(content[0] if not language.startswith("ko") else content[len(content) // 2])
    return accents


def _is_content(text: str, language: str) -> bool:
    if not text:
        return False
    if language.startswith("en"):
        return text not in FUNCTION_WORDS_EN
    return True


def _phoneme_words(phones: list[TimedUnit]) -> list[tuple[float, float, float, bool, int]]:
    """(start, end, stressed vowel, ends a phrase, how many sounds) for each word of one sentence's phonemes."""
    words, current = [], []

    def close(phrase_end: bool) -> None:
        if current:
            sounds = sum(phone.label != PRIMARY_STRESS and phone.label != "ˌ" for phone in current)
            words.append((current[0].start, current[-1].end, _stressed_vowel(current), phrase_end, sounds))
            current.clear()
        elif phrase_end and words:
            words[-1] = (*words[-1][:3], True, words[-1][4])

    for phone in phones:
        if phone.label in BOUNDARY_PHONES or phone.label == WORD_BREAK:
            close(False)
        elif phone.label in PHRASE_MARKS:
            close(True)
        else:
            current.append(phone)
    close(False)
    return words


def _stressed_vowel(phones: list[TimedUnit]) -> float:
    """The start of the vowel after the primary stress mark, else of the first vowel, else of the word."""
    vowels = [k for k, phone in enumerate(phones) if phone.label and phone.label[0] in VOWELS]
    marks = [k for k, phone in enumerate(phones) if phone.label == PRIMARY_STRESS]
    after_mark = [k for k in vowels if marks and k > marks[0]]
    chosen = after_mark or vowels
    return phones[chosen[0]].start if chosen else phones[0].start


def _spread(texts: list[str], caption: TimedUnit) -> list[tuple[float, float, float, bool, int]]:
    return [(unit.start, unit.end, unit.start + STRESS_SHARE * (unit.end - unit.start), False, len(unit.label))
            for unit in spread_by_length(texts or [""], caption.start, caption.end)]


def _phrase_ends(spoken: str) -> list[bool]:
    tokens = [token for token in spoken.split() if spoken_words_of(token)]
    return [token[-1] in PHRASE_MARKS for token in tokens]


def _matching(heard: list[int], written: list[int]) -> list[int | None]:
    """For each word the voice read (its length in sounds), the script word (its length in letters) it reads. The same
    count pairs them in order; otherwise (a voice may run 'was the' into one word, or read 'snake_case' as two) the
    words' middles along the sentence are aligned by dynamic time warping, which keeps them in order."""
    if not written:
        return [None] * len(heard)
    if len(heard) == len(written):
        return list(range(len(heard)))
    heard_edges, written_edges = _cumulative_shares(heard), _cumulative_shares(written)
    cost = np.abs((heard_edges[:-1] + heard_edges[1:])[:, None] / 2 - (written_edges[:-1] + written_edges[1:])[None] / 2)
    total = np.full((len(heard) + 1, len(written) + 1), np.inf)
    total[0, 0] = 0
    for i in range(1, len(heard) + 1):
        for j in range(1, len(written) + 1):
            total[i, j] = cost[i - 1, j - 1] + min(total[i - 1, j - 1], total[i - 1, j], total[i, j - 1])
    pairs, i, j = {}, len(heard), len(written)
    while i > 0 and j > 0:
        if i - 1 not in pairs or cost[i - 1, j - 1] < cost[i - 1, pairs[i - 1]]:
            pairs[i - 1] = j - 1
        step = int(np.argmin([total[i - 1, j - 1], total[i - 1, j], total[i, j - 1]]))
        i, j = (i - 1, j - 1) if step == 0 else (i - 1, j) if step == 1 else (i, j - 1)
    return [pairs.get(k, 0) for k in range(len(heard))]


def _cumulative_shares(sizes: list[int]) -> np.ndarray:
    sizes = np.maximum(np.asarray(sizes, float), 1)
    return np.concatenate([[0.0], np.cumsum(sizes)]) / sizes.sum()


__all__ = ["SpokenWord", "emphasised", "focal_words", "spoken_words"]
