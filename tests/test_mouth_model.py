"""The learned speech-to-mouth model: weights round trip, a tiny real training run, use in the narration path."""
import json

import numpy as np
import pytest
import torch

from announcer.config import MotionConfig, VoiceConfig
from announcer.motion import plan_motion
from announcer.motion.model import MouthNet, MouthNetSettings, log_mel, predict_mouth
from announcer.motion.train import synthetic_clips, train
from announcer.script import parse_text
from announcer.voice.types import Speech

from .conftest import MEDIA, MODELS, synthesized


@pytest.fixture(scope="module")
def tiny_settings():
    return MouthNetSettings(hidden=16)


@pytest.fixture(scope="module")
def trained(tiny_settings):
    torch.manual_seed(0)
    clips = synthetic_clips(tiny_settings, quick=True, models_dir=MODELS)
    return train(clips[2:], clips[:2], tiny_settings, steps=60, batch_size=8, crop_steps=150)


@pytest.mark.slow
def test_weights_round_trip_through_safetensors(tmp_path, trained):
    model, _ = trained
    path = tmp_path / "mouth.safetensors"
    model.save(path, {"note": "tiny"})
    loaded = MouthNet.load(path)
    assert loaded.settings == model.settings
    mel = torch.randn(1, model.settings.n_mels, 120)
    assert torch.allclose(loaded(mel), model(mel), atol=1e-6)
    assert path.read_bytes()[:8] != b"\x80\x04\x95"  # not a pickle


@pytest.mark.slow
def test_training_makes_the_loss_fall(trained):
    _, report = trained
    assert np.mean(report.losses[-10:]) < 0.7 * np.mean(report.losses[:10])
    assert all(r > 0.3 for r in report.validation.values()), report.validation  # 0.77 and 0.65 on the held-out clips


@pytest.mark.slow
def test_model_output_is_per_frame_and_opens_with_the_words(trained):
    model, _ = trained
    speech = synthesized(parse_text("Good evening. [pause 1s] Good night."), VoiceConfig(engine="espeak"))
    shapes = predict_mouth(model, speech.audio, speech.sample_rate, 25, 90)
    assert shapes.shape == (90, 3)
    times = (np.arange(90) + 0.5) / 25
    spoken = np.zeros(90, bool)
    for phone in speech.phonemes:
        spoken |= (times >= phone.start) & (times < phone.end)
    # The mouth opens while the words are spoken and rests in the pause and after (0.28 against 0.14 here).
    assert shapes[spoken, 0].mean() > 1.5 * shapes[~spoken, 0].mean()


def test_log_mel_ignores_recording_level():
    audio = np.sin(np.linspace(0, 2000, 16000)).astype(np.float32) * np.linspace(0, 1, 16000, dtype=np.float32)
    settings = MouthNetSettings()
    assert torch.allclose(log_mel(audio, 16000, settings), log_mel(audio * 0.1, 16000, settings), atol=1e-3)


@pytest.mark.slow
def test_narration_uses_trained_weights_when_given(tmp_path, trained):
    model, _ = trained
    path = tmp_path / "mouth.safetensors"
    model.save(path)
    speech = synthesized(parse_text("Hello there."), VoiceConfig(engine="espeak"))
    narration = Speech(speech.audio, speech.sample_rate, [], speech.captions, "narration", "x")
    assert plan_motion(narration, MotionConfig(mouth_model=str(path)), 1, 0).driver == "audio-model"
    assert plan_motion(narration, MotionConfig(mouth_model="heuristic"), 1, 0).driver == "audio"


@pytest.mark.slow
def test_train_mouth_command_quick(tmp_path, home):
    from .test_render import run_cli

    from announcer.assets import sha256_of
    from announcer.motion.model import DEFAULT_WEIGHTS

    packaged = sha256_of(DEFAULT_WEIGHTS)
    own_home = tmp_path / "home"  # not the session's: renders there would take these weights
    done = run_cli("train-mouth", "--quick", "--json", "--videos", MEDIA / "videos", cwd=tmp_path, home=own_home)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["loss_last"] < summary["loss_first"] and "talk_face5.mp4" in summary["validation_r"]
    out = own_home / "models" / "mouth_net.safetensors"
    assert summary["weights"] == str(out) and MouthNet.load(out).settings == MouthNetSettings()
    assert sha256_of(DEFAULT_WEIGHTS) == packaged  # the installed package's weights were not overwritten
    from announcer.config import MotionConfig
    from announcer.home import Home
    from announcer.motion.model import with_trained_mouth

    assert with_trained_mouth(MotionConfig(), Home.resolve(own_home).models_dir).mouth_model == str(out)  # renders there take them
    assert with_trained_mouth(MotionConfig(), tmp_path / "elsewhere").mouth_model == "auto"  # elsewhere: the packaged ones
    refused = run_cli("train-mouth", "--quick", cwd=tmp_path, home=own_home)
    assert refused.returncode == 2 and "--videos" in refused.stderr


@pytest.mark.slow
def test_training_finds_a_clip_s_audio_video_offset(face_stage):
    """talk_face5 is in sync; delaying its audio by 15 frames (0.6 s) must move the estimate by 15."""
    from announcer.face import layout, load_avatar
    from announcer.media.ffmpeg import decode_audio
    from announcer.motion.train import estimate_offset

    video = MEDIA / "videos" / "talk_face5.mp4"
    avatar = load_avatar(video, 360, 1080, 10)
    opening = layout.mouth_opening(face_stage(avatar).landmarks)
    audio = decode_audio(video, 16000)
    in_sync = estimate_offset(audio, 16000, opening, avatar.fps)
    delayed = np.concatenate([np.zeros(int(15 / avatar.fps * 16000), np.float32), audio])
    assert abs(in_sync) <= 1
    # Beyond the old ±10-frame search, and within a frame: the correlation peak is about three frames wide.
    assert abs(estimate_offset(delayed, 16000, opening, avatar.fps) - (in_sync + 15)) <= 1


def test_room_simulation_keeps_length_and_peak_and_is_seeded():
    import soundfile

    from announcer.motion.train import through_a_room

    audio, rate = soundfile.read(MEDIA / "audio" / "ljspeech" / "LJ001-0002.wav", dtype="float32")
    first = through_a_room(audio, rate, np.random.default_rng(3))
    again = through_a_room(audio, rate, np.random.default_rng(3))
    other = through_a_room(audio, rate, np.random.default_rng(4))
    assert first.shape == audio.shape and first.dtype == np.float32 and np.isfinite(first).all()
    assert np.isclose(np.abs(first).max(), np.abs(audio).max(), rtol=1e-4)
    assert np.array_equal(first, again) and not np.allclose(first, other)
    # Reverb smears the signal: less of the dry speech is left in it, but it is still the same speech.
    correlation = np.corrcoef(first, audio)[0, 1]
    assert 0.2 < correlation < 0.99


def test_frequency_stretch_moves_formants_within_its_range():
    from announcer.motion.train import _stretch_frequencies

    mel = torch.zeros(64, 80, 5)
    mel[:, 40] = 1.0
    assert torch.equal(_stretch_frequencies(mel, 0.0), mel)
    peaks = _stretch_frequencies(mel, 0.12).argmax(dim=1)[:, 0].float()
    assert peaks.min() >= 40 / 1.12 - 1 and peaks.max() <= 40 / 0.88 + 1
    assert peaks.unique().numel() > 3  # each example gets its own vocal tract


def test_mirrored_edges_leave_the_recording_itself_alone():
    from announcer.motion.model import with_mirrored_edges

    mel = torch.randn(80, 50)
    padded = with_mirrored_edges(mel, 10)
    assert padded.shape == (80, 70)
    assert torch.equal(padded[:, 10:60], mel)
    assert torch.equal(padded[:, :10], mel[:, 1:11].flip(1)) and torch.equal(padded[:, 60:], mel[:, -11:-1].flip(1))
    assert torch.equal(with_mirrored_edges(mel[:, :1], 10), mel[:, :1])  # nothing to mirror

