"""New alerts reach a real MQTT broker (Mosquitto at 127.0.0.1:1883)."""

from __future__ import annotations

import getpass
import json
import os
import shutil
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from tests.conftest import Env
from tests.recorded import add_camera
from tests.sightings import approved_entry, matching_alert
from vigil.config import EventsConfig
from vigil.events.mqtt import AlertPublisher

SBIN = "/usr/sbin:/usr/local/sbin:/usr/bin:/usr/local/bin"
USERS = {"vigil": "vigil-publishes-here", "north": "north-room-reads"}


def test_each_new_alert_is_published_once_on_its_groups_topic(
    env: Env, portrait_path: Path, broker: tuple[str, int]
) -> None:
    """A broker's ACL per group topic gives each control room its own cameras' alerts: an
    alert of a north camera reaches ``<prefix>/north/alerts`` and no other group's topic."""
    camera = add_camera(env, "gate", group="north")
    approved_entry(env, portrait_path)
    earlier = matching_alert(env, camera)  # there before the publisher: not re-sent
    prefix = f"vigil-test-{uuid.uuid4().hex[:8]}"
    received: list[dict[str, object]] = []
    topics: list[str] = []
    subscribed, arrived = threading.Event(), threading.Event()

    listener = mqtt.Client(CallbackAPIVersion.VERSION2)
    listener.on_connect = lambda c, *_: c.subscribe(f"{prefix}/#", qos=1)
    listener.on_subscribe = lambda *_: subscribed.set()

    def on_message(_client: object, _userdata: object, message: mqtt.MQTTMessage) -> None:
        topics.append(message.topic)
        received.append(json.loads(message.payload))
        arrived.set()

    listener.on_message = on_message
    listener.connect(*broker)
    listener.loop_start()
    publisher = AlertPublisher(
        EventsConfig(mqtt_host=broker[0], mqtt_port=broker[1], mqtt_topic_prefix=prefix),
        env.services.alerts.since,
        env.services.alerts.newest(),
    )
    try:
        assert subscribed.wait(10)
        publisher.start()
        alert = matching_alert(env, camera)
        assert arrived.wait(15)
    finally:
        publisher.stop()
        listener.loop_stop()
        listener.disconnect()
    assert [m["id"] for m in received] == [alert]
    assert topics == [f"{prefix}/north/alerts"]
    assert received[0]["group"] == "north"
    assert alert != earlier
    assert received[0]["state"] == "pending"
    assert received[0]["label"] == "suspect D"
    assert publisher.published == 1


@pytest.fixture
def acl_broker(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    """A Mosquitto of its own, as the README's ACL example sets one up: no anonymous
    clients; user vigil writes vigil-acl/#, user north reads vigil-acl/north/# only."""
    binary, passwd = shutil.which("mosquitto", path=SBIN), shutil.which("mosquitto_passwd")
    if binary is None or passwd is None:
        if os.environ.get("CI"):
            pytest.fail("CI needs Mosquitto (the broker at 127.0.0.1:1883 is one)")
        pytest.skip("no mosquitto binary here")
    passwords = tmp_path / "passwords"
    for n, (user, password) in enumerate(USERS.items()):
        create = ["-c"] if n == 0 else []
        subprocess.run([passwd, "-b", *create, str(passwords), user, password], check=True)
    acl = tmp_path / "acl"
    acl.write_text(
        "user vigil\ntopic write vigil-acl/#\n\nuser north\ntopic read vigil-acl/north/#\n"
    )
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    conf = tmp_path / "mosquitto.conf"
    conf.write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous false\npassword_file {passwords}\n"
        f"acl_file {acl}\npersistence false\nuser {getpass.getuser()}\n"  # as root: stay
    )
    for path in (passwords, acl, conf):
        path.chmod(0o600)
    process = subprocess.Popen([binary, "-c", str(conf)], stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while not _listening(port):
            assert time.monotonic() < deadline, "mosquitto did not start"
            time.sleep(0.05)
        password_file = tmp_path / "vigil.pw"
        password_file.write_text(USERS["vigil"] + "\n")
        yield port, password_file
    finally:
        process.terminate()
        process.wait(10)


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def test_a_control_room_reads_its_own_groups_alerts_only(
    env: Env, portrait_path: Path, acl_broker: tuple[int, Path]
) -> None:
    port, password_file = acl_broker
    north, south = add_camera(env, "gate", group="north"), add_camera(env, "dock", group="south")
    approved_entry(env, portrait_path)
    received: list[str] = []
    subscribed, arrived = threading.Event(), threading.Event()
    listener = mqtt.Client(CallbackAPIVersion.VERSION2)
    listener.username_pw_set("north", USERS["north"])
    listener.on_connect = lambda c, *_: c.subscribe("vigil-acl/#", qos=1)  # asks for all
    listener.on_subscribe = lambda *_: subscribed.set()

    def on_message(_client: object, _userdata: object, message: mqtt.MQTTMessage) -> None:
        received.append(message.topic)
        arrived.set()

    listener.on_message = on_message
    listener.connect("127.0.0.1", port)
    listener.loop_start()
    config = EventsConfig(
        mqtt_host="127.0.0.1", mqtt_port=port, mqtt_topic_prefix="vigil-acl",
        mqtt_username="vigil", mqtt_password_file=str(password_file),
    )  # fmt: skip
    publisher = AlertPublisher(config, env.services.alerts.since, env.services.alerts.newest())
    try:
        assert subscribed.wait(10)
        publisher.start()
        matching_alert(env, south)
        matching_alert(env, north)
        assert arrived.wait(15)
        deadline = time.monotonic() + 15
        while publisher.published < 2:  # the broker took both
            assert time.monotonic() < deadline, "vigil could not publish with its account"
            time.sleep(0.1)
        time.sleep(0.5)  # what the broker would deliver has arrived
    finally:
        publisher.stop()
        listener.loop_stop()
        listener.disconnect()
    assert received == ["vigil-acl/north/alerts"]
