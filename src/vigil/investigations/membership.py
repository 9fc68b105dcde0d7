"""Who may see a case: its members, and of its data only what their camera groups cover.

Members are the requester, the approver and those they add. A case's record is for its
members (and supervisors, who decide on it); what its cameras saw is for members in the
camera groups of every camera in its scope.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.auth.roles import RequestContext
from vigil.cameras.groups import group_ids_of
from vigil.crowds.zones import covering
from vigil.errors import Forbidden, InvalidInput, NotFound
from vigil.store.models import Camera, CaseCamera, CaseMember, CaseRow


def members(session: Session, case_id: int) -> list[str]:
    return list(
        session.scalars(
            select(CaseMember.username)
            .where(CaseMember.case_id == case_id)
            .order_by(CaseMember.username)
        )
    )


def scope_cameras(session: Session, case_id: int) -> list[Camera]:
    return list(
        session.scalars(
            select(Camera)
            .join(CaseCamera, CaseCamera.camera_id == Camera.id)
            .where(CaseCamera.case_id == case_id)
            .order_by(Camera.name)
        )
    )


def is_member(session: Session, case_id: int, username: str) -> bool:
    found = session.scalar(
        select(CaseMember.case_id).where(
            CaseMember.case_id == case_id, CaseMember.username == username
        )
    )
    return found is not None


def member_case(session: Session, ctx: RequestContext, case_id: int) -> CaseRow:
    """The case, if the caller is one of its members; others learn nothing of it."""
    row = session.get(CaseRow, case_id)
    if row is None or not is_member(session, case_id, ctx.principal.name):
        raise NotFound(f"no case {case_id} that you are a member of", case=case_id)
    return row


def outside_groups(session: Session, user_id: int | None, case_id: int) -> list[str]:
    """The case's cameras that are not in any camera group of that user."""
    groups = group_ids_of(session, user_id)
    return [c.name for c in scope_cameras(session, case_id) if c.group_id not in groups]


def case_data(session: Session, ctx: RequestContext, case_id: int) -> CaseRow:
    """The case, for a member who may see what its cameras saw: camera groups bound case
    membership too, so a member outside a scope camera's group reads none of its data."""
    row = member_case(session, ctx, case_id)
    outside = outside_groups(session, ctx.principal.user_id, case_id)
    if outside:
        raise Forbidden(
            f"{ctx.principal.name} is not in the camera groups of {', '.join(outside)} in "
            f"case {case_id}'s scope",
            case=case_id,
            cameras=outside,
        )
    return row


def zones_cleared(
    session: Session,
    ctx: RequestContext,
    case_id: int,
    camera_id: int,
    span: tuple[datetime, datetime],
) -> set[int]:
    """The no-identification zones whose footage an export made for the case may show
    unblurred: those its approver acknowledged. The case must be approved and unexpired,
    the caller its member, the camera and range inside its scope."""
    row = case_data(session, ctx, case_id)
    now = datetime.now(UTC)
    if row.state != "approved" or row.expires_at <= now:
        raise Forbidden(f"case {case_id} is not approved and in force", case=case_id)
    in_scope = camera_id in {c.id for c in scope_cameras(session, case_id)}
    if not in_scope or span[0] < row.scope_start or span[1] > row.scope_end:
        raise Forbidden(f"that footage is outside case {case_id}'s scope", case=case_id)
    return {int(zone) for zone in json.loads(row.zones_seen)}


def acknowledged_zones(session: Session, row: CaseRow, zones: set[int]) -> list[int]:
    """The zones an approver named, which must reach the case's scope (InvalidInput for
    any other number): its exports may show faces there (``zones_cleared``)."""
    cameras = [c.id for c in scope_cameras(session, row.id)]
    reaching = {z.id for z in covering(session, cameras, row.scope_start, row.scope_end)}
    stray = sorted(zones - reaching)
    if stray:
        raise InvalidInput(
            f"zone {', '.join(map(str, stray))} does not reach case {row.id}'s scope "
            f"(those that do: {', '.join(map(str, sorted(reaching))) or 'none'})",
            field="zones",
        )
    return sorted(zones)
