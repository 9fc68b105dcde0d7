"""The audit log as people reach it: permission checks, and every read itself audited."""

from __future__ import annotations

from dataclasses import asdict

from vigil.audit.entry import AuditEntry
from vigil.audit.log import AuditLog, ConsistencyProof, EntryFilter, InclusionProof
from vigil.audit.signing import TreeHead
from vigil.audit.verify import VerifyReport, verify_log
from vigil.auth.access import Access
from vigil.auth.roles import Permission, RequestContext


class AuditService:
    def __init__(self, access: Access, log: AuditLog) -> None:
        self.access = access
        self.db = access.db
        self.log = log

    def entries(self, ctx: RequestContext, flt: EntryFilter) -> list[AuditEntry]:
        reading = self.access.reading(ctx, Permission.AUDIT_READ, "audit.list", "audit")
        with reading as (session, details):
            details["filter"] = {k: v for k, v in asdict(flt).items() if v is not None}
            return self.log.entries(session, flt)

    def entry(self, ctx: RequestContext, seq: int) -> AuditEntry:
        target = f"audit:{seq}"
        with self.access.reading(ctx, Permission.AUDIT_READ, "audit.read", target) as (session, _):
            return self.log.entry(session, seq)

    def head(self, ctx: RequestContext) -> TreeHead:
        """The latest signed head, covering the record of this very request."""
        self.access.require(ctx, Permission.AUDIT_VERIFY, "audit.head", "audit")
        with self.db.write() as session:
            self.access.record(session, ctx, "audit.head", "audit")
            return self.log.sign_head(session)

    def inclusion(self, ctx: RequestContext, seq: int, size: int | None) -> InclusionProof:
        target = f"audit:{seq}"
        with (
            self.access.attempt(ctx, Permission.AUDIT_VERIFY, "audit.prove", target),
            self.db.write() as session,
        ):
            self.access.record(session, ctx, "audit.prove", target, {"size": size})
            return self.log.inclusion_proof(session, seq, size)

    def consistency(self, ctx: RequestContext, old: int, new: int) -> ConsistencyProof:
        target = f"audit:{old}..{new}"
        reading = self.access.reading(ctx, Permission.AUDIT_VERIFY, "audit.consistency", target)
        with reading as (session, _):
            return self.log.consistency_proof(session, old, new)

    def verify(self, ctx: RequestContext) -> VerifyReport:
        self.access.require(ctx, Permission.AUDIT_VERIFY, "audit.verify", "audit")
        self.access.writer.drain()  # changes' records committed and not yet in the tree
        with self.db.engine.connect() as conn:
            report = verify_log(conn, self.log.key.public_key)
        details = {"ok": report.ok, "entries": report.entries, "first_bad": report.first_bad_seq}
        self.access.record_alone(ctx, "audit.verify", "audit", details)
        return report
