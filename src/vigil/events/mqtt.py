"""Publishes each new alert to MQTT (``<prefix>/alerts``), as Frigate users know.

A follower thread reads alerts stored by any process (recorder, imports) and publishes
them at least once: its position only moves past an alert once the broker took it
(QoS 1). A broker that is down is retried; alerts wait in the store meanwhile.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from vigil.analytics.alerts import AlertInfo
from vigil.config import EventsConfig

logger = logging.getLogger(__name__)

POLL_S = 1.0
PUBLISH_TIMEOUT_S = 10.0


class AlertPublisher:
    def __init__(
        self, config: EventsConfig, since: Callable[[int], list[AlertInfo]], after: int
    ) -> None:
        self.config = config
        self.since = since
        self.after = after  # the newest alert already published (or there at start)
        self.published = 0
        self._stop = threading.Event()
        self._client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="vigil-alerts")
        self._thread = threading.Thread(target=self._run, name="mqtt-alerts", daemon=True)

    @property
    def topic(self) -> str:
        return f"{self.config.mqtt_topic_prefix}/alerts"

    def start(self) -> None:
        self._client.connect_async(self.config.mqtt_host, self.config.mqtt_port)
        self._client.loop_start()  # paho reconnects by itself
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)
        self._client.loop_stop()
        self._client.disconnect()

    def _run(self) -> None:
        while not self._stop.wait(POLL_S):
            if not self._client.is_connected():
                continue
            try:
                for alert in self.since(self.after):
                    message = self._client.publish(self.topic, json.dumps(alert.to_dict()), qos=1)
                    message.wait_for_publish(PUBLISH_TIMEOUT_S)
                    if not message.is_published():
                        break  # try again from this alert
                    self.after = alert.id
                    self.published += 1
            except Exception:  # the top of a worker loop: log and carry on
                logger.exception("publishing alerts to MQTT failed")
