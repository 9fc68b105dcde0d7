"""Encryption at rest for stream credentials, with a key kept in the data directory."""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from vigil.errors import ConfigError

KEY_FILE = "secrets.key"


class Vault:
    def __init__(self, key: bytes) -> None:
        self._fernet = Fernet(key)

    @classmethod
    def open(cls, data_dir: Path) -> Vault:
        """The data directory's key, created (mode 0600) the first time it is needed."""
        path = data_dir / KEY_FILE
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        except OSError as exc:
            raise ConfigError(f"cannot create the secrets key {path}: {exc.strerror}") from exc
        else:
            with os.fdopen(fd, "wb") as handle:
                handle.write(Fernet.generate_key())
        try:
            return cls(path.read_bytes().strip())
        except (OSError, ValueError) as exc:
            raise ConfigError(f"secrets key {path} is unreadable: {exc}") from exc

    def seal(self, secret: str) -> bytes:
        return self._fernet.encrypt(secret.encode("utf-8"))

    def unseal(self, token: bytes) -> str:
        try:
            return self._fernet.decrypt(token).decode("utf-8")
        except InvalidToken as exc:
            raise ConfigError(
                "stored credentials do not open with this data directory's key"
            ) from exc
