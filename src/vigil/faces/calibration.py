"""How often two different people's faces come this close: a distance's false-match rate.

``vigil faces calibrate`` measures it on labelled photos, over every pair of different
people among the listed images, and keeps the share of those pairs at or below each
distance of a fine grid, with the operating points read off it. A calibration measured on
LFW's ``pairsDevTrain`` images with the default engine ships with the package, so that
every alert and search result carries an estimate on an install where nobody calibrated.
The estimate is never below one in the number of pairs measured: rarer than that was not
seen, so Vigil does not claim it. A sighting keeps a few descriptors and a search or entry
may have a few photos; the nearest pair counts, so the estimate is multiplied by the
number of pairs compared (a bound that never understates the risk).

Each embedder (``descriptors.py``: dlib, reid, fused) has its own calibration, measured in
its own space; the fused one also holds the weights of its models, chosen on the same
photos. The file holds one calibration per embedder; ``vigil faces calibrate --embedder``
replaces one. A file written before there were several holds dlib's alone.

Where a sighting *matches* (alerts, flagged search results) is each embedder's ``match``
point: the distance at which it accepts as many genuine pairs of the calibration photos
as dlib does at its FMR 1e-4 point (``KEPT_RECALL``, measured on LFW's pairsDevTrain), or
its own FMR 1e-4 point where that is stricter. A better descriptor so keeps the recall
Vigil had and spends its gain on fewer false matches: on real footage (five people of
one office, two pairs of them look-alikes) the false-match rates measured on LFW's
photos of strangers understated how close look-alikes come by ten times and more.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from vigil.errors import ConfigError
from vigil.faces.descriptors import Space, models_of

CALIBRATION_FILE = "calibration.json"
GRID_STEP = 0.005
GRID_END = 2.0  # unit-length descriptors are at most 2 apart
LEGACY_GRID_END = 1.5  # of files written before (dlib's alone)
# The share of pairsDevTrain's genuine pairs (all 2,209 among its images) that dlib's
# descriptor accepts at its FMR 1e-4 point (0.4616): the recall every match point keeps.
KEPT_RECALL = 0.7338
# Half of all impostor pairs are this close in dlib's space (the shipped calibration): a
# space's similarity puts its own median impostor distance there, so that similarities read
# alike whatever the embedder (dlib's is 1 - distance).
DLIB_MEDIAN_IMPOSTOR = 0.81


@dataclass(frozen=True, slots=True)
class Calibration:
    fmr: tuple[float, ...]  # share of impostor pairs at or below GRID_STEP * i
    impostor_pairs: int
    genuine_pairs: int
    fmr_1e3: float  # the distances at which the false-match rate is at most that
    fmr_1e4: float
    eer: float
    source: str  # what it was measured on
    embedder: str = "dlib"  # the space it was measured in (``descriptors.EMBEDDERS``)
    weights: tuple[float, ...] = (1.0,)  # of the embedder's models
    # Search candidates are shown up to this distance (about FMR 1e-2; for dlib, its
    # published 0.6, FMR 8.5e-3 on pairsDevTrain).
    candidate: float | None = None
    # Sightings match at or below this distance; None: ``fmr_1e4`` (dlib's own point).
    match: float | None = None

    def __post_init__(self) -> None:
        if len(self.fmr) != grid().size or self.impostor_pairs < 1:
            raise ValueError("a calibration needs the FMR at every grid distance")
        if any(b < a for a, b in zip(self.fmr, self.fmr[1:], strict=False)):
            raise ValueError("a false-match rate cannot fall as the distance grows")
        self.space  # noqa: B018 - checks the embedder and its weights

    @property
    def space(self) -> Space:
        return Space(self.embedder, tuple(self.weights))

    @property
    def match_threshold(self) -> float:
        return self.fmr_1e4 if self.match is None else min(self.match, self.fmr_1e4)

    @property
    def candidate_threshold(self) -> float:
        return self.candidate if self.candidate is not None else self.threshold_at(1e-2)

    @property
    def similarity_scale(self) -> float:
        """What a distance is multiplied by before ``compare.similarity``."""
        return DLIB_MEDIAN_IMPOSTOR / max(self.threshold_at(0.5), GRID_STEP)

    def threshold_at(self, fmr: float) -> float:
        """The largest grid distance whose false-match rate is at most ``fmr``."""
        index = int(np.searchsorted(np.asarray(self.fmr), fmr, side="right"))
        return float(grid()[max(0, index - 1)])

    @classmethod
    def measure(
        cls,
        impostor: NDArray[np.float64],
        genuine: int,
        points: tuple[float, float, float],
        source: str,
        space: Space | None = None,
        match: float | None = None,
    ) -> Calibration:
        """From the distances of every impostor pair; ``points``: FMR 1e-3, 1e-4, EER."""
        ordered = np.sort(impostor)
        at_or_below = np.searchsorted(ordered, grid(), side="right") / ordered.size
        space = space or Space("dlib", (1.0,))
        return cls(
            tuple(float(f) for f in at_or_below),
            int(ordered.size),
            genuine,
            *points,
            source,
            embedder=space.embedder,
            weights=space.weights,
            match=match,
        )

    def reliable(self, fmr: float) -> bool:
        """Ten impostor pairs below the threshold is the least for a usable estimate."""
        return self.impostor_pairs * fmr >= 10

    def estimated_fmr(self, distance: float, comparisons: int = 1) -> float:
        """The chance that a different person comes this close, when the nearest of
        ``comparisons`` descriptor pairs is taken (a sighting's few faces against a probe's
        photos): at most ``comparisons`` times one pair's rate, the bound used here.
        """
        floor = 1.0 / self.impostor_pairs
        one = max(floor, float(np.interp(distance, grid(), self.fmr)))
        return min(1.0, one * max(1, comparisons))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self) | {"fmr": list(self.fmr), "weights": list(self.weights)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Calibration:
        fmr = list(data["fmr"])
        if len(fmr) == round(LEGACY_GRID_END / GRID_STEP) + 1:  # beyond its end: as at its end
            fmr += [fmr[-1]] * (grid().size - len(fmr))
        return cls(**(data | {"fmr": tuple(fmr), "weights": tuple(data.get("weights", (1.0,)))}))

    def save(self, data_dir: Path) -> None:
        """Into the data directory's file, beside the other embedders' calibrations."""
        path = data_dir / CALIBRATION_FILE
        kept = _read(path.read_text(encoding="utf-8")) if path.is_file() else {}
        kept[self.embedder] = self.to_dict()
        aside = data_dir / (CALIBRATION_FILE + ".new")
        aside.write_text(json.dumps(kept), encoding="utf-8")
        aside.replace(path)


def odds(fmr: float | None) -> str:
    """A false-match rate as people read it: '1 in 12,000'."""
    if fmr is None or fmr <= 0:
        return "not estimated"
    return f"1 in {round(1 / fmr):,}" if fmr < 1 else "1 in 1"


def grid() -> NDArray[np.float64]:
    return np.arange(0.0, GRID_END + GRID_STEP / 2, GRID_STEP)


def _read(text: str) -> dict[str, Any]:
    """Each embedder's calibration in a file (one written for dlib alone: dlib's)."""
    data = json.loads(text)
    if not isinstance(data, dict):
        raise TypeError("not a JSON object")
    return {"dlib": data} if "fmr" in data else data


def load_calibration(data_dir: Path | None, embedder: str = "dlib") -> Calibration:
    """The embedder's calibration: the data directory's own, else the one that ships."""
    models_of(embedder)  # a clear error for an unknown embedder
    own = None if data_dir is None else data_dir / CALIBRATION_FILE
    where = "shipped"
    try:
        if own is not None and own.is_file():
            where = str(own)
            found = _read(own.read_text(encoding="utf-8")).get(embedder)
            if found is not None:
                return Calibration.from_dict(found | {"embedder": embedder})
        where = "shipped"
        text = resources.files("vigil.faces").joinpath(CALIBRATION_FILE).read_text("utf-8")
        return Calibration.from_dict(_read(text)[embedder] | {"embedder": embedder})
    except (OSError, ValueError, TypeError, KeyError) as exc:
        raise ConfigError(
            f"the {embedder} face calibration ({where}) is unreadable: {exc}"
        ) from exc
