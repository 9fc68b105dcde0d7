"""The composition root: builds every service from config and hands them out."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from vigil.analytics.alerts import AlertService
from vigil.analytics.analyzer import VideoAnalyzer
from vigil.analytics.expiry import expire_biometrics
from vigil.analytics.jobs import ProcessJobQueue, people_counter
from vigil.analytics.matching import Matcher, OperatingPoint
from vigil.analytics.service import AnalyticsService
from vigil.analytics.watchlists import WatchlistService
from vigil.audit.log import AuditLog
from vigil.audit.published import TransparencyPublications
from vigil.audit.service import AuditService
from vigil.audit.signing import SigningKey
from vigil.audit.transparency import TransparencyService
from vigil.audit.writer import AuditWriter
from vigil.auth.access import Access
from vigil.auth.login import PasswordLogin
from vigil.auth.passwords import Passwords
from vigil.auth.sessions import SessionService
from vigil.auth.tokens import TokenService
from vigil.auth.users import UserService
from vigil.cameras.groups import CameraGroups
from vigil.cameras.registry import CameraRegistry
from vigil.cameras.vault import Vault
from vigil.cluster.nodes import LiveRelay, NodeDirectory, SegmentFetcher
from vigil.cluster.state import queue_state
from vigil.cluster.worker import ClusterWorker, worker_name
from vigil.config import NODE_PATTERN, Config, load_config
from vigil.crowds.events import Events
from vigil.crowds.zones import NoIdZones
from vigil.errors import ConfigError, InvalidInput
from vigil.events.mqtt import AlertPublisher
from vigil.faces.build import build_face_engine
from vigil.faces.calibration import Calibration, load_calibration
from vigil.faces.descriptors import EMBEDDERS
from vigil.faces.service import FaceService
from vigil.investigations.cases import CaseService
from vigil.investigations.imports import EvidenceImports
from vigil.investigations.notices import NoticeService
from vigil.investigations.readahead import ReadAhead
from vigil.investigations.report import ReportService
from vigil.investigations.search import SearchService
from vigil.monitoring import Monitoring, QueueReader
from vigil.partners.metering import Metering
from vigil.partners.organisations import Partners
from vigil.partners.video import PartnerVideo
from vigil.publishing.broadcast import Broadcast
from vigil.publishing.limits import ClientLimiter, ClientLimits
from vigil.publishing.publications import Publications
from vigil.publishing.render import YuNetBoxes
from vigil.recording.files import SegmentFiles
from vigil.recording.index import SegmentIndex
from vigil.recording.live import LiveHub
from vigil.recording.media import MediaStore
from vigil.recording.recorder import Recorder
from vigil.recording.records import Segment
from vigil.recording.service import RecordingService, RemoteLive
from vigil.search.vectors import FaissDayIndex
from vigil.settings import analysis_settings, broadcast_settings, uploaded_photos
from vigil.store import migrate
from vigil.store.db import Database
from vigil.subjects.comparing import Comparisons
from vigil.subjects.erasure import SubjectErasure
from vigil.subjects.report import SubjectReports
from vigil.subjects.requests import SubjectRequests
from vigil.subjects.review import SubjectReview
from vigil.timetext import TimeText

if TYPE_CHECKING:
    from vigil.cluster.ingest import IngestNode


@dataclass(frozen=True, slots=True)
class Services:
    data_dir: Path
    config: Config
    db: Database
    audit: AuditLog
    access: Access
    audit_service: AuditService
    users: UserService
    tokens: TokenService
    sessions: SessionService
    login: PasswordLogin
    faces: FaceService
    cameras: CameraRegistry
    groups: CameraGroups
    recordings: RecordingService
    segments: SegmentIndex
    media: MediaStore
    live: LiveHub
    analytics: AnalyticsService
    vectors: FaissDayIndex
    watchlists: WatchlistService
    alerts: AlertService
    monitoring: Monitoring
    cases: CaseService
    imports: EvidenceImports
    search: SearchService
    read_ahead: ReadAhead
    reports: ReportService
    notices: NoticeService
    publications: Publications
    broadcast: Broadcast  # the public's
    public_limits: ClientLimiter
    transparency: TransparencyService
    transparency_reports: TransparencyPublications  # the published months
    partners: Partners
    metering: Metering
    partner_video: PartnerVideo
    events: Events
    zones: NoIdZones
    subjects: SubjectRequests
    subject_reports: SubjectReports
    erasure: SubjectErasure
    subject_review: SubjectReview
    subject_comparisons: Comparisons
    times: TimeText  # how pages and reports write a time

    def recorder(self, on_segment: Callable[[Segment], None] | None = None) -> Recorder:
        """The recorder of this process; it feeds ``live``, so live view needs it running.

        Its retention pass also expires the biometric data of unmatched sightings and seals
        urgent cases that were not approved in time.
        """
        retention = timedelta(hours=self.config.analytics.biometric_retention_h)
        return Recorder(
            self.access,
            self.cameras,
            self.segments,
            self.media,
            self.live,
            self.config.recording,
            on_segment,
            housekeeping=[
                lambda: expire_biometrics(self.access, retention),
                self.cases.seal_overdue,
            ],
        )

    def alert_publishers(self) -> list[AlertPublisher]:
        """MQTT publishing of new face and occupancy alerts, when a broker is configured."""
        if not self.config.events.mqtt_host:
            return []
        events = self.config.events
        return [
            AlertPublisher(events, self.alerts.since, self.alerts.newest()),
            AlertPublisher(
                events, self.events.occupancy_since, self.events.newest_occupancy(), "occupancy"
            ),
        ]

    def analysis(self) -> ProcessJobQueue:
        """Segment analysis in worker processes; the caller starts the pipeline on the queue."""
        pipeline = self.analytics.pipeline
        return ProcessJobQueue(
            pipeline.store_result,
            pipeline.store_failure,
            workers=self.config.analytics.workers,
            faces=self.config.faces,
            settings=analysis_settings(self.config.analytics),
            counting=self.config.counting,
        )

    def ingest_node(self) -> IngestNode:
        """This process as a cluster ingest node: job publishing and the internal endpoint."""
        # Its web server (FastAPI, uvicorn) loads where a node runs, not in every command.
        from vigil.cluster.ingest import IngestNode  # noqa: PLC0415

        cluster = self.config.cluster
        return IngestNode(cluster, self.segments, self.media, self.live, NodeDirectory(self.db))

    def cluster_worker(self, threads: int) -> ClusterWorker:
        """A cluster analysis worker; ONNX Runtime gets ``threads`` of the cores."""
        cluster = self.config.cluster
        engine = build_face_engine(self.config.faces, threads=threads)
        scratch = self.data_dir / "tmp"
        scratch.mkdir(exist_ok=True)
        return ClusterWorker(
            cluster,
            self.analytics.pipeline,
            VideoAnalyzer(engine, analysis_settings(self.config.analytics, threads)),
            self.analytics.files,
            scratch,
            worker_name(),
            people_counter(self.config.counting, threads),
        )

    def serve_people(self) -> None:
        """For a process that serves people (the API): each case approved here has its
        cameras' days read into the vector index at once, so that its first search need not
        wait for them; approved subject requests are compared in the background."""
        if self.read_ahead.case_approved not in self.cases.approved:
            self.cases.approved.append(self.read_ahead.case_approved)
        self.subject_comparisons.start()

    def close(self) -> None:
        self.subject_comparisons.close()
        self.broadcast.close()
        self.partner_video.close()
        self.events.walls.close()
        self.segments.close()
        self.access.writer.close()
        self.search.close()
        self.db.dispose()


def segment_files(config: Config, media: MediaStore, db: Database) -> SegmentFiles:
    """Segment bytes: from this machine's media store; in a cluster, those other nodes
    recorded from those nodes."""
    if not config.cluster.enabled:
        return SegmentFiles(media)
    secret = config.cluster.secret.get_secret_value()
    return SegmentFiles(media, SegmentFetcher(NodeDirectory(db), secret).fetch)


def remote_live(config: Config, db: Database) -> RemoteLive | None:
    """Live views of cameras another cluster node records, relayed; none when embedded."""
    if not config.cluster.enabled:
        return None
    return LiveRelay(NodeDirectory(db), config.cluster.secret.get_secret_value()).open


def queue_reader(config: Config) -> QueueReader | None:
    """How the cluster's work queue is read (status, metrics); none when embedded."""
    return partial(queue_state, config.cluster) if config.cluster.enabled else None


def with_node(config: Config, node: str) -> Config:
    if not config.cluster.enabled:
        raise ConfigError("--node needs cluster mode: [cluster] nats_url in vigil.toml")
    if not re.fullmatch(NODE_PATTERN, node):
        raise InvalidInput(f"{node!r} is not a node name (letters, digits, '_.-')")
    return config.model_copy(update={"cluster": config.cluster.model_copy(update={"node": node})})


def other_points(data_dir: Path, configured: Calibration) -> dict[str, float]:
    """Each other embedder's match point: results and alerts stored under another embedder
    are judged by their own space's point."""
    return {
        embedder: load_calibration(data_dir, embedder).match_threshold
        for embedder in EMBEDDERS
        if embedder != configured.embedder
    }


def open_database(config: Config, data_dir: Path) -> Database:
    return Database(
        config.database_url(data_dir),
        echo=config.database.echo,
        sqlite_synchronous=config.database.sqlite_synchronous,
        connect_timeout_s=config.database.connect_timeout_s,
    )


def build_services(data_dir: Path, config: Config, db: Database, key: SigningKey) -> Services:
    audit = AuditLog(key, head_interval_s=config.audit.head_interval_s)
    access = Access(db, audit, AuditWriter(db, audit))
    passwords = Passwords(config.auth.password_memory_kib, config.auth.password_passes)
    # A cluster's ingest node records (and later prunes) segments as its own.
    segments = SegmentIndex(
        db,
        config.cluster.node or None if config.cluster.enabled else None,
        config.recording.index_every_s,
    )
    media = MediaStore(config.media_root(data_dir), min_free_bytes=config.recording.min_free_bytes)
    live = LiveHub()
    files = segment_files(config, media, db)
    calibration = load_calibration(data_dir, config.faces.embedder)
    engine = build_face_engine(config.faces, calibration=calibration)
    photos = uploaded_photos(config.faces)
    point = OperatingPoint.of(config.faces, calibration, other_points(data_dir, calibration))
    times = TimeText.named(config.ui.time_zone)
    transparency = TransparencyService(access, audit, key)
    matcher = Matcher(access, point, timedelta(seconds=config.analytics.alert_merge_s))
    vectors = FaissDayIndex(db, calibration.space, config.cases.search_memory_mib * 2**20)
    cases = CaseService(access, config.cases)
    analyzer = VideoAnalyzer(engine, analysis_settings(config.analytics))
    publications = Publications(access)
    partners, metering = Partners(access), Metering(access)
    scratch = data_dir / "tmp"
    subjects = SubjectRequests(access, engine, photos, point)
    return Services(
        data_dir=data_dir,
        config=config,
        db=db,
        audit=audit,
        access=access,
        audit_service=AuditService(access, audit),
        users=UserService(access, passwords),
        tokens=TokenService(access, config.auth),
        sessions=SessionService(access, config.auth),
        login=PasswordLogin(access, passwords, config.auth),
        faces=FaceService(access, engine, photos),
        cameras=CameraRegistry(access, Vault.open(data_dir), config.import_root(data_dir)),
        groups=CameraGroups(access),
        recordings=RecordingService(
            access,
            segments,
            files,
            live,
            key,
            remote_live(config, db),
            blur_rate=(config.publishing.fps, 1),
        ),
        segments=segments,
        media=media,
        live=live,
        analytics=AnalyticsService(
            access,
            analyzer,
            segments,
            files,
            matcher,
            data_dir / "tmp",
            people_counter(config.counting, 1),
        ),
        vectors=vectors,
        watchlists=WatchlistService(access, engine, photos),
        alerts=AlertService(access),
        monitoring=Monitoring(access, segments, queue_reader(config), vectors),
        cases=cases,
        imports=EvidenceImports(access, cases, analyzer),
        search=SearchService(access, cases, engine, photos, vectors, point),
        read_ahead=ReadAhead(db, vectors, engine.space.embedder),
        reports=ReportService(access, point, times),
        notices=NoticeService(access),
        publications=publications,
        broadcast=Broadcast(
            segments, files, scratch, broadcast_settings(config), shown=publications.is_public
        ),
        partners=partners,
        metering=metering,
        events=Events(access),
        zones=NoIdZones(access),
        subjects=subjects,
        subject_reports=SubjectReports(access, YuNetBoxes(), key, times),
        erasure=SubjectErasure(access),
        subject_review=SubjectReview(access),
        subject_comparisons=Comparisons(subjects),
        partner_video=PartnerVideo(
            access, partners, metering, segments, files, scratch, broadcast_settings(config), key
        ),
        transparency=transparency,
        transparency_reports=TransparencyPublications(access, transparency, times),
        times=times,
        public_limits=ClientLimiter(
            ClientLimits(
                config.publishing.requests_per_minute, config.publishing.streams_per_client
            )
        ),
    )


def open_services(
    data_dir: Path, *, migrate_schema: bool = False, node: str | None = None
) -> Services:
    """Services of an initialised data directory; the schema must be current unless migrated.

    ``node`` names this process as a cluster node (over ``[cluster] node``).
    """
    config = load_config(data_dir)
    if node is not None:
        config = with_node(config, node)
    db = open_database(config, data_dir)
    if migrate_schema:
        migrate.upgrade(db)
    else:
        migrate.check(db)
    return build_services(data_dir, config, db, SigningKey.load(data_dir))
