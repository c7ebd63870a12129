"""A tiny Supertonic release made by the tests: the real file layout and ONNX interfaces, trivial graphs.

The four parts keep Supertonic's inputs and outputs, so the real loader, text processor and synthesis loop run:
- the duration predictor says 60 ms per character;
- the text encoder passes the mask through;
- the vector estimator scales the noise;
- the vocoder lays the latent frames out as samples.
What comes out is shaped noise of the predicted length, which is all a loading test needs.
"""
import hashlib
import json
from pathlib import Path

import numpy as np
import onnx
import yaml
from onnx import TensorProto, helper

SAMPLE_RATE = 16000
SECONDS_PER_CHARACTER = 0.06
BASE_CHUNK, COMPRESS, LATENT_DIM = 256, 2, 256  # LATENT_DIM * COMPRESS samples per latent frame
STYLES = {"F1": "female", "M1": "male"}


SHAPES = {"text_ids": ["batch", "text"], "text_mask": ["batch", 1, "text"], "style_dp": ["batch", "s1", "s2"],
          "style_ttl": ["batch", "s1", "s2"], "text_emb": ["batch", 1, "text"], "noisy_latent": ["batch", "ch", "frames"],
          "latent_mask": ["batch", 1, "frames"], "current_step": ["batch"], "total_step": ["batch"],
          "latent": ["batch", "ch", "frames"], "duration": ["batch"], "denoised": ["batch", "ch", "frames"],
          "wav": ["batch", "samples"]}


def _model(path: Path, inputs: dict[str, int], nodes: list, output: str, initializers=()) -> None:
    graph = helper.make_graph(nodes, path.stem,
                              [helper.make_tensor_value_info(name, kind, SHAPES[name]) for name, kind in inputs.items()],
                              [helper.make_tensor_value_info(output, TensorProto.FLOAT, SHAPES[output])],
                              list(initializers))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))


def _constant(name: str, values) -> onnx.TensorProto:
    array = np.asarray(values)
    kind = TensorProto.INT64 if array.dtype.kind == "i" else TensorProto.FLOAT
    return helper.make_tensor(name, kind, array.shape, array.ravel().tolist())


def make_release(folder: Path) -> dict[str, tuple[str, int]]:
    """Write the release into `folder`; returns path -> (sha256, size) for a catalogue."""
    onnx_dir, styles_dir = folder / "onnx", folder / "voice_styles"
    onnx_dir.mkdir(parents=True)
    styles_dir.mkdir()
    F, I = TensorProto.FLOAT, TensorProto.INT64
    _model(onnx_dir / "duration_predictor.onnx", {"text_ids": I, "style_dp": F, "text_mask": F},
           [helper.make_node("ReduceSum", ["text_mask", "axes"], ["characters"], keepdims=0),
            helper.make_node("Mul", ["characters", "per_character"], ["duration"])], "duration",
           [_constant("axes", np.array([1, 2], np.int64)), _constant("per_character", np.float32(SECONDS_PER_CHARACTER))])
    _model(onnx_dir / "text_encoder.onnx", {"text_ids": I, "style_ttl": F, "text_mask": F},
           [helper.make_node("Identity", ["text_mask"], ["text_emb"])], "text_emb")
    _model(onnx_dir / "vector_estimator.onnx",
           {"noisy_latent": F, "text_emb": F, "style_ttl": F, "text_mask": F, "latent_mask": F, "current_step": F,
            "total_step": F},
           [helper.make_node("Mul", ["noisy_latent", "latent_mask"], ["masked"]),
            helper.make_node("Mul", ["masked", "scale"], ["denoised"])], "denoised",
           [_constant("scale", np.float32(0.5))])
    _model(onnx_dir / "vocoder.onnx", {"latent": F},
           [helper.make_node("Transpose", ["latent"], ["frames"], perm=[0, 2, 1]),
            helper.make_node("Reshape", ["frames", "flat"], ["samples"]),
            helper.make_node("Mul", ["samples", "gain"], ["wav"])], "wav",
           [_constant("flat", np.array([0, -1], np.int64)), _constant("gain", np.float32(0.1))])
    (onnx_dir / "tts.json").write_text(json.dumps({
        "ae": {"sample_rate": SAMPLE_RATE, "base_chunk_size": BASE_CHUNK},
        "ttl": {"chunk_compress_factor": COMPRESS, "latent_dim": LATENT_DIM}}))
    (onnx_dir / "unicode_indexer.json").write_text(json.dumps([code % 997 for code in range(65536)]))
    rng = np.random.default_rng(0)
    for name in STYLES:
        style = {key: {"dims": [1, 2, 4], "data": rng.normal(size=8).round(4).tolist()} for key in ("style_ttl", "style_dp")}
        (styles_dir / f"{name}.json").write_text(json.dumps(style))
    return {str(path.relative_to(folder)): (hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_size)
            for path in sorted(folder.rglob("*")) if path.is_file()}


def write_catalogue(folder: Path, files: dict[str, tuple[str, int]], served: Path) -> Path:
    catalogue = folder / "voices.yaml"
    catalogue.write_text(yaml.safe_dump({"supertonic": {
        "base_url": served.as_uri(), "licence": "test", "languages": ["en", "ko", "de"],
        "files": {path: {"sha256": sha256, "size": size} for path, (sha256, size) in files.items()},
        "voices": STYLES}}, allow_unicode=True))
    return catalogue
