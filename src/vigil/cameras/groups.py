"""Camera groups: who may watch which cameras. Users see the cameras of their groups."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, delete, exists, select
from sqlalchemy.orm import Session

from vigil.auth.access import Access
from vigil.auth.names import check_name
from vigil.auth.roles import Permission, Principal, RequestContext
from vigil.errors import Conflict, NotFound
from vigil.store.models import Camera, CameraGroup, User, user_camera_groups


@dataclass(frozen=True, slots=True)
class GroupInfo:
    name: str
    cameras: list[str]
    members: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "cameras": self.cameras, "members": self.members}


def member_of(session: Session, principal: Principal, group_id: int | None) -> bool:
    """Whether the principal is a member of that camera group (no group: nobody is)."""
    if principal.user_id is None or group_id is None:
        return False
    return bool(
        session.scalar(
            select(
                exists().where(
                    user_camera_groups.c.user_id == principal.user_id,
                    user_camera_groups.c.group_id == group_id,
                )
            )
        )
    )


def visible_group_ids(session: Session, principal: Principal) -> set[int]:
    return group_ids_of(session, principal.user_id)


def in_groups_of(session: Session, principal: Principal) -> ColumnElement[bool]:
    """A filter for rows joined to ``Camera``: cameras in the principal's groups."""
    return Camera.group_id.in_(visible_group_ids(session, principal))


def group_ids_of(session: Session, user_id: int | None) -> set[int]:
    """The camera groups of that user (none for Vigil itself and the local operator)."""
    if user_id is None:
        return set()
    rows = session.scalars(
        select(user_camera_groups.c.group_id).where(user_camera_groups.c.user_id == user_id)
    )
    return set(rows)


class CameraGroups:
    def __init__(self, access: Access) -> None:
        self.access = access
        self.db = access.db

    def grant(self, ctx: RequestContext, group: str, user: str) -> None:
        self._membership(ctx, group, user, add=True)

    def revoke(self, ctx: RequestContext, group: str, user: str) -> None:
        self._membership(ctx, group, user, add=False)

    def _membership(self, ctx: RequestContext, group: str, user: str, *, add: bool) -> None:
        action = "camera_group.grant" if add else "camera_group.revoke"
        target = f"camera_group:{group}"
        with (
            self.access.attempt(ctx, Permission.CAMERAS_MANAGE, action, target),
            self.db.write() as session,
        ):
            check_name(group, what="group")
            row = session.scalar(select(CameraGroup).where(CameraGroup.name == group))
            if row is None:
                if not add:
                    raise NotFound(f"no camera group named {group!r}", group=group)
                row = CameraGroup(name=group, created_at=datetime.now(UTC))
                session.add(row)
                session.flush()
            member = session.scalar(select(User).where(User.name == user))
            if member is None:
                raise NotFound(f"no user named {user!r}", user=user)
            link = (user_camera_groups.c.user_id == member.id) & (
                user_camera_groups.c.group_id == row.id
            )
            present = session.scalar(select(exists().where(link)))
            if add and present:
                raise Conflict(f"{user} is in camera group {group} already")
            if not add and not present:
                raise Conflict(f"{user} is not in camera group {group}")
            if add:
                session.execute(
                    user_camera_groups.insert().values(user_id=member.id, group_id=row.id)
                )
            else:
                session.execute(delete(user_camera_groups).where(link))
            self.access.record(session, ctx, action, target, {"user": user})

    def list(self, ctx: RequestContext) -> list[GroupInfo]:
        reading = self.access.reading(ctx, Permission.CAMERAS_MANAGE, "camera_group.list", "groups")
        with reading as (session, details):
            groups = list(session.scalars(select(CameraGroup).order_by(CameraGroup.name)))
            cameras = _names_by_group(session, select(Camera.group_id, Camera.name))
            members = _names_by_group(
                session,
                select(user_camera_groups.c.group_id, User.name).join(
                    User, User.id == user_camera_groups.c.user_id
                ),
            )
            details["count"] = len(groups)
            return [GroupInfo(g.name, cameras.get(g.id, []), members.get(g.id, [])) for g in groups]


def _names_by_group(session: Session, query: Any) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    for group_id, name in session.execute(query):
        if group_id is not None:
            out.setdefault(group_id, []).append(name)
    for names in out.values():
        names.sort()
    return out
