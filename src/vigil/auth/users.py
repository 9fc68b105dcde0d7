"""User accounts: create, list, show, disable, and the first admin made by ``vigil init``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from vigil.auth.access import Access
from vigil.auth.names import check_name
from vigil.auth.passwords import Passwords
from vigil.auth.roles import Permission, RequestContext, Role
from vigil.errors import Conflict, InvalidInput, NotFound
from vigil.store.models import ApiToken, User, WebSession


@dataclass(frozen=True, slots=True)
class UserInfo:
    id: int
    name: str
    role: Role
    created_at: datetime
    disabled: bool

    @classmethod
    def of(cls, user: User) -> UserInfo:
        return cls(
            id=user.id,
            name=user.name,
            role=Role(user.role),
            created_at=user.created_at,
            disabled=user.disabled_at is not None,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "role": str(self.role),
            "created_at": self.created_at.isoformat(),
            "disabled": self.disabled,
        }


def parse_role(value: str) -> Role:
    try:
        return Role(value)
    except ValueError:
        roles = ", ".join(r.value for r in Role)
        raise InvalidInput(f"unknown role {value!r}; roles are {roles}", field="role") from None


def find_user(session: Session, name: str) -> User:
    user = session.scalar(select(User).where(User.name == name))
    if user is None:
        raise NotFound(f"no user named {name!r}", user=name)
    return user


class UserService:
    def __init__(self, access: Access, passwords: Passwords) -> None:
        self.access = access
        self.db = access.db
        self.passwords = passwords

    def create(self, ctx: RequestContext, name: str, role: str, password: str) -> UserInfo:
        target = f"user:{name}"
        with self.access.attempt(ctx, Permission.USERS_MANAGE, "user.create", target):
            check_name(name, what="user name")
            parsed = parse_role(role)
            password_hash = self.passwords.hash(password, name)
            with self.db.write() as session:
                if session.scalar(select(User.id).where(User.name == name)) is not None:
                    raise Conflict(f"a user named {name!r} exists already", user=name)
                user = User(
                    name=name,
                    role=str(parsed),
                    password_hash=password_hash,
                    created_at=datetime.now(UTC),
                )
                session.add(user)
                session.flush()
                self.access.record(session, ctx, "user.create", target, {"role": str(parsed)})
                return UserInfo.of(user)

    def list(self, ctx: RequestContext) -> list[UserInfo]:
        reading = self.access.reading(ctx, Permission.USERS_READ, "user.list", "users")
        with reading as (session, details):
            users = [UserInfo.of(u) for u in session.scalars(select(User).order_by(User.name))]
            details["count"] = len(users)
        return users

    def show(self, ctx: RequestContext, name: str) -> UserInfo:
        """Anyone may see their own account; seeing others needs ``users.read``."""
        target = f"user:{name}"
        needs = None if name == ctx.principal.name else Permission.USERS_READ
        with self.access.reading(ctx, needs, "user.read", target) as (session, _):
            return UserInfo.of(find_user(session, name))

    def disable(self, ctx: RequestContext, name: str) -> UserInfo:
        """Disable an account, ending its sessions and revoking its tokens."""
        target = f"user:{name}"
        with (
            self.access.attempt(ctx, Permission.USERS_MANAGE, "user.disable", target),
            self.db.write() as session,
        ):
            user = find_user(session, name)
            if (
                user.disabled_at is None
                and user.role == Role.ADMIN
                and _active_admins(session) <= 1
            ):
                raise Conflict("the last active admin cannot be disabled", user=name)
            now = datetime.now(UTC)
            if user.disabled_at is None:
                user.disabled_at = now
            for table, ended in (
                (ApiToken, ApiToken.revoked_at),
                (WebSession, WebSession.ended_at),
            ):
                session.execute(
                    update(table)
                    .where(table.user_id == user.id, ended.is_(None))
                    .values({ended.key: now})
                )
            self.access.record(session, ctx, "user.disable", target)
            return UserInfo.of(user)

    def bootstrap_admin(self, session: Session, ctx: RequestContext, password: str) -> bool:
        """Create the ``admin`` account unless it exists; True when it was created."""
        if session.scalar(select(User.id).where(User.name == "admin")) is not None:
            return False
        session.add(
            User(
                name="admin",
                role=str(Role.ADMIN),
                password_hash=self.passwords.hash(password, "admin"),
                created_at=datetime.now(UTC),
            )
        )
        self.access.record(session, ctx, "user.create", "user:admin", {"role": "admin"})
        return True


def _active_admins(session: Session) -> int:
    query = select(func.count()).where(User.role == str(Role.ADMIN), User.disabled_at.is_(None))
    return int(session.scalar(query) or 0)
