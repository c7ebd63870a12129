"""Neural face generation speed: frames per second of generator + cleanup at 256 and 512, and training speed.

    .venv/bin/python benchmarks/generate.py [--device cuda] [--sizes 256 512] [--batch 32]

Prints, for each crop size: the models' GFLOP per frame, model-only frames/s (generator + cleanup
on crops already on the device; on CUDA also with channels-last activations) and the TFLOP/s that
makes, end-to-end frames/s of `NeuralRenderer.render_landmarks` on 1080p frames (the warp
renderer, then cut, target maps, models, paste), peak GPU memory, and training steps/s with the time the default
`announcer avatar prepare` steps would take. Weights are freshly initialised: speed does not
depend on their values.
"""
from __future__ import annotations

import argparse
import copy
import json
import time
from pathlib import Path

import numpy as np
import torch

from announcer.avatar.prepare import PrepareConfig
from announcer.avatar.train import PresenterCrops, TrainingRun, train_cleanup, train_generator
from announcer.cleanup import CleanupSettings, DenoisingAutoencoder
from announcer.config import GenerateConfig
from announcer.face import Avatar, FaceTrack
from announcer.generate import WarpRenderer
from announcer.generate.crops import CropGeometry
from announcer.generate.neural import NeuralRenderer, mixed_precision
from announcer.generate.unet import GeneratorSettings, MouthGenerator


def synthetic_face(count: int, width: int = 1920, height: int = 1080) -> tuple[np.ndarray, np.ndarray]:
    """Frames and a plausible 68-point layout (a face 300 px between the eyes), for timing only."""
    from announcer.face import layout

    rng = np.random.default_rng(0)
    frames = rng.integers(0, 255, (count, height, width, 3), dtype=np.uint8)
    iod = 300.0
    base = np.zeros((68, 2), np.float32)
    base[layout.RIGHT_EYE] = [-0.5, 0]
    base[layout.LEFT_EYE] = [0.5, 0]
    sweep = np.linspace(0, np.pi, 17)
    base[layout.JAW] = np.stack([-1.1 * np.cos(sweep), 0.1 + 1.8 * np.sin(sweep)], 1)
    base[layout.NOSE] = [0, 0.5]
    outer, inner = np.linspace(0, 2 * np.pi, 12, endpoint=False), np.linspace(0, 2 * np.pi, 8, endpoint=False)
    base[layout.OUTER_LIPS] = np.stack([0.45 * np.cos(outer), 1.15 + 0.18 * np.sin(outer)], 1)
    base[layout.INNER_LIPS] = np.stack([0.3 * np.cos(inner), 1.15 + 0.06 * np.sin(inner)], 1)
    points = base * iod + [width / 2, height / 3]
    return frames, np.repeat(points[None], count, 0).astype(np.float32)


def measure(size: int, device: torch.device, batch: int, repeats: int, train_steps: int) -> dict:
    generator = MouthGenerator(GeneratorSettings(size=size)).to(device)
    cleanup = DenoisingAutoencoder(CleanupSettings()).to(device)
    warp = WarpRenderer(GenerateConfig(batch_size=batch), device)
    renderer = NeuralRenderer(warp, generator, cleanup, torch.rand(3, size, size), device)
    crops = torch.rand(batch, 3, size, size, device=device)
    maps = torch.rand(batch, 3, size, size, device=device)
    frames, points = synthetic_face(batch)
    avatar = Avatar(Path("synthetic.mp4"), frames, 25.0, True, "0" * 64)
    track = FaceTrack(points, np.ones(batch, bool), "synthetic")
    every_frame = np.arange(batch)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)

    def run_end_to_end():
        for _ in renderer.render_landmarks(avatar, track, every_frame, points):
            pass

    figures = {"size": size, "batch": batch, "device": str(device), "gflop_per_frame": round(_flops_per_frame(renderer, size) / 1e9, 1)}
    steps = [("models", lambda: _run(renderer, crops, maps)), ("end_to_end", run_end_to_end)]
    if device.type == "cuda":
        # The same models with NHWC activations (cuDNN's preferred layout for bf16 convolutions): measured
        # here first; NeuralRenderer adopts it if it pays.
        renderer_last = NeuralRenderer(warp, copy.deepcopy(generator).to(memory_format=torch.channels_last),
                                       copy.deepcopy(cleanup).to(memory_format=torch.channels_last), torch.rand(3, size, size), device)
        last_crops, last_maps = (t.contiguous(memory_format=torch.channels_last) for t in (crops, maps))
        steps.insert(1, ("models_channels_last", lambda: _run(renderer_last, last_crops, last_maps)))
    for label, step in steps:
        step()  # warm-up (kernels, allocator)
        _sync(device)
        began = time.perf_counter()
        for _ in range(repeats):
            step()
        _sync(device)
        figures[f"{label}_fps"] = round(batch * repeats / (time.perf_counter() - began), 1)
    figures["models_tflop_per_s"] = round(figures["gflop_per_frame"] * figures["models_fps"] / 1e3, 1)
    if device.type == "cuda":
        figures["peak_gpu_memory_mb"] = round(torch.cuda.max_memory_allocated(device) / 2 ** 20)
    if train_steps:
        figures.update(_training_speed(size, device, train_steps))
    return figures


def _run(renderer: NeuralRenderer, crops: torch.Tensor, maps: torch.Tensor) -> None:
    with torch.no_grad(), mixed_precision(renderer.device):
        renderer.generate(crops, maps)


def _flops_per_frame(renderer: NeuralRenderer, size: int) -> float:
    from torch.utils.flop_counter import FlopCounterMode

    one = torch.rand(1, 3, size, size, device=renderer.device)
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        renderer.generate(one, one)
    return counter.get_total_flops()


def _training_speed(size: int, device: torch.device, steps: int) -> dict:
    import tempfile

    geometry = CropGeometry(size)
    count = 64
    data = PresenterCrops(torch.randint(0, 255, (count, 3, size, size), dtype=torch.uint8, device=device),
                          torch.randint(0, 255, (count, 3, size, size), dtype=torch.uint8, device=device),
                          torch.randint(0, 255, (count, 3, size, size), dtype=torch.uint8, device=device),
                          geometry.mask(device), torch.arange(count), 0)
    defaults = PrepareConfig()
    with tempfile.TemporaryDirectory() as scratch:
        generator_log = train_generator(MouthGenerator(GeneratorSettings(size=size)), data, TrainingRun(
            steps, defaults.batch_size, defaults.learning_rate, Path(scratch) / "g.safetensors", 10 ** 9))
        cleanup_log = train_cleanup(DenoisingAutoencoder(), data, TrainingRun(
            steps, defaults.cleanup_batch_size, defaults.learning_rate, Path(scratch) / "c.safetensors", 10 ** 9),
            patch=defaults.cleanup_patch)
    generator_rate = steps / generator_log.seconds
    cleanup_rate = steps / cleanup_log.seconds
    projected = defaults.generator_steps / generator_rate + defaults.cleanup_steps / cleanup_rate
    return {"generator_train_steps_per_s": round(generator_rate, 2), "cleanup_train_steps_per_s": round(cleanup_rate, 2),
            "default_prepare_training_minutes": round(projected / 60, 1)}


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 512])
    parser.add_argument("--batch", type=int, default=None, help="frames per batch (default 32 on CUDA, 4 on the CPU)")
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--train-steps", type=int, default=None, help="training steps timed (0 skips; default 50 on CUDA, 3 on CPU)")
    args = parser.parse_args()
    device = torch.device(args.device)
    on_gpu = device.type == "cuda"
    batch = args.batch or (32 if on_gpu else 4)
    repeats = args.repeats or (20 if on_gpu else 2)
    train_steps = args.train_steps if args.train_steps is not None else (50 if on_gpu else 3)
    name = torch.cuda.get_device_name(device) if on_gpu else f"CPU ({torch.get_num_threads()} threads)"
    print(f"# {name}, torch {torch.__version__}")
    for size in args.sizes:
        print(json.dumps(measure(size, device, batch, repeats, train_steps)), flush=True)


if __name__ == "__main__":
    main()
