"""New alerts reach a real MQTT broker (Mosquitto at 127.0.0.1:1883)."""

from __future__ import annotations

import json
import threading
import uuid
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from tests.conftest import Env
from tests.recorded import add_camera
from tests.sightings import approved_entry, matching_alert
from vigil.config import EventsConfig
from vigil.events.mqtt import AlertPublisher


def test_each_new_alert_is_published_once(
    env: Env, portrait_path: Path, broker: tuple[str, int]
) -> None:
    camera = add_camera(env, "gate")
    approved_entry(env, portrait_path)
    earlier = matching_alert(env, camera)  # there before the publisher: not re-sent
    prefix = f"vigil-test-{uuid.uuid4().hex[:8]}"
    received: list[dict[str, object]] = []
    subscribed, arrived = threading.Event(), threading.Event()

    listener = mqtt.Client(CallbackAPIVersion.VERSION2)
    listener.on_connect = lambda c, *_: c.subscribe(f"{prefix}/alerts", qos=1)
    listener.on_subscribe = lambda *_: subscribed.set()

    def on_message(_client: object, _userdata: object, message: mqtt.MQTTMessage) -> None:
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
    assert alert != earlier
    assert received[0]["state"] == "pending"
    assert received[0]["label"] == "suspect D"
    assert publisher.published == 1
