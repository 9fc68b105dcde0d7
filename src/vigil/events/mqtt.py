"""Publishes each new alert to MQTT, as Frigate users know, on its camera group's topic
(``<prefix>/<group>/alerts``; a camera in no group: ``<prefix>/_ungrouped/alerts``), and
each occupancy alert (a place and a number) on its event's group's
(``<prefix>/<group>/occupancy``) with a second publisher. A broker's ACLs then give each
control room the topics of the groups it watches (README: "MQTT"), as Vigil's own routes do.

A follower thread reads alerts stored by any process (recorder, imports) and publishes
them at least once: its position only moves past an alert once the broker took it
(QoS 1). A broker that is down is retried; alerts wait in the store meanwhile.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from vigil.config import EventsConfig
from vigil.errors import ConfigError

logger = logging.getLogger(__name__)

POLL_S = 1.0
PUBLISH_TIMEOUT_S = 10.0


UNGROUPED = "_ungrouped"  # not a group name: those start with a letter or digit


class Published(Protocol):
    @property
    def id(self) -> int: ...

    @property
    def group(self) -> str | None: ...

    def to_dict(self) -> dict[str, Any]: ...


class AlertPublisher:
    def __init__(
        self,
        config: EventsConfig,
        since: Callable[[int], Sequence[Published]],
        after: int,
        kind: str = "alerts",
    ) -> None:
        self.config = config
        self.since = since
        self.after = after  # the newest alert already published (or there at start)
        self.kind = kind
        self.published = 0
        self._stop = threading.Event()
        self._client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"vigil-{kind}")
        self._thread = threading.Thread(target=self._run, name=f"mqtt-{kind}", daemon=True)

    def topic(self, group: str | None) -> str:
        return f"{self.config.mqtt_topic_prefix}/{group or UNGROUPED}/{self.kind}"

    def start(self) -> None:
        if self.config.mqtt_username:
            self._client.username_pw_set(self.config.mqtt_username, self._password())
        self._client.connect_async(self.config.mqtt_host, self.config.mqtt_port)
        self._client.loop_start()  # paho reconnects by itself
        self._thread.start()

    def _password(self) -> str | None:
        if not self.config.mqtt_password_file:
            return None
        try:
            return Path(self.config.mqtt_password_file).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(
                f"events.mqtt_password_file: cannot read {exc.filename}: {exc.strerror}"
            ) from None

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
                    topic, payload = self.topic(alert.group), json.dumps(alert.to_dict())
                    message = self._client.publish(topic, payload, qos=1)
                    message.wait_for_publish(PUBLISH_TIMEOUT_S)
                    if not message.is_published():
                        break  # try again from this alert
                    self.after = alert.id
                    self.published += 1
            except Exception:  # the top of a worker loop: log and carry on
                logger.exception("publishing %s to MQTT failed", self.kind)
