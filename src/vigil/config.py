"""Configuration: pydantic models per domain, read from ``vigil.toml`` in the data directory."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Literal

import tomli_w
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, model_validator

from vigil.errors import ConfigError, NotInitialised
from vigil.timetext import zone_problem

CONFIG_FILE = "vigil.toml"
NODE_PATTERN = r"^[A-Za-z0-9_.-]{1,64}$"  # a cluster node's name


class Section(BaseModel):
    """Base of every config section: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class DatabaseConfig(Section):
    # Empty means the embedded default: SQLite in the data directory.
    url: SecretStr = SecretStr("")
    echo: bool = False
    # FULL makes every commit durable across power loss, audit records included.
    sqlite_synchronous: Literal["NORMAL", "FULL"] = "FULL"
    # PostgreSQL: seconds to wait for a server that does not answer (a hung host, a network
    # that drops packets) before the write or read in hand fails, instead of waiting on.
    connect_timeout_s: int = Field(default=10, ge=2, le=300)


class ApiConfig(Section):
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    # multipart/form-data (photo uploads): two images of faces.max_image_bytes fit.
    max_upload_bytes: int = Field(default=48 * 1024 * 1024, ge=1024)
    # Set when served over TLS (directly or behind a proxy): the session cookie is Secure.
    cookie_secure: bool = False
    # Addresses of reverse proxies whose X-Forwarded-For/-Proto are believed; from anyone
    # else (local callers included) those headers are ignored.
    trusted_proxies: list[str] = Field(default_factory=list)


class AuthConfig(Section):
    session_hours: float = Field(default=12.0, gt=0, le=24 * 30)
    # At most a year (vigil.auth.tokens.MAX_TOKEN_DAYS); the API schema states the same bound.
    token_default_days: int = Field(default=90, ge=1, le=365)
    login_max_failures: int = Field(default=5, ge=1)
    login_window_s: int = Field(default=900, ge=1)
    # Passwords are hashed with argon2id: by default RFC 9106's second recommended option
    # (64 MiB, 3 passes; about 0.17 s a hash here), at least OWASP's minimum (19 MiB, 2
    # passes). A stored hash keeps its own cost: a change applies to passwords set after it.
    password_memory_kib: int = Field(default=65536, ge=19456, le=2**22)
    password_passes: int = Field(default=3, ge=2, le=20)


class AuditConfig(Section):
    # A signed tree head is added at most this often while entries are appended;
    # ``vigil audit head`` always signs one covering everything first.
    head_interval_s: float = Field(default=1.0, ge=0.0, le=3600.0)


class FacesConfig(Section):
    @model_validator(mode="before")
    @classmethod
    def _runtime_was_embedder(cls, data: Any) -> Any:
        """``embedder = "onnx"`` once chose what ran dlib's ResNet: it means dlib's."""
        if isinstance(data, dict) and data.get("embedder") == "onnx":
            return data | {"embedder": "dlib"}
        return data

    # "yunet" (a small CNN on ONNX Runtime: 24 ms a 720p frame here, faces from 20 px);
    # "hog" (dlib's HOG: 300 ms a 720p frame with upsample 1, faces from 40 px); "mmod"
    # (dlib's CNN, about 1 s a 512x512 image on a CPU).
    detector: Literal["yunet", "hog", "mmod"] = "yunet"
    # YuNet looks for faces this small (their width, in the frame's pixels): 20 searches a
    # frame at full size, 40 at half (a quarter of the cost).
    smallest_face_px: int = Field(default=20, ge=10, le=400)
    # Which descriptor recognises faces: dlib's ResNet ("dlib", 128-d), Intel's
    # face-reidentification-retail-0095 ("reid", 256-d) or both, their distances combined
    # ("fused"). Chosen by measurement: see the README's "Recognition" table.
    embedder: Literal["dlib", "reid", "fused"] = "fused"
    # dlib's ResNet run by ONNX Runtime (same weights, ~15x faster here) or by dlib itself.
    dlib_runtime: Literal["onnx", "dlib"] = "onnx"
    # HOG upsampling: 1 finds faces down to ~40 px at 4x the cost of 0 (YuNet ignores it).
    upsample: int = Field(default=1, ge=0, le=3)
    # Same person at or below this descriptor distance (1:1 compare) and the farthest search
    # candidates shown; unset, the embedder's calibration gives it (about FMR 1e-2). `vigil
    # faces calibrate` sets it to the FMR 1e-3 point and records the others for alerts and
    # search. Distances are the configured embedder's: change it, and calibrate again.
    threshold: float | None = Field(default=None, gt=0.0, lt=2.0)
    threshold_fmr_1e3: float | None = Field(default=None, gt=0.0, lt=2.0)
    threshold_fmr_1e4: float | None = Field(default=None, gt=0.0, lt=2.0)
    threshold_eer: float | None = Field(default=None, gt=0.0, lt=2.0)
    flip_average: bool = True
    max_image_bytes: int = Field(default=20 * 1024 * 1024, ge=1024)
    max_image_pixels: int = Field(default=40_000_000, ge=10_000)
    # Faces are looked for in a copy scaled down to this many pixels (then located at full
    # size): a 36-megapixel upload costs what a 4-megapixel one does.
    detect_max_pixels: int = Field(default=4_000_000, ge=100_000)
    min_face_px: int = Field(default=40, ge=10)
    # Uploaded photos analysed at once in one process; more wait up to busy_wait_s, then
    # get 503. Each user may send this many photos a minute (then 429).
    max_concurrent: int = Field(default=2, ge=1, le=64)
    busy_wait_s: float = Field(default=1.0, ge=0.0, le=30.0)
    photos_per_minute: int = Field(default=30, ge=1, le=10_000)


class RecordingConfig(Section):
    # Where segment files go; empty means "media" in the data directory.
    media_dir: str = ""
    # The only place file:// camera sources may read from; empty: "imports" in the data dir.
    import_dir: str = ""
    # Segments are cut on the first keyframe after this many seconds.
    segment_s: float = Field(default=4.0, ge=1.0, le=60.0)
    retain_days: float = Field(default=30.0, gt=0)
    # Disk budget for all segments; none means only the free-space reserve limits it.
    max_bytes: int | None = Field(default=None, ge=1_000_000)
    # Recording stops (and says so) rather than fill the disk past this reserve.
    min_free_bytes: int = Field(default=1024**3, ge=0)
    # Each camera's newest footage that retention never deletes to make room: when only
    # that (or held footage) is left, the disk is under pressure and recording waits.
    floor_hours: float = Field(default=1.0, ge=0, le=24 * 365)
    # Retention keeps free space for this many seconds of writing beyond the reserve,
    # and runs each time a quarter of it has been written.
    headroom_s: float = Field(default=60.0, ge=1, le=3600)
    # A connection attempt that takes longer is given up (and retried after the backoff).
    open_timeout_s: float = Field(default=5.0, gt=0, le=120)
    read_timeout_s: float = Field(default=5.0, gt=0, le=120)
    # Reconnect delays double from the first to the cap; the cap bounds how late
    # recording resumes after a camera comes back.
    backoff_initial_s: float = Field(default=0.5, gt=0, le=60)
    backoff_max_s: float = Field(default=2.0, gt=0, le=300)
    retention_interval_s: float = Field(default=60.0, ge=1.0)
    # Closed segments' rows are written in one transaction this often (0: at once, sharing
    # one only with segments closing at the same moment); recording never waits on them,
    # their analysis starts once they are written. An ingest node of many cameras sets 1:
    # one transaction a second whatever its camera count.
    index_every_s: float = Field(default=0.0, ge=0.0, le=10.0)


class UiConfig(Section):
    # The city's time zone (IANA name): every page and report shows times in it, named.
    time_zone: str = "UTC"
    # The cameras' map is drawn offline; a deployment with a tile server may name it
    # ("https://tiles.example.org/{z}/{x}/{y}.png") with the attribution it asks for.
    map_tiles: str = ""
    map_attribution: str = ""

    @model_validator(mode="after")
    def _known_zone(self) -> UiConfig:
        problem = zone_problem(self.time_zone)
        if problem is not None:
            raise ValueError(problem)
        return self

    @model_validator(mode="after")
    def _tile_server(self) -> UiConfig:
        if not self.map_tiles:
            return self
        if not self.map_tiles.startswith(("https://", "http://")) or any(
            part not in self.map_tiles for part in ("{z}", "{x}", "{y}")
        ):
            raise ValueError("map_tiles is an http(s) URL with {z}, {x} and {y} in it")
        if not self.map_attribution.strip():
            raise ValueError("map_tiles needs its map_attribution (the tiles' licence asks it)")
        return self

    @property
    def tile_origin(self) -> str:
        """The tile server's origin (the pages may load images from it), or ""."""
        if not self.map_tiles:
            return ""
        scheme, _, rest = self.map_tiles.partition("://")
        return f"{scheme}://{rest.split('/', 1)[0]}"


class PublishingConfig(Section):
    # Public video is this many seconds behind the camera (at least 10).
    delay_s: float = Field(default=15.0, ge=10.0, le=600.0)
    # Frames a second of public video; faces are searched in every one of them.
    fps: int = Field(default=5, ge=1, le=30)
    # A camera's public rendering stops this long after its last viewer left.
    idle_s: float = Field(default=60.0, ge=5.0, le=3600.0)
    # Per client address on the public path (no login there).
    requests_per_minute: int = Field(default=60, ge=1, le=10_000)
    streams_per_client: int = Field(default=2, ge=1, le=100)


class CountingConfig(Section):
    # Count people (YOLOX-Nano) in every recorded segment, in its analysis job: numbers only.
    enabled: bool = True
    # One count this often (seconds of video); events chart and check limits from them.
    every_s: float = Field(default=2.0, ge=0.2, le=60.0)
    # Large frames are also searched in 416 px tiles at this multiple of their resolution
    # (1: as recorded; 0: the whole frame only). Larger finds more of a distant crowd,
    # at a cost that grows with its square.
    tile_scale: float = Field(default=1.0, ge=0.0, le=4.0)
    # The person score (objectness x class) a box needs to be counted.
    score: float = Field(default=0.35, gt=0.0, lt=1.0)


class AnalyticsConfig(Section):
    # Analyse every recorded segment for faces (in worker processes).
    enabled: bool = True
    workers: int = Field(default=1, ge=1, le=64)
    sample_fps: float = Field(default=5.0, gt=0, le=60)
    # Mean change (0-255) of a 64x36 gray thumbnail below which a frame is "still".
    motion_threshold: float = Field(default=1.5, ge=0)
    # Good faces of a track, chosen to differ, whose descriptors the sighting keeps (at most
    # vigil.faces.model.MAX_DESCRIPTORS); probes are compared with each.
    best_per_track: int = Field(default=5, ge=1, le=8)
    # Back-pressure: a segment that ended more than busy_lag_s ago when its analysis starts
    # (analysis is behind) is sampled at a rate falling in step with the lag from its
    # camera's to min_sample_fps at lag_bound_s; its lowered rate is kept and `vigil status`
    # counts such segments.
    busy_lag_s: float = Field(default=6.0, ge=1.0, le=86_400)
    lag_bound_s: float = Field(default=12.0, ge=2.0, le=86_400)
    min_sample_fps: float = Field(default=2.0, gt=0, le=60)
    # Hours after which sightings that matched no watchlist entry lose crop and descriptor.
    biometric_retention_h: float = Field(default=72.0, gt=0, le=24 * 365)
    # A match this soon after an alert's last sighting (same entry, same camera) joins that
    # alert instead of raising another: one alert per appearance. 0 raises one per sighting.
    alert_merge_s: float = Field(default=30.0, ge=0, le=3600)

    @model_validator(mode="after")
    def _bound_above_busy(self) -> AnalyticsConfig:
        if self.lag_bound_s <= self.busy_lag_s:
            raise ValueError("[analytics] lag_bound_s must be above busy_lag_s")
        return self


class EventsConfig(Section):
    # MQTT broker for alert events; empty means none (the embedded default).
    mqtt_host: str = ""
    mqtt_port: int = Field(default=1883, ge=1, le=65535)
    mqtt_topic_prefix: str = Field(default="vigil", pattern=r"^[A-Za-z0-9_./-]{1,64}$")
    # Vigil's own account at the broker, whose ACL lets it write <prefix>/#; the password
    # is read from this file (kept out of the config), when a username is set.
    mqtt_username: str = Field(default="", max_length=128)
    mqtt_password_file: str = ""


class CasesConfig(Section):
    # Searches one person may run per calendar day (UTC); beyond it they are refused.
    daily_search_quota: int = Field(default=50, ge=1, le=10_000)
    # Searches a case may hold in all; beyond it they are refused.
    searches_per_case: int = Field(default=200, ge=1, le=100_000)
    # Cases one person opens within 24 hours that make a notice to supervisors.
    opened_per_day_notice: int = Field(default=5, ge=1, le=1000)
    # Searches outside these hours (UTC, start-end; 00:00-00:00: none) make a notice.
    working_hours: str = Field(default="06:00-20:00", pattern=r"^\d{2}:\d{2}-\d{2}:\d{2}$")
    # An urgent case not approved within this many hours is sealed: results deleted.
    urgent_approval_h: float = Field(default=48.0, gt=0, le=48.0)
    # The longest a case may run before it expires.
    max_days: int = Field(default=365, ge=1, le=3650)
    # The memory (MiB) the search index keeps between searches; beyond it, the camera-days
    # least recently searched are let go and read from the store again when next searched.
    search_memory_mib: int = Field(default=2048, ge=16, le=2**22)


class ClusterConfig(Section):
    # The cluster's NATS server(s), comma-separated; empty means the embedded default (one
    # machine, an in-process job queue). Cluster mode keeps its data in [database] url,
    # which must then be PostgreSQL.
    nats_url: str = ""
    # This process's node name: an ingest node records the cameras assigned to it
    # (``vigil camera assign``). ``vigil record --node`` overrides it.
    node: str = Field(default="", pattern=r"^[A-Za-z0-9_.-]{0,64}$")
    # Shared by the cluster's nodes: workers and API nodes show it to an ingest node to read
    # its segments (the internal endpoint). At least 32 characters.
    secret: SecretStr = SecretStr("")
    # Where an ingest node serves its segments to workers and API nodes, and the URL they
    # reach it at (empty: http://internal_host:internal_port).
    internal_host: str = "127.0.0.1"
    internal_port: int = Field(default=8090, ge=1, le=65535)
    internal_url: str = Field(default="", pattern=r"^(https?://[^\s/]+)?$")
    # A job not acknowledged this long after its delivery (a worker killed, a host lost) is
    # delivered again; a working worker says "in progress" every third of it.
    ack_wait_s: float = Field(default=30.0, ge=2.0, le=3600.0)
    # Deliveries of one job before it goes to the dead-letter subject.
    max_deliver: int = Field(default=10, ge=2, le=1000)
    # Copies of each stream in a NATS cluster: 3 (R3) survives losing one NATS server.
    stream_replicas: int = Field(default=1, ge=1, le=5)

    @property
    def enabled(self) -> bool:
        return bool(self.nats_url)

    def advertised_url(self) -> str:
        return self.internal_url or f"http://{self.internal_host}:{self.internal_port}"


MIN_CLUSTER_SECRET = 32


class Config(Section):
    database: DatabaseConfig = DatabaseConfig()
    api: ApiConfig = ApiConfig()
    auth: AuthConfig = AuthConfig()
    audit: AuditConfig = AuditConfig()
    faces: FacesConfig = FacesConfig()
    recording: RecordingConfig = RecordingConfig()
    analytics: AnalyticsConfig = AnalyticsConfig()
    counting: CountingConfig = CountingConfig()
    events: EventsConfig = EventsConfig()
    cases: CasesConfig = CasesConfig()
    cluster: ClusterConfig = ClusterConfig()
    publishing: PublishingConfig = PublishingConfig()
    ui: UiConfig = UiConfig()

    @model_validator(mode="after")
    def _cluster_needs_postgres(self) -> Config:
        if not self.cluster.enabled:
            return self
        if not self.database.url.get_secret_value().startswith("postgresql"):
            raise ValueError("cluster mode needs [database] url on PostgreSQL (shared by nodes)")
        if len(self.cluster.secret.get_secret_value()) < MIN_CLUSTER_SECRET:
            raise ValueError(f"cluster mode needs [cluster] secret of {MIN_CLUSTER_SECRET}+ chars")
        return self

    def database_url(self, data_dir: Path) -> str:
        url = self.database.url.get_secret_value()
        return url or f"sqlite:///{(data_dir / 'vigil.db').resolve()}"

    def media_root(self, data_dir: Path) -> Path:
        return Path(self.recording.media_dir) if self.recording.media_dir else data_dir / "media"

    def import_root(self, data_dir: Path) -> Path:
        chosen = self.recording.import_dir
        return Path(chosen) if chosen else data_dir / "imports"


def load_config(data_dir: Path) -> Config:
    """Read ``vigil.toml``; a missing data directory or file means ``vigil init`` was not run."""
    path = data_dir / CONFIG_FILE
    if not path.is_file():
        raise NotInitialised(
            f"no Vigil data directory at {data_dir} (no {CONFIG_FILE}); run 'vigil init' first",
            data_dir=str(data_dir),
        )
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from exc
    return parse_config(raw, source=str(path))


def parse_config(raw: dict[str, Any], *, source: str = "config") -> Config:
    try:
        return Config.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise ConfigError(f"{source}: {problems}") from exc


def render_config(config: Config) -> str:
    """TOML text of a config, secrets included (the file is private to the data directory)."""
    data = config.model_dump(mode="python", exclude_none=True)
    data["database"]["url"] = config.database.url.get_secret_value()
    data["cluster"]["secret"] = config.cluster.secret.get_secret_value()
    return tomli_w.dumps(data)


def save_config(data_dir: Path, config: Config) -> None:
    """Replace ``vigil.toml`` atomically (write aside, then rename), keeping it private."""
    path = data_dir / CONFIG_FILE
    aside = path.with_suffix(".toml.new")
    aside.write_text(render_config(config), encoding="utf-8")
    aside.chmod(0o600)
    aside.replace(path)
