"""Metering: every second of video a third party watches or exports, and its monthly usage.

A stream opens a usage row (audited as the organisation, in the same transaction) and grows
it by each fragment's playing time as the fragment goes out, so the row says how much video
left, not how long a connection stayed open. An export reserves its whole range first, in a
transaction that runs alone per key (so parallel exports cannot all pass one count), and
settles to what it delivered, or gives the reservation back if it delivered nothing.
``vigil usage`` and the API read the rows back per month, as a table, CSV or JSON.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from vigil.auth.access import Access
from vigil.auth.roles import RequestContext
from vigil.errors import InvalidInput
from vigil.partners.grants import Grant, used_s
from vigil.partners.organisations import Partners, find_organisation
from vigil.store.models import OrganisationRow, PartnerKeyRow, UsageRow
from vigil.times import YEARS

Kind = Literal["live", "export"]
MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def month_span(month: str) -> tuple[datetime, datetime]:
    """The month ``YYYY-MM`` as [first instant, first instant of the next), in UTC."""
    found = MONTH.match(month)
    if found is None:
        raise InvalidInput(f"{month!r} is not a month (YYYY-MM)", field="month")
    year, number = int(found[1]), int(found[2])
    if not YEARS[0] <= year <= YEARS[1]:
        raise InvalidInput(f"a month lies in the years {YEARS[0]} to {YEARS[1]}", field="month")
    start = datetime(year, number, 1, tzinfo=UTC)
    end = datetime(year + number // 12, number % 12 + 1, 1, tzinfo=UTC)
    return start, end


class Meter:
    """One stream's or export's usage row; ``add`` each fragment's seconds as it goes out."""

    def __init__(self, metering: Metering, usage_id: int, grant: Grant, camera: str) -> None:
        self.metering = metering
        self.usage_id = usage_id
        self.grant = grant
        self.camera = camera
        self.seconds = 0.0
        self.bytes = 0

    def add(self, seconds: float, sent_bytes: int) -> None:
        self.seconds += seconds
        self.bytes += sent_bytes
        with self.metering.db.write() as session:
            session.execute(
                update(UsageRow)
                .where(UsageRow.id == self.usage_id)
                .values(seconds=self.seconds, bytes=self.bytes, ended_at=datetime.now(UTC))
            )


@dataclass(frozen=True, slots=True)
class UsageLine:
    key: int
    label: str
    camera: str
    kind: str
    sessions: int
    seconds: float
    bytes: int


@dataclass(frozen=True, slots=True)
class UsageReport:
    organisation: str
    title: str
    month: str
    lines: list[UsageLine]

    @property
    def watched_s(self) -> float:
        return sum(line.seconds for line in self.lines if line.kind == "live")

    @property
    def exported_s(self) -> float:
        return sum(line.seconds for line in self.lines if line.kind == "export")

    @property
    def exports(self) -> int:
        return sum(line.sessions for line in self.lines if line.kind == "export")

    def to_dict(self) -> dict[str, Any]:
        return {
            "organisation": self.organisation,
            "title": self.title,
            "month": self.month,
            "watched_s": round(self.watched_s, 3),
            "exported_s": round(self.exported_s, 3),
            "exports": self.exports,
            "lines": [{**asdict(line), "seconds": round(line.seconds, 3)} for line in self.lines],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2) + "\n"

    def to_csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(
            ["organisation", "month", "key", "label", "camera", "kind", "sessions", "seconds",
             "bytes"]
        )  # fmt: skip
        for line in self.lines:
            writer.writerow(
                [self.organisation, self.month, line.key, line.label, line.camera, line.kind,
                 line.sessions, f"{line.seconds:.3f}", line.bytes]
            )  # fmt: skip
        return out.getvalue()


class Metering:
    def __init__(self, access: Access) -> None:
        self.access = access
        self.db = access.db

    def open(self, ctx: RequestContext, grant: Grant, camera: str, kind: Kind) -> Meter:
        """Start metering a stream or an export; audited as ``partner.watch|export``."""
        with self.db.write() as session:
            left = {"left_s": round(grant.left_s, 3)}
            return self._row(session, ctx, grant, camera, kind, 0.0, left)

    def reserve(self, ctx: RequestContext, grant: Grant, camera: str, seconds: float) -> Meter:
        """Hold ``seconds`` of the key's quota for an export (its usage row, audited as
        ``partner.export``); Forbidden when the key has less left. ``add`` then settles the
        row to what was delivered, ``give_back`` removes it."""
        with self.db.write() as session:
            self.db.serialise(session, f"partner-key:{grant.key_id}")
            grant.with_used(used_s(session, grant.key_id)).require_quota(seconds)
            reserved = {"reserved_s": round(seconds, 3)}
            return self._row(session, ctx, grant, camera, "export", seconds, reserved)

    def _row(
        self,
        session: Session,
        ctx: RequestContext,
        grant: Grant,
        camera: str,
        kind: Kind,
        seconds: float,
        details: dict[str, Any],
    ) -> Meter:
        """A usage row of ``seconds``, audited in the same transaction with ``details``."""
        now = datetime.now(UTC)
        row = UsageRow(
            key_id=grant.key_id,
            organisation_id=grant.organisation_id,
            camera=camera,
            kind=kind,
            started_at=now,
            ended_at=now,
            seconds=seconds,
            bytes=0,
        )
        session.add(row)
        session.flush()
        action = "partner.watch" if kind == "live" else "partner.export"
        details = {"usage": row.id, "key": grant.key_id, **details}
        self.access.record(session, ctx, action, f"camera:{camera}", details)
        return Meter(self, row.id, grant, camera)

    def give_back(self, meter: Meter) -> None:
        """Return an export's reservation: nothing of it was delivered."""
        with self.db.write() as session:
            session.execute(delete(UsageRow).where(UsageRow.id == meter.usage_id))

    def close(self, ctx: RequestContext, meter: Meter, reason: str) -> None:
        """Record what a stream carried once it ends (``partner.watch.end``)."""
        details = {
            "usage": meter.usage_id,
            "key": meter.grant.key_id,
            "seconds": round(meter.seconds, 3),
            "bytes": meter.bytes,
            "ended": reason,
        }
        self.access.record_alone(ctx, "partner.watch.end", f"camera:{meter.camera}", details)

    def usage(self, ctx: RequestContext, organisation: str, month: str) -> UsageReport:
        """What the organisation watched and exported in the month (by when each stream or
        export began), per key, camera and kind."""
        start, end = month_span(month)
        action = "partner.usage"
        target = f"organisation:{organisation}"
        with self.access.reading(ctx, None, action, target) as (session, details):
            Partners.require_reader(ctx, action)
            org = find_organisation(session, organisation)
            rows = session.execute(
                select(
                    UsageRow.key_id,
                    PartnerKeyRow.label,
                    UsageRow.camera,
                    UsageRow.kind,
                    func.count(UsageRow.id),
                    func.sum(UsageRow.seconds),
                    func.sum(UsageRow.bytes),
                )
                .join(PartnerKeyRow, PartnerKeyRow.id == UsageRow.key_id)
                .where(UsageRow.organisation_id == org.id)
                .where(UsageRow.started_at >= start, UsageRow.started_at < end)
                .group_by(UsageRow.key_id, PartnerKeyRow.label, UsageRow.camera, UsageRow.kind)
                .order_by(UsageRow.key_id, UsageRow.camera, UsageRow.kind)
            )
            lines = [
                UsageLine(key, label, camera, kind, int(n), float(s or 0), int(b or 0))
                for key, label, camera, kind, n, s, b in rows
            ]
            details["month"] = month
        return UsageReport(org.name, org.title, month, lines)


def minutes_by_organisation(session: Session, start: datetime, end: datetime) -> dict[str, Any]:
    """Each organisation's minutes of video in [start, end) (by when each began), watched
    and exported, and its exports: the transparency report's third-party section."""
    rows = session.execute(
        select(
            OrganisationRow.name, UsageRow.kind, func.count(UsageRow.id), func.sum(UsageRow.seconds)
        )
        .join(UsageRow, UsageRow.organisation_id == OrganisationRow.id)
        .where(UsageRow.started_at >= start, UsageRow.started_at < end)
        .group_by(OrganisationRow.name, UsageRow.kind)
        .order_by(OrganisationRow.name)
    )
    found: dict[str, Any] = {}
    for name, kind, count, seconds in rows:
        org = found.setdefault(name, {"watched_min": 0.0, "exported_min": 0.0, "exports": 0})
        minutes = round(float(seconds or 0) / 60, 2)
        if kind == "live":
            org["watched_min"] = minutes
        else:
            org["exported_min"], org["exports"] = minutes, int(count)
    return found
