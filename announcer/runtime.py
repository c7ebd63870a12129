"""What a run loads once and shares between clips: the device, the home, the model registry, the artifact cache,
and every loaded model (face detector and landmarker, voices, the speech-to-mouth model, the narration aligner and
phone recogniser, prepared avatars' renderers). `Pipeline` renders with it; `avatar`, `eval` and the job engines use it directly.

>>> with Runtime(RenderConfig()) as runtime:  # doctest: +SKIP
...     track = runtime.face_track(load_avatar(Path("anchor.jpg"), None, 1080, 60))
"""
from __future__ import annotations

import ctypes
import json
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import torch

from .assets import ModelRegistry
from .cache import ArtifactCache
from .config import RenderConfig, VoiceConfig
from .errors import InputError
from .face import Avatar, FaceStage, FaceTrack
from .generate import WarpRenderer
from .home import Home
from .media.ffmpeg import ffmpeg_binary

Model = TypeVar("Model")


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise InputError(f"device '{name}' asked for, but no CUDA GPU is available", fix="use --device cpu or auto")
    return torch.device(name)


LARGE_BLOCK_BYTES = 1 << 30


def keep_large_blocks() -> None:
    """Let the C allocator (glibc's) reuse large blocks instead of returning each to the system when it is freed.

    A 720p batch allocates and frees blocks of 25-50 MB per step (frames, warp maps, float crops). glibc hands
    blocks over 32 MB straight back to the kernel, so every batch paid for mapping them again and faulting their
    pages in: 14 s of a 35 s photo render went to the kernel on the 2-core CPU; with this, 3 s. Peak memory stays
    the same. Process-wide and harmless to repeat; elsewhere than glibc it does nothing."""
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return
    libc.mallopt(_M_MMAP_THRESHOLD, LARGE_BLOCK_BYTES)
    libc.mallopt(_M_TRIM_THRESHOLD, LARGE_BLOCK_BYTES)


_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's malloc.h


CACHED_STAGES = ("face", "voice")
"""The stages whose artifacts the cache keeps (a folder each in the work dir)."""


class Runtime:
    """The one owner of loaded models: each is loaded on first use and kept until `close()`."""

    def __init__(self, config: RenderConfig | None = None):
        self.config = (config or RenderConfig()).validate()
        ffmpeg_binary()  # fail before any model loads
        self.home = Home.resolve(self.config.home)
        self.device = resolve_device(self.config.device)
        keep_large_blocks()
        self.registry = ModelRegistry.load(self.config.face.models_dir, self.home.models_dir)
        self.cache = ArtifactCache(self.home.work_dir, self.config.use_cache)
        self.cache.sweep(CACHED_STAGES)
        self.renderer = WarpRenderer(self.config.generate, self.device)
        self._models: dict[tuple, object] = {}

    def __enter__(self) -> "Runtime":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Free every model's native resources (MediaPipe's graphs must be closed before interpreter shutdown)."""
        for model in self._models.values():
            if callable(getattr(model, "close", None)):
                model.close()
        self._models.clear()

    def model(self, key: tuple, load: Callable[[], Model]) -> Model:
        """The model known by `key`, loaded by `load()` the first time it is asked for."""
        if key not in self._models:
            self._models[key] = load()
        return self._models[key]

    @property
    def face_stage(self) -> FaceStage:
        return self.model(("face",), lambda: FaceStage(self.config.face, self.registry, str(self.device),
                                                       progress=self.config.progress))

    @property
    def face_meter(self):
        """MediaPipe's Face Landmarker with blendshapes and head pose, read frame by frame (face.meter)."""
        from .face.meter import FaceMeter

        return self.model(("face meter",), lambda: FaceMeter(self.registry.resolve("face_landmarker")[0]))

    @property
    def segmenter(self):
        """MediaPipe's selfie segmenter, for cut-out layouts."""
        from .compose.cutout import Segmenter

        return self.model(("segmenter",), lambda: Segmenter(self.registry.resolve("selfie_segmenter")[0]))

    def voice_engine(self, voice: VoiceConfig):
        from .voice import load_engine, voice_file_identity

        key = ("voice", voice.engine, voice.voice, voice.language, voice.speed, voice.device,
               json.dumps(voice_file_identity(voice)))
        return self.model(key, lambda: load_engine(voice, self.registry, models_dir=self.home.models_dir,
                                                             phone_recogniser=self.phone_recogniser))

    def mouth_model(self, weights: Path):
        """The speech-to-mouth model in `weights` (motion reads recorded speech with it)."""
        from .motion.model import MouthNet

        return self.model(("mouth", str(weights)), lambda: MouthNet.load(str(weights)))

    def aligner(self):
        """The recogniser that aligns recorded narration to its script (about a second to load)."""
        from .voice.align import load_recogniser

        return self.model(("aligner",), load_recogniser)

    def phone_recogniser(self):
        """The recogniser that hears phones in narration in any other language than English."""
        from .voice.phones import load_phone_recogniser

        return self.model(("phones",), load_phone_recogniser)

    @property
    def voice_stage(self):
        """The voice stage, speaking with this Runtime's engines and timing recordings with its recognisers."""
        from .voice.stage import VoiceStage

        return self.model(("voice stage",), lambda: VoiceStage(self.voice_engine, self.home.models_dir, self.aligner,
                                                               self.phone_recogniser, self.config.progress))

    def face_track(self, avatar: Avatar) -> FaceTrack:
        """The avatar's landmark track, from the work dir when this avatar was tracked before."""
        stage = self.face_stage
        return self.cache.through("face", stage.cache_key(avatar), lambda: stage(avatar), FaceTrack)
