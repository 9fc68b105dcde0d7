"""Who may do what: every API operation and web page, the permissions it needs and what
bounds it (camera groups, case membership, ownership).

The services enforce it (each checks its permission and scope); this table states it in one
place. ``tests/api/test_permission_matrix.py`` walks every operation for every role, inside
and outside the camera's group and case, against it, and ``docs/permissions.md`` is made
from it (``python -m vigil.api.permissions > docs/permissions.md``). A new route joins this
table in the same change: the matrix test fails for a route that is not in it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from vigil.auth.roles import ROLE_PERMISSIONS, Permission, Role

P = Permission


class Scope(StrEnum):
    NONE = "-"  # nothing from a camera or a case behind it
    REGISTRY = "camera registry"  # the camera's record: in its group, or a camera manager
    CAMERA = "camera group"  # what a camera saw or keeps: footage, holds, alerts
    CASE_RECORD = "case record"  # a case's record: its members, or a case approver
    CASE = "case data"  # a case's results: its members, within the groups of its cameras
    OWN = "own"  # the caller's own (tokens, holds, entries); others' need the permission


@dataclass(frozen=True, slots=True)
class Rule:
    needs: frozenset[Permission]  # any one of them; empty: anyone signed in
    scope: Scope
    note: str = ""

    def allows(self, role: Role) -> bool:
        return not self.needs or bool(self.needs & ROLE_PERMISSIONS[role])


def rule(*needs: Permission, scope: Scope = Scope.NONE, note: str = "") -> Rule:
    return Rule(frozenset(needs), scope, note)


PUBLIC: frozenset[tuple[str, str]] = frozenset(
    {
        ("GET", "/api/v1/health"),
        ("POST", "/api/v1/auth/login"),
        ("GET", "/"),
        ("GET", "/login"),
        # The public cameras' redacted, delayed video (publishing.broadcast), and its page;
        # the published transparency reports, the key that verifies them, and their page.
        ("GET", "/api/v1/public/cameras"),
        ("GET", "/api/v1/public/cameras/{name}/live.mp4"),
        ("GET", "/api/v1/public/transparency"),
        ("GET", "/api/v1/public/transparency/key.pem"),
        ("GET", "/api/v1/public/transparency/{month}"),
        ("GET", "/transparency"),
        ("GET", "/public"),
    }
)

# Reached with an organisation's key only (vigil.partners), never with a person's token or
# session; bounded by the key: its cameras, its window, its quota. tests/api/test_partner.py
# walks them with keys in and out of their grant.
PARTNER: dict[tuple[str, str], str] = {
    ("GET", "/api/v1/partner/grant"): "the key's own grant",
    ("GET", "/api/v1/partner/cameras/{name}/live.mp4"): (
        "the key's cameras; redacted, watermarked, metered"
    ),
    ("GET", "/api/v1/partner/cameras/{name}/recording.mp4"): (
        "the key's cameras, inside its window; redacted, watermarked, metered"
    ),
}

A = "/api/v1"
RULES: dict[tuple[str, str], Rule] = {
    ("GET", f"{A}/openapi.json"): rule(note="the API's description"),
    ("GET", f"{A}/docs"): rule(note="the API's description"),
    ("POST", f"{A}/auth/logout"): rule(),
    ("GET", f"{A}/auth/me"): rule(),
    ("GET", f"{A}/users"): rule(P.USERS_READ),
    ("POST", f"{A}/users"): rule(P.USERS_MANAGE),
    ("GET", f"{A}/users/{{name}}"): rule(P.USERS_READ, scope=Scope.OWN, note="oneself: anyone"),
    ("POST", f"{A}/users/{{name}}/disable"): rule(P.USERS_MANAGE),
    ("GET", f"{A}/tokens"): rule(note="one's own; everyone's with tokens.manage_any"),
    ("POST", f"{A}/tokens"): rule(
        note="for oneself; for another user only a service account (admin, auditor, viewer) "
        "and with tokens.manage_any"
    ),
    ("DELETE", f"{A}/tokens/{{token_id}}"): rule(
        P.TOKENS_MANAGE_ANY, scope=Scope.OWN, note="one's own: anyone"
    ),
    ("GET", f"{A}/audit/entries"): rule(P.AUDIT_READ),
    ("GET", f"{A}/audit/entries/{{seq}}"): rule(P.AUDIT_READ),
    ("GET", f"{A}/audit/head"): rule(P.AUDIT_VERIFY),
    ("GET", f"{A}/audit/public-key"): rule(P.AUDIT_VERIFY),
    ("GET", f"{A}/audit/proofs/inclusion"): rule(P.AUDIT_VERIFY),
    ("GET", f"{A}/audit/proofs/consistency"): rule(P.AUDIT_VERIFY),
    ("GET", f"{A}/audit/verify"): rule(P.AUDIT_VERIFY),
    ("GET", f"{A}/audit/transparency"): rule(P.AUDIT_READ, note="counts only, signed"),
    ("POST", f"{A}/audit/transparency/publications"): rule(
        P.TRANSPARENCY_PUBLISH, note="an ended month, once; then public"
    ),
    ("POST", f"{A}/faces/detect"): rule(P.FACES_ANALYSE, note="photos a minute and at once"),
    ("POST", f"{A}/faces/compare"): rule(P.FACES_ANALYSE, note="photos a minute and at once"),
    ("GET", f"{A}/cameras"): rule(P.CAMERAS_READ, note="those of one's groups (managers: all)"),
    ("POST", f"{A}/cameras"): rule(P.CAMERAS_MANAGE),
    ("GET", f"{A}/cameras/{{name}}"): rule(P.CAMERAS_READ, scope=Scope.REGISTRY),
    ("DELETE", f"{A}/cameras/{{name}}"): rule(P.CAMERAS_MANAGE),
    ("PATCH", f"{A}/cameras/{{name}}"): rule(P.CAMERAS_MANAGE),
    ("GET", f"{A}/cameras/{{name}}/status"): rule(P.CAMERAS_READ, scope=Scope.REGISTRY),
    ("GET", f"{A}/cameras/{{name}}/recordings"): rule(P.CAMERAS_VIEW, scope=Scope.CAMERA),
    ("GET", f"{A}/cameras/{{name}}/recording.mp4"): rule(P.CAMERAS_VIEW, scope=Scope.CAMERA),
    ("GET", f"{A}/cameras/{{name}}/live.mp4"): rule(P.CAMERAS_VIEW, scope=Scope.CAMERA),
    ("POST", f"{A}/cameras/{{name}}/holds"): rule(P.RECORDINGS_HOLD, scope=Scope.CAMERA),
    ("GET", f"{A}/holds"): rule(P.RECORDINGS_HOLD, note="those on cameras of one's groups"),
    ("DELETE", f"{A}/holds/{{hold_id}}"): rule(
        P.HOLDS_RELEASE_ANY, scope=Scope.CAMERA, note="one's own hold: recordings.hold"
    ),
    ("GET", f"{A}/camera-groups"): rule(P.CAMERAS_MANAGE),
    ("PUT", f"{A}/camera-groups/{{group}}/members/{{user}}"): rule(P.CAMERAS_MANAGE),
    ("DELETE", f"{A}/camera-groups/{{group}}/members/{{user}}"): rule(P.CAMERAS_MANAGE),
    ("GET", f"{A}/watchlist"): rule(P.WATCHLIST_READ),
    ("POST", f"{A}/watchlist"): rule(P.WATCHLIST_PROPOSE),
    ("POST", f"{A}/watchlist/{{entry_id}}/approve"): rule(
        P.WATCHLIST_APPROVE, note="not one's own entry"
    ),
    ("POST", f"{A}/watchlist/{{entry_id}}/end"): rule(
        P.WATCHLIST_APPROVE, scope=Scope.OWN, note="one's own entry: watchlist.propose"
    ),
    ("GET", f"{A}/alerts"): rule(P.ALERTS_REVIEW, note="those of cameras of one's groups"),
    ("POST", f"{A}/alerts/{{alert_id}}/confirm"): rule(P.ALERTS_REVIEW, scope=Scope.CAMERA),
    ("POST", f"{A}/alerts/{{alert_id}}/reject"): rule(P.ALERTS_REVIEW, scope=Scope.CAMERA),
    ("GET", f"{A}/alerts/{{alert_id}}/{{which}}.jpg"): rule(P.ALERTS_REVIEW, scope=Scope.CAMERA),
    ("GET", f"{A}/alerts/events"): rule(P.ALERTS_REVIEW, note="those of cameras of one's groups"),
    ("GET", f"{A}/cases"): rule(
        P.CASES_OPEN, P.CASES_APPROVE, note="those one is a member of; approvers: all records"
    ),
    ("POST", f"{A}/cases"): rule(P.CASES_OPEN, scope=Scope.CAMERA),
    ("GET", f"{A}/cases/{{case_id}}"): rule(P.CASES_OPEN, P.CASES_APPROVE, scope=Scope.CASE_RECORD),
    ("POST", f"{A}/cases/{{case_id}}/approve"): rule(P.CASES_APPROVE, note="not one's own"),
    ("POST", f"{A}/cases/{{case_id}}/reject"): rule(P.CASES_APPROVE, note="not one's own"),
    ("POST", f"{A}/cases/{{case_id}}/close"): rule(P.CASES_OPEN, scope=Scope.CASE_RECORD),
    ("POST", f"{A}/cases/{{case_id}}/members"): rule(P.CASES_SEARCH, scope=Scope.CASE_RECORD),
    ("POST", f"{A}/cases/{{case_id}}/searches"): rule(P.CASES_SEARCH, scope=Scope.CASE),
    ("GET", f"{A}/cases/{{case_id}}/results"): rule(P.CASES_SEARCH, scope=Scope.CASE),
    ("POST", f"{A}/cases/{{case_id}}/confirmations"): rule(P.CASES_SEARCH, scope=Scope.CASE),
    ("GET", f"{A}/cases/{{case_id}}/results/{{sighting_id}}/crop.jpg"): rule(
        P.CASES_SEARCH, scope=Scope.CASE
    ),
    ("GET", f"{A}/cases/{{case_id}}/report"): rule(P.CASES_SEARCH, scope=Scope.CASE),
    ("GET", f"{A}/notices"): rule(P.NOTICES_READ),
    ("POST", f"{A}/subject-requests"): rule(P.SUBJECTS_HANDLE),
    ("GET", f"{A}/subject-requests"): rule(
        P.SUBJECTS_HANDLE, P.SUBJECTS_APPROVE, note="records only: no sightings"
    ),
    ("GET", f"{A}/subject-requests/{{request_id}}"): rule(
        P.SUBJECTS_HANDLE, P.SUBJECTS_APPROVE, note="records only: no sightings"
    ),
    ("POST", f"{A}/subject-requests/{{request_id}}/approve"): rule(
        P.SUBJECTS_APPROVE, note="not one's own"
    ),
    ("POST", f"{A}/subject-requests/{{request_id}}/reject"): rule(
        P.SUBJECTS_APPROVE, note="not one's own"
    ),
    ("GET", f"{A}/subject-requests/{{request_id}}/found"): rule(
        P.SUBJECTS_HANDLE, note="for its review: the answered request's sightings alone"
    ),
    ("GET", f"{A}/subject-requests/{{request_id}}/found/{{sighting_id}}/crop.jpg"): rule(
        P.SUBJECTS_HANDLE, note="others' faces blurred"
    ),
    ("POST", f"{A}/subject-requests/{{request_id}}/review"): rule(P.SUBJECTS_HANDLE),
    ("POST", f"{A}/subject-requests/{{request_id}}/erase"): rule(
        P.SUBJECTS_HANDLE, note="what no hold, open case or watchlist entry keeps"
    ),
    ("GET", f"{A}/subject-requests/{{request_id}}/answer"): rule(
        P.SUBJECTS_HANDLE, note="the requester's sightings alone, others' faces blurred"
    ),
    ("GET", f"{A}/metrics"): rule(P.METRICS_READ),
    ("GET", f"{A}/publications"): rule(
        P.PUBLISHING_PROPOSE, P.PUBLISHING_APPROVE, note="those of cameras one may see"
    ),
    ("POST", f"{A}/cameras/{{name}}/publication"): rule(P.PUBLISHING_PROPOSE, scope=Scope.REGISTRY),
    ("POST", f"{A}/publications/{{publication_id}}/approve"): rule(
        P.PUBLISHING_APPROVE, scope=Scope.REGISTRY, note="not one's own proposal"
    ),
    ("POST", f"{A}/publications/{{publication_id}}/withdraw"): rule(
        P.PUBLISHING_PROPOSE, P.PUBLISHING_APPROVE, scope=Scope.REGISTRY
    ),
    ("GET", f"{A}/organisations"): rule(P.PARTNERS_MANAGE, P.AUDIT_READ),
    ("POST", f"{A}/organisations"): rule(P.PARTNERS_MANAGE),
    ("POST", f"{A}/organisations/{{name}}/keys"): rule(
        P.PARTNERS_MANAGE, scope=Scope.REGISTRY, note="for cameras the caller sees"
    ),
    ("POST", f"{A}/partner-keys/{{key_id}}/approve"): rule(
        P.PARTNERS_APPROVE, scope=Scope.REGISTRY, note="not a key one issued"
    ),
    ("POST", f"{A}/partner-keys/{{key_id}}/revoke"): rule(
        P.PARTNERS_MANAGE, P.PARTNERS_APPROVE, scope=Scope.REGISTRY
    ),
    ("GET", f"{A}/organisations/{{name}}/usage"): rule(P.PARTNERS_MANAGE, P.AUDIT_READ),
    ("GET", f"{A}/events"): rule(P.CAMERAS_VIEW, note="those of one's camera groups"),
    ("POST", f"{A}/events"): rule(P.EVENTS_MANAGE, scope=Scope.REGISTRY, note="of one's groups"),
    ("GET", f"{A}/events/{{event_id}}"): rule(
        P.CAMERAS_VIEW, scope=Scope.REGISTRY, note="counts only, no person"
    ),
    ("GET", f"{A}/no-identification"): rule(P.ZONES_PROPOSE, P.ZONES_APPROVE, P.AUDIT_READ),
    ("POST", f"{A}/no-identification"): rule(P.ZONES_PROPOSE),
    ("POST", f"{A}/no-identification/{{zone_id}}/approve"): rule(
        P.ZONES_APPROVE, scope=Scope.CAMERA, note="not one's own proposal"
    ),
    ("POST", f"{A}/no-identification/{{zone_id}}/lift"): rule(P.ZONES_PROPOSE),
    ("POST", f"{A}/no-identification/{{zone_id}}/approve-lift"): rule(
        P.ZONES_APPROVE, scope=Scope.CAMERA, note="not one's own proposal"
    ),
    # Web pages (signed-in people; others are sent to the sign-in page).
    ("GET", "/cameras"): rule(P.CAMERAS_READ),
    ("GET", "/cameras/{name}"): rule(P.CAMERAS_VIEW, scope=Scope.CAMERA),
    ("GET", "/cameras/{name}/live"): rule(P.CAMERAS_VIEW, scope=Scope.CAMERA),
    ("GET", "/events"): rule(P.CAMERAS_VIEW),
    ("GET", "/events/{event_id}"): rule(P.CAMERAS_VIEW, scope=Scope.REGISTRY),
    ("GET", "/zones"): rule(P.ZONES_PROPOSE, P.ZONES_APPROVE, P.AUDIT_READ),
    ("GET", "/alerts"): rule(P.ALERTS_REVIEW),
    ("GET", "/watchlist"): rule(P.WATCHLIST_READ),
    ("GET", "/cases"): rule(P.CASES_OPEN, P.CASES_APPROVE),
    ("GET", "/cases/{case_id}"): rule(P.CASES_OPEN, P.CASES_APPROVE, scope=Scope.CASE_RECORD),
    ("GET", "/subjects"): rule(P.SUBJECTS_HANDLE, P.SUBJECTS_APPROVE),
    ("GET", "/audit"): rule(P.AUDIT_READ),
    ("GET", "/admin"): rule(
        P.USERS_MANAGE, note="with tokens.manage_any, cameras.manage and partners.manage"
    ),
}


def render_markdown() -> str:
    """docs/permissions.md: the table, one row per operation, one column per role."""
    roles = list(Role)
    lines = [
        "# Who may do what",
        "",
        (
            "Made from `vigil.api.permissions` (`python -m vigil.api.permissions`); "
            "`tests/api/test_permission_matrix.py` checks every cell against the running API."
        ),
        "",
        "**yes**: the role holds a permission the operation needs; the scope column then "
        "bounds it (a caller outside the camera's group or the case is answered as if the "
        "thing did not exist). Public: " + ", ".join(f"`{m} {p}`" for m, p in sorted(PUBLIC)) + ".",
        "",
        "| operation | needs | scope | " + " | ".join(str(r) for r in roles) + " | note |",
        "|---|---|---|" + "---|" * len(roles) + "---|",
    ]
    for (method, path), r in RULES.items():
        needs = ", ".join(sorted(str(p) for p in r.needs)) or "signed in"
        cells = " | ".join("yes" if r.allows(role) else "" for role in roles)
        lines.append(f"| `{method} {path}` | {needs} | {r.scope} | {cells} | {r.note} |")
    lines += [
        "",
        "## Third parties",
        "",
        (
            "Reached with an organisation's key only (`Authorization: Bearer vigilorg_...`), "
            "never with a person's token or session, and bounded by the key's grant."
        ),
        "",
        "| operation | bounded by |",
        "|---|---|",
        *(f"| `{m} {p}` | {bound} |" for (m, p), bound in PARTNER.items()),
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(render_markdown(), end="")
