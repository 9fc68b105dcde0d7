"""Video files imported into a case: evidence of their own kind, never a camera's recording.

Someone brings a file (a shop's CCTV, a phone video, a Vigil export handed back). Its
sightings belong to the case it was imported into, which must be approved and include
imports in its scope; they are marked with the file's SHA-256 and who imported it, are
searched inside that case alone, and raise no watchlist alert.

Where and when it was recorded is the importer's word, with one exception: a file whose
SHA-256 is that of a Vigil export (the audit log holds every export's hash) is that export's
camera and range, whatever the importer says. So footage of a no-identification zone stays
out of reach: the camera and time must be inside the case's scope, and no zone in force may
reach them.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from vigil.analytics.analyzer import Progress, VideoAnalyzer
from vigil.analytics.service import ImportResult
from vigil.analytics.sightings import store_sightings
from vigil.auth.access import Access
from vigil.auth.roles import Permission, RequestContext
from vigil.crowds.zones import covers
from vigil.errors import Forbidden, InvalidInput
from vigil.investigations.cases import CaseService, searchable
from vigil.investigations.membership import case_data, scope_cameras
from vigil.recording.manifest import export_of, file_digest
from vigil.recording.playback import video_seconds
from vigil.times import checked_moment


class EvidenceImports:
    def __init__(self, access: Access, cases: CaseService, analyzer: VideoAnalyzer) -> None:
        self.access = access
        self.db = access.db
        self.cases = cases
        self.analyzer = analyzer

    def import_file(
        self,
        ctx: RequestContext,
        case_id: int,
        path: Path,
        camera: str | None = None,
        start: datetime | None = None,
        progress: Progress | None = None,
    ) -> ImportResult:
        """Analyse the file into the case's evidence, said to be ``camera``'s from ``start``
        (a Vigil export says where and when itself); audited as ``case.import``."""
        target = f"case:{case_id}"
        with self.access.attempt(ctx, Permission.CASES_SEARCH, "case.import", target):
            if not path.is_file():
                raise InvalidInput(f"{path} is not a file")
            seconds = video_seconds(path)
            digest, _ = file_digest(path)
            with self.db.read() as session:
                case = case_data(session, ctx, case_id)
                searchable(case, self.cases.config, datetime.now(UTC))
                if not case.imports:
                    raise Forbidden(
                        f"case {case_id}'s scope does not include imported files "
                        "(a case takes them when opened with imports)",
                        case=case_id,
                    )
                origin = export_of(session, digest)
                if origin is not None:
                    camera, start = origin.camera, origin.start
                if camera is None or start is None:
                    raise InvalidInput(
                        "say which camera of the case the file shows, and when it began "
                        "(--camera, --start)"
                    )
                start = checked_moment(start, "start")
                until = start + timedelta(seconds=seconds)
                scope = {c.name: c for c in scope_cameras(session, case_id)}
                found = scope.get(camera)
                if found is None:
                    raise Forbidden(
                        f"camera {camera} is not in case {case_id}'s scope", case=case_id
                    )
                if start < case.scope_start or until > case.scope_end:
                    raise Forbidden(
                        f"the file ({start.isoformat()} .. {until.isoformat()}) is not inside "
                        f"case {case_id}'s window",
                        case=case_id,
                    )
                if covers(session, found.id, start, until):
                    raise Forbidden(
                        f"camera {camera} is in a no-identification zone then: "
                        "its footage is not analysed for faces"
                    )
            sightings, stats = self.analyzer.analyse(
                path, start.timestamp(), progress, sample_fps=found.analysis_fps
            )
            with self.db.write() as session:
                ids = store_sightings(
                    session, found.id, sightings, source=f"import:{path.name}",
                    evidence_of=(case_id, digest, ctx.principal.name),
                )  # fmt: skip
                result = ImportResult(
                    camera, path.name, start, ids, 0, stats, case_id, digest,
                    None if origin is None else origin.audit_entry,
                )  # fmt: skip
                details = {k: v for k, v in result.to_dict().items() if k != "sighting_ids"}
                self.access.record(session, ctx, "case.import", target, details)
            return result
