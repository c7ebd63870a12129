"""The model registry: local resolution, sha256 checks, and the real download code against a local URL."""
import hashlib

import pytest
import yaml

from announcer.assets import ModelRegistry
from announcer.errors import InputError, ToolError

from .conftest import MODELS


def test_shared_models_resolve_and_verify():
    registry = ModelRegistry.load(MODELS, allow_download=False)
    for name in ("face_landmarker", "blaze_face_short_range", "yunet"):
        path, digest = registry.resolve(name)
        assert path.parent == MODELS and digest == hashlib.sha256(path.read_bytes()).hexdigest()


def test_every_model_has_url_hash_and_licence():
    registry = ModelRegistry.load()
    for spec in registry.specs.values():
        assert spec.url.startswith("https://") and len(spec.sha256) >= 10 and spec.licence


def manifest_for(tmp_path, source, sha256):
    manifest = tmp_path / "manifest.yaml"
    manifest.write_text(yaml.safe_dump({"tiny": {"filename": "tiny.bin", "url": source.as_uri(), "sha256": sha256,
                                                 "licence": "test", "use": "test"}}))
    return manifest


def test_download_checks_sha256_and_caches(tmp_path):
    source = tmp_path / "upstream.bin"
    source.write_bytes(b"weights" * 1000)
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    cache = tmp_path / "cache"
    registry = ModelRegistry.load(cache_dir=cache, manifest=manifest_for(tmp_path, source, digest))
    path = registry.path("tiny")
    assert path == cache / "tiny.bin" and path.read_bytes() == source.read_bytes()
    source.unlink()  # the second registry finds the cached copy and downloads nothing
    assert ModelRegistry.load(cache_dir=cache, manifest=manifest_for(tmp_path, tmp_path / "gone", digest)).path("tiny") == path


def test_tampered_download_is_rejected_and_not_kept(tmp_path):
    source = tmp_path / "upstream.bin"
    source.write_bytes(b"tampered")
    cache = tmp_path / "cache"
    registry = ModelRegistry.load(cache_dir=cache, manifest=manifest_for(tmp_path, source, "0" * 64))
    with pytest.raises(ToolError, match="sha256"):
        registry.path("tiny")
    assert list(cache.iterdir()) == []


def test_wrong_file_in_models_dir_is_rejected(tmp_path):
    (tmp_path / "face_detection_yunet_2023mar.onnx").write_bytes(b"not yunet")
    with pytest.raises(ToolError, match="sha256"):
        ModelRegistry.load(tmp_path, allow_download=False).path("yunet")


def test_missing_model_without_download_says_where_to_get_it(tmp_path):
    with pytest.raises(InputError, match="not in the models dir") as caught:
        ModelRegistry.load(tmp_path, allow_download=False).path("yunet")
    assert "opencv_zoo" in caught.value.fix
