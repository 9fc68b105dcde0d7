"""User accounts (admin; auditors and supervisors may read)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, status

from vigil.api.context import Caller, ServicesDep
from vigil.api.schemas import UserCreate, UserOut
from vigil.auth.names import NAME_PATTERN
from vigil.auth.users import UserInfo

router = APIRouter(prefix="/users", tags=["users"])
UserName = Annotated[str, Path(pattern=NAME_PATTERN, max_length=64)]


def _out(info: UserInfo) -> UserOut:
    return UserOut.model_validate(info, from_attributes=True)


@router.get("", response_model=list[UserOut])
def list_users(ctx: Caller, services: ServicesDep) -> list[UserOut]:
    return [_out(u) for u in services.users.list(ctx)]


@router.post("", response_model=UserOut, status_code=status.HTTP_201_CREATED)
def create_user(body: UserCreate, ctx: Caller, services: ServicesDep) -> UserOut:
    return _out(services.users.create(ctx, body.name, str(body.role), body.password))


@router.get("/{name}", response_model=UserOut)
def get_user(name: UserName, ctx: Caller, services: ServicesDep) -> UserOut:
    return _out(services.users.show(ctx, name))


@router.post("/{name}/disable", response_model=UserOut)
def disable_user(name: UserName, ctx: Caller, services: ServicesDep) -> UserOut:
    """Disable an account: its sessions end and its tokens are revoked."""
    return _out(services.users.disable(ctx, name))
