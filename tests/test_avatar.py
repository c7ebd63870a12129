"""Prepared avatars: crop geometry, the generator and cleanup models, their training and checkpoints,
`announcer avatar prepare` and rendering with a prepared avatar, all on real footage at a tiny size."""
from __future__ import annotations

import json
from dataclasses import dataclass, replace

import numpy as np
import pytest
import torch

from announcer.avatar.prepare import presenter_crops
from announcer.avatar.train import TrainingRun, masked_ssim, same_patches, train_cleanup, train_generator
from announcer.avatar import AvatarBundle, find_bundle, load_renderer
from announcer.cleanup import CleanupSettings, DenoisingAutoencoder, corrupt, load_cleanup, save_cleanup
from announcer.eval.metrics import psnr
from announcer.config import GenerateConfig
from announcer.errors import InputError
from announcer.face import layout, load_avatar
from announcer.generate import WarpRenderer
from announcer.generate.crops import CropGeometry
from announcer.generate.neural import NeuralRenderer
from announcer.generate.unet import GeneratorSettings, MouthGenerator
from announcer.weights import load_weights, save_weights

from .conftest import MEDIA, decode_frames, probe, run_cli, write_script

VIDEO = MEDIA / "videos" / "talk_face5.mp4"


@pytest.fixture(scope="module")
def presenter(face_stage):
    avatar = load_avatar(VIDEO, 256, 1080, 3.0)
    return avatar, face_stage(avatar)


@pytest.fixture(scope="module")
def crops64(presenter):
    avatar, track = presenter
    return presenter_crops(avatar, track, CropGeometry(64), 0.2, closing_warp())


@pytest.fixture(scope="module")
def painted_crops64(presenter):
    """Crops whose warp paints its mouth interiors: far enough from the real frames that 30 steps show learning.
    (With the presenter's own interiors the warp starts within noise of the answer.)"""
    avatar, track = presenter
    return presenter_crops(avatar, track, CropGeometry(64), 0.2, closing_warp(interior="painted"))


def closing_warp(batch_size: int = 16, interior: str = "real") -> WarpRenderer:
    return WarpRenderer(GenerateConfig(batch_size=batch_size, close_mouths_above=0.0, mouth_interior=interior),
                        torch.device("cpu"))


def test_crop_cut_then_paste_changes_only_the_masked_lower_face(presenter):
    avatar, track = presenter
    geometry = CropGeometry(128)
    frames = torch.from_numpy(avatar.frames[:4].copy())
    points = track.landmarks[:4]
    crops = geometry.cut(frames, points)
    assert crops.shape == (4, 3, 128, 128)
    # Pasting the crop back unchanged: the frame comes back (resampling costs little).
    same = geometry.paste(frames, crops, points).numpy()
    assert psnr(same, avatar.frames[:4]) > 38
    # Pasting black: only the region below the nose darkens; the eyes and everything outside stay identical.
    black = geometry.paste(frames, torch.zeros_like(crops), points).numpy()
    changed = np.abs(black.astype(int) - avatar.frames[:4]).sum(-1) > 0
    for k in range(4):
        rows = np.flatnonzero(changed[k].any(axis=1))
        assert rows.min() > points[k, 30, 1] - 0.1 * layout.inter_ocular(points[k])  # nothing above the nose tip
        mouth = points[k, layout.INNER_LIPS].mean(axis=0).astype(int)
        assert black[k, mouth[1], mouth[0]].max() < 10
        eyes = points[k, layout.RIGHT_EYE].mean(axis=0).astype(int)
        assert not changed[k, eyes[1], eyes[0]]


def test_landmark_maps_draw_the_mouth_inside_the_generators_region(presenter):
    avatar, track = presenter
    geometry = CropGeometry(64)
    points = track.landmarks[:2]
    crop_points = geometry.landmarks_in_crop(points, points)
    maps = geometry.landmark_maps(crop_points)
    assert maps.shape == (2, 3, 64, 64) and maps.max() == 1.0
    lips = crop_points[0, layout.LIPS].astype(int)
    assert (geometry.mask()[0, 0].numpy()[lips[:, 1], lips[:, 0]] > 0.9).all()
    assert maps[0, 0].sum() > 0 and maps[0, 2].sum() > 0


def test_training_pairs_give_the_generator_the_warp_of_a_closed_mouth_and_the_real_frame_as_answer(presenter, crops64):
    avatar, track = presenter
    opening = layout.mouth_opening(track.landmarks[:len(crops64.crops)])
    widest = int(np.argmax(opening))
    assert opening[widest] > 0.05  # the clip has an open mouth to test on
    real, warped = crops64.crops[widest].numpy(), crops64.warped[widest].numpy()
    mask = crops64.mask[0, 0].numpy()
    # Above the redrawn region the warp keeps the frame; inside it the real open mouth was closed and
    # redrawn, so the answer is not in the input.
    assert psnr(warped[:, mask == 0], real[:, mask == 0]) > 40
    assert psnr(warped[:, mask > 0.9], real[:, mask > 0.9]) < 35
    assert crops64.warped.shape == crops64.crops.shape and crops64.warped.dtype == torch.uint8


def test_generator_starts_as_the_warp_and_its_weights_round_trip(tmp_path):
    torch.manual_seed(0)
    model = MouthGenerator(GeneratorSettings(size=64, width=8)).eval()
    inputs = [torch.rand(2, 3, 64, 64) for _ in range(3)]
    assert torch.equal(model(*inputs), inputs[0])  # the correction starts at zero
    with torch.no_grad():
        model.head.bias.fill_(0.5)
    out = model(*inputs)
    assert out.shape == (2, 3, 64, 64) and 0 <= out.min() and out.max() <= 1 and out.max() == 1
    save_weights(tmp_path / "g.safetensors", model.state_dict(), model.settings)
    tensors, metadata = load_weights(tmp_path / "g.safetensors", "generator", "")
    loaded = MouthGenerator(GeneratorSettings(**metadata["settings"])).eval()
    loaded.load_state_dict(tensors)
    assert torch.equal(loaded(*inputs), out)
    with pytest.raises(ValueError):
        MouthGenerator(GeneratorSettings(size=100))


@pytest.mark.slow
def test_generator_training_loss_falls_and_resumes_from_its_checkpoint(crops64, tmp_path):
    checkpoint = tmp_path / "generator.safetensors"
    model = MouthGenerator(GeneratorSettings(size=64, width=8))
    first = train_generator(model, crops64, TrainingRun(40, 4, 1e-3, checkpoint, 10))
    assert np.mean(first.losses[-8:]) < np.mean(first.losses[:8])
    assert checkpoint.is_file()
    resumed_model = MouthGenerator(GeneratorSettings(size=64, width=8))
    # Asked for the steps already done: the checkpoint's weights come back and nothing more is trained.
    caught_up = train_generator(resumed_model, crops64, TrainingRun(40, 4, 1e-3, checkpoint, 10))
    assert caught_up.start_step == 40 and not caught_up.losses
    for (name, trained), loaded in zip(model.state_dict().items(), resumed_model.state_dict().values(), strict=True):
        assert torch.equal(trained, loaded), name
    resumed = train_generator(resumed_model, crops64, TrainingRun(50, 4, 1e-3, checkpoint, 10))
    assert resumed.start_step == 40 and len(resumed.losses) == 10
    assert np.mean(resumed.losses) < np.mean(first.losses[:8])


@pytest.mark.slow
def test_corruptions_hurt_and_cleanup_training_learns_to_undo_them(crops64, tmp_path):
    clean = crops64.images(crops64.train[:8])
    noisy = corrupt(clean, torch.Generator().manual_seed(0))
    assert noisy.shape == clean.shape
    assert psnr(noisy.numpy() * 255, clean.numpy() * 255) < 40
    assert masked_ssim(noisy, clean, torch.ones(1, 1, 64, 64)) < 0.99
    model = DenoisingAutoencoder(CleanupSettings(width=8, blocks=1))
    log = train_cleanup(model, crops64, TrainingRun(60, 4, 2e-3, tmp_path / "cleanup-checkpoint.safetensors", 30))
    assert np.mean(log.losses[-10:]) < np.mean(log.losses[:10])
    save_cleanup(model, tmp_path / "cleanup.safetensors")
    loaded = load_cleanup(tmp_path / "cleanup.safetensors")
    with torch.no_grad():
        assert torch.allclose(loaded(noisy), model(noisy))


@pytest.mark.slow
def test_cleanup_model_starts_by_keeping_the_crop_and_soon_removes_noise(crops64, tmp_path):
    """Untrained, the model passes a crop through nearly unchanged; a short run on patches already
    takes noise out of held-out crops (the design's point: a correction added to the input needed
    thousands of steps to learn to average)."""
    held_out = torch.tensor(sorted(set(range(len(crops64.crops))) - set(crops64.train.tolist())))
    clean = crops64.images(held_out)
    noisy = (clean + torch.randn(clean.shape, generator=torch.Generator().manual_seed(1)) * 8 / 255).clamp(0, 1)
    model = DenoisingAutoencoder(CleanupSettings(width=8, blocks=1))
    with torch.no_grad():
        assert psnr(model(clean).numpy() * 255, clean.numpy() * 255) > 40
    train_cleanup(model, crops64, TrainingRun(60, 8, 2e-3, tmp_path / "c.safetensors", 60), patch=32)
    with torch.no_grad():
        assert psnr(model(noisy).numpy() * 255, clean.numpy() * 255) > psnr(noisy.numpy() * 255, clean.numpy() * 255) + 0.3


def test_cleanup_patches_are_the_same_square_of_each_batch_on_the_block_grid():
    crops = torch.rand(5, 3, 64, 64)
    doubled = crops * 2
    small, large = same_patches((crops, doubled), 24, torch.Generator().manual_seed(3))
    assert small.shape == (5, 3, 24, 24) and torch.equal(large, small * 2)
    for crop, patch in zip(crops, small, strict=True):
        found = [(y, x) for y in range(0, 41, 8) for x in range(0, 41, 8) if torch.equal(crop[:, y:y + 24, x:x + 24], patch)]
        assert len(found) == 1
    assert same_patches((crops,), 64, torch.Generator())[0] is crops


def test_cleanup_model_of_an_older_design_is_refused_by_name(tmp_path):
    @dataclass(frozen=True)
    class FirstDesignSettings:  # what the first cleanup models wrote: no design field
        width: int = 8
        blocks: int = 1

    model = DenoisingAutoencoder(CleanupSettings(width=8, blocks=1))
    old = tmp_path / "cleanup.safetensors"
    save_weights(old, model.state_dict(), FirstDesignSettings())
    with pytest.raises(InputError, match="older announcer") as caught:
        load_cleanup(old)
    assert caught.value.path == old and str(old) in str(caught.value)


@pytest.mark.slow
def test_cleanup_training_recovers_from_saturated_output(crops64, tmp_path):
    """A correction pushed far out of 0..1 (what one bad step did in a 1500-step run) is trained back,
    not stuck behind a clamp with no gradient; in use the output is still clamped."""
    torch.manual_seed(0)
    model = DenoisingAutoencoder(CleanupSettings(width=8, blocks=1))
    with torch.no_grad():
        model.out.bias[model.choices:].fill_(3.0)
    log = train_cleanup(model, crops64, TrainingRun(40, 4, 2e-3, tmp_path / "saturated.safetensors", 40))
    assert np.mean(log.losses[-5:]) < 0.5 * np.mean(log.losses[:5])
    clean = crops64.images(crops64.train[:4])
    with torch.no_grad():
        restored = model(corrupt(clean, torch.Generator().manual_seed(0)))
    assert restored.min() >= 0 and restored.max() <= 1


@pytest.mark.slow
def test_training_steps_in_bfloat16_autocast_as_on_cuda(painted_crops64, tmp_path, monkeypatch):
    """CUDA trains under bfloat16 autocast. The same steps run that way here, so a dtype clash, or a
    loss or corruption computed in bfloat16, shows without a GPU."""
    from announcer.avatar import train

    monkeypatch.setattr(train, "mixed_precision", lambda device: torch.autocast("cpu", dtype=torch.bfloat16))
    crops64 = painted_crops64
    clean = crops64.images(crops64.train[:4])
    corrupted = corrupt(clean, torch.Generator().manual_seed(0))
    exact = float(masked_ssim(corrupted, clean, crops64.mask))
    with train.mixed_precision(clean.device):
        assert abs(float(masked_ssim(corrupted, clean, crops64.mask)) - exact) < 1e-5
        again = corrupt(clean, torch.Generator().manual_seed(0))
    assert again.dtype == torch.float32 and torch.equal(again, corrupted)
    generator = MouthGenerator(GeneratorSettings(size=64, width=8))
    log = train_generator(generator, crops64, TrainingRun(30, 4, 1e-3, tmp_path / "g.safetensors", 30))
    assert np.mean(log.losses[-6:]) < np.mean(log.losses[:6])
    cleanup = DenoisingAutoencoder(CleanupSettings(width=8, blocks=1))
    log = train_cleanup(cleanup, crops64, TrainingRun(40, 4, 2e-3, tmp_path / "c.safetensors", 40))
    assert np.mean(log.losses[-8:]) < np.mean(log.losses[:8])


def test_neural_renderer_refines_the_warp_inside_the_lower_face_only(presenter, crops64):
    avatar, track = presenter
    torch.manual_seed(0)
    generator = MouthGenerator(GeneratorSettings(size=64, width=8))
    with torch.no_grad():
        generator.head.bias.fill_(-0.3)  # a visible correction: the lower face darkens
    warp = closing_warp(batch_size=3)
    renderer = NeuralRenderer(warp, generator, None, crops64.images(torch.tensor([0]))[0], torch.device("cpu"))
    sources = np.array([0, 1, 2, 3, 4])
    frames = np.concatenate(list(renderer.render_landmarks(avatar, track, sources, track.landmarks[sources])))
    warped = np.concatenate(list(warp.render_landmarks(avatar, track, sources, track.landmarks[sources])))
    assert frames.shape == (5, *avatar.frames.shape[1:]) and frames.dtype == np.uint8
    top = int(track.landmarks[:5, layout.BROWS, 1].min())
    bottom = int(track.landmarks[:5, 30, 1].min() - 0.1 * track.inter_ocular)
    # Above the generator's region: the warp renderer's pixels exactly, and those are the avatar's own.
    assert np.array_equal(frames[:, top:bottom], warped[:, top:bottom])
    assert psnr(frames[:, top:bottom], avatar.frames[sources][:, top:bottom]) > 40
    for k, points in enumerate(track.landmarks[sources]):
        x, y = points[[57, 66]].mean(axis=0).astype(int)  # the lower lip
        assert frames[k, y, x].astype(int).sum() < warped[k, y, x].astype(int).sum() - 60


def test_neural_rendering_in_bfloat16_autocast_as_on_cuda_matches_float32(presenter, crops64, monkeypatch):
    """CUDA renders under bfloat16 autocast; run that way here, the result must match float32."""
    from announcer.generate import neural

    avatar, track = presenter
    torch.manual_seed(0)
    generator = MouthGenerator(GeneratorSettings(size=64, width=8))
    with torch.no_grad():
        generator.head.weight.normal_(0, 0.05)
    renderer = NeuralRenderer(closing_warp(), generator, DenoisingAutoencoder(CleanupSettings(width=8, blocks=1)),
                              crops64.images(torch.tensor([0]))[0], torch.device("cpu"))
    sources = np.arange(4)
    exact = np.concatenate(list(renderer.render_landmarks(avatar, track, sources, track.landmarks[sources])))
    monkeypatch.setattr(neural, "mixed_precision", lambda device: torch.autocast("cpu", dtype=torch.bfloat16))
    mixed = np.concatenate(list(renderer.render_landmarks(avatar, track, sources, track.landmarks[sources])))
    assert mixed.dtype == np.uint8 and mixed.shape == exact.shape
    assert not np.array_equal(mixed, exact)  # the models did run in bfloat16
    assert psnr(mixed, exact) > 35


@pytest.mark.slow
def test_prepare_quick_then_render_with_the_avatar_by_name(tmp_path):
    home = tmp_path / "home"
    done = run_cli("avatar", "prepare", VIDEO, "--name", "anchor", "--quick", "--json", cwd=tmp_path, home=home)
    assert done.returncode == 0, done.stderr
    # No terminal, no bar: a log line per stage and per checkpoint, for schedulers and log files.
    logged = [json.loads(line)["message"] for line in done.stderr.splitlines() if line.startswith("{")]
    assert any("frames tracked" in m for m in logged) and "generator: step 30 of 30" in " ".join(logged)
    report = json.loads(done.stdout)
    assert set(report["generation"]) == {"warp", "generator", "generator+cleanup"}
    assert report["cleanup"]["corrupted_psnr_db"] > 0
    bundle = home / "avatars" / "anchor"
    for name in ("bundle.json", "video.mp4", "reference.png", "generator.safetensors", "cleanup.safetensors", "preview.jpg",
                 "checkpoints/generator.safetensors", "checkpoints/cleanup.safetensors"):
        assert (bundle / name).is_file(), name
    meta = json.loads((bundle / "bundle.json").read_text())
    assert meta["generator"]["steps_run"] == 30 and meta["held_out"][1] == meta["frames"]

    listed = run_cli("avatar", "list", "--json", cwd=tmp_path, home=home)
    assert json.loads(listed.stdout.splitlines()[0])["name"] == "anchor"

    write_script(tmp_path, "news.txt", "Good evening. Here is the news.")
    rendered = run_cli("render", "news.txt", "--avatar", "anchor", "-o", "news.mp4", "--quiet", cwd=tmp_path, home=home)
    assert rendered.returncode == 0, rendered.stderr
    manifest = json.loads((tmp_path / "news.json").read_text())
    assert manifest["video"]["renderer"] == "neural" and manifest["inputs"]["avatar"]["prepared"] == "anchor"
    streams = {s["codec_type"]: s for s in probe(tmp_path / "news.mp4")["streams"]}
    assert streams["video"]["codec_name"] == "h264" and "audio" in streams
    assert decode_frames(tmp_path / "news.mp4").shape[0] == manifest["video"]["frames"]

    # Prepared again without a cleanup model: the generator resumes with nothing left to train, the cleanup model goes.
    again = run_cli("avatar", "prepare", VIDEO, "--name", "anchor", "--quick", "--cleanup-steps", "0", "--json", cwd=tmp_path,
                    home=home)
    assert again.returncode == 0, again.stderr
    assert set(json.loads(again.stdout)["generation"]) == {"warp", "generator"}
    assert not (bundle / "cleanup.safetensors").exists() and (bundle / "checkpoints" / "cleanup.safetensors").is_file()
    assert json.loads((bundle / "bundle.json").read_text())["generator"]["steps_run"] == 0

    # The generator refines the warp it was trained on, whatever the render's own setting: the bundle says which.
    meta = json.loads((bundle / "bundle.json").read_text())
    assert meta["warp_interior"] == "painted"
    (bundle / "bundle.json").write_text(json.dumps({**meta, "warp_interior": "real"}))
    assert load_renderer(AvatarBundle(bundle), GenerateConfig(mouth_interior="painted"),
                         torch.device("cpu")).warp.config.mouth_interior == "real"
    (bundle / "bundle.json").write_text(json.dumps({k: v for k, v in meta.items() if k != "warp_interior"}))
    assert load_renderer(AvatarBundle(bundle), GenerateConfig(), torch.device("cpu")).warp.config.mouth_interior == "painted"

    # A bundle whose generator was made for the earlier design (no `design` in its settings) is refused, not misused.
    tensors, metadata = load_weights(bundle / "generator.safetensors", "generator", "")
    save_weights(bundle / "generator.safetensors", tensors, _FirstDesignSettings(**{k: metadata["settings"][k] for k in ("size", "width")}))
    with pytest.raises(InputError, match="older announcer"):
        load_renderer(AvatarBundle(bundle), GenerateConfig(), torch.device("cpu"))
    stale = run_cli("render", "news.txt", "--avatar", "anchor", "-o", "stale.mp4", "--quiet", cwd=tmp_path, home=home)
    assert stale.returncode == 2 and "prepare it again" in stale.stderr and not (tmp_path / "stale.mp4").exists()


@dataclass(frozen=True)
class _FirstDesignSettings:
    size: int
    width: int


@pytest.mark.slow
def test_prepare_refuses_bad_names_and_a_name_taken_by_another_video(tmp_path):
    home = tmp_path / "home"
    bad = run_cli("avatar", "prepare", VIDEO, "--name", "../escape", "--quick", cwd=tmp_path, home=home)
    assert bad.returncode == 2 and "avatar name" in bad.stderr and len(bad.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "escape").exists()
    photo = run_cli("avatar", "prepare", MEDIA / "portraits" / "woman_smile.png", "--name", "still", "--quick", cwd=tmp_path,
                    home=home)
    assert photo.returncode == 2 and "video" in photo.stderr
    (home / "avatars" / "taken").mkdir(parents=True)
    (home / "avatars" / "taken" / "bundle.json").write_text(json.dumps({"source_sha256": "0" * 64}))
    taken = run_cli("avatar", "prepare", VIDEO, "--name", "taken", "--quick", cwd=tmp_path, home=home)
    assert taken.returncode == 2 and "another video" in taken.stderr


@pytest.mark.slow
def test_a_bundle_whose_preparation_stopped_part_way_is_not_used(tmp_path):
    home = tmp_path / "home"
    bundle = home / "avatars" / "halfway"
    (bundle / "checkpoints").mkdir(parents=True)
    # What a run stopped during cleanup training leaves: the generator is saved, the bundle never finished.
    for name in ("video.mp4", "generator.safetensors", "checkpoints/cleanup.safetensors"):
        (bundle / name).write_bytes(b"")
    (bundle / "bundle.json").write_text(json.dumps({"name": "halfway", "source_sha256": "0" * 64}))
    assert find_bundle(home / "avatars", "halfway") is None
    scored = run_cli("avatar", "eval", "halfway", cwd=tmp_path, home=home)
    assert scored.returncode == 2 and "avatar prepare" in scored.stderr


@pytest.mark.cuda
def test_neural_renderer_on_cuda_matches_the_cpu(presenter, crops64):
    avatar, track = presenter
    torch.manual_seed(0)
    generator = MouthGenerator(GeneratorSettings(size=64, width=8))
    cleanup = DenoisingAutoencoder(CleanupSettings(width=8, blocks=1))
    with torch.no_grad():
        generator.head.weight.normal_(0, 0.05)
    reference = crops64.images(torch.tensor([0]))[0]
    sources = np.arange(4)
    results = []
    for device in ("cpu", "cuda"):
        warp = WarpRenderer(GenerateConfig(close_mouths_above=0.0), torch.device(device))
        renderer = NeuralRenderer(warp, generator, cleanup, reference, torch.device(device))
        results.append(np.concatenate(list(renderer.render_landmarks(avatar, track, sources, track.landmarks[sources]))))
    assert psnr(results[0], results[1]) > 35  # bf16 on the GPU, float32 on the CPU


@pytest.mark.cuda
def test_training_on_cuda_lowers_the_loss_and_its_checkpoint_resumes_on_the_cpu(crops64, tmp_path):
    on_gpu = replace(crops64, crops=crops64.crops.cuda(), warped=crops64.warped.cuda(), maps=crops64.maps.cuda(),
                     mask=crops64.mask.cuda())
    checkpoint = tmp_path / "generator.safetensors"
    model = MouthGenerator(GeneratorSettings(size=64, width=8))
    log = train_generator(model, on_gpu, TrainingRun(40, 4, 1e-3, checkpoint, 20))
    assert next(model.parameters()).is_cuda
    assert np.mean(log.losses[-8:]) < np.mean(log.losses[:8])
    on_cpu = MouthGenerator(GeneratorSettings(size=64, width=8))
    caught_up = train_generator(on_cpu, crops64, TrainingRun(40, 4, 1e-3, checkpoint, 20))
    assert caught_up.start_step == 40 and not caught_up.losses
    for trained, loaded in zip(model.state_dict().values(), on_cpu.state_dict().values(), strict=True):
        assert torch.equal(trained.cpu(), loaded)
    cleanup = DenoisingAutoencoder(CleanupSettings(width=8, blocks=1))
    log = train_cleanup(cleanup, on_gpu, TrainingRun(60, 4, 2e-3, tmp_path / "cleanup.safetensors", 30))
    assert np.mean(log.losses[-10:]) < np.mean(log.losses[:10])
