"""Model registry: name -> file, resolved from the models dir or downloaded, sha256-checked, cached.

>>> registry = ModelRegistry.load(models_dir="../shared/models")
>>> registry.path("yunet").name
'face_detection_yunet_2023mar.onnx'
"""
from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import yaml
from tqdm import tqdm

from .errors import InputError, ToolError

log = logging.getLogger(__name__)

MANIFEST_PATH = Path(__file__).resolve().parent / "data" / "manifest.yaml"


@dataclass(frozen=True)
class ModelSpec:
    name: str
    filename: str
    url: str
    sha256: str
    licence: str
    use: str
    size: int | None = None
    aliases: tuple[str, ...] = ()

    def matches(self, digest: str) -> bool:
        """Full digests must match; a published prefix (torch.hub style) is checked as a prefix."""
        return digest.startswith(self.sha256.lower())


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class ModelRegistry:
    def __init__(self, specs: dict[str, ModelSpec], models_dir: Path | None, cache_dir: Path | None,
                 allow_download: bool = True):
        self.specs = specs
        self.models_dir = models_dir
        self.cache_dir = cache_dir
        self.allow_download = allow_download
        self._resolved: dict[str, tuple[Path, str]] = {}

    @staticmethod
    def load(models_dir: str | Path | None = None, cache_dir: str | Path | None = None,
             manifest: Path = MANIFEST_PATH, allow_download: bool = True) -> "ModelRegistry":
        """`models_dir` (or ANNOUNCER_MODELS) is searched first; downloads go to `cache_dir`."""
        raw = yaml.safe_load(manifest.read_text(encoding="utf-8"))
        specs = {name: ModelSpec(name=name, filename=entry["filename"], url=entry["url"],
                                 sha256=str(entry["sha256"]).lower(), licence=entry["licence"],
                                 use=entry["use"], size=entry.get("size"),
                                 aliases=tuple(entry.get("aliases", ())))
                 for name, entry in raw.items()}
        chosen = models_dir or os.environ.get("ANNOUNCER_MODELS")
        return ModelRegistry(specs, Path(chosen).expanduser() if chosen else None,
                             Path(cache_dir).expanduser() if cache_dir else None, allow_download)

    def spec(self, name: str) -> ModelSpec:
        if name not in self.specs:
            raise InputError(f"unknown model '{name}'", fix=f"known models: {', '.join(sorted(self.specs))}")
        return self.specs[name]

    def path(self, name: str) -> Path:
        """Local path of a verified model file, downloading it on first use."""
        return self.resolve(name)[0]

    def resolve(self, name: str) -> tuple[Path, str]:
        """(path, sha256) of a verified model file."""
        if name not in self._resolved:
            spec = self.spec(name)
            found = self._find_local(spec)
            path = found if found is not None else self._download(spec)
            digest = sha256_of(path)
            if not spec.matches(digest):
                raise ToolError(f"model '{name}' at {path} has sha256 {digest[:16]}…, expected {spec.sha256[:16]}…",
                                fix="delete the file, or point --models-dir at the right one")
            self._resolved[name] = (path, digest)
        return self._resolved[name]

    def is_available(self, name: str) -> bool:
        return self._find_local(self.spec(name)) is not None

    def _find_local(self, spec: ModelSpec) -> Path | None:
        for folder in (self.models_dir, self.cache_dir):
            if folder is None:
                continue
            for filename in (spec.filename, *spec.aliases):
                candidate = folder / filename
                if candidate.is_file():
                    return candidate
        return None

    def _download(self, spec: ModelSpec) -> Path:
        if not self.allow_download or self.cache_dir is None:
            raise InputError(f"model '{spec.name}' ({spec.filename}) is not in the models dir",
                             path=self.models_dir, fix=f"download it from {spec.url} or set --models-dir")
        target = self.cache_dir / spec.filename
        download_verified(spec.url, target, spec.sha256, f"model '{spec.name}'",
                          fix=f"put {spec.filename} in the models dir (--models-dir) by hand")
        return target


def download_verified(url: str, target: Path, sha256: str | None, what: str, fix: str) -> None:
    """Download `url` to `target` only if its digest starts with `sha256` (a full digest, or a published prefix);
    None: the caller checks the content itself. A failed or mismatched download leaves nothing at `target`: it is
    written beside it, then renamed."""
    target.parent.mkdir(parents=True, exist_ok=True)
    log.info("downloading %s from %s", what, url)
    with tempfile.NamedTemporaryFile(dir=target.parent, suffix=".part", delete=False) as part:
        part_path = Path(part.name)
        try:
            _fetch(url, part, target.name)
        except (OSError, ValueError) as error:
            part_path.unlink(missing_ok=True)
            raise ToolError(f"could not download {what} from {url}: {error}", fix=fix) from error
    digest = sha256_of(part_path)
    if sha256 is not None and not digest.startswith(sha256.lower()):
        part_path.unlink(missing_ok=True)
        raise ToolError(f"download of {what} has sha256 {digest[:16]}…, expected {sha256[:16]}…",
                        fix="the upstream file changed or the download was tampered with; nothing was kept")
    part_path.chmod(0o644)  # the temporary file was private to this process
    part_path.replace(target)


def _fetch(url: str, sink, label: str) -> None:
    request = urllib.request.Request(url, headers={"User-Agent": "announcer"})
    with urllib.request.urlopen(request, timeout=60) as response:
        total = int(response.headers.get("Content-Length") or 0) or None
        with tqdm(total=total, unit="B", unit_scale=True, desc=label, disable=None) as bar:
            while block := response.read(1 << 16):
                sink.write(block)
                bar.update(len(block))

