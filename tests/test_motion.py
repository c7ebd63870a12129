"""Stage 4: visemes with coarticulation, silence, blinks, looping footage."""
import numpy as np
import pytest

from announcer.config import MotionConfig, VoiceConfig
from announcer.motion import plan_motion
from announcer.motion.idle import blinks, ping_pong
from announcer.motion.visemes import blend, expand
from announcer.script import parse_text
from .conftest import synthesized
from announcer.voice.types import Speech, TimedUnit


def mouth_at(phonemes, times):
    return blend(expand(phonemes), np.asarray(times))[:, 0]


def test_lips_close_on_bilabials_and_open_on_vowels():
    units = [TimedUnit("^", 0.0, 0.2), TimedUnit("m", 0.2, 0.3), TimedUnit("ɑ", 0.3, 0.5), TimedUnit("p", 0.5, 0.58),
             TimedUnit("ɑ", 0.58, 0.8), TimedUnit("$", 0.8, 1.5)]
    opening = mouth_at(units, [0.05, 0.25, 0.4, 0.54, 0.7, 1.2])
    before, m, first_a, p, second_a, after = opening
    assert before < 0.01 and after < 0.01
    assert m < 0.12 and p < 0.2
    assert first_a > 0.5 and second_a > 0.5


def test_a_short_bilabial_still_shuts_the_lips_for_two_frames():
    """A 'b' heard for 40 ms between open vowels, as aligners time it, still shuts the mouth on whole frames."""
    units = [TimedUnit("ɑ", 0.0, 0.4), TimedUnit("b", 0.4, 0.44), TimedUnit("ɑ", 0.44, 0.8)]
    frame_times = (np.arange(20) + 0.5) / 25
    opening = mouth_at(units, frame_times)
    shut = np.flatnonzero(opening < 0.1)
    assert len(shut) >= 2 and np.all(np.diff(shut) == 1)
    assert frame_times[shut].max() < 0.44 + 0.03  # the lips part where the burst is heard
    vowels = ((frame_times > 0.08) & (frame_times < 0.25)) | ((frame_times > 0.55) & (frame_times < 0.72))
    assert opening[vowels].min() > 0.5
    spans = expand(units)
    assert spans[0][1] == pytest.approx(0.34) and spans[1][:2] == pytest.approx((0.34, 0.44))


def test_coarticulation_anticipates_the_next_shape():
    """A vowel before a rounded /u/ is already less open near the boundary than in its middle."""
    units = [TimedUnit("ɑ", 0.0, 0.3), TimedUnit("u", 0.3, 0.6)]
    wide = blend(expand(units), np.array([0.1, 0.28]))
    assert wide[1, 2] > wide[0, 2]  # rounding rises before /u/ starts


def test_stress_marks_give_their_time_to_the_next_phoneme():
    spans = expand([TimedUnit("ˈ", 0.0, 0.1), TimedUnit("a", 0.1, 0.2)])
    assert len(spans) == 1 and spans[0][0] == 0.0 and spans[0][1] == 0.2


def test_mouth_is_closed_and_still_in_silence_and_pauses():
    speech = synthesized(parse_text("Hello there. [pause 1s] Good night."), VoiceConfig(engine="espeak"))
    plan = plan_motion(speech, MotionConfig(fps=25), 1, 0)
    first, second = speech.captions
    frame_times = (np.arange(plan.n_frames) + 0.5) / 25
    pause = (frame_times > first.end + 0.15) & (frame_times < second.start - 0.15)
    assert pause.sum() > 10 and np.all(plan.mouth[pause, 0] == 0)
    speaking = (frame_times > first.start) & (frame_times < first.end)
    assert plan.mouth[speaking, 0].max() > 0.3
    lead_in = frame_times < first.start - 0.1
    assert np.all(plan.mouth[lead_in] == 0)


@pytest.mark.slow
def test_recorded_speech_drives_the_mouth_from_audio():
    speech = synthesized(parse_text("One, two, three. [pause 1s] Four."), VoiceConfig(engine="espeak"))
    narration = Speech(speech.audio, speech.sample_rate, [], speech.captions, "narration", "x")
    from_audio = plan_motion(narration, MotionConfig(mouth_model="heuristic"), 1, 0)
    from_phonemes = plan_motion(speech, MotionConfig(), 1, 0)
    assert from_audio.driver == "audio" and from_phonemes.driver == "phonemes"
    assert np.corrcoef(from_audio.mouth[:, 0], from_phonemes.mouth[:, 0])[0, 1] > 0.5
    frame_times = (np.arange(from_audio.n_frames) + 0.5) / 25
    first, second = speech.captions
    pause = (frame_times > first.end + 0.15) & (frame_times < second.start - 0.15)
    assert np.all(from_audio.mouth[pause, 0] == 0)


def test_blinks_are_natural():
    closure = blinks(25 * 60, 25, np.random.default_rng(1))
    starts = np.flatnonzero(np.diff((closure > 0.9).astype(int)) == 1)
    assert 10 <= len(starts) <= 30  # every 2 to 6 seconds
    assert (closure > 0.5).mean() < 0.06  # eyes are open almost all the time


def test_video_avatar_loops_forward_and_backward_without_jumps():
    indices = ping_pong(300, 25, 40, 25)
    assert indices.min() == 0 and indices.max() == 39
    assert np.abs(np.diff(indices)).max() == 1
    resampled = ping_pong(100, 25, 60, 30)
    assert np.abs(np.diff(resampled)).max() <= 2
