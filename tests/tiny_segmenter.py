"""A tiny selfie segmenter with the real model's interface, for tests (the real one cannot be fetched here).

MediaPipe's `selfie_segmenter.tflite` takes a (1, 256, 256, 3) float image scaled to [0, 1] (its metadata says so)
and gives one (1, 256, 256, 1) person-confidence channel labelled `selfie`. This model has the same tensors and
metadata, built with the TFLite schema and metadata writer that ship inside the mediapipe wheel; its one 1x1
convolution and a sigmoid call a pixel "person" by its colour: confidence = sigmoid(sum(WEIGHTS * rgb) + BIAS).
"""
from __future__ import annotations

from pathlib import Path

import flatbuffers
import numpy as np

SIZE = 256
WEIGHTS = np.array([-6.0, -6.0, -6.0], np.float32)
BIAS = 7.5
"""Dark pixels (hair, clothes) read as the person and light ones (a pale wall, a pale face) as background."""


def expected_confidence(rgb: np.ndarray) -> np.ndarray:
    """What the tiny model gives for an RGB uint8 image already at 256x256."""
    return 1 / (1 + np.exp(-(rgb.astype(np.float32) / 255 @ WEIGHTS + BIAS)))


def write_tiny_segmenter(path: Path) -> Path:
    from mediapipe.tasks.metadata import schema_py_generated as tfl

    buffers = [tfl.BufferT(), _buffer(WEIGHTS.reshape(1, 1, 1, 3).tobytes()), _buffer(np.float32([BIAS]).tobytes()),
               _buffer(_metadata())]  # buffer 0 is empty by convention

    def tensor(name, shape, buffer=0):
        t = tfl.TensorT()
        t.name, t.shape, t.type, t.buffer = name, shape, tfl.TensorType.FLOAT32, buffer
        return t

    tensors = [tensor("input", [1, SIZE, SIZE, 3]), tensor("weights", [1, 1, 1, 3], 1), tensor("bias", [1], 2),
               tensor("logits", [1, SIZE, SIZE, 1]), tensor("output", [1, SIZE, SIZE, 1])]
    conv_options = tfl.Conv2DOptionsT()
    conv_options.padding, conv_options.strideW, conv_options.strideH = tfl.Padding.SAME, 1, 1
    conv_options.dilationWFactor = conv_options.dilationHFactor = 1
    conv = tfl.OperatorT()
    conv.opcodeIndex, conv.inputs, conv.outputs = 0, [0, 1, 2], [3]
    conv.builtinOptionsType, conv.builtinOptions = tfl.BuiltinOptions.Conv2DOptions, conv_options
    sigmoid = tfl.OperatorT()
    sigmoid.opcodeIndex, sigmoid.inputs, sigmoid.outputs = 1, [3], [4]
    graph = tfl.SubGraphT()
    graph.tensors, graph.inputs, graph.outputs, graph.operators = tensors, [0], [4], [conv, sigmoid]
    codes = []
    for op in (tfl.BuiltinOperator.CONV_2D, tfl.BuiltinOperator.LOGISTIC):
        code = tfl.OperatorCodeT()
        code.builtinCode, code.deprecatedBuiltinCode, code.version = op, op, 1
        codes.append(code)
    metadata = tfl.MetadataT()
    metadata.name, metadata.buffer = "TFLITE_METADATA", 3
    model = tfl.ModelT()
    model.version, model.operatorCodes, model.subgraphs, model.buffers = 3, codes, [graph], buffers
    model.description, model.metadata = "announcer test: tiny selfie segmenter", [metadata]
    path.write_bytes(_packed(model, b"TFL3"))
    return path


def _metadata() -> bytes:
    """TFLite model metadata as the real model carries it: an RGB input scaled by 1/255, a grayscale mask output."""
    from mediapipe.tasks.metadata import metadata_schema_py_generated as md

    def image(colour_space):
        content = md.ContentT()
        content.contentPropertiesType = md.ContentProperties.ImageProperties
        content.contentProperties = md.ImagePropertiesT()
        content.contentProperties.colorSpace = colour_space
        return content

    normalise = md.ProcessUnitT()
    normalise.optionsType = md.ProcessUnitOptions.NormalizationOptions
    normalise.options = md.NormalizationOptionsT()
    normalise.options.mean, normalise.options.std = [0.0], [255.0]
    stats = md.StatsT()
    stats.min, stats.max = [0.0], [1.0]
    image_in = md.TensorMetadataT()
    image_in.name, image_in.content, image_in.processUnits, image_in.stats = "image", image(md.ColorSpaceType.RGB), [normalise], stats
    mask_out = md.TensorMetadataT()
    mask_out.name, mask_out.content = "segmentation_masks", image(md.ColorSpaceType.GRAYSCALE)
    graph = md.SubGraphMetadataT()
    graph.inputTensorMetadata, graph.outputTensorMetadata = [image_in], [mask_out]
    model = md.ModelMetadataT()
    model.name, model.subgraphMetadata, model.minParserVersion = "SelfieSegmenter", [graph], "1.0.0"
    return _packed(model, b"M001")


def _buffer(data: bytes):
    from mediapipe.tasks.metadata import schema_py_generated as tfl

    buffer = tfl.BufferT()
    buffer.data = np.frombuffer(data, np.uint8)
    return buffer


def _packed(table, identifier: bytes) -> bytes:
    builder = flatbuffers.Builder(1024)
    builder.Finish(table.Pack(builder), file_identifier=identifier)
    return bytes(builder.Output())
