"""The transparency report, published: each month's signed report, for anyone to read.

Once a month has ended (in the city's time zone), an auditor publishes its report
(``transparency.publish``, audited): the counts are made then, signed, anchored to a signed
tree head, and kept as made. The published reports are public, like the public cameras:
anyone reads them, with the public key that verifies them, without signing in (and, as
the public page, without an audit entry per reader). A month is published once.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from vigil.audit.transparency import Period, TransparencyService
from vigil.auth.access import Access
from vigil.auth.roles import Permission, RequestContext
from vigil.errors import Conflict, InvalidInput, NotFound
from vigil.store.models import TransparencyReportRow
from vigil.timetext import TimeText

MONTH_PATTERN = r"^([2-9]\d{3})-(0[1-9]|1[0-2])$"  # YYYY-MM, from the year 2000
MONTH = re.compile(MONTH_PATTERN)


@dataclass(frozen=True, slots=True)
class PublishedReport:
    month: str
    published_by: str
    published_at: datetime
    report: dict[str, Any]  # as signed

    def summary(self) -> dict[str, Any]:
        return {
            "month": self.month,
            "published_by": self.published_by,
            "published_at": self.published_at.isoformat(),
        }


def month_span(month: str, times: TimeText) -> tuple[datetime, datetime]:
    """The month (YYYY-MM) from its first midnight to the next month's, in the city's zone
    (in UTC)."""
    found = MONTH.match(month)
    if found is None:
        raise InvalidInput(f"{month[:20]!r} is not a month (YYYY-MM, from 2000)", field="month")
    year, number = int(found[1]), int(found[2])
    following = (year + number // 12, number % 12 + 1)
    start = datetime(year, number, 1, tzinfo=times.zone)
    end = datetime(*following, 1, tzinfo=times.zone)
    return start.astimezone(UTC), end.astimezone(UTC)


class TransparencyPublications:
    def __init__(self, access: Access, reports: TransparencyService, times: TimeText) -> None:
        self.access = access
        self.db = access.db
        self.reports = reports
        self.times = times

    def publish(self, ctx: RequestContext, month: str) -> PublishedReport:
        """Make, sign and publish the month's report (auditors), once the month has ended."""
        target = f"transparency:{month[:20]}"
        with self.access.attempt(
            ctx, Permission.TRANSPARENCY_PUBLISH, "transparency.publish", target
        ):
            start, end = month_span(month, self.times)
            if end > datetime.now(UTC):
                raise InvalidInput(
                    f"{month} is published once it has ended ({self.times(end)})", field="month"
                )
            with self.db.read() as session:
                if session.scalar(select(TransparencyReportRow.id).filter_by(month=month)):
                    raise Conflict(f"the report of {month} is published already", month=month)
            report = self.reports.report(ctx, Period(start, end))
            now = datetime.now(UTC)
            row = TransparencyReportRow(
                month=month, report=json.dumps(report), published_by=ctx.principal.name,
                published_at=now,
            )  # fmt: skip
            try:
                with self.db.write() as session:
                    session.add(row)
                    session.flush()
                    self.access.record(
                        session, ctx, "transparency.publish", target, {"month": month}
                    )
            except IntegrityError:  # published by someone else meanwhile
                raise Conflict(f"the report of {month} is published already", month=month) from None
            return PublishedReport(month, ctx.principal.name, now, report)

    def published(self) -> list[PublishedReport]:
        """Every published month, the latest first (for anyone)."""
        with self.db.read() as session:
            rows = session.scalars(
                select(TransparencyReportRow).order_by(TransparencyReportRow.month.desc())
            ).all()
            return [_published(row) for row in rows]

    def of_month(self, month: str) -> PublishedReport:
        month_span(month, self.times)  # a month, or InvalidInput
        with self.db.read() as session:
            row = session.scalar(select(TransparencyReportRow).filter_by(month=month))
            if row is None:
                raise NotFound(f"no transparency report of {month} is published", month=month)
            return _published(row)


def _published(row: TransparencyReportRow) -> PublishedReport:
    return PublishedReport(row.month, row.published_by, row.published_at, json.loads(row.report))
