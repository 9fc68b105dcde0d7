"""SQLAlchemy models of the metadata store; Alembic migrations build the same schema.

One module per domain; importing this package registers every table on ``Base.metadata``.
"""

from vigil.store.models.accounts import (
    ApiToken,
    Camera,
    CameraGroup,
    LoginClient,
    LoginFailure,
    Region,
    Site,
    User,
    WebSession,
    user_camera_groups,
)
from vigil.store.models.analytics import (
    AlertRow,
    AlertSighting,
    SightingRow,
    WatchlistEntry,
    WatchlistPhoto,
)
from vigil.store.models.audit import (
    AuditHeadRow,
    AuditPendingRow,
    AuditRow,
    AuditStateRow,
    TransparencyReportRow,
)
from vigil.store.models.base import NAMING, Base, UTCDateTime
from vigil.store.models.cases import CaseCamera, CaseMember, CaseResult, CaseRow, CaseSearch, Notice
from vigil.store.models.crowds import (
    EventLimit,
    EventRow,
    NoIdZoneRow,
    OccupancyAlertRow,
    PeopleCount,
)
from vigil.store.models.partners import (
    OrganisationRow,
    PartnerKeyCamera,
    PartnerKeyRow,
    UsageRow,
)
from vigil.store.models.publishing import PublicationRow, PublicViewing
from vigil.store.models.recording import (
    CameraHealth,
    ClusterNode,
    EvidenceHold,
    RecordingGap,
    SegmentRow,
    StorageState,
)
from vigil.store.models.subjects import SubjectMatch, SubjectRequestRow

__all__ = [
    "NAMING",
    "AlertRow",
    "AlertSighting",
    "ApiToken",
    "AuditHeadRow",
    "AuditPendingRow",
    "AuditRow",
    "AuditStateRow",
    "Base",
    "Camera",
    "CameraGroup",
    "CameraHealth",
    "CaseCamera",
    "CaseMember",
    "CaseResult",
    "CaseRow",
    "CaseSearch",
    "ClusterNode",
    "EventLimit",
    "EventRow",
    "EvidenceHold",
    "LoginClient",
    "LoginFailure",
    "NoIdZoneRow",
    "Notice",
    "OccupancyAlertRow",
    "OrganisationRow",
    "PartnerKeyCamera",
    "PartnerKeyRow",
    "PeopleCount",
    "PublicViewing",
    "PublicationRow",
    "RecordingGap",
    "Region",
    "SegmentRow",
    "SightingRow",
    "Site",
    "StorageState",
    "SubjectMatch",
    "SubjectRequestRow",
    "TransparencyReportRow",
    "UTCDateTime",
    "UsageRow",
    "User",
    "WatchlistEntry",
    "WatchlistPhoto",
    "WebSession",
    "user_camera_groups",
]
