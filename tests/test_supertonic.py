"""The neural voice for Korean (and 30 other languages): Supertonic 3, fetched from the catalogue's pinned release.

Its weights cannot be fetched on these machines, so a tiny release made by tests/tiny_supertonic.py is served from
file:// URLs: the real download, hash checks, loader and synthesis loop run on it.
"""
import shutil
from dataclasses import replace

import numpy as np
import pytest
import soundfile

from announcer.config import VoiceConfig
from announcer.errors import ToolError
from announcer.voice import choose_engine, load_engine
from announcer.voice.catalogue import CATALOGUE_ENV, VoiceCatalogue

from .conftest import run_cli, write_script
from .tiny_supertonic import SAMPLE_RATE, make_release, write_catalogue

pytest.importorskip("supertonic")


@pytest.fixture
def served(tmp_path, monkeypatch):
    """(files, served folder): a tiny release, and a catalogue pointing at it."""
    folder = tmp_path / "served"
    files = make_release(folder)
    monkeypatch.setenv(CATALOGUE_ENV, str(write_catalogue(tmp_path, files, folder)))
    return files, folder


def test_the_shipped_release_is_pinned_file_by_file():
    release = VoiceCatalogue.load().supertonic
    assert release.base_url.startswith("https://huggingface.co/Supertone/supertonic-3/resolve/")
    assert len(release.base_url.rsplit("/", 1)[1]) == 40  # a commit, not a branch that can move
    assert {"onnx/vocoder.onnx", "onnx/tts.json", "onnx/unicode_indexer.json", "voice_styles/F1.json"} <= set(release.files)
    assert all(len(sha256) == 64 and size > 0 for sha256, size in release.files.values())
    assert release.speaks("ko") and release.styles_matching("ko", "female") and release.styles_matching("ko", "male")


@pytest.mark.slow
def test_a_supertonic_voice_is_fetched_checked_and_speaks_korean(served, tmp_path):
    files, _ = served
    home = tmp_path / "home"
    said = run_cli("voices", "say", "안녕하세요. 아침 뉴스입니다.", "--voice", "supertonic:F1", "--language", "ko",
                   "-o", tmp_path / "sample.wav", cwd=tmp_path, home=home)
    assert said.returncode == 0, said.stderr
    for path in files:
        assert (home / "models" / "supertonic-3" / path).read_bytes() == (tmp_path / "served" / path).read_bytes()
    audio, rate = soundfile.read(tmp_path / "sample.wav")
    assert rate == SAMPLE_RATE and 1.0 < len(audio) / rate < 8.0 and np.abs(audio).max() > 0.01


def test_a_file_that_does_not_match_its_pin_is_refused_and_not_kept(served, tmp_path):
    _, folder = served
    (folder / "onnx" / "vocoder.onnx").write_bytes(b"not the vocoder")
    with pytest.raises(ToolError, match="vocoder.onnx has sha256"):
        load_engine(VoiceConfig(engine="supertonic", language="ko"), models_dir=tmp_path / "models")
    assert not (tmp_path / "models" / "supertonic-3" / "onnx" / "vocoder.onnx").exists()


def test_engine_speaks_with_phones_heard_in_its_own_audio_and_names_its_files(served, tmp_path):
    engine = load_engine(VoiceConfig(engine="supertonic", voice="M1", language="ko"), models_dir=tmp_path / "models")
    sentence = engine.speak("오늘 서울은 맑겠습니다.")
    assert engine.voice_name == "M1" and sentence.sample_rate == SAMPLE_RATE and sentence.audio.size > SAMPLE_RATE
    assert all(0 <= p.start < p.end <= sentence.audio.size / SAMPLE_RATE + 0.01 for p in sentence.phonemes)
    assert any(path.endswith("vocoder.onnx") for path in engine.model_files)
    assert any(path.endswith("asr_waveform.hama") for path in engine.model_files)  # the recogniser that timed it


def test_korean_scripts_speak_with_supertonic_where_it_is_installed_and_espeak_otherwise(served, tmp_path):
    korean = VoiceConfig(language="ko")
    assert choose_engine(korean, tmp_path / "models").engine == "espeak"
    load_engine(replace(korean, engine="supertonic"), models_dir=tmp_path / "models")  # installs it
    assert choose_engine(korean, tmp_path / "models").engine == "supertonic"
    assert choose_engine(replace(korean, engine="espeak"), tmp_path / "models").engine == "espeak"  # a choice is kept
    assert choose_engine(VoiceConfig(language="en"), tmp_path / "models").engine == "piper"


@pytest.mark.slow
def test_a_korean_script_renders_with_the_neural_voice_once_installed(served, tmp_path, config):
    from announcer import Pipeline, RenderRequest

    home = tmp_path / "home"
    shutil.copytree(tmp_path / "served", home / "models" / "supertonic-3")
    script = write_script(tmp_path, "news.md", "---\nlanguage: ko\n---\n안녕하세요. 오늘 서울의 최고 기온은 12도로 "
                                               "어제보다 3도 높겠습니다. 시청은 오전 9시에 새 교통카드를 발표합니다.\n")
    with Pipeline(replace(config, home=home)) as pipeline:
        result = pipeline.render(RenderRequest(avatar=None, output=tmp_path / "ko.mp4", script=script))
    manifest = result.manifest
    assert manifest["voice"]["engine"] == "supertonic" and manifest["voice"]["voice"] == "F1"
    assert any(model["path"].endswith("vector_estimator.onnx") for model in manifest["models"])
    spoken_words = set(script.read_text(encoding="utf-8").split())
    caption_lines = [line for line in result.outputs.subtitles_srt.read_text().splitlines() if "다" in line or "요" in line]
    assert caption_lines and all(set(line.split()) <= spoken_words for line in caption_lines)  # broken between eojeol
