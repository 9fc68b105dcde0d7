"""Times as people read them (issue 32, item 1): the city's zone, to the second, named."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.conftest import config_for
from vigil.config import parse_config
from vigil.errors import ConfigError
from vigil.timetext import TimeText

WINTER = datetime(2026, 12, 4, 18, 53, 8, 898432, tzinfo=UTC)
SUMMER = datetime(2026, 7, 4, 18, 53, 8, tzinfo=UTC)


def test_utc_by_default_to_the_second_and_named() -> None:
    assert TimeText()(WINTER) == "2026-12-04 18:53:08 UTC"
    assert TimeText()("2026-12-04T18:53:08.898432+00:00") == "2026-12-04 18:53:08 UTC"
    assert TimeText()(WINTER.replace(tzinfo=None)) == "2026-12-04 18:53:08 UTC"  # stored naive
    assert TimeText()(None) == ""


def test_the_citys_zone_with_its_summer_time() -> None:
    berlin = TimeText.named("Europe/Berlin")
    assert berlin(WINTER) == "2026-12-04 19:53:08 CET"
    assert berlin(SUMMER) == "2026-07-04 20:53:08 CEST"
    assert berlin.day(datetime(2026, 12, 4, 23, 30, tzinfo=UTC)) == "2026-12-05"
    assert TimeText.named("America/Sao_Paulo")(WINTER) == "2026-12-04 15:53:08 -03"


def test_a_zone_that_does_not_exist_is_a_clear_config_error() -> None:
    raw = config_for("sqlite://").model_dump(mode="python")
    raw["ui"] = {"time_zone": "Europe/Atlantis"}
    with pytest.raises(ConfigError, match="'Europe/Atlantis' is not a time zone"):
        parse_config(raw)
    raw["ui"] = {"time_zone": "Asia/Tokyo"}
    assert parse_config(raw).ui.time_zone == "Asia/Tokyo"
