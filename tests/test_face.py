"""Stage 3: faces and landmarks on the real portraits and videos, and every kind of bad avatar."""
import pickle
import subprocess

import cv2
import numpy as np
import pytest
from PIL import Image

from announcer.errors import InputError
from announcer.face import layout, load_avatar

from .conftest import MEDIA, NON_FACES, PORTRAITS, TALKING_VIDEOS


def track(face_stage, path, height=None):
    avatar = load_avatar(path, height, 720, 8)
    return avatar, face_stage(avatar)


@pytest.mark.parametrize("portrait", PORTRAITS, ids=lambda p: p.name)
def test_every_portrait_gets_68_landmarks_on_the_face(face_stage, portrait):
    avatar, result = track(face_stage, portrait)
    points = result.landmarks[0]
    assert points.shape == (68, 2) and result.detected.all()
    height, width = avatar.frames.shape[1:3]
    assert (points >= 0).all() and (points[:, 0] < width).all() and (points[:, 1] < height).all()
    # Anatomy in the canonical layout: eyes above the nose tip, nose above the mouth, mouth above the chin.
    right_eye, left_eye = layout.eye_centers(points)
    assert right_eye[0] < left_eye[0]
    assert max(right_eye[1], left_eye[1]) < points[30, 1] < points[51, 1] < points[57, 1] < points[8, 1] + 1
    assert layout.inter_ocular(points) > 0.1 * width


def test_open_mouth_is_measured_open(face_stage):
    _, open_track = track(face_stage, MEDIA / "portraits" / "man_open_mouth.jpg")
    _, closed_track = track(face_stage, MEDIA / "portraits" / "woman_brown_hair.jpg")
    assert layout.mouth_opening(open_track.landmarks[0]) > 0.3 > 0.05 > layout.mouth_opening(closed_track.landmarks[0])


@pytest.mark.parametrize("image", NON_FACES, ids=lambda p: p.name)
def test_no_human_face_is_a_clear_error(face_stage, image):
    avatar = load_avatar(image, None, 720, 8)
    with pytest.raises(InputError, match="no human face") as caught:
        face_stage(avatar)
    assert caught.value.path == image and caught.value.exit_code == 2


@pytest.mark.slow
@pytest.mark.parametrize("video", TALKING_VIDEOS[:3] + [MEDIA / "videos" / "talk_vertical_hevc_1080x1920.mp4"], ids=lambda p: p.name)
def test_videos_are_tracked_smoothly(face_stage, video):
    avatar, result = track(face_stage, video)
    assert avatar.is_video and len(avatar.frames) > 50 and result.detected.mean() > 0.9
    assert not np.isnan(result.landmarks).any()
    # No jitter: the stable points' acceleration (second difference) stays small next to the face size,
    # however much the presenter moves.
    jerk = np.linalg.norm(np.diff(result.landmarks[:, layout.UPPER_FACE], n=2, axis=0), axis=-1)
    assert np.percentile(jerk, 95) < 0.03 * result.inter_ocular


def test_photo_is_scaled_to_even_output_size(tmp_path, face_stage):
    odd = tmp_path / "odd.png"
    cv2.imwrite(str(odd), cv2.resize(cv2.imread(str(MEDIA / "portraits" / "woman_white_top.png")), (333, 501)))
    avatar = load_avatar(odd, None, 1080, 8)
    assert avatar.size == (332, 500)
    assert load_avatar(odd, 720, 1080, 8).size == (478, 720)


@pytest.mark.slow
def test_huge_grayscale_and_cmyk_photos_load(tmp_path, face_stage):
    source = Image.open(MEDIA / "portraits" / "woman_brown_hair.jpg")
    huge = tmp_path / "8k.jpg"
    source.resize((7680, 7680)).save(huge, quality=80)
    gray = tmp_path / "gray.jpg"
    source.convert("L").save(gray)
    cmyk = tmp_path / "cmyk.jpg"
    source.convert("CMYK").save(cmyk)
    for path in (huge, gray, cmyk):
        avatar, result = track(face_stage, path)
        assert avatar.frames.shape[-1] == 3 and avatar.size[1] <= 720 and result.detected.all()
    assert load_avatar(huge, None, 1080, 8).size == (1080, 1080)


def test_corrupt_and_unknown_avatars(tmp_path):
    truncated = tmp_path / "broken.jpg"
    truncated.write_bytes((MEDIA / "portraits" / "woman_smile.png").read_bytes()[:200])
    with pytest.raises(InputError, match="corrupt"):
        load_avatar(truncated, None, 720, 8)
    with pytest.raises(InputError, match="unknown file type"):
        load_avatar(MEDIA / "audio" / "jfk.wav", None, 720, 8)
    with pytest.raises(InputError, match="not found"):
        load_avatar(tmp_path / "nobody.jpg", None, 720, 8)
    fake_video = tmp_path / "fake.mp4"
    fake_video.write_bytes(b"\x00" * 4096)
    with pytest.raises(InputError, match="cannot read media"):
        load_avatar(fake_video, None, 720, 8)
    tiny = tmp_path / "tiny.png"
    cv2.imwrite(str(tiny), np.zeros((40, 40, 3), np.uint8))
    with pytest.raises(InputError, match="too small"):
        load_avatar(tiny, None, 720, 8)


@pytest.mark.slow
def test_rotated_phone_video_comes_out_upright(tmp_path, face_stage):
    rotated = tmp_path / "rotated.mp4"
    upright = MEDIA / "videos" / "talk_vertical_hevc_1080x1920.mp4"
    turned = tmp_path / "turned.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(upright), "-t", "2", "-vf", "transpose=1", "-c:v", "libx264", "-an",
                    str(turned)], check=True)
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(turned), "-c", "copy", "-metadata:s:v:0", "rotate=90", str(rotated)],
                   check=True)
    avatar, result = track(face_stage, rotated)
    assert avatar.size[0] < avatar.size[1]  # stored landscape, shown (and decoded) portrait
    points = result.landmarks[0]
    assert result.detected.mean() > 0.9 and points[8, 1] > points[27, 1]  # chin below the nose bridge: upright


@pytest.mark.slow
def test_fan_backend_loads_a_state_dict_without_pickle(tmp_path):
    """face-alignment's FAN, built small here (no weights can be downloaded), loaded with weights_only=True."""
    import torch
    from face_alignment.models.fan import FAN

    from announcer.assets import ModelRegistry
    from announcer.face.backends import FanLandmarker, YuNetDetector

    torch.manual_seed(0)
    weights = tmp_path / "fan.pth"
    torch.save(FAN(1).state_dict(), weights)
    detector = YuNetDetector(ModelRegistry.load(MEDIA.parent / "models").path("yunet"))
    landmarker = FanLandmarker(weights, detector, num_modules=1, batch_size=2)
    frames = load_avatar(MEDIA / "videos" / "talk_480.mp4", None, 720, 0.2).frames[:3]
    points = landmarker.landmarks(frames, 25)
    assert points.shape == (3, 68, 2) and not np.isnan(points).any()
    box = detector.detect(frames[0]).box
    center, size = (box[:2] + box[2:]) / 2, box[2] - box[0]
    # Untrained weights put points anywhere in FAN's crop, which spans about twice the face box.
    assert (np.abs(points[0] - center) < 1.5 * size).all()
    pickled = tmp_path / "evil.pth"
    torch.save({"state": FAN(1).state_dict(), "code": object()}, pickled)
    with pytest.raises(pickle.UnpicklingError):  # weights_only=True refuses arbitrary objects
        FanLandmarker(pickled, detector, num_modules=1)


@pytest.mark.slow
def test_frames_without_a_face_are_interpolated_and_jitter_filtered(face_stage):
    from announcer.face.track import fill_gaps, smooth

    avatar = load_avatar(MEDIA / "videos" / "talk_face3.mp4", None, 720, 3)
    covered = avatar.frames.copy()
    covered[20:26] = 0  # six black frames: nothing to detect
    result = face_stage(type(avatar)(avatar.source, covered, avatar.fps, True, avatar.sha256))
    assert not result.detected[20:26].any() and result.detected[:20].all()
    assert not np.isnan(result.landmarks).any()
    # Filled frames lie between their neighbours, not at zero or at a jump.
    before, after = result.landmarks[19, layout.UPPER_FACE], result.landmarks[26, layout.UPPER_FACE]
    middle = result.landmarks[23, layout.UPPER_FACE]
    assert np.abs(middle - (before + after) / 2).max() < 0.1 * result.inter_ocular
    raw = np.cumsum(np.random.default_rng(0).normal(0, 1, (100, 68, 2)), axis=0).astype(np.float32)
    assert np.abs(np.diff(smooth(raw, 25, 4.0), n=2, axis=0)).mean() < 0.5 * np.abs(np.diff(raw, n=2, axis=0)).mean()
    gappy = raw.copy()
    gappy[40:45] = np.nan
    assert np.allclose(fill_gaps(gappy)[42], raw[39] + (raw[45] - raw[39]) * 3 / 6, atol=1e-3)


def test_with_two_faces_the_largest_is_the_presenter_unless_one_is_chosen(tmp_path, caplog):
    from announcer.config import FaceConfig
    from announcer.face import FaceStage

    large = cv2.imread(str(MEDIA / "portraits" / "woman_brown_hair.jpg"))
    small = cv2.imread(str(MEDIA / "portraits" / "man_open_mouth.jpg"))
    large = cv2.resize(large, (int(large.shape[1] * 600 / large.shape[0]), 600))
    small = cv2.copyMakeBorder(cv2.resize(small, (int(small.shape[1] * 400 / small.shape[0]), 400)), 100, 100, 0, 0,
                               cv2.BORDER_CONSTANT, value=(128, 128, 128))
    photo = tmp_path / "two.jpg"
    cv2.imwrite(str(photo), np.concatenate([small, large], axis=1))
    avatar = load_avatar(photo, None, 720, 1)
    split = small.shape[1] * avatar.size[1] / 600  # where the small portrait ends, in avatar pixels
    centres = {}
    for number in (None, 1, 2):
        with FaceStage(FaceConfig(models_dir=MEDIA.parent / "models", face_number=number)) as stage:
            with caplog.at_level("WARNING", logger="announcer.face"):
                centres[number] = float(stage(avatar).landmarks[0][:, 0].mean())
    assert centres[None] > split and centres[2] > split  # the larger face, on the right
    assert centres[1] < split  # the first from the left, when asked for
    assert "2 faces in the picture; the presenter is the largest" in caplog.text and "--face N" in caplog.text


def test_the_face_meter_reads_head_pose_smile_and_blinks_as_mediapipe_sees_them(pipeline):
    """The yardstick for expression: a picture turned by 10 degrees reads a roll 10 degrees apart; a smiling photo
    smiles more than a straight face; a real talking head moves its head and brows over a few seconds."""
    meter = pipeline.runtime.face_meter
    smile = np.asarray(Image.open(MEDIA / "portraits" / "woman_smile.png").convert("RGB"))
    height, width = smile.shape[:2]
    turned = cv2.warpAffine(smile, cv2.getRotationMatrix2D((width / 2, height / 2), 10, 1.0), (width, height))
    readings = meter.read(np.stack([smile, turned]))
    assert abs((readings.head[1, 2] - readings.head[0, 2]) - 10) < 1.5  # counter-clockwise in the picture
    assert abs(readings.head[1, 0] - readings.head[0, 0]) < 2 and abs(readings.head[1, 1] - readings.head[0, 1]) < 2
    straight = np.asarray(Image.open(MEDIA / "portraits" / "woman_brown_hair.jpg").convert("RGB"))
    assert readings.smile[0] > meter.read(straight[None]).smile[0] + 0.1
    talking = load_avatar(MEDIA / "videos" / "talk_face2.mp4", None, 480, 4)
    real = meter.read(talking.frames[::2])
    assert np.isfinite(real.head).all() and 0.2 < np.nanstd(real.head[:, 0]) < 10  # a real head moves, a little
    brows = max(np.nanstd(real.score(name)) for name in ("browInnerUp", "browOuterUpLeft", "browDownLeft"))
    assert brows > 0.03 and not np.isnan(real.blendshapes).any()
    nothing = meter.read(np.zeros((1, 64, 64, 3), np.uint8))
    assert np.isnan(nothing.head).all() and np.isnan(nothing.smile).all()
