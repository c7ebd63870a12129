"""Cache keys and the artifact store alone: no media, no models."""
from __future__ import annotations

import numpy as np

from announcer.cache import ArtifactCache, cache_key


def test_keys_differ_by_stage_version_and_parts(tmp_path):
    assert cache_key("voice", 2, "hello") != cache_key("voice", 3, "hello")
    assert cache_key("voice", 2, "hello") != cache_key("face", 2, "hello")
    assert cache_key("voice", 2, "hello") == cache_key("voice", 2, "hello")
    cache = ArtifactCache(tmp_path)
    cache.save("voice", cache_key("voice", 2, "x"), {"a": np.arange(3)}, {"m": 1})
    assert cache.load("voice", cache_key("voice", 3, "x")) is None
    arrays, meta = cache.load("voice", cache_key("voice", 2, "x"))
    assert arrays["a"].tolist() == [0, 1, 2] and meta == {"m": 1}
