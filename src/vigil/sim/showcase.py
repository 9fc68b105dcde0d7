"""What the demo city shows a newcomer: every capability in use, made by the demo's people
through the same services (and so the same rules and audit log) as anyone's.

- a camera made public, proposed by the admin and approved by the supervisor;
- an event (a marathon) over the city's cameras with occupancy limits;
- a third party (the transit company) with a key to one camera, approved;
- last month's transparency report, published by the auditor;
- with faces: a watchlist entry, approved, of someone the simulator is about to walk past a
  camera (from another photo of theirs), so an alert waits for the operators' review; and an
  approved case about them, searched with that photo once the analysis has seen them.

Each step is done once: a demo run again finds them and leaves them as they are.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from vigil.app import Services
from vigil.auth.roles import Principal, RequestContext, Role
from vigil.crowds.events import EventSpec
from vigil.errors import VigilError
from vigil.investigations.cases import CaseSpec
from vigil.partners.organisations import KeySpec
from vigil.sim.scenario import PHOTO_SUFFIXES
from vigil.store.models import (
    AlertRow,
    CaseRow,
    EventRow,
    OrganisationRow,
    PublicationRow,
    TransparencyReportRow,
    User,
    WatchlistEntry,
)

logger = logging.getLogger(__name__)

PUBLIC_CAMERA, EVENT_GROUP = "cam1", "city"
WANTED = "demo: the person the simulator walks past a camera"
SOON_S = (8.0, 40.0)  # the wanted person's walk starts this far ahead (seconds)
ALERT_WAIT_S = 180.0  # how long the case's search waits for the analysis to see them


@dataclass
class Showcase:
    """Where to see each part (paths on the web UI), and the third party's key."""

    partner_camera: str
    public_camera: str | None = None
    event: int | None = None
    partner_key: str | None = None  # shown once, when made
    transparency: str | None = None
    wanted: str | None = None  # the watchlisted person's name
    case: int | None = None
    search: threading.Thread | None = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "public_camera": self.public_camera,
            "event": self.event,
            "partner_key": self.partner_key,
            "transparency_month": self.transparency,
            "watchlisted": self.wanted,
            "case": self.case,
        }


def acting(services: Services, name: str) -> RequestContext:
    """The demo person ``name`` acting in person."""
    with services.db.read() as session:
        user = session.scalars(select(User).where(User.name == name)).one()
        principal = Principal(name=name, kind="user", role=Role(user.role), user_id=user.id)
    return RequestContext(principal, f"demo-{name}-{time.monotonic_ns()}", "demo")


def show_everything(services: Services, cameras: int, truth: Path, faces: Path | None) -> Showcase:
    """Each part made once (``cameras``: the demo's; its last one is the transit company's,
    and has the event's own limit)."""
    last = f"cam{cameras}"
    shown = Showcase(partner_camera=last)
    admin, sue = acting(services, "admin"), acting(services, "supervisor")
    ivy, aud = acting(services, "investigator"), acting(services, "auditor")
    now = datetime.now(UTC)
    with services.db.read() as session:
        public = session.scalar(select(PublicationRow.id).limit(1))
        event = session.scalar(select(EventRow.id).limit(1))
        partner = session.scalar(select(OrganisationRow.id).limit(1))
        published = session.scalar(select(TransparencyReportRow.month).limit(1))
        entry = session.scalar(select(WatchlistEntry.label).limit(1))
        case = session.scalar(select(CaseRow.id).limit(1))
    if public is None:
        proposed = services.publications.propose(
            admin, PUBLIC_CAMERA, "the station forecourt: travellers see the queue from home"
        )
        services.publications.approve(sue, proposed.id)
    shown.public_camera = PUBLIC_CAMERA
    if event is None:
        spec = EventSpec(
            "City marathon", EVENT_GROUP, now - timedelta(hours=1), now + timedelta(days=7),
            limits={last: 3}, total_limit=8,
        )  # fmt: skip
        event = services.events.create(admin, spec).id
    shown.event = event
    if partner is None:
        services.partners.register(admin, "transit", "City Transit Ltd", "platform safety")
        key_spec = KeySpec([last], now, now + timedelta(days=30), 3600, "control room")
        key, secret = services.partners.issue(admin, "transit", key_spec)
        services.partners.approve(sue, key.id)
        shown.partner_key = secret
    if published is None:
        month = f"{now.replace(day=1) - timedelta(days=1):%Y-%m}"
        published = services.transparency_reports.publish(aud, month).month
    shown.transparency = published
    if faces is None:
        return shown
    if entry is None:
        chosen = _walking_soon(truth, faces)
        if chosen is None:
            logger.warning("nobody with a second photo walks by soon: no watchlist entry")
            return shown
        name, photo = chosen
        photos = [(photo.name, photo.read_bytes())]
        later = now + timedelta(days=30)
        made = services.watchlists.propose(
            ivy, name, photos, basis=WANTED, reference="DEMO-1", expires=later
        )
        services.watchlists.approve(sue, made.id)
        case_spec = CaseSpec(
            name, "demo: court order", "DEMO-1", "where has this person been today",
            now - timedelta(hours=1), now + timedelta(hours=12), now + timedelta(days=30),
            groups=[EVENT_GROUP],
        )  # fmt: skip
        case = services.cases.open(ivy, case_spec).id
        services.cases.approve(sue, case)
        shown.search = threading.Thread(
            target=_search_when_seen, args=(services, ivy, case, photos), daemon=True
        )
        shown.search.start()
        entry = name
    shown.wanted, shown.case = entry, case
    return shown


def _walking_soon(truth: Path, faces: Path) -> tuple[str, Path] | None:
    """Someone whose walk past a camera starts soon, and a photo of them the simulator does
    not show (it shows each person's first)."""
    try:
        appearances = json.loads(truth.read_text())["appearances"]
    except (OSError, ValueError, KeyError):
        return None
    now = datetime.now(UTC)
    for seen in appearances:
        ahead = (datetime.fromisoformat(seen["start"]) - now).total_seconds()
        if not SOON_S[0] <= ahead <= SOON_S[1]:
            continue
        folder = faces / seen["person"]
        photos = sorted(p for p in folder.iterdir() if p.suffix.lower() in PHOTO_SUFFIXES)
        if len(photos) >= 2:
            return seen["person"], photos[1]
    return None


def _search_when_seen(
    services: Services, ivy: RequestContext, case: int, photos: list[tuple[str, bytes]]
) -> None:
    """Search the case once the watchlisted person raised an alert (the analysis saw them)."""
    deadline = time.monotonic() + ALERT_WAIT_S
    while time.monotonic() < deadline:
        with services.db.read() as session:
            if session.scalar(select(AlertRow.id).limit(1)) is not None:
                break
        time.sleep(2.0)
    try:
        found = services.search.search(ivy, case, photos)
        logger.info("the demo case's search found %d sightings", len(found.results))
    except VigilError as exc:  # the demo goes on without a search
        logger.warning("the demo case's search failed: %s", exc.message)


def where_to_look(base: str, shown: Showcase) -> list[str]:
    """What a newcomer opens, and who to sign in as for it."""
    lines = [
        (
            f"Public page (anyone): {base}/public ({shown.public_camera}: proposed by admin, "
            "approved by supervisor; faces blurred, delayed)"
        ),
        f"Transparency (anyone): {base}/transparency (the report of {shown.transparency})",
        (
            f"Event wall (operator): {base}/events/{shown.event} (City marathon, limits on "
            f"{shown.partner_camera} and in all)"
        ),
    ]
    if shown.partner_key is not None:
        lines.append(
            f"Third party City Transit, key for {shown.partner_camera} (shown once): "
            f"{shown.partner_key} (GET {base}/api/v1/partner/cameras/{shown.partner_camera}"
            "/live.mp4 "
            "with Authorization: Bearer KEY)"
        )
    if shown.case is not None:
        lines += [
            (
                f"Alerts (operator, operator2): {base}/alerts ({shown.wanted} is watchlisted and "
                "walks by: the alert waits for two people's review)"
            ),
            (
                f"Case (investigator): {base}/cases/{shown.case} (searched once the analysis has "
                "seen them)"
            ),
        ]
    else:
        lines.append("With --faces, a watchlisted walker raises an alert and a case is searched.")
    return lines
