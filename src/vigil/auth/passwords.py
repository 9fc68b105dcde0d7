"""Password hashing (argon2id) and the password policy: long enough, and hard to guess
as zxcvbn estimates it (dictionary words, names, keyboard runs, repeats, the user's name)."""

from __future__ import annotations

from functools import cached_property

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn import zxcvbn

from vigil.errors import InvalidInput

MIN_PASSWORD_CHARS = 12
MAX_PASSWORD_CHARS = 1024
# zxcvbn's scale: 3 is "safely unguessable" (about 10^10 guesses); it reads 72 characters.
MIN_STRENGTH = 3
STRENGTH_CHARS = 72


class Passwords:
    def __init__(self, memory_kib: int, passes: int) -> None:
        self._hasher = PasswordHasher(time_cost=passes, memory_cost=memory_kib)

    @cached_property
    def _dummy(self) -> str:
        """Verified against when the user does not exist, so timing does not reveal names."""
        return self._hasher.hash("vigil-dummy-password")

    def check_policy(self, password: str, username: str) -> None:
        if len(password) < MIN_PASSWORD_CHARS:
            raise InvalidInput(f"password must be at least {MIN_PASSWORD_CHARS} characters")
        if len(password) > MAX_PASSWORD_CHARS:
            raise InvalidInput(f"password must be at most {MAX_PASSWORD_CHARS} characters")
        strength = zxcvbn(password[:STRENGTH_CHARS], user_inputs=[username, "vigil"])
        if strength["score"] < MIN_STRENGTH:
            feedback = strength["feedback"]
            hints = [feedback["warning"], *feedback["suggestions"]]
            why = " ".join(h.rstrip(".") + "." for h in hints if h)
            raise InvalidInput(
                f"password is too easy to guess{': ' + why if why else ''} Use a few uncommon "
                "words or a longer phrase.",
                field="password",
            )

    def hash(self, password: str, username: str) -> str:
        self.check_policy(password, username)
        return self._hasher.hash(password)

    def verify(self, stored_hash: str | None, password: str) -> bool:
        if len(password) > MAX_PASSWORD_CHARS:
            return False
        try:
            return self._hasher.verify(stored_hash or self._dummy, password) and bool(stored_hash)
        except (VerificationError, InvalidHashError):
            return False
