"""Which model made a descriptor, and the spaces descriptors are compared in.

Vigil has two face descriptors: dlib's ResNet (``dlib``, 128-d) and Intel's
face-reidentification-retail-0095 (``reid``, 256-d, unit length). The configured
*embedder* is one of them alone or ``fused``: both, compared together. Every stored
descriptor names the models that made it (``tag``: "dlib", "reid" or "dlib+reid", the
models' vectors side by side in that order), and a comparison happens in one *space*: the
embedder's models' parts of each vector, each part multiplied by the space's weight. The
fused space's Euclidean distance is so the root of the weighted sum of the two models'
squared distances; its weights are chosen on LFW's ``pairsDevTrain`` and ship with its
calibration. A stored vector that lacks one of the space's models is not compared at all
(``view`` answers None): comparisons are only ever of like with like.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from vigil.errors import ConfigError

DIMENSIONS = {"dlib": 128, "reid": 256}  # each model's descriptor size, in tag order
EMBEDDERS: dict[str, tuple[str, ...]] = {
    "dlib": ("dlib",),
    "reid": ("reid",),
    "fused": ("dlib", "reid"),
}


def models_of(embedder: str) -> tuple[str, ...]:
    if embedder not in EMBEDDERS:
        raise ConfigError(f"unknown face embedder {embedder!r}; use one of {tuple(EMBEDDERS)}")
    return EMBEDDERS[embedder]


def tag_of(models: tuple[str, ...]) -> str:
    return "+".join(models)


def models_in(tag: str) -> tuple[str, ...]:
    models = tuple(tag.split("+"))
    if not models or any(m not in DIMENSIONS for m in models):
        raise ValueError(f"descriptors of unknown models {tag!r}")
    return models


def tags_with(embedder: str) -> list[str]:
    """Every tag whose descriptors an embedder's space can compare (they hold its models)."""
    needed = set(models_of(embedder))
    names = list(DIMENSIONS)
    found = []
    for mask in range(1, 2 ** len(names)):
        models = tuple(n for i, n in enumerate(names) if mask >> i & 1)
        if needed <= set(models):
            found.append(tag_of(models))
    return found


def width(tag: str) -> int:
    """How many numbers one descriptor of these models holds."""
    return sum(DIMENSIONS[m] for m in models_in(tag))


def lacking(tag: str, embedder: str) -> tuple[str, ...]:
    """The embedder's models that descriptors tagged ``tag`` do not have."""
    have = models_in(tag)
    return tuple(m for m in models_of(embedder) if m not in have)


@dataclass(frozen=True, slots=True)
class Space:
    """Where descriptors are compared: an embedder's models, each part weighted."""

    embedder: str
    weights: tuple[float, ...]

    def __post_init__(self) -> None:
        if len(self.weights) != len(models_of(self.embedder)) or min(self.weights) <= 0:
            raise ValueError(f"one positive weight per model of {self.embedder} expected")

    @property
    def models(self) -> tuple[str, ...]:
        return models_of(self.embedder)

    @property
    def dimension(self) -> int:
        return sum(DIMENSIONS[m] for m in self.models)

    def view(self, vectors: NDArray[np.float32], tag: str) -> NDArray[np.float32] | None:
        """``vectors`` (one row each, tagged ``tag``) in this space; None if they lack one
        of its models."""
        if lacking(tag, self.embedder):
            return None
        rows = vectors.reshape(-1, width(tag))
        start, offsets = 0, {}
        for model in models_in(tag):
            offsets[model] = start
            start += DIMENSIONS[model]
        parts = [
            rows[:, offsets[m] : offsets[m] + DIMENSIONS[m]] * np.float32(w)
            for m, w in zip(self.models, self.weights, strict=True)
        ]
        return np.ascontiguousarray(np.concatenate(parts, axis=1), dtype=np.float32)

    def of(self, vectors: NDArray[np.float32], tag: str) -> NDArray[np.float32]:
        """As ``view``, for vectors known to hold this space's models."""
        found = self.view(vectors, tag)
        if found is None:
            raise ValueError(f"descriptors of {tag} have no {self.embedder} view")
        return found


def single(model: str) -> Space:
    """A model's own space, unweighted."""
    return Space(model, (1.0,))
