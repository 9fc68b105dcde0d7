"""The demo city: simulated cameras registered at sites, and the people who work with them."""

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


# The demo's people: each signs in with the password in LOGIN_FILE, and does what its role
# does (two operators, since an alert needs two people to confirm it).
PEOPLE = (
    (OPERATOR, Role.OPERATOR, "watches the live wall, reviews alerts"),
    ("operator2", Role.OPERATOR, "the second operator an alert's confirmation needs"),
    ("supervisor", Role.SUPERVISOR, "approved the public camera, watchlist entry, case and key"),
    ("investigator", Role.INVESTIGATOR, "works the case, searches by photo"),
    ("auditor", Role.AUDITOR, "reads the audit log, publishes transparency reports"),
    ("dpo", Role.DPO, "answers the requests of people on camera"),
)


@dataclass(frozen=True, slots=True)
class DemoLogin:
    username: str
    password: str
    does: str = ""


def prepare_city(
    services: Services, ctx: RequestContext, sim_port: int, cameras: int
) -> list[DemoLogin]:
    """Register camK at rtsp://127.0.0.1:PORT/camK and the demo's people (those with a
    camera group in it); keeps what exists."""
    with services.db.read() as session:
        known = set(session.scalars(select(Camera.name)))
        users = set(session.scalars(select(User.name)))
    for k in range(1, cameras + 1):
        name = f"cam{k}"
        if name in known:
            continue
        site, region, lat, lon = SITES[(k - 1) % len(SITES)]
        url = f"rtsp://127.0.0.1:{sim_port}/{name}"
        services.cameras.add(ctx, CameraSpec(name, url, f"{site}-{k}", region, GROUP, lat, lon))
    login_file = services.data_dir / LOGIN_FILE
    logins = _read_logins(login_file)
    for name, role, _ in PEOPLE:
        if name in users:
            continue
        password = secrets.token_urlsafe(12)
        services.users.create(ctx, name, str(role), password)
        if role in (Role.OPERATOR, Role.SUPERVISOR, Role.INVESTIGATOR):
            services.groups.grant(ctx, GROUP, name)
        logins[name] = password
    login_file.unlink(missing_ok=True)
    write_private(login_file, "".join(f"{n} {p}\n" for n, p in logins.items()))
    does = {name: what for name, _, what in PEOPLE}
    return [DemoLogin(n, p, does.get(n, "")) for n, p in logins.items()]


def _read_logins(path: Path) -> dict[str, str]:
    """name -> password, as written (a missing or damaged file: none)."""
    try:
        lines = path.read_text().splitlines()
    except OSError:
        return {}
    pairs = (line.split() for line in lines)
    return {pair[0]: pair[1] for pair in pairs if len(pair) == 2}
