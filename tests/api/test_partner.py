"""Third parties over the API: a key reaches its cameras, inside its window, up to its quota;
its video is redacted, watermarked and metered to what it played; a revoked key's stream
ends within 5 s; exports carry a signed manifest; nothing else is reachable with a key."""

from __future__ import annotations

import base64
import json
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import av
import numpy as np
import pytest
from sqlalchemy import select

from tests.api.conftest import Api
from tests.publishing.footage import HAMILTON, record_clip
from tests.recorded import add_camera
from vigil.api.permissions import PARTNER
from vigil.audit.log import EntryFilter
from vigil.auth.roles import Role
from vigil.faces.yunet import YuNetDetector
from vigil.partners.organisations import KeySpec
from vigil.partners.watermark import Watermark
from vigil.recording.manifest import verify_export
from vigil.recording.playback import Picture
from vigil.store.models import UsageRow

LIVE = "/api/v1/partner/cameras/{}/live.mp4"
EXPORT = "/api/v1/partner/cameras/{}/recording.mp4"
DELAY_S = 15  # [publishing] delay_s by default: an export ends at least this long before now


@dataclass
class Setup:
    api: Api
    key_id: int
    secret: str
    recorded_from: float

    def headers(self, secret: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {secret or self.secret}"}


def _setup(
    api: Api, datasets: Path, *, quota_s: int = 3600, clips: int = 2, ago_s: float = 2
) -> Setup:
    """Cameras gate (footage with faces: the clip, `clips` times back to back, ending `ago_s`
    before now) and yard; organisation insurer with a key for gate alone."""
    env = api.env
    gate = add_camera(env, "gate")
    add_camera(env, "yard")
    start = time.time() - 9.2 * clips - ago_s
    for i in range(clips):
        assert record_clip(env, gate, datasets / HAMILTON, start + 9.2 * i)
    env.add_user("ada", Role.ADMIN)
    env.add_user("sue", Role.SUPERVISOR, groups=("city",))
    partners = env.services.partners
    partners.register(env.acting("ada"), "insurer", "Insurer Ltd", "claims at the gate")
    now = datetime.now(UTC)
    spec = KeySpec(["gate"], now - timedelta(hours=1), now + timedelta(hours=1), quota_s, "claims")
    info, secret = partners.issue(env.acting("ada"), "insurer", spec)
    partners.approve(env.acting("sue"), info.id)
    return Setup(api, info.id, secret, start)


def _usage(api: Api, kind: str) -> list[UsageRow]:
    with api.env.services.db.read() as session:
        return list(session.scalars(select(UsageRow).where(UsageRow.kind == kind)))


def _played_s(path: Path) -> tuple[float, int]:
    """What a player plays of the file (its packets' durations), and its frame count."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        ticks = sum(p.duration or 0 for p in container.demux(stream) if p.size)
        seconds = float(ticks * stream.time_base)
    with av.open(str(path)) as container:
        frames = sum(1 for _ in container.decode(video=0))
    return seconds, frames


def test_the_key_reaches_its_cameras_only_and_nothing_unredacted(api: Api, datasets: Path) -> None:
    s = _setup(api, datasets, clips=1)
    document = api.client.get("/api/v1/openapi.json", headers=api.bearer()).json()
    routes = {(m.upper(), p) for p, item in document["paths"].items() for m in item}
    assert {r for r in routes if r[1].startswith("/api/v1/partner/")} == set(PARTNER)
    grant = api.client.get("/api/v1/partner/grant", headers=s.headers())
    assert grant.status_code == 200, grant.text
    assert grant.json()["cameras"] == ["gate"]
    assert grant.json()["delay_s"] >= 10
    # Another camera, a person's routes, no key, a bad key: nothing.
    assert api.client.get(LIVE.format("yard"), headers=s.headers()).status_code == 404
    for path in ("/api/v1/cameras/gate/live.mp4", "/api/v1/cameras", "/api/v1/alerts"):
        assert api.client.get(path, headers=s.headers()).status_code == 401, path
    assert api.client.get(LIVE.format("gate")).status_code == 401
    assert api.client.get(LIVE.format("gate"), headers=s.headers("vigilorg_x")).status_code == 401
    # Outside the window, or longer than an export may be.
    now = datetime.now(UTC)
    for start, end in ((now - timedelta(hours=3), now - timedelta(hours=2)),
                       (now - timedelta(minutes=5), now)):  # fmt: skip
        query = {"start": start.isoformat(), "end": end.isoformat()}
        answer = api.client.get(EXPORT.format("gate"), params=query, headers=s.headers())
        assert answer.status_code == 422, answer.text
    with api.env.services.db.read() as session:
        denied = api.env.services.audit.entries(session, EntryFilter(action="partner.export"))
    assert [e.outcome for e in denied] == ["denied", "denied"]
    assert {e.actor for e in denied} == {"org:insurer"}
    assert _usage(api, "export") == []


def test_an_export_is_redacted_watermarked_metered_and_signed(
    api: Api, datasets: Path, tmp_path: Path
) -> None:
    s = _setup(api, datasets, clips=1, ago_s=DELAY_S)
    start = datetime.fromtimestamp(s.recorded_from + 1, UTC)
    query = {"start": start.isoformat(), "end": (start + timedelta(seconds=5)).isoformat()}
    answer = api.client.get(EXPORT.format("gate"), params=query, headers=s.headers())
    assert answer.status_code == 200, answer.text
    out = tmp_path / "clip.mp4"
    out.write_bytes(answer.content)
    manifest = json.loads(base64.b64decode(answer.headers["x-vigil-manifest"]))
    fields = verify_export(out, manifest, api.env.services.audit.key.public_key)
    assert (fields["exported_by"], fields["exported_for"]) == ("org:insurer", "Insurer Ltd")

    played, frames = _played_s(out)
    assert 4.5 <= played <= 5.1
    assert 24 <= frames <= 26
    (usage,) = _usage(api, "export")
    assert usage.seconds == pytest.approx(played, rel=0.02)
    assert float(answer.headers["x-vigil-seconds"]) == pytest.approx(played, abs=0.001)

    with av.open(str(out)) as container:
        decoded = [(f.time, f.to_ndarray(format="rgb24")) for f in container.decode(video=0)]
    judge = YuNetDetector(smallest_px=10, max_scale=2.0, cut_faces=True)
    assert [t for t, rgb in decoded if judge.detect(rgb)] == []  # every face blurred
    first = decoded[0][1]
    assert _watermark_score(first, "Insurer Ltd", start) > 0.9
    assert _watermark_score(first, "Another Org", start) < 0.7


def _watermark_score(frame: np.ndarray, organisation: str, near: datetime) -> float:
    """How well the frame's bright pixels cover the text of that organisation's watermark
    (the best of the seconds around ``near``): its ink drawn alone on black, where it lands."""
    best = 0.0
    for offset in range(-1, 3):
        at = near.timestamp() + offset
        ink = Watermark(organisation)(Picture(np.zeros_like(frame), at)).rgb.min(axis=2) > 200
        best = max(best, float((frame.min(axis=2)[ink] > 150).mean()))
    return best


def test_metering_matches_what_played_and_a_revoked_keys_stream_ends(
    api: Api, datasets: Path, tmp_path: Path
) -> None:
    s = _setup(api, datasets)
    received = bytearray()
    ended: list[float] = []
    revoked_at: list[float] = []

    def revoke() -> None:
        revoked_at.append(time.time())
        api.env.services.partners.revoke(api.env.acting("ada"), s.key_id)

    with api.client.stream("GET", LIVE.format("gate"), headers=s.headers()) as answer:
        assert answer.status_code == 200, answer.read()
        timer = threading.Timer(8.0, revoke)
        timer.start()
        for chunk in answer.iter_bytes():
            received += chunk
        ended.append(time.time())
        timer.join()
    assert ended[0] - revoked_at[0] < 5.0, "a revoked key's stream ends within 5 s"
    out = tmp_path / "live.mp4"
    out.write_bytes(bytes(received))
    played, frames = _played_s(out)
    assert played >= 5.0
    assert frames >= 25
    (usage,) = _usage(api, "live")
    print(
        f"\nmetered {usage.seconds:.3f} s; played {played:.3f} s, {frames} frames; "
        f"the stream ended {ended[0] - revoked_at[0]:.2f} s after the key was revoked"
    )
    assert usage.seconds == pytest.approx(played, rel=0.02)
    assert usage.seconds == pytest.approx(frames / 5, rel=0.02)
    assert usage.bytes == len(received)
    assert api.client.get(LIVE.format("gate"), headers=s.headers()).status_code == 401
    with api.env.services.db.read() as session:
        (end,) = api.env.services.audit.entries(session, EntryFilter(action="partner.watch.end"))
    assert end.details["seconds"] == pytest.approx(usage.seconds, abs=0.001)
    assert "revoked" in end.details["ended"]


def test_a_stream_ends_when_the_quota_is_used_up(api: Api, datasets: Path) -> None:
    s = _setup(api, datasets, quota_s=3)
    with api.client.stream("GET", LIVE.format("gate"), headers=s.headers()) as answer:
        assert answer.status_code == 200
        for _ in answer.iter_bytes():
            pass
    (usage,) = _usage(api, "live")
    assert 3.0 <= usage.seconds <= 6.0  # checked every second: at most a few over
    refused = api.client.get(LIVE.format("gate"), headers=s.headers())
    assert refused.status_code == 403
    assert "quota" in refused.json()["error"]["message"]


def _export(s: Setup, start: float, seconds: float) -> int:
    begin = datetime.fromtimestamp(start, UTC)
    query = {"start": begin.isoformat(), "end": (begin + timedelta(seconds=seconds)).isoformat()}
    return s.api.client.get(EXPORT.format("gate"), params=query, headers=s.headers()).status_code


def test_an_export_ends_the_partner_delay_before_now_and_one_runs_at_a_time(
    api: Api, datasets: Path
) -> None:
    """Polling exports is no live feed without the delay; a key exports one range at a time,
    and what it reserved counts against its quota before the first export is delivered."""
    s = _setup(api, datasets, clips=1, ago_s=DELAY_S + 1, quota_s=8)
    recent = time.time() - DELAY_S + 3
    assert _export(s, recent - 2, 2) == 422
    codes: list[int] = []
    first = threading.Thread(target=lambda: codes.append(_export(s, s.recorded_from + 1, 4)))
    first.start()
    while not _usage(api, "export"):  # the first export has reserved its range
        time.sleep(0.05)
    assert _export(s, s.recorded_from + 5, 4) == 429
    first.join()
    assert codes == [200]
    assert _export(s, s.recorded_from + 5, 4.5) == 403  # 4 s used of 8: 4.5 more are not left
    assert _export(s, s.recorded_from + 5, 3.5) == 200
    assert sum(u.seconds for u in _usage(api, "export")) <= 8.0


def test_a_client_sending_refused_keys_is_throttled(api: Api, datasets: Path) -> None:
    """30 requests with made-up keys: the first 10 are refused (401, each on record), the
    rest answered 429 before any lookup and on record once; a spoofed X-Forwarded-For does
    not help, and even a valid key waits out the minute from that client."""
    s = _setup(api, datasets, clips=1)
    codes = [
        api.client.get(
            "/api/v1/partner/grant",
            headers={
                "Authorization": f"Bearer vigilorg_guess{n}",
                "X-Forwarded-For": f"10.0.0.{n}",
            },
        ).status_code
        for n in range(30)
    ]
    assert codes == [401] * 10 + [429] * 20
    assert api.client.get("/api/v1/partner/grant", headers=s.headers()).status_code == 429
    with api.env.services.db.read() as session:
        refused = api.env.services.audit.entries(session, EntryFilter(action="api.request"))
    assert len(refused) == 11
    reasons = [e.details["reason"] for e in reversed(refused)]
    assert reasons == ["not_authenticated"] * 10 + ["too_many_attempts"]
