"""Password hashing (argon2id) and the password policy."""

from __future__ import annotations

from functools import cached_property

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from vigil.errors import InvalidInput

MIN_PASSWORD_CHARS = 12
MAX_PASSWORD_CHARS = 1024


class Passwords:
    def __init__(self) -> None:
        self._hasher = PasswordHasher()

    @cached_property
    def _dummy(self) -> str:
        """Verified against when the user does not exist, so timing does not reveal names."""
        return self._hasher.hash("vigil-dummy-password")

    def check_policy(self, password: str) -> None:
        if len(password) < MIN_PASSWORD_CHARS:
            raise InvalidInput(f"password must be at least {MIN_PASSWORD_CHARS} characters")
        if len(password) > MAX_PASSWORD_CHARS:
            raise InvalidInput(f"password must be at most {MAX_PASSWORD_CHARS} characters")

    def hash(self, password: str) -> str:
        self.check_policy(password)
        return self._hasher.hash(password)

    def verify(self, stored_hash: str | None, password: str) -> bool:
        if len(password) > MAX_PASSWORD_CHARS:
            return False
        try:
            return self._hasher.verify(stored_hash or self._dummy, password) and bool(stored_hash)
        except (VerificationError, InvalidHashError):
            return False
