"""What the simulated cameras show: a seeded schedule of people walking through scenes.

Everything is a function of (seed, seconds since the start), so every client of a stream
sees the same scene and the ground truth can be written before anyone watches.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from vigil.errors import InvalidInput

PHOTO_SUFFIXES = (".jpg", ".jpeg", ".png")
# Each schedule window covers this many seconds; later windows are made when needed.
WINDOW_S = 600.0

Frame = NDArray[np.uint8]


@dataclass(frozen=True, slots=True)
class Person:
    name: str
    photo: Path | None  # None: a faceless walker (no photo folder given)


@dataclass(frozen=True, slots=True)
class Appearance:
    """One person crossing one camera's view; start/end bound the time the face is in view."""

    person: Person
    camera: str
    enter_s: float  # seconds since the simulation started
    exit_s: float
    lane: float  # vertical position, 0 (top) .. 1 (bottom)
    rightward: bool

    def position(self, t: float, width: int, sprite_w: int) -> int:
        """Left edge of the sprite at time t: it walks from fully outside to fully outside."""
        progress = (t - self.enter_s) / (self.exit_s - self.enter_s)
        travel = width + sprite_w
        x = -sprite_w + progress * travel
        return int(x if self.rightward else width - sprite_w - x)

    def in_view(self, width: int, sprite_w: int) -> tuple[float, float]:
        """The times (seconds since start) when the whole sprite is inside the frame."""
        travel = width + sprite_w
        span = self.exit_s - self.enter_s
        return (
            self.enter_s + span * sprite_w / travel,
            self.enter_s + span * width / travel,
        )


def load_people(folder: Path | None, limit: int | None, rng: random.Random) -> list[Person]:
    """People of an LFW-layout folder (one sub-folder per person); each uses its first photo.

    Only the first photo is shown, so a person's other photos can probe searches fairly.
    """
    if folder is None:
        return [Person(name=f"walker-{i + 1:03d}", photo=None) for i in range(limit or 50)]
    if not folder.is_dir():
        raise InvalidInput(f"{folder} is not a folder of people (LFW layout: one folder each)")
    people = []
    for entry in sorted(p for p in folder.iterdir() if p.is_dir()):
        photos = sorted(p for p in entry.iterdir() if p.suffix.lower() in PHOTO_SUFFIXES)
        if photos:
            people.append(Person(name=entry.name, photo=photos[0]))
    if not people:
        raise InvalidInput(f"{folder} holds no person folders with .jpg or .png photos")
    if limit is not None and limit < len(people):
        people = rng.sample(people, limit)
    return people


@dataclass
class Scenario:
    cameras: list[str]
    people: list[Person]
    started_at: datetime
    seed: int = 0
    width: int = 640
    height: int = 360
    per_minute: float = 6.0  # people crossing each camera per minute
    walk_s: tuple[float, float] = (6.0, 10.0)
    # Sensor noise (0-255 amplitude): makes the encoder spend bits as a real camera does.
    noise: int = 0
    _windows: int = 0
    _appearances: list[Appearance] = field(default_factory=list)

    @property
    def sprite_size(self) -> tuple[int, int]:
        """(width, height) of a walker: a face photo on a body."""
        face = max(48, self.height * 3 // 10)
        return face, face * 2

    def appearances_until(self, t: float) -> list[Appearance]:
        while self._windows * WINDOW_S < t + WINDOW_S:
            self._schedule_window(self._windows)
            self._windows += 1
        return self._appearances

    def _schedule_window(self, index: int) -> None:
        for camera in self.cameras:
            rng = random.Random(f"{self.seed}/{camera}/{index}")
            t = index * WINDOW_S
            # The first person comes soon after start, so short runs see someone.
            t += rng.uniform(1.0, 3.0) if index == 0 else rng.expovariate(self.per_minute / 60)
            while t < (index + 1) * WINDOW_S:
                walk = rng.uniform(*self.walk_s)
                self._appearances.append(
                    Appearance(
                        person=rng.choice(self.people),
                        camera=camera,
                        enter_s=t,
                        exit_s=t + walk,
                        lane=rng.uniform(0.05, 0.95),
                        rightward=rng.random() < 0.5,
                    )
                )
                t += rng.expovariate(self.per_minute / 60)

    def truth(self, until_s: float) -> dict[str, Any]:
        """Ground truth: who was fully in view of which camera, and when (ISO 8601, UTC:
        ``start``, ``end``), and when any of them was in the picture at all (``enters``,
        ``leaves``: a face cut by the frame's edge may still be found then)."""
        sprite_w = self.sprite_size[0]
        rows = []
        for a in self.appearances_until(until_s):
            if a.enter_s >= until_s:
                continue
            start, end = a.in_view(self.width, sprite_w)
            rows.append(
                {
                    "person": a.person.name,
                    "photo": None if a.person.photo is None else str(a.person.photo),
                    "camera": a.camera,
                    "start": _iso(self.started_at + timedelta(seconds=start)),
                    "end": _iso(self.started_at + timedelta(seconds=end)),
                    "enters": _iso(self.started_at + timedelta(seconds=a.enter_s)),
                    "leaves": _iso(self.started_at + timedelta(seconds=a.exit_s)),
                }
            )
        rows.sort(key=lambda r: (r["start"], r["camera"]))
        return {
            "started_at": _iso(self.started_at),
            "until": _iso(self.started_at + timedelta(seconds=until_s)),
            "seed": self.seed,
            "cameras": self.cameras,
            "appearances": rows,
        }


def write_truth(path: Path, truth: dict[str, Any]) -> None:
    """Replace the truth file atomically, so a reader never sees half of it."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(truth, indent=2) + "\n")
    tmp.replace(path)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


class Renderer:
    """Draws one camera's frames; backgrounds and sprites are made once and reused."""

    def __init__(self, scenario: Scenario, camera: str) -> None:
        self.scenario = scenario
        self.camera = camera
        background = _background(scenario.width, scenario.height, f"{scenario.seed}/{camera}")
        # A few noisy variants, cycled: noise at the cost of a copy, not a random draw.
        self.backgrounds = _noisy(background, scenario.noise, f"{scenario.seed}/{camera}")
        self._sprites: dict[str, Frame] = {}
        self._frames = 0

    def frame(self, t: float) -> Frame:
        """The RGB frame at t seconds since the start."""
        s = self.scenario
        out = self.backgrounds[self._frames % len(self.backgrounds)].copy()
        self._frames += 1
        sprite_w, sprite_h = s.sprite_size
        for a in s.appearances_until(t):
            if a.camera != self.camera or not a.enter_s <= t < a.exit_s:
                continue
            x = a.position(t, s.width, sprite_w)
            y = int(a.lane * (s.height - sprite_h)) if s.height > sprite_h else 0
            _paste(out, self._sprite(a.person), x, y)
        # A moving bar at the bottom: every frame differs, like sensor noise and traffic.
        bar = int((t * 40) % s.width)
        out[-4:, bar : bar + 20] = 255
        return out

    def _sprite(self, person: Person) -> Frame:
        sprite = self._sprites.get(person.name)
        if sprite is None:
            sprite = _make_sprite(person, *self.scenario.sprite_size)
            self._sprites[person.name] = sprite
        return sprite


def _background(width: int, height: int, seed: str) -> Frame:
    rng = random.Random(seed)
    y = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None]
    top = np.array([rng.randint(90, 160), rng.randint(120, 180), rng.randint(160, 230)])
    ground = np.array([rng.randint(60, 110), rng.randint(60, 110), rng.randint(50, 90)])
    horizon = 0.45
    sky = top * (1 - y / horizon)[..., None] * 0.5 + top * 0.5
    image = np.where((y < horizon)[..., None], sky, ground).repeat(width, axis=1)
    for _ in range(rng.randint(4, 9)):  # buildings
        w = rng.randint(width // 12, width // 5)
        h = rng.randint(height // 6, int(height * horizon))
        x = rng.randint(0, width - w)
        colour = [rng.randint(70, 200) for _ in range(3)]
        image[int(height * horizon) - h : int(height * horizon), x : x + w] = colour
    return np.clip(image, 0, 255).astype(np.uint8)


def _noisy(background: Frame, amplitude: int, seed: str) -> list[Frame]:
    if amplitude <= 0:
        return [background]
    rng = np.random.default_rng(sum(seed.encode()))
    variants = []
    for _ in range(8):
        noise = rng.integers(-amplitude, amplitude + 1, background.shape, dtype=np.int16)
        variants.append(np.clip(background + noise, 0, 255).astype(np.uint8))
    return variants


def _make_sprite(person: Person, width: int, height: int) -> Frame:
    sprite = np.zeros((height, width, 3), np.uint8)
    digest = sum(person.name.encode())
    sprite[width:] = [(digest * 37) % 200 + 30, (digest * 91) % 200 + 30, (digest * 53) % 200 + 30]
    if person.photo is None:
        face = np.full((width, width, 3), (224, 172, 140), np.uint8)
    else:
        with Image.open(person.photo) as image:
            rgb = image.convert("RGB")
            # LFW photos centre the face in the middle ~45%; keep some head and shoulders.
            side = min(rgb.size)
            margin = side * 0.2
            left = (rgb.size[0] - side) / 2 + margin
            top = (rgb.size[1] - side) / 2 + margin
            box = (left, top, left + side - 2 * margin, top + side - 2 * margin)
            face = np.asarray(rgb.resize((width, width), Image.Resampling.BILINEAR, box=box))
    sprite[:width] = face
    return sprite


def _paste(frame: Frame, sprite: Frame, x: int, y: int) -> None:
    h, w = sprite.shape[:2]
    left, right = max(x, 0), min(x + w, frame.shape[1])
    if left >= right:
        return
    frame[y : y + h, left:right] = sprite[:, left - x : right - x]
