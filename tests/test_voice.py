"""Stage 2: real voices (Piper, espeak-ng, a Coqui checkpoint built here), timings, loudness, narration."""
import subprocess

import numpy as np
import pytest

from announcer.config import VoiceConfig
from announcer.errors import InputError
from announcer.script import parse_text
from announcer.voice import load_engine, load_narration, synthesize
from announcer.voice.loudness import integrated_loudness, normalize_loudness, true_peak_dbtp

from .conftest import MEDIA, TALKING_VIDEOS, write_script


def assert_timings_cover_speech(speech):
    starts = np.array([p.start for p in speech.phonemes])
    ends = np.array([p.end for p in speech.phonemes])
    assert len(starts) > 5
    assert np.all(ends >= starts) and np.all(np.diff(starts) >= -1e-6)
    assert 0 <= starts[0] and ends[-1] <= speech.duration + 1e-6
    # Loud audio sits inside phoneme spans, not in the silence after the last one.
    voiced = np.flatnonzero(np.abs(speech.audio) > 0.1 * np.abs(speech.audio).max()) / speech.sample_rate
    assert voiced[0] >= starts[0] - 0.05 and voiced[-1] <= ends[-1] + 0.1


@pytest.fixture(scope="module")
def piper_engine():
    return load_engine(VoiceConfig(engine="piper"))


def test_piper_speaks_with_phoneme_alignments(piper_engine):
    script = parse_text("Good evening. Here is the news at ten.")
    speech = synthesize(script, VoiceConfig(engine="piper"), piper_engine)
    assert speech.sample_rate == 22050 and speech.voice == "en_US-joe-medium"
    assert_timings_cover_speech(speech)
    assert {"ɡ", "ʊ", "d", "n"} <= {p.label for p in speech.phonemes}
    assert [c.label for c in speech.captions] == ["Good evening.", "Here is the news at ten."]
    assert speech.captions[0].end < speech.captions[1].start
    assert abs(speech.loudness_lufs - -16) < 0.5 and speech.true_peak_dbtp <= -0.9
    assert list(speech.model_files.values())[0] == "58afce0321b8d9c46d7cdf9c16500cc55a793b4220212dba6b70fb788b3baf06"


def test_piper_speed_changes_duration(piper_engine):
    from announcer.voice.piper_engine import PiperEngine

    normal = piper_engine.speak("This sentence is read at two speeds.")
    fast = PiperEngine(speed=1.5).speak("This sentence is read at two speeds.")
    assert len(fast.audio) < 0.8 * len(normal.audio)


@pytest.mark.parametrize("language,text,expected", [("en", "Good morning, everyone.", "ɡ"), ("ko", "안녕하세요. 뉴스입니다.", "n")])
def test_espeak_speaks_english_and_korean(language, text, expected):
    speech = synthesize(parse_text(text, language), VoiceConfig(engine="espeak", language=language))
    assert speech.engine == "espeak" and speech.duration > 1.0
    assert_timings_cover_speech(speech)
    assert expected in {p.label.strip("ˈˌː") for p in speech.phonemes}


def test_unknown_espeak_voice_is_bad_input():
    with pytest.raises(InputError, match="no voice 'klingon-xx'"):
        load_engine(VoiceConfig(engine="espeak", voice="klingon-xx"))


def test_piper_voice_path_must_exist(tmp_path):
    with pytest.raises(InputError, match="not found"):
        load_engine(VoiceConfig(engine="piper", voice=str(tmp_path / "missing.onnx")))


def test_default_piper_voice_refuses_korean():
    with pytest.raises(InputError, match="speaks English"):
        load_engine(VoiceConfig(engine="piper", language="ko"))


@pytest.fixture(scope="module")
def tiny_glow_tts_checkpoint(tmp_path_factory):
    """A randomly initialised Glow-TTS built and saved with coqui-tts itself: the real loading path, tiny."""
    import torch
    from TTS.tts.configs.glow_tts_config import GlowTTSConfig
    from TTS.tts.configs.shared_configs import CharactersConfig
    from TTS.tts.models.glow_tts import GlowTTS

    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("glow")
    characters = CharactersConfig(characters="abcdefghijklmnopqrstuvwxyz ", punctuations=".,!?", pad="_", eos="~", bos="^",
                                  characters_class="TTS.tts.utils.text.characters.Graphemes")
    config = GlowTTSConfig(use_phonemes=False, characters=characters, text_cleaner="basic_cleaners", hidden_channels_enc=32,
                           hidden_channels_dec=32, hidden_channels_dp=32, num_flow_blocks_dec=2, num_block_layers=2)
    torch.save({"model": GlowTTS(config).state_dict()}, folder / "model.pth")
    config.save_json(str(folder / "config.json"))
    return folder


def test_coqui_loads_a_local_checkpoint_and_times_its_tokens(tiny_glow_tts_checkpoint):
    speech = synthesize(parse_text("Hello world. Good night."), VoiceConfig(engine="coqui", voice=str(tiny_glow_tts_checkpoint)))
    assert speech.engine == "coqui" and speech.sample_rate == 22050
    assert speech.duration > 0.5 and np.isfinite(speech.audio).all()
    labels = [p.label for p in speech.phonemes]
    # Every letter of the input owns frames of the model's alignment, in order.
    assert "".join(labels).startswith("helloworld") and len(speech.captions) == 2
    assert all(path.endswith(("model.pth", "config.json")) for path in speech.model_files)


def test_coqui_folder_without_checkpoint_is_bad_input(tmp_path):
    with pytest.raises(InputError, match="config.json and a .pth"):
        load_engine(VoiceConfig(engine="coqui", voice=str(tmp_path)))


@pytest.mark.parametrize("target,ceiling", [(-16.0, -1.0), (-23.0, -1.0)])
def test_loudness_reaches_target_under_the_true_peak_ceiling(target, ceiling):
    import soundfile

    audio, rate = soundfile.read(MEDIA / "audio" / "jfk.wav", dtype="float32")
    normalised, lufs, peak = normalize_loudness(audio, rate, target, ceiling)
    assert abs(integrated_loudness(normalised, rate) - target) < 0.5 and abs(lufs - target) < 0.5
    assert true_peak_dbtp(normalised) <= ceiling + 0.1 and peak <= ceiling + 0.1


def test_recorded_narration_with_script_subtitles(tmp_path):
    script = parse_text((MEDIA / "audio" / "jfk.txt").read_text().strip())
    speech = load_narration(MEDIA / "audio" / "jfk.wav", VoiceConfig(loudness_lufs=-23), script)
    assert speech.engine == "narration" and speech.phonemes == [] and 10.5 < speech.duration < 11.5
    assert abs(speech.loudness_lufs - -23) < 0.5
    assert speech.captions[0].start >= 0 and speech.captions[-1].end <= speech.duration
    assert " ".join(c.label for c in speech.captions) == script.text


def test_narration_must_have_sound(tmp_path):
    silent_video = tmp_path / "no_audio.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(TALKING_VIDEOS[0]), "-an", "-c:v", "copy", str(silent_video)], check=True)
    with pytest.raises(InputError, match="no audio track") as caught:
        load_narration(silent_video, VoiceConfig())
    assert caught.value.path == silent_video
    corrupt = write_script(tmp_path, "broken.wav", "RIFF but not really a wave file")
    with pytest.raises(InputError, match="cannot read media"):
        load_narration(corrupt, VoiceConfig())
