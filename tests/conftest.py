"""Shared fixtures: real SQLite files and real PostgreSQL schemas, real services on them."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from matplotlib import cbook
from sqlalchemy import create_engine
from sqlalchemy.exc import OperationalError

from tests.schemas import fresh_schema
from vigil.app import Services, build_services
from vigil.audit.signing import SigningKey
from vigil.auth.roles import LOCAL, Principal, RequestContext, Role
from vigil.auth.users import find_user
from vigil.config import Config, parse_config, render_config
from vigil.datadir import initialise
from vigil.store import migrate
from vigil.store.db import Database

pytest_plugins = ["tests.disks"]

PG_URL = os.environ.get(
    "VIGIL_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="session")
def portrait_path() -> Path:
    """One real face: matplotlib's bundled portrait of Grace Hopper (see tests/faces)."""
    return Path(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))


@pytest.fixture(scope="session")
def portrait(portrait_path: Path) -> bytes:
    return portrait_path.read_bytes()


DATASETS = Path(
    os.environ.get("VIGIL_DATASETS", Path(__file__).resolve().parents[2] / "shared" / "datasets")
)


@pytest.fixture(scope="session")
def datasets() -> Path:
    """The real faces and footage of ../shared/datasets (its README says what is where)."""
    if not (DATASETS / "README.md").is_file():
        if os.environ.get("CI"):
            pytest.fail(f"the test data {DATASETS} is required in CI and missing")
        pytest.skip(f"the test data {DATASETS} is missing here")
    return DATASETS


def _postgres_available() -> str | None:
    """None when the server answers; else why not. CI must have it: there a miss fails."""
    engine = create_engine(PG_URL)
    try:
        with engine.connect():
            return None
    except OperationalError as exc:
        return str(exc).splitlines()[0]
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def postgres_server() -> str:
    problem = _postgres_available()
    if problem is not None:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL at {PG_URL} is required in CI: {problem}")
        pytest.skip(f"PostgreSQL at {PG_URL} is not reachable here: {problem}")
    return PG_URL


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A URL whose connections see only a fresh, empty schema, dropped afterwards."""
    with fresh_schema(postgres_server, "vigil_test") as url:
        yield url


# For tests whose subject does not depend on the database (streams, subprocesses): they
# run on SQLite alone, which keeps the suite's time for what does.
SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'vigil.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


def config_for(database_url: str, **audit: float) -> Config:
    return parse_config(
        {
            "database": {"url": database_url},
            # Sign a head at every append so tamper tests can name entries exactly.
            "audit": {"head_interval_s": audit.get("head_interval_s", 0.0)},
            # OWASP's least argon2id cost: a seventh of the default's time, for the
            # thousands of users the tests create; the hashing itself is the same.
            "auth": {"login_max_failures": 3, "password_memory_kib": 19456, "password_passes": 2},
        }
    )


@dataclass
class Env:
    """An initialised data directory on one backend, with services opened on it."""

    data_dir: Path
    services: Services
    admin_password: str

    def local(self) -> RequestContext:
        return RequestContext(LOCAL, uuid.uuid4().hex)

    def add_user(self, name: str, role: Role, groups: tuple[str, ...] = ()) -> RequestContext:
        """A new user, member of those camera groups, acting in person."""
        self.services.users.create(self.local(), name, str(role), PASSWORD)
        for group in groups:
            self.services.groups.grant(self.local(), group, name)
        return self.acting(name)

    def acting(self, name: str) -> RequestContext:
        """An existing user acting in person (as after signing in)."""
        with self.services.db.read() as session:
            user = find_user(session, name)
            principal = Principal(name=name, kind="user", role=Role(user.role), user_id=user.id)
        return RequestContext(principal, uuid.uuid4().hex, "test")

    def own_token(self, name: str) -> str:
        """A token that the existing user ``name`` made for themself."""
        return self.services.tokens.create(self.acting(name), name)[1]


def make_env(data_dir: Path, database_url: str) -> Env:
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "vigil.toml").write_text(render_config(config_for(database_url)))
    result = initialise(data_dir, admin_password=PASSWORD, request_id="setup")
    assert result.created_admin
    config = config_for(database_url)
    db = Database(database_url)
    migrate.check(db)
    services = build_services(data_dir, config, db, SigningKey.load(data_dir))
    return Env(data_dir=data_dir, services=services, admin_password=PASSWORD)


@pytest.fixture
def env(tmp_path: Path, database_url: str) -> Iterator[Env]:
    environment = make_env(tmp_path / "data", database_url)
    yield environment
    environment.services.close()


BROKER = ("127.0.0.1", 1883)


@pytest.fixture
def broker() -> tuple[str, int]:
    with socket.socket() as sock:
        if sock.connect_ex(BROKER) == 0:
            return BROKER
    if os.environ.get("CI"):
        pytest.fail("CI needs the MQTT broker at 127.0.0.1:1883")
    pytest.skip("no MQTT broker at 127.0.0.1:1883")
