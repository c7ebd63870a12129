"""The face acts the script (motion.acting, generate.acted): emphasis read from Markdown, words timed from phonemes, the
words a reader accents, beats on their stressed vowels, the tone's smile and brows eased in, lip closures kept.
Pure: no shared media."""
import numpy as np
import pytest

from announcer.face import layout
from announcer.generate.acted import act, corner_lift
from announcer.motion.acting import EASE_S, NOD_LEAD_S, ActingInput, plan_acting
from announcer.motion.words import focal_words, spoken_words
from announcer.script.parse import read_script
from announcer.timeline import TimedUnit

FPS = 25


def phones(text: str, start: float, step: float = 0.06) -> list[TimedUnit]:
    """Phonemes one after another, `step` apart: '|' splits them, '_' is a word break (as Piper gives ' ')."""
    units, at = [], start
    for label in text.split("|"):
        units.append(TimedUnit(" " if label == "_" else label, at, at + step))
        at += step
    return units


def script(tmp_path, text: str):
    path = tmp_path / "s.md"
    path.write_text(text, encoding="utf-8")
    return read_script(path)


def test_markdown_emphasis_reaches_the_segments_as_spoken_words(tmp_path):
    segments = script(tmp_path, "The vote was *close*. It was **the biggest** defeat in _20 years_. A snake_case_name "
                                "and a `code` word.\n").segments
    assert [s.display for s in segments] == ["The vote was close.", "It was the biggest defeat in 20 years.",
                                             "A snake_case_name and a code word."]
    assert [s.emphasis for s in segments] == [("close",), ("the", "biggest", "twenty", "years"), ()]


def test_tone_auto_hands_the_tone_back_to_the_analysis(tmp_path):
    segments = script(tmp_path, "[tone grave] One. [tone auto] Two.\n\nThree.\n").segments
    assert [s.tone for s in segments] == ["grave", None, None]


def test_words_are_timed_from_phonemes_with_their_stressed_vowel(tmp_path):
    read = script(tmp_path, "Good evening, the *council* voted.\n")
    caption = TimedUnit(read.segments[0].display, 0.5, 3.0)
    units = phones("^|ɡ|ˈ|ʊ|d|_|ˈ|i|ː|v|n|ɪ|ŋ|,|_|ð|ə|_|k|ˈ|a|ʊ|n|s|ə|l|_|v|ˈ|o|ʊ|t|ɪ|d|.|$", 0.5)
    words = spoken_words(read, [caption], units)
    assert [w.text for w in words] == ["good", "evening", "the", "council", "voted"]
    assert [w.phrase_end for w in words] == [False, True, False, False, True]
    council = words[3]
    assert council.stress == pytest.approx(next(u.start for u in units if u.label == "a"))
    focal = focal_words(words, {0: read.segments[0].emphasis}, "en")
    assert [words[k].text for k in focal] == ["evening", "council", "voted"]  # emphasis, and each phrase's last content word


def test_a_voice_that_runs_words_together_still_finds_the_script_words(tmp_path):
    read = script(tmp_path, "It was the *biggest* defeat.\n")
    units = phones("^|ɪ|t|_|w|ʌ|z|ð|ə|_|b|ˈ|ɪ|ɡ|ɪ|s|t|_|d|ᵻ|f|ˈ|i|ː|t|.|$", 0.0)  # espeak reads "was the" as one word
    words = spoken_words(read, [TimedUnit("", 0.0, 2.0)], units)
    assert [w.text for w in words] == ["it", "was", "biggest", "defeat"]


def bulletin(tmp_path):
    read = script(tmp_path, "Good evening, and welcome.\n\nThree people *died* in a fire.\n\nHave a lovely evening.\n")
    captions, units, at = [], [], 0.3
    for segment in read.segments:
        words = segment.spoken.strip(".").replace(",", "").split()
        start = at
        for word in words:
            units += phones("|".join(["ˈ", "a", *word[1:4]]), at) + [TimedUnit(" ", at, at)]
            at += 0.06 * (1 + len(word[1:4])) + 0.12
        captions.append(TimedUnit(segment.display, start, at))
        at += 0.8
    return read, captions, units, int(at * FPS) + 10


def test_the_head_beats_on_accented_words_and_the_face_takes_each_sentences_tone(tmp_path):
    read, captions, units, frames = bulletin(tmp_path)
    acting = plan_acting(ActingInput(read, ["warm", "grave", "warm"], 1.0), captions, units, frames, FPS,
                         np.random.default_rng(0), is_photo=True, head_amount=1.0)
    died = next(w.stress for w in spoken_words(read, captions, units) if w.text == "died")
    assert any(abs(t - died) < 1e-6 for t in acting.emphasised)
    assert any(abs(t - died) < 1e-6 for t in acting.beats) and any(abs(t - died) < 1e-6 for t in acting.brow_raises)
    pitch_rate = np.gradient(acting.head[:, 0]) * FPS
    for beat in acting.beats:  # the chin's downward stroke is fastest just as the stressed vowel starts
        window = slice(int((beat - NOD_LEAD_S) * FPS), int((beat + 0.2) * FPS))
        peak = (window.start + int(np.argmax(pitch_rate[window]))) / FPS
        assert -0.1 <= peak - beat <= 0.2
    middle = lambda caption: int((caption.start + caption.end) / 2 * FPS)
    assert acting.smile[middle(captions[0])] > 0.95 and acting.smile[middle(captions[1])] < 0.05
    assert acting.brow[middle(captions[1]) - 8] < -0.3  # grave brows lowered, away from the raise on "died"
    change = (captions[0].end + captions[1].start) / 2
    first_change = slice(0, middle(captions[1]))
    easing = np.flatnonzero((acting.smile[first_change] < 0.99) & (acting.smile[first_change] > 0.01)) / FPS
    assert 0.4 <= easing.max() - easing.min() <= 1.0 and abs((easing.max() + easing.min()) / 2 - change) < 0.1
    assert EASE_S <= 1.0


def test_expressiveness_scales_the_acting_and_zero_leaves_the_face_still(tmp_path):
    read, captions, units, frames = bulletin(tmp_path)
    acted = {level: plan_acting(ActingInput(read, ["warm", "grave", "warm"], level), captions, units, frames, FPS,
                                np.random.default_rng(0), is_photo=True, head_amount=1.0) for level in (0.0, 0.5, 1.0)}
    assert acted[0.0] is None
    assert np.std(acted[0.5].head[:, 0]) == pytest.approx(np.std(acted[1.0].head[:, 0]) / 2, rel=1e-4)
    video = plan_acting(ActingInput(read, ["warm", "grave", "warm"], 1.0), captions, units, frames, FPS,
                        np.random.default_rng(0), is_photo=False, head_amount=1.0)
    assert np.abs(video.head[:, 2]).max() == 0 and np.abs(video.head[:, 0]).max() < np.abs(acted[1.0].head[:, 0]).max()


def face(lift: float = 0.0) -> np.ndarray:
    """A plain frontal face in face coordinates, mouth closed, its corners `lift` above the lips' middle."""
    points = np.zeros((68, 2), np.float32)
    points[layout.RIGHT_EYE] = [-0.5, 0.0]
    points[layout.LEFT_EYE] = [0.5, 0.0]
    points[layout.BROWS, 0] = np.linspace(-0.7, 0.7, 10)
    points[layout.BROWS, 1] = -0.35
    points[layout.OUTER_LIPS, 0] = np.linspace(-0.4, 0.4, 12)
    points[layout.INNER_LIPS, 0] = np.linspace(-0.35, 0.35, 8)
    points[layout.LIPS, 1] = 1.0
    points[[48, 54, 60, 64], 1] = 1.0 - lift
    return points


def acting_of(smile: float, brow: float = 0.0, head=(0.0, 0.0, 0.0), weight: float = 1.0):
    from announcer.motion.acting import Acting

    empty = np.zeros(0)
    return Acting(np.array([head], np.float32), np.array([smile], np.float32), np.array([brow], np.float32), weight,
                  empty, empty, empty, empty)


def test_a_smiling_face_reads_grave_news_with_neutral_corners_and_its_lips_still_meet():
    smiling = face(lift=0.09)
    grave = act(smiling[None], smiling, acting_of(0.0))[0]
    warm = act(face()[None], face(), acting_of(1.0))[0]
    assert corner_lift(grave) <= 1e-6 and corner_lift(warm) >= 0.07 - 1e-6
    for acted in (grave, warm):
        gaps = [acted[lower, 1] - acted[upper, 1] for upper, lower in layout.INNER_LIP_PAIRS]
        assert np.allclose(gaps, 0, atol=1e-6)  # a p, b or m still closes
    raised = act(face()[None], face(), acting_of(0.5, brow=1.0))[0]
    assert (raised[layout.BROWS, 1] < face()[layout.BROWS, 1] - 0.05).all()
    assert np.array_equal(raised[layout.RIGHT_EYE], face()[layout.RIGHT_EYE])


def test_the_head_turns_in_3d_and_nothing_moves_when_nothing_acts():
    still = act(face()[None], face(), acting_of(0.5, weight=0.0))[0]
    assert np.array_equal(still, face())  # exactly: a still face renders the frames it always did
    nod = act(face()[None], face(), acting_of(0.5, head=(5.0, 0.0, 0.0), weight=0.0))[0]
    nose_drop, brow_drop = nod[30, 1] - face()[30, 1], nod[19, 1] - face()[19, 1]
    assert nose_drop > brow_drop > 0  # the nose stands out, so a nod carries it further down
    turn = act(face()[None], face(), acting_of(0.5, head=(0.0, 5.0, 0.0), weight=0.0))[0]
    assert turn[30, 0] - face()[30, 0] > turn[0, 0] - face()[0, 0]


def test_blinks_lean_to_phrase_ends_at_a_natural_rate():
    from announcer.motion.idle import blinks

    seconds, ends = 120, np.arange(1.5, 120, 2.7)  # a phrase end every 2.7 s
    def onsets(lean_to):
        closure = blinks(seconds * FPS, FPS, np.random.default_rng(3), lean_to)
        return np.flatnonzero((closure[1:] > 0) & (closure[:-1] == 0)) / FPS
    def near_an_end(times):
        return np.mean([np.min(np.abs(ends - t)) < 0.25 for t in times])
    leaning, free = onsets(ends), onsets(None)
    assert near_an_end(leaning) > near_an_end(free) + 0.3
    assert 10 <= len(leaning) / (seconds / 60) <= 25  # blinks a minute, as readers blink
