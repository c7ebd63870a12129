"""`announcer eval`: the metrics on known inputs, and the command's report, plot and video."""
import json

import numpy as np
import pytest

from announcer.eval import evaluate, metrics
from announcer.face import layout, load_avatar

from .conftest import MEDIA, probe


@pytest.fixture(scope="module")
def real_mouth(face_stage):
    avatar = load_avatar(MEDIA / "videos" / "talk_face3.mp4", None, 720, 10)
    track = face_stage(avatar)
    return avatar, track.landmarks


def test_a_video_compared_with_itself_is_perfect(real_mouth):
    avatar, landmarks = real_mouth
    opening = layout.mouth_opening(landmarks)
    assert metrics.pearson(opening, opening) == pytest.approx(1.0)
    assert metrics.best_offset(opening, opening) == 0
    assert metrics.lip_landmark_distance(landmarks, landmarks) == 0
    assert metrics.psnr(avatar.frames[0], avatar.frames[0]) == float("inf")
    assert metrics.ssim(avatar.frames[0], avatar.frames[0]) == pytest.approx(1.0)


@pytest.mark.parametrize("shift", [-4, -1, 2, 5])
def test_a_shifted_copy_gives_the_shift(real_mouth, shift):
    opening = layout.mouth_opening(real_mouth[1])
    late = np.roll(opening, shift)  # generated[t] = real[t - shift]: late by `shift` frames
    assert metrics.best_offset(late, opening) == shift
    assert metrics.pearson(late, opening) < 0.999


def test_silence_metrics_on_a_known_sequence():
    opening = np.array([0.2, 0.3, 0.25, 0.2, 0.12, 0.06, 0.02, 0.02, 0.02, 0.02])
    speaking = np.array([1, 1, 1, 1, 0, 0, 0, 0, 0, 0], bool)
    assert metrics.silence_close_ms(opening, speaking, 25, 0.05) == pytest.approx(2 / 25 * 1000)
    # A breath between phrases (two frames) does not count; a long pause the mouth never closes in counts whole.
    breath = np.concatenate([speaking[:6], [True] * 4, speaking[4:]])
    assert metrics.silence_close_ms(np.concatenate([opening[:6], [0.3] * 4, opening[4:]]), breath, 25, 0.05) \
        == pytest.approx(2 / 25 * 1000)
    assert metrics.silence_close_ms(np.full(10, 0.2), speaking, 25, 0.05) == pytest.approx(6 / 25 * 1000)
    assert metrics.silence_jitter(opening, ~speaking) == pytest.approx((0.06 + 0.04) / 5)


def test_errors_by_phone_class_on_a_known_sequence(real_mouth):
    real = layout.mouth_opening(real_mouth[1])
    closed = real < np.percentile(real, 20)
    classes = ["bilabial" if shut else "open vowel" for shut in closed]
    perfect = metrics.errors_by_phone_class(0.5 * real + 0.1, real, classes, 0)  # only scale and level differ
    assert all(abs(row["error"]) < 1e-6 for row in perfect.values())
    assert perfect["bilabial"]["frames"] == closed.sum() and perfect["bilabial"]["real"] < perfect["open vowel"]["real"]
    lazy = np.where(closed, np.median(real), real)  # a mouth that never shuts for the closures
    assert metrics.errors_by_phone_class(lazy, real, classes, 0)["bilabial"]["error"] > 0.5
    late = np.roll(real, 3)  # a constant lag is taken out at the clip's own offset
    assert abs(metrics.errors_by_phone_class(late, real, classes, 3)["bilabial"]["error"]) < 0.05
    assert metrics.phone_class("pʰ") == "bilabial" and metrics.phone_class("aɪ") == "open vowel"
    assert metrics.phone_class("t͡ʃ") == "other consonant"


@pytest.mark.slow
def test_eval_writes_report_plot_and_side_by_side(pipeline, tmp_path):
    evaluate(MEDIA / "videos" / "talk_face5.mp4", tmp_path, pipeline.runtime, max_seconds=3)
    saved = json.loads((tmp_path / "report.json").read_text())
    for key in ("mouth_open_r", "lip_landmark_distance", "offset_frames", "silence_close_ms", "above_mouth_psnr_db"):
        assert key in saved and key in saved["baseline"]
    assert {"silence", "open vowel"} <= set(saved["by_phone_class"])
    # The rendered mouth follows the real one (r 0.85 here), far better than a mouth that follows loudness (0.40).
    assert saved["mouth_open_r"] > 0.6 and saved["mouth_open_r"] > saved["baseline"]["mouth_open_r"] + 0.2
    assert saved["frames"] == 75
    assert abs(saved["source_av_offset_frames"]) <= 2  # talk_face5 is in sync
    # The face above the mouth and the background are the avatar's own pixels.
    assert saved["above_mouth_psnr_db"] > 35 and saved["background_psnr_db"] > 40
    assert (tmp_path / "mouth.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    real, generated = saved["acting"]["real"], saved["acting"]["generated"]  # the footage is the yardstick
    assert set(real) == set(generated) >= {"pitch_std_deg", "yaw_std_deg", "roll_std_deg", "pitch_speed_p95_deg_s",
                                           "beats_per_s", "brow_std", "smile_std"}
    assert real["pitch_std_deg"] > 0.1 and abs(generated["pitch_std_deg"] - real["pitch_std_deg"]) < 1.0
    streams = probe(tmp_path / "side_by_side.mp4")["streams"]
    video = next(s for s in streams if s["codec_type"] == "video")
    avatar = load_avatar(MEDIA / "videos" / "talk_face5.mp4", None, 720, 3)
    assert (video["width"], video["height"]) == (2 * avatar.size[0], avatar.size[1])
    assert any(s["codec_type"] == "audio" for s in streams)


def test_eval_refuses_a_photo(pipeline, tmp_path):
    from announcer.errors import InputError

    with pytest.raises(InputError, match="talking video"):
        evaluate(MEDIA / "portraits" / "woman_smile.png", tmp_path, pipeline.runtime)
