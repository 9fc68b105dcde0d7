"""Roles of DESIGN.md, the permissions each holds, and who is acting (the principal)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal


class Role(StrEnum):
    ADMIN = "admin"
    SUPERVISOR = "supervisor"
    INVESTIGATOR = "investigator"
    OPERATOR = "operator"
    VIEWER = "viewer"
    AUDITOR = "auditor"
    # The data-protection officer: answers the requests of people on camera (vigil.subjects).
    DPO = "dpo"


class Permission(StrEnum):
    USERS_READ = "users.read"
    USERS_MANAGE = "users.manage"
    TOKENS_MANAGE_ANY = "tokens.manage_any"
    AUDIT_READ = "audit.read"
    # Heads, proofs and verification: integrity facts, no entry contents.
    AUDIT_VERIFY = "audit.verify"
    # Detect and compare faces in images a caller supplies (nothing is stored).
    FACES_ANALYSE = "faces.analyse"
    CONFIG_MANAGE = "config.manage"
    CAMERAS_READ = "cameras.read"
    CAMERAS_MANAGE = "cameras.manage"
    # Live view and playback of the cameras in the caller's camera groups.
    CAMERAS_VIEW = "cameras.view"
    # Place evidence holds on recordings of one's camera groups, and release one's own.
    RECORDINGS_HOLD = "recordings.hold"
    # Release a hold that someone else placed (on a camera of one's groups).
    HOLDS_RELEASE_ANY = "holds.release_any"
    # Run face analysis on footage (imports, re-analysis); results are sightings, not names.
    ANALYTICS_RUN = "analytics.run"
    # Propose watchlist entries (and end them); approving is a separate permission.
    WATCHLIST_PROPOSE = "watchlist.propose"
    WATCHLIST_APPROVE = "watchlist.approve"
    WATCHLIST_READ = "watchlist.read"
    # Review alerts: confirm (two different people make one actionable) or reject.
    ALERTS_REVIEW = "alerts.review"
    # Operational metrics (health, backlog, alert counts): for monitoring, not content.
    METRICS_READ = "metrics.read"
    # Open cases (investigations) and search by photo inside approved ones they belong to.
    CASES_OPEN = "cases.open"
    CASES_SEARCH = "cases.search"
    # Approve or reject other people's cases; see every case's record (not its results).
    CASES_APPROVE = "cases.approve"
    # Notices of quota hits and unusual use of search.
    NOTICES_READ = "notices.read"
    # Propose a camera for public (redacted, delayed) broadcast, and withdraw it.
    PUBLISHING_PROPOSE = "publishing.propose"
    # Approve another person's proposal to make a camera public, and withdraw it.
    PUBLISHING_APPROVE = "publishing.approve"
    # Register third-party organisations, issue and revoke their keys, read their usage.
    PARTNERS_MANAGE = "partners.manage"
    # Approve another person's third-party key for cameras of one's groups, and revoke it.
    PARTNERS_APPROVE = "partners.approve"
    # Propose marking a camera group (or an event) "no identification", or lifting it.
    ZONES_PROPOSE = "zones.propose"
    # Approve another person's proposal to mark or lift a no-identification zone.
    ZONES_APPROVE = "zones.approve"
    # Create events (a camera group over a time window, with occupancy limits).
    EVENTS_MANAGE = "events.manage"
    # Take a person's request to learn what is held about them (GDPR Art. 15), read the
    # report an approved request produced, and erase what no legal basis keeps (Art. 17).
    SUBJECTS_HANDLE = "subjects.handle"
    # Approve another person's subject request (it then searches every camera), or reject it.
    SUBJECTS_APPROVE = "subjects.approve"
    # Publish a month's transparency report for anyone to read, once the month has ended.
    TRANSPARENCY_PUBLISH = "transparency.publish"


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(
        {
            Permission.USERS_READ,
            Permission.USERS_MANAGE,
            Permission.TOKENS_MANAGE_ANY,
            Permission.AUDIT_READ,
            Permission.AUDIT_VERIFY,
            Permission.CONFIG_MANAGE,
            Permission.CAMERAS_READ,
            Permission.CAMERAS_MANAGE,
            Permission.CAMERAS_VIEW,
            Permission.RECORDINGS_HOLD,
            Permission.ANALYTICS_RUN,
            Permission.METRICS_READ,
            Permission.PUBLISHING_PROPOSE,
            Permission.PARTNERS_MANAGE,
            Permission.ZONES_PROPOSE,
            Permission.EVENTS_MANAGE,
        }
    ),
    Role.AUDITOR: frozenset(
        {
            Permission.USERS_READ,
            Permission.AUDIT_READ,
            Permission.AUDIT_VERIFY,
            Permission.WATCHLIST_READ,
            Permission.METRICS_READ,
            Permission.NOTICES_READ,
            Permission.TRANSPARENCY_PUBLISH,
        }
    ),
    Role.SUPERVISOR: frozenset(
        {
            Permission.USERS_READ,
            Permission.FACES_ANALYSE,
            Permission.CAMERAS_READ,
            Permission.CAMERAS_VIEW,
            Permission.RECORDINGS_HOLD,
            Permission.HOLDS_RELEASE_ANY,
            Permission.ANALYTICS_RUN,
            Permission.WATCHLIST_APPROVE,
            Permission.WATCHLIST_READ,
            Permission.WATCHLIST_PROPOSE,
            Permission.ALERTS_REVIEW,
            Permission.CASES_APPROVE,
            Permission.NOTICES_READ,
            Permission.PUBLISHING_APPROVE,
            Permission.PARTNERS_APPROVE,
            Permission.ZONES_APPROVE,
            Permission.EVENTS_MANAGE,
            Permission.SUBJECTS_APPROVE,
        }
    ),
    Role.INVESTIGATOR: frozenset(
        {
            Permission.FACES_ANALYSE,
            Permission.CAMERAS_READ,
            Permission.CAMERAS_VIEW,
            Permission.RECORDINGS_HOLD,
            Permission.ANALYTICS_RUN,
            Permission.WATCHLIST_PROPOSE,
            Permission.WATCHLIST_READ,
            Permission.CASES_OPEN,
            Permission.CASES_SEARCH,
        }
    ),
    Role.OPERATOR: frozenset(
        {
            Permission.FACES_ANALYSE,
            Permission.CAMERAS_READ,
            Permission.CAMERAS_VIEW,
            Permission.WATCHLIST_READ,
            Permission.ALERTS_REVIEW,
        }
    ),
    Role.VIEWER: frozenset({Permission.CAMERAS_READ, Permission.CAMERAS_VIEW}),
    # No live video, no footage, no case: only what a request returns.
    Role.DPO: frozenset({Permission.SUBJECTS_HANDLE, Permission.SUBJECTS_APPROVE}),
}

# The person who owns the data directory on this machine can set Vigil up without an
# account (they could read the files anyway), but sees no protected content through Vigil.
LOCAL_OPERATOR = "local-operator"
LOCAL_OPERATOR_PERMISSIONS = frozenset(
    {
        Permission.USERS_READ,
        Permission.USERS_MANAGE,
        Permission.TOKENS_MANAGE_ANY,
        Permission.AUDIT_VERIFY,
        Permission.CONFIG_MANAGE,
        Permission.CAMERAS_READ,
        Permission.CAMERAS_MANAGE,
        Permission.ANALYTICS_RUN,
    }
)
RESERVED_NAMES = frozenset({LOCAL_OPERATOR, "anonymous", "system"})

# Permissions that are a person's own: case data, approvals and the two-person reviews.
# A role holding any of them gets API tokens only by creating them itself, so that nobody
# (an admin included) can act in that person's name.
PERSONAL_PERMISSIONS = frozenset(
    {
        Permission.CASES_OPEN,
        Permission.CASES_SEARCH,
        Permission.CASES_APPROVE,
        Permission.WATCHLIST_PROPOSE,
        Permission.WATCHLIST_APPROVE,
        Permission.ALERTS_REVIEW,
        Permission.PUBLISHING_APPROVE,
        Permission.ZONES_APPROVE,
        Permission.SUBJECTS_HANDLE,
        Permission.SUBJECTS_APPROVE,
    }
)


def is_service_role(role: Role) -> bool:
    """Whether tokens for this role may be made by someone else (a service account)."""
    return not ROLE_PERMISSIONS[role] & PERSONAL_PERMISSIONS


# "organisation": a third party acting with its key (vigil.partners); it holds no permission.
PrincipalKind = Literal["user", "local", "anonymous", "system", "organisation"]


@dataclass(frozen=True, slots=True)
class Principal:
    name: str
    kind: PrincipalKind
    role: Role | None = None
    user_id: int | None = None
    # Set when acting with an API token: its id, and who created it (audited with each act).
    token_id: int | None = None
    token_creator: str | None = None

    def can(self, permission: Permission) -> bool:
        if self.kind == "local":
            return permission in LOCAL_OPERATOR_PERMISSIONS
        if self.role is None:
            return False
        return permission in ROLE_PERMISSIONS[self.role]


ANONYMOUS = Principal(name="anonymous", kind="anonymous")
LOCAL = Principal(name=LOCAL_OPERATOR, kind="local")
# Vigil itself (the recorder's retention, for example): acts without permissions, on record.
SYSTEM = Principal(name="system", kind="system")


@dataclass(frozen=True, slots=True)
class RequestContext:
    """Who is asking, and the id that ties their request to its audit entries."""

    principal: Principal
    request_id: str
    client: str = "cli"
