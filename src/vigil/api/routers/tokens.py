"""API tokens: your own, or anyone's for admins."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, status

from vigil.api.context import Caller, ServicesDep
from vigil.api.schemas import TokenCreate, TokenCreated, TokenOut
from vigil.auth.names import NAME_PATTERN
from vigil.auth.tokens import TokenInfo

router = APIRouter(prefix="/tokens", tags=["tokens"])


def _out(info: TokenInfo) -> TokenOut:
    return TokenOut.model_validate(info, from_attributes=True)


@router.get("", response_model=list[TokenOut])
def list_tokens(
    ctx: Caller,
    services: ServicesDep,
    user: Annotated[
        str | None,
        Query(pattern=f"{NAME_PATTERN}|^[*]$", description="Whose tokens; '*' for everyone's"),
    ] = None,
) -> list[TokenOut]:
    return [_out(t) for t in services.tokens.list(ctx, user)]


@router.post("", response_model=TokenCreated, status_code=status.HTTP_201_CREATED)
def create_token(body: TokenCreate, ctx: Caller, services: ServicesDep) -> TokenCreated:
    """Create a token; its secret is in this response only."""
    owner = body.user or ctx.principal.name
    info, secret = services.tokens.create(
        ctx, owner, expires_days=body.expires_days, label=body.label
    )
    return TokenCreated(token=_out(info), secret=secret)


@router.delete("/{token_id}", response_model=TokenOut)
def revoke_token(
    token_id: Annotated[int, Path(ge=1, le=2**62)], ctx: Caller, services: ServicesDep
) -> TokenOut:
    return _out(services.tokens.revoke(ctx, token_id))
