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

CALIBRATION_FILE = "calibration.json"
GRID_STEP = 0.005
GRID_END = 1.5


@dataclass(frozen=True, slots=True)
class Calibration:
    fmr: tuple[float, ...]  # share of impostor pairs at or below GRID_STEP * i
    impostor_pairs: int
    genuine_pairs: int
    fmr_1e3: float  # the distances at which the false-match rate is at most that
    fmr_1e4: float
    eer: float
    source: str  # what it was measured on

    def __post_init__(self) -> None:
        if len(self.fmr) != grid().size or self.impostor_pairs < 1:
            raise ValueError("a calibration needs the FMR at every grid distance")
        if any(b < a for a, b in zip(self.fmr, self.fmr[1:], strict=False)):
            raise ValueError("a false-match rate cannot fall as the distance grows")

    @classmethod
    def measure(
        cls,
        impostor: NDArray[np.float64],
        genuine: int,
        points: tuple[float, float, float],
        source: str,
    ) -> Calibration:
        """From the distances of every impostor pair; ``points``: FMR 1e-3, 1e-4, EER."""
        ordered = np.sort(impostor)
        at_or_below = np.searchsorted(ordered, grid(), side="right") / ordered.size
        return cls(
            tuple(float(f) for f in at_or_below),
            int(ordered.size),
            genuine,
            *points,
            source,
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
        return asdict(self) | {"fmr": list(self.fmr)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Calibration:
        return cls(**(data | {"fmr": tuple(data["fmr"])}))

    def save(self, data_dir: Path) -> None:
        aside = data_dir / (CALIBRATION_FILE + ".new")
        aside.write_text(json.dumps(self.to_dict()), encoding="utf-8")
        aside.replace(data_dir / CALIBRATION_FILE)


def odds(fmr: float | None) -> str:
    """A false-match rate as people read it: '1 in 12,000'."""
    if fmr is None or fmr <= 0:
        return "not estimated"
    return f"1 in {round(1 / fmr):,}" if fmr < 1 else "1 in 1"


def grid() -> NDArray[np.float64]:
    return np.arange(0.0, GRID_END + GRID_STEP / 2, GRID_STEP)


def load_calibration(data_dir: Path | None) -> Calibration:
    """The data directory's own calibration, else the one that ships with Vigil."""
    own = None if data_dir is None else data_dir / CALIBRATION_FILE
    try:
        if own is not None and own.is_file():
            text = own.read_text(encoding="utf-8")
        else:
            text = resources.files("vigil.faces").joinpath(CALIBRATION_FILE).read_text("utf-8")
        return Calibration.from_dict(json.loads(text))
    except (OSError, ValueError, TypeError, KeyError) as exc:
        raise ConfigError(f"the face calibration {own or 'shipped'} is unreadable: {exc}") from exc
