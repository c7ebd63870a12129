"""Cutting the presenter out onto the background (MediaPipe's selfie segmenter, here a tiny one of the same format),
and video backgrounds."""
import hashlib
import subprocess
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest

from announcer import Pipeline, RenderRequest
from announcer.compose import Canvas
from announcer.compose.backdrop import BackgroundVideo
from announcer.compose.cutout import Matte, Segmenter, clean_edges, frame_edge_fade
from announcer.config import FaceConfig, LayoutConfig, RenderConfig
from announcer.errors import InputError

from .conftest import MEDIA, MODELS, decode_frames, probe, write_script
from .tiny_segmenter import SIZE, expected_confidence, write_tiny_segmenter

PORTRAIT = MEDIA / "portraits" / "woman_brown_hair.jpg"
BACKGROUND = (16, 42, 67)  # #102a43


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    return write_tiny_segmenter(tmp_path_factory.mktemp("segmenter") / "selfie_segmenter.tflite")


@pytest.fixture(scope="module")
def studio(tmp_path_factory) -> Path:
    """A moving studio backdrop, 2 s, 640x360. Seeded: the gradients source draws its direction at random, and some
    draws moved too little between two frames for the test below (one run in seven failed)."""
    path = tmp_path_factory.mktemp("studio") / "studio.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
                    "gradients=s=640x360:d=2:r=25:speed=0.08:c0=0x0b1f33:c1=0x3f7fba:n=2:seed=1,format=yuv420p",
                    "-c:v", "libx264", str(path)], check=True)
    return path


def _portrait() -> np.ndarray:
    return cv2.cvtColor(cv2.imread(str(PORTRAIT)), cv2.COLOR_BGR2RGB)


def test_the_segmenter_runs_the_model_through_mediapipe(tiny_model):
    segmenter = Segmenter(tiny_model)
    try:
        image = _portrait()
        confidence = segmenter.confidence(image)
    finally:
        segmenter.close()
    assert confidence.shape == image.shape[:2] and confidence.dtype == np.float32
    at_model_size = cv2.resize(confidence, (SIZE, SIZE), interpolation=cv2.INTER_AREA)
    expected = expected_confidence(cv2.resize(image, (SIZE, SIZE), interpolation=cv2.INTER_AREA))
    assert np.abs(at_model_size - expected).mean() < 0.03
    assert confidence.min() < 0.05 and confidence.max() > 0.95


def test_the_matte_is_soft_at_the_edge_and_fades_at_the_photos_sides_but_not_its_bottom(tiny_model):
    segmenter = Segmenter(tiny_model)
    try:
        frames = np.stack([_portrait()] * 2)
        colours, alpha = Matte(segmenter)(frames)
    finally:
        segmenter.close()
    assert alpha.shape == frames.shape[:3] and 0 <= alpha.min() and alpha.max() <= 1
    partial = ((alpha > 0.05) & (alpha < 0.95)).mean()
    assert 0.005 < partial < 0.3  # soft edges, not a hard cut-out and not mush
    assert alpha[:, 0].max() < 0.01 and alpha[:, :, 0].max() < 0.01 and alpha[:, :, -1].max() < 0.01
    assert alpha[:, -1].max() > 0.9  # the shoulders reach the bottom edge, where the presenter stands
    inside = alpha > 0.98
    assert np.array_equal(colours[inside], frames[inside])  # colours change only at the edge


def test_clean_edges_pulls_the_presenters_colour_over_a_pale_fringe():
    frame = np.full((100, 100, 3), 230, np.uint8)  # a pale wall
    frame[:, :50] = (90, 60, 40)  # dark hair on the left
    alpha = np.zeros((100, 100), np.float32)
    alpha[:, :50] = 1.0
    alpha[:, 50:56] = np.linspace(0.8, 0.1, 6)  # a soft edge over the wall
    cleaned = clean_edges(frame, alpha)
    assert np.array_equal(cleaned[:, :45], frame[:, :45])
    assert cleaned[:, 52].mean() < 150  # the fringe takes the hair's colour, not the wall's
    fade = frame_edge_fade((100, 200))
    assert fade[0].max() == 0 and fade[:, 0].max() == 0 and fade[-1, 100] == 1


def test_a_cut_out_canvas_lays_the_presenter_through_the_matte_and_stands_them_on_the_bottom_edge():
    canvas = Canvas.for_layout(LayoutConfig(aspect="16:9", short_side=360, cutout=True, border_px=6), (200, 200))
    x, y, width, height = canvas.box
    assert y + height == 360  # no bottom margin
    frames = np.full((1, height, width, 3), 200, np.uint8)
    alpha = np.zeros((1, height, width), np.float32)
    alpha[:, :, width // 2:] = 1.0
    placed = canvas.place(frames, alpha)
    assert (placed[0, y + 5, x + 5] == BACKGROUND).all()  # where the matte is 0: the background, and no border
    assert (placed[0, y + 5, x + width - 5] == 200).all()
    assert (placed[0, y - 3, x + 5] == BACKGROUND).all()


def test_a_video_background_loops_covering_the_canvas(studio):
    with BackgroundVideo(studio, (320, 320), 25) as video:
        first, rest = video.read(1), video.read(60)
    assert first.shape == (1, 320, 320, 3) and rest.shape == (60, 320, 320, 3)
    assert np.abs(rest[0].astype(int) - first[0]).mean() > 0.5  # it moves
    assert np.abs(rest[49].astype(int) - first[0]).mean() < 3  # and after its 50 frames it starts again
    with pytest.raises(InputError, match="background has no pictures"):
        BackgroundVideo(MEDIA / "audio" / "jfk.wav", (320, 320), 25)


def _pipeline_with(tiny_model: Path, home: Path) -> Pipeline:
    """A pipeline whose registry pins the tiny segmenter and fetches it from a file:// URL (the real download path:
    fetched into the home's models, checked against its sha256)."""
    pipeline = Pipeline(RenderConfig(face=FaceConfig(models_dir=MODELS), home=home, progress=False, device="cpu"))
    spec = pipeline.registry.specs["selfie_segmenter"]
    pipeline.registry.specs["selfie_segmenter"] = replace(
        spec, url=tiny_model.as_uri(), sha256=hashlib.sha256(tiny_model.read_bytes()).hexdigest(), size=None)
    return pipeline


@pytest.mark.slow
def test_a_cut_out_clip_shows_the_background_where_the_model_sees_no_person(tiny_model, studio, tmp_path):
    script = write_script(tmp_path, "news.md", "---\nlayout: 16:9\ncutout: true\nbackground: studio.mp4\n---\nGood evening.\n")
    (tmp_path / "studio.mp4").symlink_to(studio)
    with _pipeline_with(tiny_model, tmp_path / "home") as pipeline:
        result = pipeline.render(RenderRequest(script=script, avatar=PORTRAIT, output=tmp_path / "clip.mp4"))
    manifest = result.manifest
    assert any(m["path"].endswith("selfie_segmenter.tflite") for m in manifest["models"])
    assert (tmp_path / "home" / "models" / "selfie_segmenter.tflite").is_file()  # downloaded and kept
    x, y, width, height = manifest["layout"]["presenter_box"]
    assert y + height == 1080
    frames = decode_frames(result.outputs.video)
    with BackgroundVideo(studio, (1920, 1080), 25) as video:
        backdrop = video.read(len(frames))
    source = cv2.resize(_portrait(), (width, height), interpolation=cv2.INTER_AREA)
    person = cv2.resize(expected_confidence(cv2.resize(_portrait(), (SIZE, SIZE), interpolation=cv2.INTER_AREA)),
                        (width, height))
    wall = np.zeros((1080, 1920), bool)
    wall[y:y + height, x:x + width] = person < 0.02
    hair = np.zeros((1080, 1920), bool)
    hair[y:y + height, x:x + width] = (person > 0.98) & (frame_edge_fade((height, width)) > 0.99)
    assert wall.sum() > 20000 and hair.sum() > 20000
    for k in (0, len(frames) // 2, len(frames) - 1):
        frame = frames[k].astype(int)
        assert np.abs(frame[wall] - backdrop[k][wall]).mean() < 6  # the moving studio shows through the wall
        assert np.abs(frame[hair] - source[hair[y:y + height, x:x + width]]).mean() < 25  # the presenter's own hair
    assert int(probe(result.outputs.video)["streams"][0]["width"]) == 1920
