"""Stage 5 pieces: the thin-plate warp, the paste, the mouth closing, on real pixels."""
import numpy as np
import pytest
import torch

from announcer.face import layout, load_avatar
from announcer.generate.composite import CropBox, feather_mask, paste_into
from announcer.generate.preclose import close_open_mouths
from announcer.generate.warp import border_anchors, warp_crops

from .conftest import MEDIA


def portrait_tensor():
    frame = load_avatar(MEDIA / "portraits" / "woman_white_top.png", None, 720, 1).frames[0]
    return frame, torch.from_numpy(frame)[None]


def test_identity_warp_returns_the_image():
    _, image = portrait_tensor()
    points = torch.cat([torch.tensor([[[200.0, 200.0], [260.0, 300.0], [150.0, 310.0]]]), border_anchors(474, 474)[None]], 1)
    warped = warp_crops(image, points, points)
    assert (warped - image.float()).abs().max() < 1.0


def test_warp_moves_content_from_source_to_target():
    frame, image = portrait_tensor()
    anchors = border_anchors(474, 474)[None]
    source = torch.cat([torch.tensor([[[237.0, 300.0]]]), anchors], 1)
    target = torch.cat([torch.tensor([[[237.0, 320.0]]]), anchors], 1)
    warped = warp_crops(image, source, target)[0].numpy()
    assert np.abs(warped[320, 237] - frame[300, 237]).max() < 2
    assert np.abs(warped[5, 5] - frame[5, 5]).max() < 1  # the border does not move


def test_paste_leaves_everything_outside_the_box_untouched():
    frame, _ = portrait_tensor()
    frames = torch.from_numpy(frame)[None]
    box = CropBox(100, 120, 300, 330)
    crops = torch.zeros(1, box.height, box.width, 3)
    out = paste_into(frames.clone(), crops, box, feather_mask(box, (474, 474))).numpy()[0]
    outside = np.ones(frame.shape[:2], bool)
    outside[box.y0:box.y1, box.x0:box.x1] = False
    assert np.array_equal(out[outside], frame[outside])
    assert out[box.y0 + 50, box.x0 + 50].max() == 0  # inside, fully replaced
    assert 0 < out[box.y0, box.x0 + 50].mean() < frame[box.y0, box.x0 + 50].mean() + 1  # feathered edge


def test_open_mouth_is_closed_without_folding(face_stage):
    avatar = load_avatar(MEDIA / "portraits" / "man_open_mouth.jpg", None, 720, 1)
    track = face_stage(avatar)
    frames, landmarks = close_open_mouths(avatar.frames, track.landmarks, np.array([0]), 0.04)
    assert layout.mouth_opening(landmarks[0]) < 0.02
    redetected = face_stage.landmarker.landmarks(frames, 0)
    assert layout.mouth_opening(redetected[0]) < 0.5 * layout.mouth_opening(track.landmarks[0])
    # The eyes and everything above them keep their exact pixels.
    below_eyes = int(track.landmarks[0][36:48, 1].max()) + 2
    assert np.array_equal(frames[0][:below_eyes], avatar.frames[0][:below_eyes])


@pytest.mark.slow
def test_a_renderer_closes_each_video_frame_once_across_clips(face_stage, monkeypatch):
    from announcer.generate import preclose

    avatar = load_avatar(MEDIA / "videos" / "talk_face3.mp4", 256, 720, 1)
    track = face_stage(avatar)
    every_frame = np.arange(len(avatar.frames))
    open_mouths = int((layout.mouth_opening(track.landmarks) > 0).sum())
    close_one, closings = preclose._close_one, []
    monkeypatch.setattr(preclose, "_close_one", lambda frame, points: closings.append(1) or close_one(frame, points))
    memory = preclose.ClosedMouths()
    first = preclose.close_open_mouths(avatar.frames, track.landmarks, every_frame, 0.0, memory, avatar.sha256)
    assert open_mouths > 5 and len(closings) == open_mouths
    again = preclose.close_open_mouths(avatar.frames, track.landmarks, every_frame, 0.0, memory, avatar.sha256)
    assert len(closings) == open_mouths  # the second clip closed nothing: it reused the first's frames
    assert np.array_equal(first[0], again[0]) and np.array_equal(first[1], again[1])
    moved = track.landmarks + np.float32(0.5)
    preclose.close_open_mouths(avatar.frames, moved, every_frame[:3], 0.0, memory, avatar.sha256)
    assert len(closings) == open_mouths + int((layout.mouth_opening(moved[:3]) > 0).sum())  # other landmarks: closed anew
    small = preclose.ClosedMouths(budget_bytes=2 * avatar.frames[0].nbytes)
    preclose.close_open_mouths(avatar.frames, track.landmarks, every_frame, 0.0, small, avatar.sha256)
    assert small._bytes <= small.budget_bytes


@pytest.mark.cuda
def test_warp_renderer_on_cuda_matches_the_cpu(face_stage):
    from announcer.config import GenerateConfig
    from announcer.generate import WarpRenderer
    from announcer.motion import MotionPlan

    avatar = load_avatar(MEDIA / "videos" / "talk_480.mp4", None, 720, 2)
    track = face_stage(avatar)
    # A plan written out (the GPU machine has no TTS): the mouth opens and closes, the eyes blink once.
    count = len(avatar.frames)
    phase = np.linspace(0, 6 * np.pi, count)
    mouth = np.stack([(1 - np.cos(phase)) / 2, 0.3 * np.sin(phase), np.zeros(count)], 1).astype(np.float32)
    blink = np.zeros(count, np.float32)
    blink[count // 2 - 2:count // 2 + 3] = [0.3, 0.8, 1.0, 0.8, 0.3]
    plan = MotionPlan(25, mouth, blink, np.zeros((count, 3), np.float32), np.arange(count), "phonemes")
    on_cpu = np.concatenate(list(WarpRenderer(GenerateConfig(), torch.device("cpu"))(avatar, track, plan)))
    on_gpu = np.concatenate(list(WarpRenderer(GenerateConfig(), torch.device("cuda"))(avatar, track, plan)))
    assert on_gpu.shape == on_cpu.shape
    assert np.abs(on_gpu.astype(int) - on_cpu.astype(int)).mean() < 0.5
