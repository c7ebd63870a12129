"""Stage artifacts are keyed by each stage's ARTIFACT_VERSION: an upgrade that changes a stage never gets old artifacts."""
from __future__ import annotations

import numpy as np

import announcer.face
from announcer.face import load_avatar

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
