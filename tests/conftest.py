"""Shared fixtures: the real media and models in ../shared, a pipeline with its own home dir."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("ANNOUNCER_TEST_SHARED", REPO.parent / "shared"))
MEDIA = SHARED / "media"
MODELS = SHARED / "models"
PORTRAITS = sorted((MEDIA / "portraits").glob("*"))
TALKING_VIDEOS = sorted((MEDIA / "videos").glob("*.mp4"))
NON_FACES = sorted((MEDIA / "nonface").glob("*"))


PURE_MODULES = {"test_layers", "test_script", "test_motion", "test_cache_keys", "test_acting"}
"""Test modules that need neither the shared media nor the models: all that runs without ../shared."""


def pytest_report_header(config):
    if not MEDIA.is_dir():
        return f"no shared media at {MEDIA}: only the pure unit tests run ({', '.join(sorted(PURE_MODULES))})"
    return None


def pytest_ignore_collect(collection_path, config):
    """Without ../shared, skip collecting the modules that read its media at import."""
    path = Path(collection_path)
    if MEDIA.is_dir() or path.suffix != ".py" or not path.name.startswith("test_"):
        return None
    return path.stem not in PURE_MODULES


def pytest_collection_modifyitems(config, items):
    import torch

    if not torch.cuda.is_available():
        skip = pytest.mark.skip(reason="needs a CUDA GPU")
        for item in items:
            if "cuda" in item.keywords:
                item.add_marker(skip)


@pytest.fixture(scope="session")
def home(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("announcer-home")


@pytest.fixture(scope="session")
def config(home):
    from announcer.config import FaceConfig, RenderConfig

    return RenderConfig(face=FaceConfig(models_dir=MODELS), home=home, progress=False, device="cpu")


@pytest.fixture(scope="session")
def pipeline(config):
    from announcer import Pipeline

    with Pipeline(config) as shared_pipeline:
        yield shared_pipeline


@pytest.fixture(scope="session")
def face_stage(pipeline):
    return pipeline.face_stage


def probe(path: Path) -> dict:
    out = subprocess.run(["ffprobe", "-v", "error", "-print_format", "json", "-show_streams", "-show_format", str(path)],
                         capture_output=True, check=True)
    return json.loads(out.stdout)


def decode_frames(path: Path) -> np.ndarray:
    """Every frame of a rendered clip as (N, H, W, 3) RGB, decoded by ffmpeg."""
    info = probe(path)
    video = next(s for s in info["streams"] if s["codec_type"] == "video")
    width, height = int(video["width"]), int(video["height"])
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"],
                         capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, height, width, 3)


def write_script(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def run_cli(*args, cwd, home, timeout=300):
    """`announcer ARGS` in a child process, with the shared models and its own home dir."""
    env = {**os.environ, "ANNOUNCER_MODELS": str(MODELS), "ANNOUNCER_HOME": str(home)}
    return subprocess.run([sys.executable, "-m", "announcer", *map(str, args)], capture_output=True, text=True, cwd=cwd,
                          env=env, timeout=timeout)


def synthesized(script, config):
    """`script` synthesised with an engine loaded for `config` (voices fetched by name would go to the shared models)."""
    from announcer.voice import load_engine, synthesize

    return synthesize(script, config, load_engine(config, models_dir=MODELS))
