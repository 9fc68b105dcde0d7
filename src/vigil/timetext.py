"""Times as people read them, on every page and in every report: in the city's time zone
(``[ui] time_zone``, an IANA name, UTC by default), to the second, the zone named
("2026-12-04 19:53:08 CET"). JSON, CSV and the API keep ISO 8601 in UTC; so do the
``data-`` attributes that pages' scripts read (``static/vigil.js`` writes the same text).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

FORMAT = "%Y-%m-%d %H:%M:%S"
UTC_ZONE = ZoneInfo("UTC")


def zone_problem(name: str) -> str | None:
    """What is wrong with a time zone's name, or None."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return f"{name!r} is not a time zone (an IANA name, e.g. Europe/Berlin or UTC)"
    return None


@dataclass(frozen=True, slots=True)
class TimeText:
    """The formatter: ``times(moment)`` is the text; None (or "") gives ""."""

    zone: ZoneInfo = UTC_ZONE

    @classmethod
    def named(cls, name: str) -> TimeText:
        return cls(ZoneInfo(name))

    @property
    def name(self) -> str:
        return self.zone.key

    def __call__(self, value: datetime | str | None) -> str:
        if value is None or value == "":
            return ""
        local = self._local(value)
        return f"{local.strftime(FORMAT)} {local.tzname()}"

    def day(self, value: datetime | str) -> str:
        """The date alone, in the zone (a report's period)."""
        return self._local(value).strftime("%Y-%m-%d")

    def _local(self, value: datetime | str) -> datetime:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else value
        if moment.tzinfo is None:  # the store's naive times are UTC
            moment = moment.replace(tzinfo=UTC)
        return moment.astimezone(self.zone)
