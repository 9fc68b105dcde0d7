"""API tokens for machines and scripts: shown once, stored hashed, expiring, revocable.

A person's tokens are made by that person alone; someone else (an admin, the local
operator) may make them only for a service account, whose role reaches no case data,
approval or review (``is_service_role``). Every act done with a token is audited with the
token's id and whoever created it.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from vigil.auth.access import Access
from vigil.auth.names import check_text
from vigil.auth.roles import Permission, Principal, RequestContext, Role, is_service_role
from vigil.auth.secrets import new_secret, secret_hash
from vigil.auth.users import find_user
from vigil.config import AuthConfig
from vigil.errors import Conflict, Forbidden, InvalidInput, NotAuthenticated, NotFound
from vigil.store.models import ApiToken, User

TOKEN_PREFIX = "vigil"  # noqa: S105 - a prefix, not a secret
MAX_LABEL_CHARS = 128
MAX_TOKEN_DAYS = 365
# Writing last_used_at on every request would turn every read into a write.
LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class TokenInfo:
    id: int
    user: str
    label: str
    created_by: str
    created_at: datetime
    expires_at: datetime
    revoked: bool
    last_used_at: datetime | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "user": self.user,
            "label": self.label,
            "created_by": self.created_by,
            "created_at": self.created_at.isoformat(),
            "expires_at": self.expires_at.isoformat(),
            "revoked": self.revoked,
            "last_used_at": None if self.last_used_at is None else self.last_used_at.isoformat(),
        }


def _info(token: ApiToken, user: str) -> TokenInfo:
    return TokenInfo(
        id=token.id,
        user=user,
        label=token.label,
        created_by=token.created_by,
        created_at=token.created_at,
        expires_at=token.expires_at,
        revoked=token.revoked_at is not None,
        last_used_at=token.last_used_at,
    )


class TokenService:
    def __init__(self, access: Access, config: AuthConfig) -> None:
        self.access = access
        self.db = access.db
        self.config = config

    def _manage(
        self, ctx: RequestContext, owner: str, action: str, target: str
    ) -> AbstractContextManager[None]:
        """Your own tokens are yours to manage; others' need ``tokens.manage_any``."""
        needs = None if owner == ctx.principal.name else Permission.TOKENS_MANAGE_ANY
        return self.access.attempt(ctx, needs, action, target)

    def create(
        self, ctx: RequestContext, user: str, *, expires_days: int | None = None, label: str = ""
    ) -> tuple[TokenInfo, str]:
        """A new token for ``user``; the secret is returned here and never again."""
        target = f"user:{user}"
        with self._manage(ctx, user, "token.create", target):
            days = self.config.token_default_days if expires_days is None else expires_days
            if not 1 <= days <= MAX_TOKEN_DAYS:
                raise InvalidInput(
                    f"expiry must be between 1 and {MAX_TOKEN_DAYS} days",
                    field="expires_days",
                )
            check_text(label, what="label", max_chars=MAX_LABEL_CHARS)
            secret = new_secret(TOKEN_PREFIX)
            now = datetime.now(UTC)
            with self.db.write() as session:
                owner = find_user(session, user)
                if owner.disabled_at is not None:
                    raise Conflict(f"user {user!r} is disabled", user=user)
                if user != ctx.principal.name and not is_service_role(Role(owner.role)):
                    raise Forbidden(
                        f"only {user} may create tokens for {user}: a {owner.role} acts in "
                        "person (tokens for others are for service accounts only)",
                        user=user,
                    )
                token = ApiToken(
                    user_id=owner.id,
                    secret_hash=secret_hash(secret),
                    label=label,
                    created_by=ctx.principal.name,
                    created_at=now,
                    expires_at=now + timedelta(days=days),
                )
                session.add(token)
                session.flush()
                details = {"token_id": token.id, "expires_at": token.expires_at.isoformat()}
                self.access.record(session, ctx, "token.create", target, details)
                return _info(token, user), secret

    def list(self, ctx: RequestContext, user: str | None = None) -> list[TokenInfo]:
        """Tokens of ``user`` (default: the caller's own; all users' when ``user`` is '*')."""
        owner = user or ctx.principal.name
        target = "tokens" if owner == "*" else f"user:{owner}"
        query = select(ApiToken, User.name).join(User).order_by(ApiToken.id)
        if owner != "*":
            query = query.where(User.name == owner)
        needs = None if owner == ctx.principal.name else Permission.TOKENS_MANAGE_ANY
        with self.access.reading(ctx, needs, "token.list", target) as (session, details):
            found = [_info(token, name) for token, name in session.execute(query)]
            details["count"] = len(found)
        return found

    def revoke(self, ctx: RequestContext, token_id: int) -> TokenInfo:
        target = f"token:{token_id}"
        with self.db.read() as session:
            owner = session.scalar(select(User.name).join(ApiToken).where(ApiToken.id == token_id))
        with self._manage(ctx, owner or "", "token.revoke", target):
            if owner is None:
                raise NotFound(f"no API token with id {token_id}", token_id=token_id)
            with self.db.write() as session:
                token = session.get_one(ApiToken, token_id)
                if token.revoked_at is None:
                    token.revoked_at = datetime.now(UTC)
                self.access.record(session, ctx, "token.revoke", target, {"user": owner})
                return _info(token, owner)

    def authenticate(self, secret: str) -> Principal:
        """The principal a bearer token stands for, or ``NotAuthenticated``."""
        now = datetime.now(UTC)
        with self.db.read() as session:
            row = session.execute(
                select(ApiToken, User).join(User).where(ApiToken.secret_hash == secret_hash(secret))
            ).first()
        if row is None:
            raise NotAuthenticated("unknown API token")
        token, user = row
        if token.revoked_at is not None:
            raise NotAuthenticated("API token was revoked")
        if token.expires_at <= now:
            raise NotAuthenticated("API token has expired")
        if user.disabled_at is not None:
            raise NotAuthenticated("the token's user is disabled")
        if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
            with self.db.write() as session:
                session.get_one(ApiToken, token.id).last_used_at = now
        return Principal(
            name=user.name,
            kind="user",
            role=Role(user.role),
            user_id=user.id,
            token_id=token.id,
            token_creator=token.created_by,
        )
