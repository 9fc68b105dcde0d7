"""dlib's face ResNet on ONNX Runtime: the same weights, read from dlib's own model file.

dlib (the ``dlib-bin`` wheel) runs its ResNet without BLAS: about 90 ms a face on this
machine. This module reads ``dlib_face_recognition_resnet_model_v1.dat`` from the installed
``face_recognition_models`` package, writes the same network as an ONNX model once into a
cache (named by the weights' SHA-256, written atomically), and runs it with ONNX Runtime,
many chips at a time. Descriptors equal dlib's to within about 3e-7.

The file format (dlib's serialization): an integer is one control byte (its low 4 bits
the number of little-endian bytes that follow, 0x80 for negative); a string is an integer
length and its bytes; a real is an integer mantissa and an integer exponent; a tensor is
version 2, then n, k, nr, nc and n*k*nr*nc little-endian float32. Each layer's details
start with its name, input layer first. The topology is dlib's ``dnn_face_recognition_ex``
network: a 7x7/2 convolution, a 3x3/2 max pool, residual blocks of 32, 64, 128 and 256
filters (the first of each wider level halves the size: a 3x3/2 convolution beside a 2x2/2
average pool, the narrower operand zero-extended in channels and at the bottom right), a
global average pool and a 128-wide fully connected layer without bias.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from vigil.errors import ConfigError
from vigil.faces.onnx_session import cached_conversion, open_session

CHIP = 150
# Residual levels, input first: filters, blocks, whether the first block halves the size.
WIDTHS = ((32, 3, False), (64, 4, True), (128, 3, True), (256, 3, True), (256, 1, True))
NAMES = (
    "loss_metric_2",
    "input_rgb_image_sized",
    "con_4",
    "affine_",
    "relu_",
    "max_pool_2",
    "avg_pool_2",
    "add_prev_",
    "fc_2",
)
OPSET = 17
BATCH = 16


class _Reader:
    """dlib's serialized values, read from a position in the file."""

    def __init__(self, data: bytes, pos: int) -> None:
        self.data, self.pos = data, pos

    def integer(self) -> int:
        control = self.data[self.pos]
        size = control & 0x0F
        value = int.from_bytes(self.data[self.pos + 1 : self.pos + 1 + size], "little")
        self.pos += 1 + size
        return -value if control & 0x80 else value

    def text(self) -> str:
        size = self.integer()
        value = self.data[self.pos : self.pos + size]
        self.pos += size
        return value.decode("ascii")

    def real(self) -> float:
        mantissa = self.integer()
        return float(mantissa * 2.0 ** self.integer())

    def integers(self, count: int) -> list[int]:
        return [self.integer() for _ in range(count)]

    def tensor(self) -> NDArray[np.float32]:
        if (version := self.integer()) != 2:
            raise ValueError(f"a tensor of version {version}")
        shape = self.integers(4)
        count = int(np.prod(shape))
        if count <= 0 or self.pos + 4 * count > len(self.data):
            raise ValueError(f"a tensor of shape {shape} that the file cannot hold")
        values = np.frombuffer(self.data, "<f4", count, self.pos).reshape(shape)
        self.pos += 4 * count
        return values.astype(np.float32)


def _layers(data: bytes) -> Iterator[tuple[str, _Reader]]:
    """Each layer's name and a reader just past it, in the file's order."""
    found = []
    for name in NAMES:
        marker = bytes([1, len(name)]) + name.encode()
        found += [(m.start(), name) for m in re.finditer(re.escape(marker), data)]
    for pos, name in sorted(found):
        reader = _Reader(data, pos)
        reader.text()
        yield name, reader


@dataclass
class _Graph:
    """ONNX nodes and weights, built in order."""

    nodes: list[Any] = field(default_factory=list)
    weights: list[Any] = field(default_factory=list)
    count: int = 0

    def _name(self, kind: str) -> str:
        self.count += 1
        return f"{kind}{self.count}"

    def const(self, array: NDArray[Any]) -> str:
        from onnx import numpy_helper  # noqa: PLC0415 - only a conversion needs onnx

        name = self._name("w")
        self.weights.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def op(self, kind: str, inputs: list[str], **attrs: Any) -> str:
        from onnx import helper  # noqa: PLC0415

        out = self._name(kind.lower())
        self.nodes.append(helper.make_node(kind, inputs, [out], **attrs))
        return out


@dataclass
class _Tensor:
    name: str
    channels: int
    size: int  # square: rows == columns


class _Builder:
    """Consumes the layers in file order while laying out dlib's topology."""

    def __init__(self, layers: Iterator[tuple[str, _Reader]]) -> None:
        self.layers = layers
        self.g = _Graph()

    def take(self, expected: str) -> _Reader:
        name, reader = next(self.layers, ("the end of the file", None))
        if name != expected or reader is None:
            raise ValueError(f"found {name} where {expected} belongs")
        return reader

    def conv(self, x: _Tensor) -> _Tensor:
        """A convolution with the affine layer after it folded in."""
        r = self.take("con_4")
        params = r.tensor().reshape(-1)
        filters, rows, cols, stride, stride_x, pad, pad_x = r.integers(7)
        if rows != cols or stride != stride_x or pad != pad_x:
            raise ValueError("a convolution that is not square")
        size = filters * x.channels * rows * cols
        if params.size != size + filters:
            raise ValueError(f"a convolution of {params.size} values, not {size + filters}")
        weights = params[:size].reshape(filters, x.channels, rows, cols)
        affine = self.take("affine_").tensor().reshape(-1)
        gamma, beta = affine[:filters], affine[filters:]
        name = self.g.op(
            "Conv",
            [
                x.name,
                self.g.const(weights * gamma[:, None, None, None]),
                self.g.const(params[size:] * gamma + beta),
            ],
            kernel_shape=[rows, cols],
            strides=[stride, stride],
            pads=[pad] * 4,
        )
        return _Tensor(name, filters, (x.size + 2 * pad - rows) // stride + 1)

    def relu(self, x: _Tensor) -> _Tensor:
        self.take("relu_")
        return _Tensor(self.g.op("Relu", [x.name]), x.channels, x.size)

    def pool(self, x: _Tensor, kind: str, layer: str, window: int) -> _Tensor:
        found = self.take(layer).integers(6)
        if found != [window, window, 2, 2, 0, 0]:
            raise ValueError(f"a pooling layer of {found}")
        name = self.g.op(kind, [x.name], kernel_shape=[window, window], strides=[2, 2])
        return _Tensor(name, x.channels, (x.size - window) // 2 + 1)

    def extend(self, x: _Tensor, channels: int, size: int) -> str:
        """Zero-extend to more channels and a larger size (at the bottom right)."""
        if (x.channels, x.size) == (channels, size):
            return x.name
        more, grow = channels - x.channels, size - x.size
        pads = np.array([0, 0, 0, 0, 0, more, grow, grow], np.int64)
        return self.g.op("Pad", [x.name, self.g.const(pads)])

    def block(self, x: _Tensor, down: bool) -> _Tensor:
        y = self.conv(self.relu(self.conv(x)))
        shortcut = self.pool(x, "AveragePool", "avg_pool_2", 2) if down else x
        self.take("add_prev_")
        channels, size = max(y.channels, shortcut.channels), max(y.size, shortcut.size)
        added = self.g.op(
            "Add", [self.extend(y, channels, size), self.extend(shortcut, channels, size)]
        )
        return self.relu(_Tensor(added, channels, size))

    def build(self) -> tuple[_Graph, str]:
        self.take("loss_metric_2")
        means = self.take("input_rgb_image_sized")
        mean = np.array([means.real() for _ in range(3)], np.float32).reshape(1, 3, 1, 1)
        x = self.g.op("Sub", ["chip", self.g.const(mean)])
        x = self.g.op("Mul", [x, self.g.const(np.array(1 / 256, np.float32))])
        t = self.relu(self.conv(_Tensor(x, 3, CHIP)))
        t = self.pool(t, "MaxPool", "max_pool_2", 3)
        for width, count, down in WIDTHS:
            for i in range(count):
                t = self.block(t, down and i == 0)
            if t.channels != width:
                raise ValueError(f"a level of {t.channels} filters where {width} belong")
        if self.take("avg_pool_2").integers(2) != [0, 0]:
            raise ValueError("the last pooling layer does not pool everything")
        flat = self.g.op("Flatten", [self.g.op("GlobalAveragePool", [t.name])])
        fc = self.take("fc_2")
        outputs, inputs = fc.integers(2)
        if inputs != t.channels:
            raise ValueError(f"a fully connected layer of {inputs} inputs, not {t.channels}")
        out = self.g.op("MatMul", [flat, self.g.const(fc.tensor().reshape(inputs, outputs))])
        if (extra := next(self.layers, None)) is not None:
            raise ValueError(f"a layer {extra[0]} after the last")
        return self.g, out


def convert(dat: Path, out: Path) -> None:
    """Write dlib's face ResNet from ``dat`` as an ONNX model at ``out`` (atomically)."""
    import onnx  # noqa: PLC0415 - only a conversion needs onnx
    from onnx import TensorProto, helper  # noqa: PLC0415

    try:
        graph, output = _Builder(_layers(dat.read_bytes())).build()
    except (ValueError, IndexError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{dat} is not dlib's face ResNet: {exc}") from None
    model = helper.make_model(
        helper.make_graph(
            graph.nodes,
            "dlib_face_recognition_resnet_model_v1",
            [helper.make_tensor_value_info("chip", TensorProto.FLOAT, ["n", 3, CHIP, CHIP])],
            [helper.make_tensor_value_info(output, TensorProto.FLOAT, ["n", 128])],
            graph.weights,
        ),
        opset_imports=[helper.make_opsetid("", OPSET)],
        producer_name="vigil",
    )
    model.ir_version = 8
    onnx.checker.check_model(model)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.name}.{os.getpid()}.part")
    onnx.save(model, str(partial))
    partial.replace(out)


def cached_model(dat: Path, cache: Path | None = None) -> Path:
    """The ONNX model of ``dat``, converted on first use and named by the weights' hash."""
    return cached_conversion([dat], dat.stem, convert, cache)


class OnnxEmbedder:
    """Descriptors of 150x150 RGB chips, BATCH at a time, on ``threads`` CPU threads."""

    def __init__(self, dat: Path, *, threads: int = 1, cache: Path | None = None) -> None:
        self.dat = dat
        self.threads = threads
        self.cache = cache
        self._lock = threading.Lock()

    @cached_property
    def _session(self) -> Any:
        path = cached_model(self.dat, self.cache)
        return open_session(path, threads=self.threads, what="face descriptor")

    def embed(self, chips: Sequence[NDArray[np.uint8]]) -> NDArray[np.float32]:
        with self._lock:  # built once
            session = self._session
        out = []
        for start in range(0, len(chips), BATCH):
            batch = np.stack(chips[start : start + BATCH]).astype(np.float32)
            out.append(session.run(None, {"chip": batch.transpose(0, 3, 1, 2)})[0])
        return np.concatenate(out).astype(np.float32)
