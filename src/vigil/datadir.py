"""The data directory: ``vigil init`` lays it out; its owner is the local operator."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vigil.app import build_services, open_database
from vigil.audit.signing import PRIVATE_KEY_FILE, PUBLIC_KEY_FILE, SigningKey
from vigil.auth.roles import LOCAL, RequestContext
from vigil.config import CONFIG_FILE, Config, load_config, render_config
from vigil.errors import ConfigError
from vigil.store import migrate
from vigil.store.models import AuditHeadRow


@dataclass(frozen=True, slots=True)
class InitResult:
    data_dir: Path
    created_config: bool
    created_key: bool
    created_admin: bool
    generated_password: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "data_dir": str(self.data_dir),
            "config": str(self.data_dir / CONFIG_FILE),
            "public_key": str(self.data_dir / PUBLIC_KEY_FILE),
            "created_config": self.created_config,
            "created_key": self.created_key,
            "created_admin": self.created_admin,
            "admin_password": self.generated_password,
        }


def is_local_operator(data_dir: Path) -> bool:
    """True when the current OS user owns the data directory."""
    try:
        return data_dir.stat().st_uid == os.geteuid()
    except FileNotFoundError:
        return False


PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600
# Files made by this process (the database's -wal and -shm, segments, logs) are private too.
PRIVATE_UMASK = 0o077


def make_private(*roots: Path) -> int:
    """Make every directory under the roots 0700 and every file 0600, whatever they were:
    password hashes, the audit log, face crops, descriptors and recordings are for Vigil's
    owner alone. Links are not followed. Returns how many modes were changed."""
    changed = 0

    def private(path: Path, mode: int) -> None:
        nonlocal changed
        if path.is_symlink():
            return
        if path.stat().st_mode & 0o777 != mode:
            path.chmod(mode)
            changed += 1

    for root in roots:
        if not root.exists():
            continue
        private(root, PRIVATE_DIR)
        for folder, dirs, files in os.walk(root):
            for name in dirs:
                private(Path(folder) / name, PRIVATE_DIR)
            for name in files:
                private(Path(folder) / name, PRIVATE_FILE)
    return changed


def write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)


def initialise(data_dir: Path, *, admin_password: str | None, request_id: str) -> InitResult:
    """Create whatever is missing; never overwrites a config, a key, data or an account."""
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    config_path = data_dir / CONFIG_FILE
    created_config = not config_path.exists()
    if created_config:
        write_private(config_path, render_config(Config()))
    config = load_config(data_dir)
    config.import_root(data_dir).mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    db = open_database(config, data_dir)
    try:
        migrate.upgrade(db)
        created_key = not (data_dir / PRIVATE_KEY_FILE).exists()
        if created_key:
            with db.read() as session:
                if session.query(AuditHeadRow.id).first() is not None:
                    raise ConfigError(
                        f"{data_dir / PRIVATE_KEY_FILE} is missing but the audit log has heads "
                        "signed with it; restore the key instead of creating a new one"
                    )
            key = SigningKey.create(data_dir)
        else:
            key = SigningKey.load(data_dir)
        services = build_services(data_dir, config, db, key)
        password = admin_password or secrets.token_urlsafe(18)
        ctx = RequestContext(LOCAL, request_id)
        with db.write() as session:
            created_admin = services.users.bootstrap_admin(session, ctx, password)
            services.access.record(
                session,
                ctx,
                "system.init",
                f"datadir:{data_dir.resolve()}",
                {"created_config": created_config, "created_key": created_key},
            )
            services.audit.sign_head(session)
    finally:
        db.dispose()
    make_private(data_dir, config.media_root(data_dir))
    generated = password if created_admin and admin_password is None else None
    return InitResult(data_dir, created_config, created_key, created_admin, generated)
