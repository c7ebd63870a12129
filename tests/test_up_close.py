"""Faces up close: blinks made of the presenter's own lid, mouth interiors from real pixels, the close-up sheet.

Every figure is measured on real renders of the shared media, with MediaPipe re-detecting the face.
"""
import json
import subprocess
import sys

import cv2
import numpy as np
import pytest
import torch

from announcer.config import GenerateConfig
from announcer.deliver.closeups import closeup_sheet, pick_moments
from announcer.eval.eyes import fine_grain, grain
from announcer.face.meter import FaceMeter
from announcer.eval.texture import interior_flicker, mouth_scores, split_held_out
from announcer.face import layout, load_avatar
from announcer.generate import WarpRenderer
from announcer.generate.interior import InteriorBank
from announcer.motion import MotionPlan

from .conftest import MEDIA, MODELS

BLINKING_PORTRAIT = "woman_brown_hair.jpg"


def photo_plan(openings: list[float], blinks: list[float]) -> MotionPlan:
    count = len(openings)
    mouth = np.zeros((count, 3), np.float32)
    mouth[:, 0] = openings
    return MotionPlan(25, mouth, np.array(blinks, np.float32), np.zeros((count, 3), np.float32),
                      np.zeros(count, np.int64), "phonemes")


def render_photo(face_stage, name: str, plan: MotionPlan, interior: str = "real"):
    avatar = load_avatar(MEDIA / "portraits" / name, 480, 720, 1)
    track = face_stage(avatar)
    renderer = WarpRenderer(GenerateConfig(mouth_interior=interior), torch.device("cpu"))
    return avatar, track, np.concatenate(list(renderer(avatar, track, plan)))


def lid_texture(frame: np.ndarray, points: np.ndarray) -> tuple[list[float], list[float]]:
    """For each eye of a shut frame: the lid's fine grain as a share of the skin's just under the eye (robust variances
    of detail finer than 1 px), and the share of the lid's pixels that are dark specks (12% darker than their
    surroundings, as lashes are)."""
    grey = frame.astype(np.float32).mean(axis=2)
    surroundings = cv2.GaussianBlur(grey, (0, 0), 3.0)
    grains, specks = [], []
    for eye in (layout.RIGHT_EYE, layout.LEFT_EYE):
        points_ = points[eye].astype(np.float64)
        width, centre = float(np.ptp(points_[:, 0])), points_.mean(axis=0)
        lid, skin = (_region(grey.shape, centre + (0, shift * width) + (points_ - centre) * (0.7, 0.8))
                     for shift in (-0.1, 0.45))
        grains.append(fine_grain(frame, lid) / max(fine_grain(frame, skin), 1e-6))
        specks.append(float((grey[lid] - surroundings[lid] < -0.12 * surroundings[lid]).mean()))
    return grains, specks


def _region(shape, outline: np.ndarray) -> np.ndarray:
    mask = np.zeros(shape, np.uint8)
    cv2.fillPoly(mask, [np.round(outline).astype(np.int32)], 1)
    return mask.astype(bool)


@pytest.fixture(scope="module")
def eye_meter():
    meter = FaceMeter(MODELS / "face_landmarker_v2_with_blendshapes.task")
    yield meter
    meter.close()


@pytest.mark.parametrize("portrait", ["woman_white_top.png", BLINKING_PORTRAIT])
def test_a_blink_really_closes_the_eye_and_keeps_its_grain(face_stage, eye_meter, portrait):
    avatar, track, frames = render_photo(face_stage, portrait, photo_plan([0, 0, 0], [0, 0.6, 1.0]))
    readings = eye_meter.read(frames)
    assert readings.opening[2] <= 0.35 * readings.opening[0]  # MediaPipe sees the eye shut
    assert readings.blink[2] >= 0.45 > readings.blink[0]
    assert readings.opening[0] > readings.opening[1] > readings.opening[2]  # half way is half closed
    # The shut lid is skin: about as grainy as the skin under the eye. A lid without grain keeps 0.01-0.08 of it on
    # these two women. A lid that carried the lashes' detail, as this one did until 2026-12-02, drew dark herringbone
    # arcs: 12-22 times the skin's grain on woman_white_top, and 6-8% of the lid's pixels dark specks (now none).
    for lid_grain, specks in zip(*lid_texture(frames[2], track.landmarks[0]), strict=True):
        assert 0.3 <= lid_grain <= 4 and specks < 0.03
    assert grain(frames[2], track.landmarks[0]) > 0.03 * grain(frames[0], track.landmarks[0])  # real blinks: 0.03-0.72
    # Nothing but the eyes moved: below them the frame is the one rendered without a blink, pixel for pixel.
    _, _, unblinking = render_photo(face_stage, portrait, photo_plan([0, 0, 0], [0, 0, 0]))
    below_eyes = int(track.landmarks[0][layout.NOSE, 1].max())
    assert np.array_equal(frames[2][below_eyes:], unblinking[2][below_eyes:])


def test_a_closed_mouth_photo_gets_rendered_teeth_that_move_with_the_lips(face_stage):
    avatar, track, frames = render_photo(face_stage, BLINKING_PORTRAIT, photo_plan([0, 0.5, 0.5, 1.0], [0, 0, 0, 0]))
    inner = layout.INNER_LIPS
    renderer = WarpRenderer(GenerateConfig(), torch.device("cpu"))
    assert renderer.interior_bank(avatar, track).source == "rendered"
    widest = frames[3]
    from announcer.generate.targets import plan_targets

    targets = plan_targets(track.landmarks, photo_plan([0, 0.5, 0.5, 1.0], [0, 0, 0, 0]))
    mask = np.zeros(widest.shape[:2], np.uint8)
    cv2.fillPoly(mask, [np.round(targets[3, inner]).astype(np.int32)], 1)
    luma = widest[mask.astype(bool)].astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    assert np.percentile(luma, 95) > 120 and np.percentile(luma, 10) < 60  # light teeth and a dark cavity
    # The teeth are separate: along the upper row the brightness rises and falls tooth by tooth.
    row_y = int(round(targets[3, [61, 62, 63], 1].mean() + 0.03 * layout.inter_ocular(targets[3])))
    x0, x1 = (int(round(targets[3, i, 0])) for i in (60, 64))
    row = widest[row_y, x0:x1].astype(np.float32).mean(axis=1)
    peaks = np.flatnonzero((row[1:-1] > row[:-2]) & (row[1:-1] >= row[2:]) & (row[1:-1] > np.percentile(row, 50)))
    assert len(peaks) >= 4
    # The rendered grain is one fixed field: the same mouth shape gives the same pixels (to float rounding), no shimmer.
    assert interior_flicker(frames[1:3], targets[1:3]) < 0.05


@pytest.fixture(scope="module")
def video_interiors(pipeline):
    avatar = load_avatar(MEDIA / "videos" / "talk_face1.mp4", None, 720, 30)
    track = pipeline.face_track(avatar)
    held_out, donors = split_held_out(layout.mouth_opening(track.landmarks))
    rendered = {}
    for interior in ("real", "painted"):
        renderer = WarpRenderer(GenerateConfig(mouth_interior=interior, close_mouths_above=0.0), torch.device("cpu"))
        rendered[interior] = np.concatenate(list(renderer.render_landmarks(avatar, track, held_out,
                                                                           track.landmarks[held_out], donors)))
    return avatar, track, held_out, donors, rendered


def test_held_out_frames_are_never_donors(video_interiors):
    avatar, track, held_out, donors, _ = video_interiors
    assert len(np.intersect1d(held_out, donors)) == 0
    assert min(np.abs(d - held_out).min() for d in donors) > 5
    bank = InteriorBank.from_frames(avatar.frames, track.landmarks, donors)
    assert bank.source == "video" and len(bank.openings) >= 3
    assert layout.mouth_opening(track.landmarks[held_out]).mean() > layout.mouth_opening(track.landmarks).mean()


def test_the_presenters_own_teeth_beat_the_painted_interior(video_interiors):
    avatar, track, held_out, _, rendered = video_interiors
    real, points = avatar.frames[held_out], track.landmarks[held_out]
    own, painted = mouth_scores(rendered["real"], real, points), mouth_scores(rendered["painted"], real, points)
    assert own["mouth_psnr_db"] >= painted["mouth_psnr_db"] + 2
    assert own["mouth_ssim"] > painted["mouth_ssim"]
    # No flicker: the interior changes from frame to frame no more than the real footage's does.
    assert own["interior_flicker"] <= interior_flicker(real, points)


def test_closeup_sheet_shows_real_and_generated_at_the_widest_mouths_and_a_blink(video_interiors):
    avatar, track, held_out, _, rendered = video_interiors
    points = track.landmarks[held_out]
    blink = np.zeros(len(held_out), np.float32)
    blink[2] = 1.0
    moments = pick_moments(points, blink, avatar.fps)
    openings = layout.mouth_opening(points)
    assert moments[-1].frame == 2 and "blink" in moments[-1].label
    assert max(openings[m.frame] for m in moments[:-1]) == openings.max()
    sheet = closeup_sheet(rendered["real"], points, moments, avatar.frames[held_out])
    widest = moments[int(np.argmax([openings[m.frame] if "mouth" in m.label else -1 for m in moments]))]
    # The real mouth at 1:1 appears in the sheet, pixel for pixel.
    lips = points[widest.frame, layout.LIPS]
    x, y = np.round(lips.mean(axis=0)).astype(int)
    probe = avatar.frames[held_out][widest.frame][y - 3:y + 4, x - 6:x + 7]
    found = cv2.matchTemplate(sheet, probe, cv2.TM_SQDIFF)
    assert found.min() < 1e-3  # an exact match (the sum of squared differences is 0 up to float rounding)


@pytest.mark.slow
def test_eval_drive_landmarks_and_render_closeups_from_the_cli(tmp_path, home):
    env_args = ["--home", str(home), "--models-dir", str(MODELS), "--device", "cpu", "-q"]
    out = tmp_path / "eval"
    subprocess.run([sys.executable, "-m", "announcer", "eval", str(MEDIA / "videos" / "talk_face3.mp4"), "--drive",
                    "landmarks", "-o", str(out), *env_args], check=True)
    report = json.loads((out / "report.json").read_text())
    assert report["mouth_psnr_db"] > report["painted"]["mouth_psnr_db"]
    assert {"mouth_ssim", "interior_flicker", "real_interior_flicker", "real_blinks"} <= report.keys()
    sheet = cv2.imread(str(out / "closeups.png"))
    assert sheet is not None and sheet.shape[0] > 100
    script = tmp_path / "short.txt"
    script.write_text("Good evening. Here is the news.\n")
    clip = tmp_path / "clip.mp4"
    subprocess.run([sys.executable, "-m", "announcer", "render", str(script), "--avatar",
                    str(MEDIA / "portraits" / "woman_smile.png"), "-o", str(clip), "--closeups", *env_args], check=True)
    assert cv2.imread(str(tmp_path / "clip.closeups.png")) is not None


def test_an_unknown_mouth_interior_is_refused_up_front():
    from announcer.config import RenderConfig
    from announcer.errors import InputError

    with pytest.raises(InputError, match="unknown mouth interior 'teeth'"):
        RenderConfig(generate=GenerateConfig(mouth_interior="teeth")).validate()
    assert RenderConfig(generate=GenerateConfig(mouth_interior="painted")).validate().generate.mouth_interior == "painted"
