"""Password login with throttling: failures are counted per name and per client, in the store.

An attempt is counted as a failure *before* its password is checked (in a transaction that
runs alone for that name and client), and the count is taken back only when the password
was right; so parallel attempts can never make more password checks than the limit.

Failures lock a name for new clients only: a client its user signed in from within
``KNOWN_FOR`` keeps its own allowance (per name and client), so nobody can lock a person
out from elsewhere by guessing.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select

from vigil.audit.entry import Outcome, encode_text
from vigil.auth.access import Access
from vigil.auth.passwords import Passwords
from vigil.auth.roles import ANONYMOUS, Principal, RequestContext, Role
from vigil.config import AuthConfig
from vigil.errors import NotAuthenticated, TooManyAttempts
from vigil.store.models import LoginClient, LoginFailure, User

# One client may fail this many times more than one account name before it is throttled.
CLIENT_FACTOR = 4
KNOWN_FOR = timedelta(days=30)
MAX_USERNAME_CHARS = 128


class PasswordLogin:
    def __init__(self, access: Access, passwords: Passwords, config: AuthConfig) -> None:
        self.access = access
        self.db = access.db
        self.passwords = passwords
        self.config = config

    def _reserve(self, username: str, client: str, now: datetime) -> int:
        """Seconds until the next attempt is allowed; or 0, having recorded this attempt's
        failure in advance."""
        window = timedelta(seconds=self.config.login_window_s)
        most = self.config.login_max_failures
        with self.db.write() as session:
            self.db.serialise(session, f"login-name:{username}", f"login-client:{client}")
            known = session.scalar(
                select(LoginClient.client).where(
                    LoginClient.username == username,
                    LoginClient.client == client,
                    LoginClient.last_success_at > now - KNOWN_FOR,
                )
            )
            name = LoginFailure.username == username
            limits = (
                ((name & (LoginFailure.client == client)) if known else name, most),
                (LoginFailure.client == client, most * CLIENT_FACTOR),
            )
            for condition, limit in limits:
                count, oldest = session.execute(
                    select(func.count(), func.min(LoginFailure.at)).where(
                        condition, LoginFailure.at > now - window
                    )
                ).one()
                if count >= limit:
                    return max(1, int((oldest + window - now).total_seconds()) + 1)
            session.add(LoginFailure(username=username, client=client, at=now))
            return 0

    def login(self, username: str, password: str, *, client: str, request_id: str) -> Principal:
        """Check a name and password; every attempt, good or bad, is audited."""
        # Names never hold control characters; encoding keeps hostile input out of the store.
        name = encode_text(username)[:MAX_USERNAME_CHARS]
        ctx = RequestContext(ANONYMOUS, request_id, encode_text(client)[:64])
        target = f"user:{name}"
        now = datetime.now(UTC)
        retry_after = self._reserve(name, ctx.client, now)
        if retry_after:
            raise self.access.deny(
                ctx,
                "auth.login",
                target,
                TooManyAttempts(
                    f"too many failed logins; try again in {retry_after} s",
                    retry_after_s=retry_after,
                ),
            )
        with self.db.read() as session:
            user = session.scalar(select(User).where(User.name == name))
        good = self.passwords.verify(None if user is None else user.password_hash, password)
        if user is None or not good or user.disabled_at is not None:
            with self.db.write() as session:  # the failure was recorded in advance
                self.access.record(
                    session,
                    ctx,
                    "auth.login",
                    target,
                    {"reason": "bad_credentials"},
                    Outcome.DENIED,
                )
            raise NotAuthenticated("invalid user name or password")
        principal = Principal(name=user.name, kind="user", role=Role(user.role), user_id=user.id)
        with self.db.write() as session:
            self.db.serialise(session, f"login-name:{name}", f"login-client:{ctx.client}")
            session.execute(
                delete(LoginFailure).where(
                    LoginFailure.username == name, LoginFailure.client == ctx.client
                )
            )
            known = session.get(LoginClient, (name, ctx.client))
            if known is None:
                session.add(LoginClient(username=name, client=ctx.client, last_success_at=now))
            else:
                known.last_success_at = now
            self.access.record(
                session, RequestContext(principal, request_id, ctx.client), "auth.login", target
            )
        return principal
