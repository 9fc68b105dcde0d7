"""Third parties' video: live and exported, faces blurred, watermarked, metered.

Each organisation has broadcasts of its own (``publishing.broadcast``, stamped with its
watermark), shared by its keys: the picture is rendered once per organisation and camera
however many of its people watch. A stream is metered fragment by fragment as it goes out,
and its key is checked every second: once the key is revoked, expires, loses the camera
or uses up its quota, the stream ends. An export renders the range the same way (redacted,
watermarked) into one MP4, with a signed manifest naming the organisation: it ends at least
the partner delay before now (else polling exports would be a live feed without the delay),
its seconds are reserved from the quota before rendering, and a key exports one at a time.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from vigil.audit.signing import SigningKey
from vigil.auth.access import Access
from vigil.auth.roles import RequestContext
from vigil.errors import InvalidInput, NotFound, TooManyAttempts, VigilError
from vigil.partners.grants import Grant
from vigil.partners.metering import Meter, Metering
from vigil.partners.organisations import Partners
from vigil.partners.watermark import Watermark
from vigil.publishing.broadcast import Broadcast, BroadcastFeed, BroadcastSettings
from vigil.publishing.limits import ClientLimiter, ClientLimits
from vigil.publishing.render import render_redacted
from vigil.recording.files import SegmentFiles, new_clip
from vigil.recording.fmp4 import media_seconds
from vigil.recording.index import SegmentIndex
from vigil.recording.manifest import EVERY_FACE, Redaction, export_manifest
from vigil.recording.service import TimeRange

CHECK_S = 1.0  # how often an open stream checks its key
# Exports are rendered (every frame searched for faces) while the caller waits.
MAX_EXPORT = timedelta(minutes=2)
# Per key: enough for a control room's few screens, not for scraping.
KEY_LIMITS = ClientLimits(requests_per_minute=120, streams=4)


@dataclass(frozen=True, slots=True)
class PartnerClip:
    path: Path  # a temporary file the caller deletes
    start: datetime
    end: datetime
    seconds: float
    manifest: dict[str, Any]


class PartnerVideo:
    def __init__(
        self,
        access: Access,
        partners: Partners,
        metering: Metering,
        index: SegmentIndex,
        files: SegmentFiles,
        scratch: Path,
        settings: BroadcastSettings,
        signing: SigningKey,
    ) -> None:
        self.access = access
        self.partners = partners
        self.metering = metering
        self.index = index
        self.files = files
        self.scratch = scratch
        self.settings = settings
        self.signing = signing
        self.limits = ClientLimiter(KEY_LIMITS)
        self._broadcasts: dict[int, Broadcast] = {}
        self._exports: set[int] = set()  # keys exporting now
        self._lock = threading.Lock()

    def _broadcast(self, grant: Grant) -> Broadcast:
        """The organisation's broadcasts (one channel per camera), made on first use."""
        org = grant.organisation_id
        with self._lock:
            if org not in self._broadcasts:
                self._broadcasts[org] = Broadcast(
                    self.index,
                    self.files,
                    self.scratch,
                    self.settings,
                    shown=lambda camera_id: self.partners.grants.reaches(org, camera_id),
                    stamp=Watermark(grant.title),
                    audience=f"organisation {grant.organisation}",
                )
            return self._broadcasts[org]

    async def watch(self, ctx: RequestContext, grant: Grant, name: str) -> AsyncIterator[bytes]:
        """The camera for the key's organisation, as an endless fragmented MP4; metered,
        and ended within CHECK_S of the key's revocation, expiry or quota."""
        key = f"key:{grant.key_id}"
        with self.access.attempt(ctx, None, "partner.watch", f"camera:{name}"), ExitStack() as held:
            self.limits.request(key)
            camera_id = grant.camera_id(name)
            grant.require_quota()
            held.enter_context(self.limits.stream(key))
            feed = await self._broadcast(grant).watch(camera_id, name)
            held.callback(feed.close)
            meter = await asyncio.to_thread(self.metering.open, ctx, grant, name, "live")
            return self._metered(ctx, name, feed, meter, held.pop_all())

    async def _metered(
        self, ctx: RequestContext, name: str, feed: BroadcastFeed, meter: Meter, held: ExitStack
    ) -> AsyncIterator[bytes]:
        """The feed's chunks, each metered as it goes out, while the key allows it."""
        chunks = aiter(feed.chunks())
        next_chunk: asyncio.Future[bytes] | None = None
        checked = time.monotonic()
        reason = "the viewer left"
        try:
            while True:
                if next_chunk is None:
                    next_chunk = asyncio.ensure_future(anext(chunks))
                await asyncio.wait({next_chunk}, timeout=CHECK_S)
                if time.monotonic() - checked >= CHECK_S or next_chunk.done():
                    checked = time.monotonic()
                    refusal = await asyncio.to_thread(self._refusal, meter.grant.key_id, name)
                    if refusal is not None:
                        reason = refusal
                        return
                if not next_chunk.done():
                    continue
                try:
                    chunk = next_chunk.result()
                except StopAsyncIteration:
                    reason = "the camera's stream ended"
                    return
                next_chunk = None
                seconds = media_seconds(feed.init, chunk)
                await asyncio.to_thread(meter.add, seconds, len(chunk))
                yield chunk
        finally:
            if next_chunk is not None:
                next_chunk.cancel()
            held.close()  # the feed, and the key's stream slot
            await asyncio.to_thread(self.metering.close, ctx, meter, reason)

    def _refusal(self, key_id: int, name: str) -> str | None:
        """Why the key may no longer watch the camera, or None."""
        try:
            self.partners.grants.recheck(key_id).camera_id(name)
        except VigilError as exc:
            return exc.message
        return None

    def export(self, ctx: RequestContext, grant: Grant, name: str, span: TimeRange) -> PartnerClip:
        """The range (inside the key's window, at most MAX_EXPORT, ending at least the
        partner delay ago) rendered redacted and watermarked into one MP4; its seconds are
        reserved from the key's quota before rendering, one export per key at a time."""
        with self.access.attempt(ctx, None, "partner.export", f"camera:{name}"):
            self.limits.request(f"key:{grant.key_id}")
            camera_id = grant.camera_id(name)
            if span.start < grant.valid_from or span.end > grant.valid_until:
                raise InvalidInput("the key exports only footage recorded inside its window")
            latest = datetime.now(UTC) - timedelta(seconds=self.settings.delay_s)
            if span.end > latest:
                raise InvalidInput(
                    f"an export ends at least {self.settings.delay_s:g} s before now, "
                    f"as the live picture is delayed (at the latest {latest.isoformat()})",
                    field="end",
                )
            span.limit(MAX_EXPORT)
            grant.require_quota((span.end - span.start).total_seconds())
            segments = self.index.between(camera_id, span.start, span.end)
            if not segments:
                raise NotFound(f"nothing of {name} was recorded in that range", camera=name)
            with self._exporting(grant.key_id), new_clip(self.scratch, "partner-") as path:
                meter = self.metering.reserve(
                    ctx, grant, name, (span.end - span.start).total_seconds()
                )
                delivered = False
                try:
                    rendered = render_redacted(
                        self.files, self.scratch, segments,
                        (span.start.timestamp(), span.end.timestamp()), path,
                        (self.settings.fps, self.settings.threads), Watermark(grant.title),
                    )  # fmt: skip
                    meter.add(rendered.seconds, path.stat().st_size)
                    start, end = rendered.span
                    manifest = export_manifest(
                        self.access, self.signing, ctx, name, start, end,
                        len(segments), path, grant.title, Redaction(EVERY_FACE),
                    )  # fmt: skip
                    delivered = True
                finally:
                    if not delivered:
                        self.metering.give_back(meter)
        return PartnerClip(path, start, end, rendered.seconds, manifest)

    @contextmanager
    def _exporting(self, key_id: int) -> Iterator[None]:
        """The key's one export slot; TooManyAttempts while another export holds it."""
        with self._lock:
            if key_id in self._exports:
                raise TooManyAttempts(
                    "this key is already exporting: one export at a time", retry_after_s=5
                )
            self._exports.add(key_id)
        try:
            yield
        finally:
            with self._lock:
                self._exports.discard(key_id)

    def close(self) -> None:
        with self._lock:
            broadcasts = list(self._broadcasts.values())
        for broadcast in broadcasts:
            broadcast.close()
