"""Events: counts per camera and in total, the peak, and occupancy alerts that name a place
and a number (never a person) and reach the SSE and MQTT streams."""

from __future__ import annotations

import json
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from PIL import Image

from tests.api.conftest import Api
from tests.cli_runner import vigil
from tests.conftest import PASSWORD, Env
from tests.recorded import add_camera
from vigil.audit.entry import AuditEntry
from vigil.audit.log import EntryFilter
from vigil.auth.roles import Role
from vigil.config import EventsConfig
from vigil.crowds.counting import Count
from vigil.crowds.detector import PersonDetector
from vigil.crowds.events import EventSpec, store_counts
from vigil.errors import Forbidden, InvalidInput, NotFound
from vigil.events.mqtt import AlertPublisher
from vigil.recording.playback import recorded_pictures

PERSON_WORDS = ("face", "sighting", "watchlist", "label", "descriptor", "crop")


def _event(env: Env) -> tuple[int, int, int]:
    north, south = add_camera(env, "north", group="fair"), add_camera(env, "south", group="fair")
    add_camera(env, "elsewhere", group="other")
    env.add_user("sue", Role.SUPERVISOR, groups=("fair",))
    env.add_user("olga", Role.OPERATOR, groups=("fair",))
    env.add_user("otto", Role.OPERATOR, groups=("other",))
    now = datetime.now(UTC)
    spec = EventSpec(
        "city fair", "fair", now - timedelta(minutes=10), now + timedelta(hours=2),
        limits={"north": 3}, total_limit=5,
    )  # fmt: skip
    event = env.services.events.create(env.acting("sue"), spec)
    return event.id, north, south


def _count(env: Env, camera: int, people: list[int], start: float) -> list[int]:
    with env.services.db.write() as session:
        counts = [Count(start + 2 * i, n) for i, n in enumerate(people)]
        return store_counts(session, camera, None, counts)


def test_counts_peak_and_an_occupancy_alert_that_names_no_person(env: Env) -> None:
    event, north, south = _event(env)
    start = time.time() - 30
    assert _count(env, south, [2, 2, 2, 2, 2], start) == []
    raised = _count(env, north, [1, 2, 3, 4, 5, 2, 4], start + 1)  # over 3 twice, 5 total
    assert len(raised) == 4  # north over 3 (at 4) with the total over 5 (2 + 4), twice
    olga = env.acting("olga")
    view = env.services.events.show(olga, event)
    by_camera = {c["name"]: c for c in view["cameras"]}
    assert (by_camera["north"]["people"], by_camera["north"]["limit"]) == (4, 3)
    assert by_camera["south"]["people"] == 2
    assert view["total"]["people"] == 6
    assert view["total"]["peak"]["people"] == 7  # north 5 + south 2
    places = [(a["place"], a["people"], a["limit"]) for a in view["alerts"]]
    total = ("all cameras of city fair", 6, 5)
    assert places == [("north", 4, 3), total, ("north", 4, 3), total]
    text = json.dumps(view["alerts"]).lower()
    assert not any(word in text for word in PERSON_WORDS)
    with pytest.raises(NotFound):
        env.services.events.show(env.acting("otto"), event)  # not his cameras
    with pytest.raises(Forbidden):
        env.services.events.create(olga, EventSpec("x", "fair", *_window()))
    with pytest.raises(InvalidInput):
        env.services.events.create(env.acting("sue"), EventSpec("y", "fair", *_window()[::-1]))
    assert [
        o.place for o in env.services.events.occupancy_since(0, env.acting("otto").principal)
    ] == []


def test_a_wall_is_on_record_once_per_sitting(env: Env) -> None:
    """Twenty reads of an open wall are one entry on opening and one on closing, with the
    count; a refused read is on record each time; a read after the gap opens a new sitting."""
    event, _, _ = _event(env)
    walls = env.services.events.walls
    walls.gap = timedelta(seconds=0.5)
    olga = env.acting("olga")
    for _ in range(20):
        env.services.events.show(olga, event)
    for _ in range(2):
        with pytest.raises(NotFound):
            env.services.events.show(env.acting("otto"), event)
    assert [(e.action, e.actor, e.outcome) for e in _entries(env)] == [
        ("event.show", "olga", "allowed"),
        ("event.show", "otto", "denied"),
        ("event.show", "otto", "denied"),
    ]
    time.sleep(0.6)
    env.services.events.show(olga, event)  # after the gap: the sitting closed, a new one
    walls.close()  # shutdown
    entries = _entries(env)
    closes = [e.details for e in entries if e.action == "event.wall.close"]
    assert [c["reads"] for c in closes] == [20, 1]
    assert [e.action for e in entries][-3:] == [
        "event.wall.close",
        "event.show",
        "event.wall.close",
    ]


def _entries(env: Env) -> list[AuditEntry]:
    with env.services.db.read() as session:
        found = env.services.audit.entries(session, EntryFilter(limit=1000))
    return [e for e in reversed(found) if e.action.startswith(("event.show", "event.wall"))]


def _window() -> tuple[datetime, datetime]:
    now = datetime.now(UTC)
    return now, now + timedelta(hours=1)


def test_occupancy_reaches_the_alert_stream(api: Api) -> None:
    event, north, _ = _event(api.env)
    token = api.env.own_token("olga")
    seen: list[str] = []

    def follow() -> None:
        with api.client.stream("GET", "/api/v1/alerts/events", headers=api.bearer(token)) as answer:
            for line in answer.iter_lines():
                seen.append(line)
                if line.startswith("data:") and "occupancy" in line:
                    return

    reader = threading.Thread(target=follow, daemon=True)
    reader.start()
    deadline = time.monotonic() + 20
    while ": connected" not in seen and time.monotonic() < deadline:  # from then on it follows
        time.sleep(0.05)
    _count(api.env, north, [1, 9], time.time() - 4)
    reader.join(20)
    (data,) = [json.loads(line[5:]) for line in seen if line.startswith("data:")]
    assert "event: occupancy" in seen
    assert data == {**data, "kind": "occupancy", "event": "city fair", "place": "north",
                    "people": 9, "limit": 3}  # fmt: skip
    shown = api.client.get(f"/api/v1/events/{event}", headers=api.bearer(token))
    assert shown.status_code == 200
    assert shown.json()["cameras"][0]["people"] == 9


def test_occupancy_reaches_mqtt(env: Env, broker: tuple[str, int]) -> None:
    _, north, _ = _event(env)
    prefix = f"vigil-test-{uuid.uuid4().hex[:8]}"
    received: list[dict[str, object]] = []
    subscribed = threading.Event()
    listener = mqtt.Client(CallbackAPIVersion.VERSION2)
    listener.on_connect = lambda c, *_: c.subscribe(f"{prefix}/fair/occupancy", qos=1)
    listener.on_subscribe = lambda *_: subscribed.set()

    def on_message(_client: object, _userdata: object, message: mqtt.MQTTMessage) -> None:
        received.append(json.loads(message.payload))

    listener.on_message = on_message
    listener.connect(*broker)
    listener.loop_start()
    events = env.services.events
    publisher = AlertPublisher(
        EventsConfig(mqtt_host=broker[0], mqtt_port=broker[1], mqtt_topic_prefix=prefix),
        events.occupancy_since,
        events.newest_occupancy(),
        "occupancy",
    )
    try:
        assert subscribed.wait(10)
        publisher.start()
        _count(env, north, [0, 12], time.time() - 4)
        deadline = time.monotonic() + 15
        while len(received) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        publisher.stop()
        listener.loop_stop()
        listener.disconnect()
    assert [(m["place"], m["people"]) for m in received] == [
        ("north", 12),
        ("all cameras of city fair", 12),
    ]


def test_the_event_commands(env: Env, tmp_path: Path) -> None:
    add_camera(env, "north", group="fair")
    env.add_user("sue", Role.SUPERVISOR, groups=("fair",))
    (tmp_path / "pw").write_text(PASSWORD)
    login = ("--user", "sue", "--password-file", str(tmp_path / "pw"))
    start, end = _window()
    made = vigil(env.data_dir, *login, "event", "create", "market", "--group", "fair",
                 "--from", start.isoformat(), "--to", end.isoformat(), "--limit", "north=40",
                 "--total-limit", "100", "--json")  # fmt: skip
    assert made.code == 0, made.stderr
    assert made.json()["limits"] == {"north": 40}
    shown = vigil(env.data_dir, *login, "event", "show", str(made.json()["id"]))
    assert shown.code == 0, shown.stderr
    assert "north" in shown.stdout
    assert "peak: none yet" in shown.stdout
    bad = vigil(env.data_dir, *login, "event", "create", "x", "--group", "fair", "--from",
                start.isoformat(), "--to", end.isoformat(), "--limit", "north")  # fmt: skip
    assert bad.code == 2


def test_the_detector_counts_people_in_real_footage_and_none_in_an_empty_frame(
    datasets: Path,
) -> None:
    frame = datasets / "video" / "pets2009-vtest" / "vtest.avi"
    first = next(iter(recorded_pictures(frame, 0.0, 1)))
    detector = PersonDetector()
    boxes = detector.people(first.rgb)
    assert 3 <= len(boxes) <= 4  # three walkers (a sign at the far left passes for a fourth)
    assert all(0 <= x0 < x1 <= 480 and 0 <= y0 < y1 <= 360 for x0, y0, x1, y1 in boxes)
    empty = np.asarray(Image.new("RGB", (1280, 720), (128, 128, 128)))
    assert detector.people(empty) == []
