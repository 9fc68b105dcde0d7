"""Intel's face-reidentification-retail-0095 on ONNX Runtime, converted from its OpenVINO IR.

The model (vendored in ``models/face-reid-0095`` with its licence and provenance) is an
OpenVINO IR: an XML graph of layers and edges, and a ``.bin`` of weights that each
``Const`` layer names by offset, size, element type and shape. This module reads that graph
and writes the same network as an ONNX model once into the cache (named by the weights'
SHA-256, written atomically), then runs it with ONNX Runtime. FP16 weights (``Const`` then
``Convert`` to f32) are widened to float32 exactly when converting. The layers the IR uses
map one to one: ``Convolution`` and ``GroupConvolution`` to ``Conv`` (the group's weights
``[G, O, I, kH, kW]`` folded to ``[G*O, I, kH, kW]``), ``AvgPool`` to ``AveragePool``,
``Sigmoid``, ``Add`` and ``Multiply`` to their namesakes, and ``PReLU`` to ``PRelu``, or,
where it has one slope for all channels (as every one of this model's has), to the same
function as ``LeakyRelu``: ONNX Runtime runs that 2.6 times faster on one core (PRelu's
broadcast of the slope took half the model's time, and the layout changes around it
another fifth), with the same output to the bit. The output
``n x 256 x 1 x 1`` is flattened; descriptors are L2-normalised here and compared by
Euclidean distance (a monotone function of the cosine the model was trained for).

Faces are aligned by a least-squares similarity transform of YuNet's five points (eyes,
nose tip, mouth corners) onto the model's reference points, at 128 x 128, BGR, 0-255.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
from defusedxml import ElementTree
from numpy.typing import NDArray
from PIL import Image

from vigil.errors import ConfigError
from vigil.faces.onnx_session import cached_conversion, open_session

MODEL_NAME = "face-reidentification-retail-0095"
CHIP = 128
DIMENSION = 256
# Where the model wants the five points (left eye, right eye, nose tip, mouth corners), x 128.
REFERENCE = np.array(
    [
        (0.31556875, 0.46157411),
        (0.68262292, 0.46157411),
        (0.50026250, 0.64050536),
        (0.34947188, 0.82469196),
        (0.65343646, 0.82469196),
    ]
) * float(CHIP)
OPSET = 13
CONVERSION = "2"  # the converter's revision: a model converted by an earlier one is not used
BATCH = 16
DTYPES = {"f16": np.float16, "f32": np.float32, "i64": np.int64, "i32": np.int32}
ELEMENTWISE = {"Add": "Add", "Multiply": "Mul", "Sigmoid": "Sigmoid"}


def vendored_model() -> Path:
    """The IR's graph file; its weights lie beside it (same stem, ``.bin``)."""
    return Path(str(resources.files("vigil.faces") / "models" / "face-reid-0095")) / (
        MODEL_NAME + ".xml"
    )


def _ints(text: str) -> list[int]:
    return [int(v) for v in text.replace(" ", "").split(",") if v]


class _Converter:
    """The IR's layers in order, as ONNX nodes and initializers."""

    def __init__(self, xml: Path) -> None:
        root: Any = ElementTree.parse(str(xml)).getroot()
        self.root = root
        self.weights = xml.with_suffix(".bin").read_bytes()
        self.sources: dict[tuple[str, str], str] = {}  # (layer, input port) -> tensor
        for edge in root.iter("edge"):
            tensor = f"t{edge.get('from-layer')}_{edge.get('from-port')}"
            self.sources[(str(edge.get("to-layer")), str(edge.get("to-port")))] = tensor
        self.constants: dict[str, NDArray[Any]] = {}
        self.nodes: list[Any] = []
        self.inputs: list[Any] = []
        self.outputs: list[Any] = []

    def _ins(self, layer: Any) -> list[str]:
        ports = layer.find("input")
        names = [] if ports is None else [p.get("id") for p in ports.findall("port")]
        return [self.sources[(layer.get("id"), port)] for port in names]

    def _out(self, layer: Any) -> str:
        port = layer.find("output").find("port")
        return f"t{layer.get('id')}_{port.get('id')}"

    def _const(self, layer: Any, data: Any) -> None:
        kind = data.get("element_type")
        if kind not in DTYPES:
            raise ValueError(f"a constant of element type {kind}")
        offset, size = int(data.get("offset")), int(data.get("size"))
        if offset + size > len(self.weights):
            raise ValueError("a constant beyond the end of the weights file")
        values = np.frombuffer(
            self.weights, DTYPES[kind], size // np.dtype(DTYPES[kind]).itemsize, offset
        )
        self.constants[self._out(layer)] = values.reshape(_ints(data.get("shape", "")))

    def _node(self, kind: str, inputs: list[str], output: str, **attrs: Any) -> None:
        from onnx import helper  # noqa: PLC0415 - only a conversion needs onnx

        self.nodes.append(helper.make_node(kind, inputs, [output], **attrs))

    def _weight(self, name: str, shape: list[int] | None = None) -> str:
        """A constant input as a float32 initializer (reshaped if asked)."""
        if shape is not None:
            self.constants[name] = self.constants[name].reshape(shape)
        return name

    def _conv(self, layer: Any, data: Any, inputs: list[str], groups: bool) -> None:
        x, w = inputs
        weights = self.constants[w]
        group = 1
        if groups:  # [G, O, I, kH, kW] -> [G*O, I, kH, kW]
            group = weights.shape[0]
            self._weight(w, [weights.shape[0] * weights.shape[1], *weights.shape[2:]])
        begin, end = _ints(data.get("pads_begin")), _ints(data.get("pads_end"))
        if data.get("auto_pad") not in (None, "explicit"):
            raise ValueError(f"a convolution with auto_pad {data.get('auto_pad')}")
        self._node(
            "Conv",
            [x, w],
            self._out(layer),
            strides=_ints(data.get("strides")),
            dilations=_ints(data.get("dilations")),
            pads=begin + end,
            group=group,
        )

    def _prelu(self, layer: Any, inputs: list[str]) -> None:
        x, slope = inputs
        slopes = self.constants[slope]
        if slopes.size == 1:  # one slope: the same function, the runtime's fast path
            self._node("LeakyRelu", [x], self._out(layer), alpha=float(slopes.item()))
        else:
            self._node("PRelu", [x, self._weight(slope, [slopes.size, 1, 1])], self._out(layer))

    def _layer(self, layer: Any) -> None:
        from onnx import TensorProto, helper  # noqa: PLC0415

        kind, data = layer.get("type"), layer.find("data")
        inputs = self._ins(layer)
        if kind == "Parameter":
            shape: list[int | str] = ["n", *_ints(data.get("shape"))[1:]]
            name = self._out(layer)
            self.inputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, shape))
        elif kind == "Const":
            self._const(layer, data)
        elif kind == "Convert":
            if data.get("destination_type") != "f32" or inputs[0] not in self.constants:
                raise ValueError("a conversion other than of a constant to f32")
            self.constants[self._out(layer)] = self.constants[inputs[0]].astype(np.float32)
        elif kind in ELEMENTWISE:
            if data is not None and data.get("auto_broadcast", "numpy") != "numpy":
                raise ValueError(f"{kind} with broadcasting {data.get('auto_broadcast')}")
            self._node(ELEMENTWISE[kind], inputs, self._out(layer))
        elif kind in ("Convolution", "GroupConvolution"):
            self._conv(layer, data, inputs, kind == "GroupConvolution")
        elif kind == "PReLU":
            self._prelu(layer, inputs)
        elif kind == "AvgPool":
            if data.get("rounding_type", "floor") != "floor":
                raise ValueError("a pooling layer that rounds up")
            self._node(
                "AveragePool",
                inputs,
                self._out(layer),
                kernel_shape=_ints(data.get("kernel")),
                strides=_ints(data.get("strides")),
                pads=_ints(data.get("pads_begin")) + _ints(data.get("pads_end")),
                count_include_pad=0 if data.get("exclude-pad") == "true" else 1,
            )
        elif kind == "Result":
            self._node("Flatten", inputs, "descriptor")
            self.outputs.append(
                helper.make_tensor_value_info("descriptor", TensorProto.FLOAT, ["n", DIMENSION])
            )
        else:
            raise ValueError(f"a layer of type {kind}, which this converter does not know")

    def model(self) -> Any:
        from onnx import helper, numpy_helper  # noqa: PLC0415

        for layer in self.root.find("layers"):
            self._layer(layer)
        if len(self.inputs) != 1 or len(self.outputs) != 1:
            raise ValueError("a graph without exactly one input and one output")
        used = {name for node in self.nodes for name in node.input}
        weights = [
            numpy_helper.from_array(np.ascontiguousarray(v, dtype=np.float32), name)
            for name, v in self.constants.items()
            if name in used
        ]
        graph = helper.make_graph(self.nodes, MODEL_NAME, self.inputs, self.outputs, weights)
        model = helper.make_model(
            graph,
            opset_imports=[helper.make_opsetid("", OPSET)],
            producer_name="vigil (converted from Intel's OpenVINO IR; modified form, Apache-2.0)",
            doc_string=(
                f"{MODEL_NAME} by Intel (Open Model Zoo), Apache License 2.0. Converted by "
                "Vigil from the FP16 OpenVINO IR to ONNX with float32 weights: a modified "
                "file under Apache-2.0 section 4."
            ),
        )
        model.ir_version = 8
        return model


def convert(xml: Path, out: Path) -> None:
    """Write the IR at ``xml`` (and its ``.bin``) as an ONNX model at ``out`` (atomically)."""
    import onnx  # noqa: PLC0415 - only a conversion needs onnx

    try:
        model = _Converter(xml).model()
        onnx.checker.check_model(model)
    except (ValueError, KeyError, AttributeError, TypeError, ElementTree.ParseError) as exc:
        raise ConfigError(f"{xml} is not an OpenVINO IR this converter reads: {exc}") from None
    except onnx.checker.ValidationError as exc:
        raise ConfigError(f"{xml} converted to an invalid ONNX model: {exc}") from None
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.name}.{os.getpid()}.part")
    onnx.save(model, str(partial))
    partial.replace(out)


def similarity_transform(
    source: NDArray[np.float64], target: NDArray[np.float64]
) -> NDArray[np.float64]:
    """The 2x3 matrix of the rotation, uniform scale and shift that maps ``source`` points
    nearest to ``target`` (least squares, Umeyama's closed form)."""
    mu_s, mu_t = source.mean(axis=0), target.mean(axis=0)
    s, t = source - mu_s, target - mu_t
    u, sigma, vt = np.linalg.svd(t.T @ s / len(source))
    d = np.eye(2)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        d[1, 1] = -1
    rotation = u @ d @ vt
    scale = float(np.trace(np.diag(sigma) @ d) / max(s.var(axis=0).sum(), 1e-12))
    matrix = np.zeros((2, 3))
    matrix[:, :2] = scale * rotation
    matrix[:, 2] = mu_t - scale * rotation @ mu_s
    return matrix


def align(rgb: NDArray[np.uint8], points: NDArray[np.float64]) -> NDArray[np.uint8]:
    """The face whose five points (or just its eyes) are ``points`` as the model's
    128 x 128 RGB chip."""
    target = REFERENCE[: len(points)]
    forward = np.vstack([similarity_transform(points, target), [0.0, 0.0, 1.0]])
    inverse = np.linalg.inv(forward)[:2].ravel()  # PIL maps each output pixel back
    chip = Image.fromarray(rgb).transform(
        (CHIP, CHIP), Image.Transform.AFFINE, tuple(inverse), Image.Resampling.BILINEAR
    )
    return np.asarray(chip, dtype=np.uint8)


class ReidEmbedder:
    """Unit-length 256-d descriptors of 128 x 128 RGB chips, BATCH at a time."""

    def __init__(
        self, xml: Path | None = None, *, threads: int = 1, cache: Path | None = None
    ) -> None:
        self.xml = xml or vendored_model()
        self.threads = threads
        self.cache = cache
        self._lock = threading.Lock()

    @cached_property
    def _session(self) -> Any:
        sources = [self.xml, self.xml.with_suffix(".bin")]
        path = cached_conversion(sources, MODEL_NAME, convert, self.cache, CONVERSION)
        return open_session(path, threads=self.threads, what="face re-identification")

    def embed(self, chips: Sequence[NDArray[np.uint8]]) -> NDArray[np.float32]:
        if not chips:
            return np.zeros((0, DIMENSION), dtype=np.float32)
        with self._lock:  # built once
            session = self._session
        name = session.get_inputs()[0].name
        out = []
        for start in range(0, len(chips), BATCH):
            batch = np.stack(chips[start : start + BATCH])[..., ::-1].astype(np.float32)
            out.append(session.run(None, {name: batch.transpose(0, 3, 1, 2)})[0])
        vectors = np.concatenate(out).astype(np.float64)
        vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        return vectors.astype(np.float32)
