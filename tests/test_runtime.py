"""The Runtime is the one owner of loaded models: each loads once, is shared by every clip, and is closed with it."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from announcer.config import FaceConfig, RenderConfig, VoiceConfig
from announcer.motion.model import DEFAULT_WEIGHTS
from announcer.runtime import Runtime

from .conftest import MODELS

PACKAGE = Path(__file__).resolve().parent.parent / "announcer"
NOT_MODELS = {"ffmpeg_binary", "ffprobe_binary", "model_checksums", "frame_edge_fade", "_voice_names", "offered_voices"}
"""Functions allowed a process-wide cache: they find tools, checksum files, make a small fixed array or list the
voices installed with a package; no model."""


@pytest.mark.slow
def test_a_runtime_loads_each_model_once_and_closes_them(tmp_path):
    runtime = Runtime(RenderConfig(face=FaceConfig(models_dir=MODELS), home=tmp_path, progress=False, device="cpu"))
    espeak = VoiceConfig(engine="espeak", language="en")
    loaded = [runtime.face_stage, runtime.voice_engine(espeak), runtime.mouth_model(DEFAULT_WEIGHTS), runtime.aligner()]
    again = [runtime.face_stage, runtime.voice_engine(espeak), runtime.mouth_model(DEFAULT_WEIGHTS), runtime.aligner()]
    assert all(first is second for first, second in zip(loaded, again, strict=True))
    assert runtime.voice_engine(VoiceConfig(engine="espeak", language="ko")) is not loaded[1]  # another voice, another engine
    runtime.close()
    assert runtime.face_stage is not loaded[0]  # closed and dropped: asked again, it loads anew
    runtime.close()


def test_no_model_is_cached_anywhere_else():
    cached = set()
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef) and any("cache" in ast.unparse(d) for d in node.decorator_list):
                cached.add(node.name)
    assert cached <= NOT_MODELS, f"cached outside the Runtime: {sorted(cached - NOT_MODELS)}"
