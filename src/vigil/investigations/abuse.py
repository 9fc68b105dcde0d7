"""Abuse controls on search: quotas that refuse, and unusual use that supervisors hear of.

Insiders selling lookups is the documented abuse of such systems. A person's searches per
UTC day and a case's searches in all are capped (refused, with a notice); a search outside
working hours, and opening many cases within a day, go ahead but raise a notice.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from vigil.auth.access import Access
from vigil.auth.roles import RequestContext
from vigil.config import CasesConfig
from vigil.errors import Conflict, TooManyAttempts
from vigil.investigations.notices import raise_notice
from vigil.store.models import CaseRow, CaseSearch


def working_hours(spec: str) -> tuple[time, time]:
    first, last = spec.split("-")
    return time.fromisoformat(first), time.fromisoformat(last)


def within(hours: tuple[time, time], moment: datetime) -> bool:
    """Whether ``moment`` is within working hours; equal ends mean around the clock."""
    start, end = hours
    now = moment.astimezone(UTC).time()
    if start == end:
        return True
    return start <= now < end if start < end else (now >= start or now < end)


class AbuseGuard:
    def __init__(self, access: Access, config: CasesConfig) -> None:
        self.access = access
        self.db = access.db
        self.config = config

    def reserve(self, ctx: RequestContext, case_id: int, now: datetime) -> int:
        """Refuse past the user's daily quota or the case's cap, with a notice either way;
        else hold the search's place: the id of its record, which the search fills in (or
        gives back with ``release``). Counting and holding run alone per user and case, so
        parallel searches cannot all pass one count."""
        midnight = datetime.combine(now.astimezone(UTC).date(), time(), UTC)
        with self.db.write() as session:
            self.db.serialise(
                session, f"search-user:{ctx.principal.name}", f"search-case:{case_id}"
            )
            today = session.scalar(
                select(func.count(CaseSearch.id)).where(
                    CaseSearch.searched_by == ctx.principal.name,
                    CaseSearch.started_at >= midnight,
                )
            )
            in_case = session.scalar(
                select(func.count(CaseSearch.id)).where(CaseSearch.case_id == case_id)
            )
            over_quota = (today or 0) >= self.config.daily_search_quota
            over_cap = (in_case or 0) >= self.config.searches_per_case
            if not (over_quota or over_cap):
                held = CaseSearch(
                    case_id=case_id,
                    searched_by=ctx.principal.name,
                    started_at=now,
                    ended_at=now,
                    probes="[]",
                    in_scope=0,
                    results=0,
                )
                session.add(held)
                session.flush()
                return held.id
        if over_quota:
            message = (
                f"{ctx.principal.name} reached the daily quota of "
                f"{self.config.daily_search_quota} searches"
            )
            self._notice("search_quota", ctx, case_id, message, now)
            retry = midnight + timedelta(days=1) - now
            raise TooManyAttempts(message, retry_after_s=int(retry.total_seconds()) + 1)
        message = f"case {case_id} reached its cap of {self.config.searches_per_case} searches"
        self._notice("case_cap", ctx, case_id, message, now)
        raise Conflict(message, case=case_id)

    @contextmanager
    def place(self, ctx: RequestContext, case_id: int, now: datetime) -> Iterator[int]:
        """A held place (``reserve``) for the search done inside; given back unless that
        search finished (a bad photo, a refusal or a crash costs no quota)."""
        held = self.reserve(ctx, case_id, now)
        finished = False
        try:
            yield held
            finished = True
        finally:
            if not finished:
                with self.db.write() as session:
                    session.execute(delete(CaseSearch).where(CaseSearch.id == held))

    def after_hours(
        self, session: Session, ctx: RequestContext, case_id: int, moment: datetime
    ) -> None:
        """A notice, in the search's own transaction, when it ran outside working hours."""
        if within(working_hours(self.config.working_hours), moment):
            return
        message = (
            f"{ctx.principal.name} searched case {case_id} at {moment:%H:%M} UTC, "
            f"outside working hours ({self.config.working_hours})"
        )
        raise_notice(
            self.access, session, "after_hours", ctx.principal.name, message,
            case_id=case_id, now=moment,
        )  # fmt: skip

    def opened(self, session: Session, ctx: RequestContext, case_id: int, now: datetime) -> None:
        """A notice, in the opening's own transaction, when someone opens many cases a day."""
        opened = session.scalar(
            select(func.count(CaseRow.id)).where(
                CaseRow.requested_by == ctx.principal.name,
                CaseRow.requested_at > now - timedelta(days=1),
            )
        )
        if opened and opened >= self.config.opened_per_day_notice:
            message = f"{ctx.principal.name} opened {opened} cases within 24 hours"
            raise_notice(
                self.access, session, "many_cases", ctx.principal.name, message,
                case_id=case_id, now=now,
            )  # fmt: skip

    def _notice(
        self, kind: str, ctx: RequestContext, case_id: int, message: str, now: datetime
    ) -> None:
        with self.db.write() as session:
            raise_notice(
                self.access, session, kind, ctx.principal.name, message, case_id=case_id, now=now
            )
