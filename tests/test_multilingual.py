"""Recorded narration in languages PocketSphinx does not know gets phoneme timings from hama's phone recogniser:
German, French, Japanese and Chinese speech from ../shared, and Korean speech made by espeak-ng."""
import json
import logging
from dataclasses import replace

import numpy as np
import pytest
import soundfile

from announcer.config import MotionConfig, VoiceConfig
from announcer.motion import plan_motion
from announcer.script import parse_text
from announcer.voice import load_engine, load_narration, synthesize
from announcer.voice.loudness import voiced_span

from .conftest import MEDIA, MODELS

MULTILINGUAL = MEDIA / "audio" / "multilingual"
RECORDINGS = {"de": "de_speech.wav", "fr": "fr_speech.wav", "ja": "ja_speech.wav", "zh": "zh_news.wav"}
KOREAN = "안녕하세요. 오늘 서울에서 열두 개 도시의 시장들이 만났습니다. 감사합니다."


@pytest.fixture(scope="module")
def korean_recording(tmp_path_factory):
    """espeak-ng's Korean saved as a recording: a narration the tests can make themselves."""
    config = VoiceConfig(engine="espeak", language="ko")
    spoken = synthesize(parse_text(KOREAN), config, load_engine(config, models_dir=MODELS))
    path = tmp_path_factory.mktemp("korean") / "ko.wav"
    soundfile.write(path, spoken.audio, spoken.sample_rate)
    return path


def narration_path(language, korean_recording):
    return korean_recording if language == "ko" else MULTILINGUAL / RECORDINGS[language]


@pytest.mark.parametrize("language", ["de", "fr", "ja", "zh", "ko"])
def test_narration_in_any_language_gets_phoneme_timings_that_shut_the_mouth_in_pauses(language, korean_recording, caplog):
    caplog.set_level(logging.WARNING)
    speech = load_narration(narration_path(language, korean_recording), replace(VoiceConfig(), language=language))
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]  # no "alignment failed" on the way
    assert any(path.endswith("asr_waveform.hama") and len(digest) == 64 for path, digest in speech.model_files.items())
    phones = speech.phonemes
    assert len(phones) > 4 * speech.duration  # a phone every quarter second at least, in 7-9 s of speech
    assert all(0 <= p.start < p.end <= speech.duration + 0.02 for p in phones)
    # The phones lie where the voice is: inside the recording's voiced span, not in its leading or trailing silence.
    begin, end = voiced_span(speech.audio, speech.sample_rate)
    assert phones[0].start >= begin - 0.1 and phones[-1].end <= end + 0.35

    plan = plan_motion(speech, MotionConfig(), 1, 25.0)
    assert plan.driver == "phonemes"
    times = (np.arange(plan.n_frames) + 0.5) / plan.fps
    opening = plan.mouth[:, 0]
    speaking = opening[(times > phones[0].start) & (times < phones[-1].end)]
    assert (speaking > 0.2).mean() > 0.3  # open through speech
    for start, end in quiet_stretches(speech.audio, speech.sample_rate, plan.fps):
        assert opening[start + 2:end - 2].max() < 0.05, f"mouth open in the pause at {start / plan.fps:.2f} s"


BILABIALS = ("p", "b", "m")


def bilabial_onsets(phones):
    return np.array([p.start for p in phones if p.label.startswith(BILABIALS)])


@pytest.mark.parametrize("language,text", [
    ("ko", KOREAN),
    ("de", "Guten Abend, meine Damen und Herren. Hier sind die Nachrichten vom Montag."),
    ("fr", "Bonsoir, voici les informations. Le maire de Paris a présenté un nouveau budget."),
])
def test_narration_with_its_script_is_timed_by_the_scripts_own_phones(language, text, tmp_path, caplog):
    """Speech made by espeak-ng knows where each of its phones began: the lips close for every p, b and m the script
    says, within 60 ms of when the voice made it, and for none it does not say."""
    caplog.set_level(logging.WARNING)
    config = VoiceConfig(engine="espeak", language=language)
    engine = load_engine(config, models_dir=MODELS)
    spoken = synthesize(parse_text(text, language), config, engine)
    path = tmp_path / "narration.wav"
    soundfile.write(path, spoken.audio, spoken.sample_rate)
    speech = load_narration(path, replace(VoiceConfig(), language=language), parse_text(text, language))
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    truth, aligned = bilabial_onsets(spoken.phonemes), bilabial_onsets(speech.phonemes)
    assert len(truth) >= 3 and len(aligned) == len(truth)
    assert np.median(np.abs(aligned - truth)) < 0.06


def test_narration_that_does_not_follow_its_script_is_timed_by_the_phones_heard_in_it(caplog):
    caplog.set_level(logging.WARNING)
    script = parse_text("Bonsoir, voici les informations du jour. Merci et bonne soirée.", "fr")
    speech = load_narration(MULTILINGUAL / RECORDINGS["de"], replace(VoiceConfig(), language="fr"), script)
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert any("does not follow its script" in message for message in warnings), warnings
    assert len(speech.phonemes) > 4 * speech.duration  # the phones heard in it


def quiet_stretches(audio, sample_rate, fps, min_frames=8):
    """Video frames (start, end) of stretches of at least `min_frames` frames where the sound is under 5% of its
    loud level (the 95th percentile of each frame's RMS)."""
    hop = sample_rate // fps
    rms = np.sqrt((audio[: len(audio) // hop * hop].reshape(-1, hop) ** 2).mean(axis=1))
    quiet = rms < 0.05 * np.percentile(rms, 95)
    stretches, start = [], None
    for k, is_quiet in enumerate([*quiet, False]):
        if is_quiet and start is None:
            start = k
        elif not is_quiet and start is not None:
            if k - start >= min_frames:
                stretches.append((start, k))
            start = None
    return stretches


def test_the_recordings_have_pauses_for_the_mouth_to_shut_in(korean_recording):
    """So that the test above checks shut mouths in pauses in at least three languages."""
    def stretches(language):
        audio, rate = soundfile.read(narration_path(language, korean_recording), dtype="float32", always_2d=True)
        return quiet_stretches(audio.mean(axis=1), rate, 25)

    with_pauses = [language for language in ["de", "fr", "ja", "zh", "ko"] if stretches(language)]
    assert len(with_pauses) >= 3, with_pauses


@pytest.mark.slow  # PocketSphinx recognises 11 s of speech first (no script): 16 s
def test_unknown_or_english_narration_still_goes_to_the_english_aligner_unless_recognition_is_asked_for():
    speech = load_narration(MEDIA / "audio" / "jfk.wav", VoiceConfig())
    assert any(path.endswith("en-us.lm.bin") for path in speech.model_files)
    assert not any(path.endswith(".hama") for path in speech.model_files)
    recognised = load_narration(MEDIA / "audio" / "jfk.wav", VoiceConfig(narration_phones="recognise"))
    assert list(recognised.model_files) == [p for p in recognised.model_files if p.endswith(".hama")]
    # Both time speech where the other does: the recogniser's phones lie within the aligned ones, and cover most.
    aligned, heard = speaking_mask(speech), speaking_mask(recognised)
    assert (aligned & heard).sum() > 0.85 * heard.sum() and (aligned & heard).sum() > 0.7 * aligned.sum()


def speaking_mask(speech, step=0.01):
    times = np.arange(0, speech.duration, step)
    mask = np.zeros(len(times), bool)
    for phone in speech.phonemes:
        if phone.label.strip():
            mask |= (times >= phone.start) & (times < phone.end)
    return mask


@pytest.mark.slow
def test_german_narration_with_no_script_renders_with_phoneme_timings_and_lips_that_follow_it(pipeline, face_stage,
                                                                                              tmp_path, caplog):
    """A recording, a photo and the recording's language, and no script. The clip comes out, timed by phonemes, and
    says that its subtitles are empty for want of a script (rendering with no captions once raised an error)."""
    from announcer import RenderRequest

    from .test_render import assert_lips_follow_speech

    caplog.set_level(logging.WARNING)
    result = pipeline.render(RenderRequest(avatar=MEDIA / "portraits" / "woman_white_top.png", output=tmp_path / "de.mp4",
                                           audio=MULTILINGUAL / RECORDINGS["de"], settings={"language": "de"}))
    assert any("subtitles are empty" in r.getMessage() for r in caplog.records)
    assert result.outputs.video.stat().st_size > 0 and result.outputs.subtitles_srt.read_text() == ""
    manifest = json.loads(result.outputs.manifest.read_text())
    assert manifest["video"]["motion_driver"] == "phonemes" and manifest["inputs"]["language"] == "de"
    assert any(model["path"].endswith("asr_waveform.hama") for model in manifest["models"])
    assert_lips_follow_speech(face_stage, result, speech_max_floor=0.05, from_audio=True)


@pytest.mark.slow
def test_eval_with_a_language_other_than_english_times_the_speech_with_the_phone_recogniser(tmp_path):
    from .conftest import run_cli

    video = MEDIA / "videos" / "talk_face5.mp4"
    done = run_cli("eval", video, "--language", "de", "--max-seconds", "4", "-o", tmp_path / "de", "--json", "--quiet",
                   cwd=tmp_path, home=tmp_path / "home")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["motion_driver"] == "phonemes" and report["timing_models"] == ["asr_waveform.hama"]
    # Heard phones, not aligned English words, still put the mouth in time with this English speaker.
    assert report["mouth_open_r"] > 0.4 and abs(report["offset_frames"]) <= 2


def test_narration_is_heard_in_stretches_cut_in_its_pauses():
    """The recogniser hears a recording in stretches of at most STRETCH_S, cut on frame boundaries in the middle of
    pauses where there are pauses, so no phone is cut in two; the stretches cover the whole recording."""
    from announcer.voice.phones import FRAME_SAMPLES, RECOGNISER_RATE, STRETCH_S, _at_recogniser_rate, _stretches, pauses

    audio, rate = soundfile.read(MEDIA / "audio" / "jfk.wav", dtype="float32", always_2d=True)
    speech = _at_recogniser_rate(audio.mean(axis=1), rate)
    quiet = pauses(speech, RECOGNISER_RATE)
    stretches = _stretches(speech, quiet)
    assert len(stretches) >= 3 and stretches[0][0] == 0 and stretches[-1][1] == len(speech)
    assert all(end == next_start for (_, end), (next_start, _) in zip(stretches[:-1], stretches[1:], strict=True))
    assert all(end % FRAME_SAMPLES == 0 for _, end in stretches[:-1])
    assert max(end - start for start, end in stretches) <= STRETCH_S * RECOGNISER_RATE
    in_pauses = [any(a < end / RECOGNISER_RATE < b for a, b in quiet) for _, end in stretches[:-1]]
    assert sum(in_pauses) >= 2, in_pauses  # jfk.wav pauses at 2.2-3.3, 4.4-5.4 and 7.7-8.2 s


def test_speech_with_no_pause_is_cut_at_its_quietest_moment():
    from announcer.voice.phones import FRAME_SAMPLES, RECOGNISER_RATE, STRETCH_S, _stretches

    seconds = np.arange(int(2.5 * STRETCH_S * RECOGNISER_RATE)) / RECOGNISER_RATE
    tone = (0.3 * np.sin(2 * np.pi * 220 * seconds)).astype(np.float32)
    dip = int(0.8 * STRETCH_S * RECOGNISER_RATE) // FRAME_SAMPLES * FRAME_SAMPLES
    tone[dip:dip + FRAME_SAMPLES] *= 0.05  # 20 ms of near-quiet, far too short for a pause
    stretches = _stretches(tone, [])
    assert stretches[0] == (0, dip)
    assert max(end - start for start, end in stretches) <= STRETCH_S * RECOGNISER_RATE and stretches[-1][1] == len(tone)


def test_stretches_heard_on_several_sessions_at_once_give_what_one_session_gives():
    from announcer.voice.phones import PhoneRecogniser

    audio, rate = soundfile.read(MEDIA / "audio" / "jfk.wav", dtype="float32", always_2d=True)
    audio = audio.mean(axis=1)
    one, two = PhoneRecogniser(sessions=1).phones(audio, rate), PhoneRecogniser(sessions=2).phones(audio, rate)
    assert len(one) > 40 and one == two
