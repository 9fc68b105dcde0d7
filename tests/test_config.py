"""Config files: defaults, unknown keys refused, secrets not echoed."""

from __future__ import annotations

from pathlib import Path

import pytest

from vigil.config import CONFIG_FILE, Config, load_config, parse_config, render_config
from vigil.errors import ConfigError, NotInitialised


def test_rendered_defaults_load_back(tmp_path: Path) -> None:
    (tmp_path / CONFIG_FILE).write_text(render_config(Config()))
    assert load_config(tmp_path) == Config()


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"api": {"port": 0}}, "api.port"),
        ({"api": {"colour": "red"}}, "api.colour: Extra inputs are not permitted"),
        ({"nonsense": {}}, "nonsense"),
        ({"auth": {"token_default_days": 400}}, "auth.token_default_days"),
        ({"auth": {"password_memory_kib": 8192}}, "auth.password_memory_kib"),  # < OWASP's
        ({"auth": {"password_passes": 1}}, "auth.password_passes"),
        ({"analytics": {"busy_lag_s": 20}}, "lag_bound_s must be above busy_lag_s"),
    ],
)
def test_invalid_config_names_the_key(raw: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_config(raw)


def test_database_password_is_a_secret() -> None:
    config = parse_config({"database": {"url": "postgresql://u:hunter2@db/vigil"}})
    assert "hunter2" not in repr(config)
    assert "hunter2" in render_config(config)


def test_missing_and_broken_files(tmp_path: Path) -> None:
    with pytest.raises(NotInitialised, match="vigil init"):
        load_config(tmp_path)
    (tmp_path / CONFIG_FILE).write_text("[api\nport=")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(tmp_path)


@pytest.mark.parametrize(
    ("given", "embedder", "runtime"),
    [
        ({}, "fused", "onnx"),
        ({"embedder": "onnx"}, "dlib", "onnx"),  # once the runtime's name: dlib's ResNet
        ({"embedder": "reid"}, "reid", "onnx"),
        ({"embedder": "dlib", "dlib_runtime": "dlib"}, "dlib", "dlib"),
    ],
)
def test_the_embedder_names_a_model(given: dict[str, str], embedder: str, runtime: str) -> None:
    faces = parse_config({"faces": given}).faces
    assert (faces.embedder, faces.dlib_runtime) == (embedder, runtime)


def test_an_unknown_embedder_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"faces\.embedder"):
        parse_config({"faces": {"embedder": "arcface"}})
