"""The package as users install it: a wheel, not this checkout. Its data (the model manifest, the mouth model's
weights) must travel inside it, and it must render a clip from a folder that has nothing of the repository."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from .conftest import MODELS, REPO


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(folder),
                    str(REPO)], check=True, capture_output=True)
    return next(folder.glob("announcer-*.whl"))


@pytest.mark.slow
def test_the_wheel_carries_its_data(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"announcer/data/manifest.yaml", "announcer/data/mouth_net.safetensors"} <= names
    assert not any(name.startswith(("tests/", "benchmarks/")) for name in names)


@pytest.mark.slow
def test_an_installed_wheel_renders_a_clip(wheel, tmp_path):
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(site), str(wheel)],
                   check=True, capture_output=True)
    work = tmp_path / "elsewhere"
    work.mkdir()
    (work / "hello.txt").write_text("Good evening.\n")
    env = {**os.environ, "PYTHONPATH": str(site), "ANNOUNCER_MODELS": str(MODELS), "ANNOUNCER_HOME": str(tmp_path / "home")}
    where = subprocess.run([sys.executable, "-c", "import announcer.assets as a, announcer.motion.model as m; "
                            "print(a.MANIFEST_PATH); print(m.DEFAULT_WEIGHTS)"],
                           cwd=work, env=env, capture_output=True, text=True, check=True).stdout.split()
    assert all(Path(path).is_relative_to(site) and Path(path).is_file() for path in where), where
    done = subprocess.run([sys.executable, "-m", "announcer", "render", "hello.txt", "--quiet", "--audio",
                           str(MODELS.parent / "media" / "audio" / "jfk.wav"), "-o", "hello.mp4"],
                          cwd=work, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    manifest = json.loads((work / "hello.json").read_text())
    assert manifest["video"]["motion_driver"] in ("phonemes", "audio-model")
    assert manifest["video"]["frames"] > 100
