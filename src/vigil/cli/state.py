"""Per-invocation CLI state: the data directory, who is acting, and opening services."""

from __future__ import annotations

import os
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

from vigil.app import Services, open_services
from vigil.auth.roles import ANONYMOUS, LOCAL, Principal, RequestContext
from vigil.datadir import is_local_operator
from vigil.errors import InvalidInput, NotAuthenticated, VigilError

TOKEN_ENV = "VIGIL_TOKEN"  # noqa: S105 - the variable's name, not a secret
MAX_SECRET_FILE = 4096


def read_secret_file(path: Path) -> str:
    """A password from a file (or '-' for standard input), without its final newline."""
    try:
        raw = sys.stdin.read(MAX_SECRET_FILE + 1) if str(path) == "-" else path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"cannot read password file {path}: {exc}") from exc
    if len(raw) > MAX_SECRET_FILE:
        raise InvalidInput(f"password file {path} is larger than {MAX_SECRET_FILE} bytes")
    secret = raw.removesuffix("\n").removesuffix("\r")
    if not secret:
        raise InvalidInput(f"password file {path} is empty")
    return secret


@dataclass
class CliState:
    data_dir: Path
    user: str | None = None
    password_file: Path | None = None

    def services(self) -> Services:
        return open_services(self.data_dir)

    def context(self, services: Services) -> RequestContext:
        """Who acts: --user with --password-file, else VIGIL_TOKEN, else the local operator."""
        request_id = uuid.uuid4().hex
        return RequestContext(self._principal(services, request_id), request_id, "cli")

    def _principal(self, services: Services, request_id: str) -> Principal:
        if self.user is not None:
            if self.password_file is None:
                raise InvalidInput("--user needs --password-file")
            password = read_secret_file(self.password_file)
            return services.login.login(self.user, password, client="cli", request_id=request_id)
        token = os.environ.get(TOKEN_ENV)
        if token:
            try:
                return services.tokens.authenticate(token)
            except VigilError as exc:
                ctx = RequestContext(ANONYMOUS, request_id, "cli")
                raise services.access.deny(ctx, "cli.auth", "token", exc) from None
        if is_local_operator(self.data_dir):
            return LOCAL
        raise NotAuthenticated(
            f"this command acts for a person: pass --user NAME --password-file F or set {TOKEN_ENV}"
        )
