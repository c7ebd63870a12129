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
NOT_MODELS = {"ffmpeg_binary", "ffprobe_binary", "model_checksums", "frame_edge_fade", "_voice_names", "offered_voices",
              "_vader"}
"""Functions allowed a process-wide cache: they find tools, checksum files, make a small fixed array, list the
voices installed with a package or read a word list (VADER's lexicon); no model."""


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


PROCESS_STATE = {
    ("voice/espeak_engine.py", "_LIBRARY"): "espeak-ng keeps global state: one library handle per process",
    ("jobs/ray_engine.py", "_RUNTIMES"): "a Ray worker process's Runtime, one per config, closed when the process ends",
    ("studio/voices.py", "_ENGINES"): "the preview child process's few engines (PREVIEW_ENGINES at most)",
}
"""Module-level state that functions change, and why each is allowed; anything else belongs to a Runtime."""
MUTATING_CALLS = {"append", "add", "update", "setdefault", "pop", "popitem", "clear", "move_to_end", "extend", "insert",
                  "remove", "discard"}


def _module_state_changed_by_functions(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    module_names = {target.id for node in tree.body if isinstance(node, (ast.Assign, ast.AnnAssign))
                    for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
                    if isinstance(target, ast.Name)}
    changed = set()
    for function in (node for node in ast.walk(tree) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))):
        for node in ast.walk(function):
            if isinstance(node, ast.Global):
                changed |= set(node.names) & module_names
            elif isinstance(node, (ast.Assign, ast.AugAssign, ast.Delete)):
                targets = node.targets if isinstance(node, (ast.Assign, ast.Delete)) else [node.target]
                changed |= {t.value.id for t in targets if isinstance(t, ast.Subscript) and isinstance(t.value, ast.Name)
                            and t.value.id in module_names}
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in MUTATING_CALLS:
                owner = node.func.value
                if isinstance(owner, ast.Name) and owner.id in module_names:
                    changed.add(owner.id)
    return changed


def test_no_module_keeps_state_of_its_own_outside_the_runtime():
    """Not only decorated caches: a module-level dict or global that functions fill is a cache too (issue 25)."""
    found = {(str(path.relative_to(PACKAGE)), name) for path in PACKAGE.rglob("*.py")
             for name in _module_state_changed_by_functions(path)}
    assert found == set(PROCESS_STATE), f"state outside the Runtime: {sorted(found - set(PROCESS_STATE))}"
