"""Events for integrations: new alerts published to MQTT (server-sent events are in the API)."""
