"""Cutting the presenter out of their own frame: MediaPipe's selfie segmenter gives a person confidence per pixel
(hair included), which becomes a soft alpha matte.

The matte is made per rendered frame (the head moves, a video avatar moves more), its edge eased so that a pixel the
model is unsure of blends rather than flickers, and steadied over time so hair does not shimmer.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from ..face.backends import native_logs_hidden

EDGE_LOW, EDGE_HIGH = 0.5, 0.95
"""Confidence below EDGE_LOW is background, above EDGE_HIGH the presenter; between, a smooth blend (smoothstep)."""
FEATHER_SHARE = 0.004
"""The matte's edge is softened over this share of the frame's height (4 px at 1080 lines)."""
FRAME_EDGE_SHARE = 0.03
"""Where the presenter runs into their photo's left, right or top edge (a tight crop), the matte fades out over this
share of the frame, so the crop shows as a soft fade and not a straight cut. The bottom edge stays: it stands on the
picture's bottom edge."""
DECONTAMINATE_SHARE = 0.01
"""How far (a share of the frame's height) an edge pixel looks inward for the presenter's own colour."""
MATTE_HEIGHT = 320
"""The matte is made at this height and scaled up once (the model sees 256 lines anyway, and the edge is soft)."""
STEADY = 0.5
"""Each frame's matte is this much the one before (steadier hair) and the rest its own (no lag a viewer sees at 25 fps)."""


class Segmenter:
    """The selfie segmenter, loaded once; `confidence(frame)` is the person confidence at the frame's size."""

    name = "mediapipe-selfie"

    def __init__(self, model_path: Path):
        from mediapipe.tasks.python import BaseOptions, vision

        options = vision.ImageSegmenterOptions(base_options=BaseOptions(model_asset_path=str(model_path)),
                                               running_mode=vision.RunningMode.IMAGE, output_confidence_masks=True,
                                               output_category_mask=False)
        with native_logs_hidden():
            self._segmenter = vision.ImageSegmenter.create_from_options(options)

    def confidence(self, frame: np.ndarray) -> np.ndarray:
        import mediapipe as mp

        result = self._segmenter.segment(mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(frame)))
        mask = result.confidence_masks[0].numpy_view()
        return np.array(mask.reshape(mask.shape[:2]), np.float32)

    def close(self) -> None:
        self._segmenter.close()


class Matte:
    """One clip's mattes, frame after frame (it remembers the last to steady the next)."""

    def __init__(self, segmenter: Segmenter):
        self.segmenter = segmenter
        self._previous: np.ndarray | None = None

    def __call__(self, frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(n, h, w, 3) RGB -> the presenter's colours to lay over the background ((n, h, w, 3) uint8: their edges
        cleaned of the old background's colour) and the alpha to lay them with ((n, h, w) in [0, 1])."""
        alphas = np.stack([self._one(frame) for frame in frames])
        return np.stack([clean_edges(f, a) for f, a in zip(frames, alphas, strict=True)]), alphas

    def _one(self, frame: np.ndarray) -> np.ndarray:
        height, width = frame.shape[:2]
        small_size = (max(1, round(width * MATTE_HEIGHT / height)), MATTE_HEIGHT) if height > MATTE_HEIGHT else (width, height)
        small = cv2.resize(frame, small_size, interpolation=cv2.INTER_AREA) if small_size != (width, height) else frame
        confidence = self.segmenter.confidence(small)
        if confidence.shape != small.shape[:2]:
            confidence = cv2.resize(confidence, small_size, interpolation=cv2.INTER_LINEAR)
        sigma = max(0.5, FEATHER_SHARE * small_size[1])
        alpha = cv2.GaussianBlur(eased(confidence), (0, 0), sigma) * frame_edge_fade(confidence.shape)
        if self._previous is not None and self._previous.shape == alpha.shape:
            alpha = STEADY * self._previous + (1 - STEADY) * alpha
        self._previous = alpha
        if small is frame:
            return alpha
        return np.clip(cv2.resize(alpha, (width, height), interpolation=cv2.INTER_LINEAR), 0.0, 1.0)


def clean_edges(frame: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Where the matte is partial (hair, the outline), the colour is part old background: a pale wall leaves a pale
    halo on a dark studio. There the colour is taken from the nearest pixels that are surely the presenter (a blur
    weighted by them pulls the hair's own colour outward; worked out at a quarter of the size, as it is smooth).
    Where the matte is whole, the frame is untouched."""
    height, width = alpha.shape
    small_size = (max(1, width // 4), max(1, height // 4))
    sure = eased_ramp((cv2.resize(alpha, small_size, interpolation=cv2.INTER_AREA) - 0.9) / 0.08)
    colours = cv2.resize(frame, small_size, interpolation=cv2.INTER_AREA).astype(np.float32)
    sigma = max(0.5, DECONTAMINATE_SHARE * height / 4)
    reach = cv2.GaussianBlur(sure, (0, 0), sigma)
    spread = cv2.GaussianBlur(colours * sure[..., None], (0, 0), sigma) / np.maximum(reach, 1e-4)[..., None]
    spread = cv2.resize(np.clip(spread + 0.5, 0, 255).astype(np.uint8), (width, height), interpolation=cv2.INTER_LINEAR)
    reach = cv2.resize(reach, (width, height), interpolation=cv2.INTER_LINEAR)
    keep = np.maximum(eased_ramp((alpha - 0.6) / 0.35), 1 - np.clip(reach / 0.02, 0, 1))
    return cv2.blendLinear(frame, spread, keep, 1 - keep)


@lru_cache(maxsize=8)
def frame_edge_fade(shape: tuple[int, int]) -> np.ndarray:
    """(h, w): 0 at the frame's left, right and top edges, rising smoothly to 1 over FRAME_EDGE_SHARE. Do not change
    the array returned: it is shared."""
    height, width = shape
    reach = max(2.0, FRAME_EDGE_SHARE * max(height, width))
    across = np.minimum(np.arange(width), width - 1 - np.arange(width)) / reach
    down = np.arange(height) / reach
    return eased_ramp(down)[:, None] * eased_ramp(across)[None, :]


def eased_ramp(t: np.ndarray) -> np.ndarray:
    t = np.clip(t, 0.0, 1.0)
    return (t * t * (3 - 2 * t)).astype(np.float32)


def eased(confidence: np.ndarray) -> np.ndarray:
    """Confidence -> alpha: 0 below EDGE_LOW, 1 above EDGE_HIGH, smoothstep between."""
    return eased_ramp((confidence - EDGE_LOW) / (EDGE_HIGH - EDGE_LOW))


__all__ = ["Matte", "Segmenter", "clean_edges", "eased", "frame_edge_fade"]
