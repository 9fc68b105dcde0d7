"""The demo city: simulated cameras registered at sites, and an operator who may watch them."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from vigil.app import Services
from vigil.auth.roles import RequestContext, Role
from vigil.cameras.registry import CameraSpec
from vigil.datadir import write_private
from vigil.store.models import Camera, User

GROUP = "city"
OPERATOR = "operator"
LOGIN_FILE = "demo-login.txt"
# (site, region, latitude, longitude): a small city centre.
SITES = [
    ("central-station", "centre", 48.1402, 11.5600),
    ("market-square", "centre", 48.1374, 11.5755),
    ("city-hall", "centre", 48.1372, 11.5760),
    ("harbour", "east", 48.1300, 11.6000),
    ("university", "north", 48.1508, 11.5803),
    ("old-town", "centre", 48.1351, 11.5720),
    ("stadium", "north", 48.2188, 11.6247),
    ("airport-rail", "east", 48.3538, 11.7861),
]


@dataclass(frozen=True, slots=True)
class DemoLogin:
    username: str
    password: str


def prepare_city(services: Services, ctx: RequestContext, sim_port: int, cameras: int) -> DemoLogin:
    """Register camK at rtsp://127.0.0.1:PORT/camK and an operator; keeps what exists."""
    with services.db.read() as session:
        known = set(session.scalars(select(Camera.name)))
        has_operator = session.scalar(select(User.id).where(User.name == OPERATOR)) is not None
    for k in range(1, cameras + 1):
        name = f"cam{k}"
        if name in known:
            continue
        site, region, lat, lon = SITES[(k - 1) % len(SITES)]
        url = f"rtsp://127.0.0.1:{sim_port}/{name}"
        services.cameras.add(ctx, CameraSpec(name, url, f"{site}-{k}", region, GROUP, lat, lon))
    login_file = services.data_dir / LOGIN_FILE
    if not has_operator:
        password = secrets.token_urlsafe(12)
        services.users.create(ctx, OPERATOR, str(Role.OPERATOR), password)
        services.groups.grant(ctx, GROUP, OPERATOR)
        login_file.unlink(missing_ok=True)
        write_private(login_file, f"{OPERATOR}\n{password}\n")
    return _read_login(login_file)


def _read_login(path: Path) -> DemoLogin:
    try:
        username, password = path.read_text().split()[:2]
    except (OSError, ValueError):
        return DemoLogin(OPERATOR, f"(unknown: {path} is missing; set one with vigil user add)")
    return DemoLogin(username, password)
