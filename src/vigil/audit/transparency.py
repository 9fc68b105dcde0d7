"""The transparency report: how Vigil's powers were used in a period, from the audit log.

Every count is a count of audit entries of the period (allowed ones: what was done, not
what was refused), so the report says nothing the log does not, and anyone holding the log
can recount it. The report is anchored to a signed tree head that covers its own audit
entry (a later consistency proof shows the log it counted was not rewritten) and is itself
signed with Vigil's Ed25519 key over its canonical JSON. It names no person and no case:
numbers only.

The false-match figure is measured, not estimated: of the alerts that people reviewed in
the period, the share rejected as not the person (a rejection by the first reviewer, or
one confirmation not followed by a second), with its Wilson 95% interval.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from vigil.audit.entry import Outcome
from vigil.audit.log import AuditLog
from vigil.audit.signing import SigningKey, sign_statement, verify_statement
from vigil.auth.access import Access
from vigil.auth.roles import Permission, RequestContext
from vigil.documents import pdf_from_html, templates
from vigil.errors import InvalidInput
from vigil.partners.metering import minutes_by_organisation
from vigil.publishing.viewing import viewing_by_camera
from vigil.store.models import AuditRow, PublicationRow
from vigil.timetext import TimeText

REPORT_CONTEXT = b"vigil-transparency-report-v1\x00"
MAX_DAYS = 366
Z95 = 1.959964

COUNTED = {
    "cases": {
        "opened": "case.open",
        "approved": "case.approve",
        "rejected": "case.reject",
        "sealed": "case.seal",
        "closed": "case.close",
    },
    "searches": {"run": "case.search"},
    "watchlist": {
        "proposed": "watchlist.propose",
        "approved": "watchlist.approve",
        "ended": "watchlist.end",
    },
    "alerts": {"raised": "alert.raise"},
    "public_cameras": {"proposed": "publication.propose", "approved": "publication.approve"},
    # People on camera asking what is held about them (vigil.subjects).
    "subject_requests": {
        "received": "subject.request",
        "answered": "subject.approve",
        "rejected": "subject.reject",
        "restricted": "subject.restrict",
        "erasures": "subject.erase",
    },
}


@dataclass(frozen=True, slots=True)
class Period:
    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise InvalidInput("give the period's times with a time zone, e.g. 2026-11-01T00:00Z")
        if not self.start < self.end:
            raise InvalidInput("the period must end after it starts")
        if (self.end - self.start).days > MAX_DAYS:
            raise InvalidInput(f"a report covers at most {MAX_DAYS} days")
        if self.end > datetime.now(UTC):
            raise InvalidInput(
                "a report covers a period that has ended: its end is in the future, and a "
                "signed report would not say what it would come to hold",
                field="end",
            )

    @property
    def micros(self) -> tuple[int, int]:
        return int(self.start.timestamp() * 1e6), int(self.end.timestamp() * 1e6)


def wilson(successes: int, n: int) -> tuple[float, float] | None:
    """The Wilson score 95% interval of a proportion; None without trials."""
    if n == 0:
        return None
    p = successes / n
    centre = (p + Z95**2 / (2 * n)) / (1 + Z95**2 / n)
    half = Z95 * math.sqrt(p * (1 - p) / n + Z95**2 / (4 * n * n)) / (1 + Z95**2 / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def _actions(session: Session, period: Period) -> Counter[str]:
    start, end = period.micros
    rows = session.execute(
        select(AuditRow.action, func.count())
        .where(AuditRow.time_us >= start, AuditRow.time_us < end)
        .where(AuditRow.outcome == Outcome.ALLOWED.value)
        .group_by(AuditRow.action)
    )
    return Counter({action: int(n) for action, n in rows})


def _reviews(session: Session, period: Period) -> dict[str, int]:
    """Alerts that reached each review outcome in the period (from the entries' details)."""
    start, end = period.micros
    details = session.scalars(
        select(AuditRow.details)
        .where(AuditRow.time_us >= start, AuditRow.time_us < end)
        .where(AuditRow.outcome == Outcome.ALLOWED.value)
        .where(AuditRow.action.in_(("alert.confirm", "alert.reject")))
    )
    reached = Counter(json.loads(d).get("to") for d in details)
    return {"confirmed_by_two": reached["actionable"], "rejected": reached["rejected"]}


def _days(period: Period) -> tuple[date, date]:
    """The whole days (UTC) the period's public viewing covers: those it begins in and ends
    in (viewing is counted per day, so a period that cuts a day counts all of it)."""
    last = (period.end - timedelta(microseconds=1)).astimezone(UTC).date()
    return period.start.astimezone(UTC).date(), last


def _public_at(session: Session, moment: datetime) -> int:
    return int(
        session.scalar(
            select(func.count(PublicationRow.id))
            .where(PublicationRow.approved_at.is_not(None), PublicationRow.approved_at < moment)
            .where(PublicationRow.withdrawn_at.is_(None) | (PublicationRow.withdrawn_at >= moment))
        )
        or 0
    )


class TransparencyService:
    def __init__(self, access: Access, log: AuditLog, key: SigningKey) -> None:
        self.access = access
        self.db = access.db
        self.log = log
        self.key = key

    def report(self, ctx: RequestContext, period: Period) -> dict[str, Any]:
        """The signed report of the period (auditors and admins)."""
        target = f"transparency:{period.start.isoformat()}..{period.end.isoformat()}"
        action = "transparency.report"
        with self.access.attempt(ctx, Permission.AUDIT_READ, action, target):
            with self.db.read() as session:
                body = self._counts(session, period)
            with self.db.write() as session:
                self.access.record(session, ctx, action, target)
                head = self.log.sign_head(session)
        body["anchor"] = {"tree_head": head.to_dict()}
        body["made_at"] = datetime.now(UTC).isoformat()
        return sign_statement(self.key, REPORT_CONTEXT, body)

    def _counts(self, session: Session, period: Period) -> dict[str, Any]:
        actions = _actions(session, period)
        body: dict[str, Any] = {
            "period": {"from": period.start.isoformat(), "to": period.end.isoformat()},
        }
        for section, counted in COUNTED.items():
            body[section] = {name: actions[a] for name, a in counted.items()}
        reviews = _reviews(session, period)
        reviewed = reviews["confirmed_by_two"] + reviews["rejected"]
        interval = wilson(reviews["rejected"], reviewed)
        body["alerts"].update(reviews)
        body["alerts"]["false_match_share"] = {
            "reviewed": reviewed,
            "rejected_share": None if not reviewed else reviews["rejected"] / reviewed,
            "interval_95": None if interval is None else list(interval),
        }
        body["public_cameras"]["withdrawn"] = actions["publication.withdraw"]
        body["public_cameras"]["public_at_end"] = _public_at(session, period.end)
        body["third_party_minutes"] = minutes_by_organisation(session, period.start, period.end)
        first, last = _days(period)
        body["public_viewing"] = {
            "days": {"from": first.isoformat(), "to": last.isoformat()},
            "cameras": viewing_by_camera(session, first, last),
        }
        return body


def verify_report(report: dict[str, Any], public_key: Ed25519PublicKey) -> None:
    """ProofError unless the report is exactly as Vigil signed it."""
    verify_statement(public_key, REPORT_CONTEXT, report, what="the report")


def render_html(report: dict[str, Any], times: TimeText) -> str:
    """The report as a page of its own (the signed JSON is the authoritative form)."""
    signed = json.dumps(report, indent=2, sort_keys=True)
    template = templates(times, "vigil.audit").get_template("transparency.html")
    return template.render(r=report, signed=signed)


def render_pdf(report: dict[str, Any], times: TimeText) -> bytes:
    """The report's page, laid out for print."""
    period = report["period"]
    title = f"Transparency report {times.day(period['from'])} to {times.day(period['to'])}"
    return pdf_from_html(render_html(report, times), title)
