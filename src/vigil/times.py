"""Times given from outside (the API, the command line): one bounded, validated type.

A time from outside has a time zone and lies in [EARLIEST, LATEST): a year 9999 or 0001 in
some zone would overflow once turned to UTC, and no camera recorded then. Every route and
command reads its times through ``Moment`` (pydantic) or ``parse_moment`` (text).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator
from pydantic_core import PydanticCustomError

from vigil.errors import InvalidInput

EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)
YEARS = (EARLIEST.year, LATEST.year - 1)


def time_problem(value: datetime) -> str | None:
    """What is wrong with a time from outside, or None."""
    if value.tzinfo is None or value.utcoffset() is None:
        return "a time needs a time zone, e.g. 2026-11-23T10:00:00Z"
    if not EARLIEST <= value < LATEST:
        return f"a time lies in the years {YEARS[0]} to {YEARS[1]}"
    return None


def checked_moment(value: datetime, field: str = "time") -> datetime:
    """The time in UTC; InvalidInput (naming ``field``) unless it is a valid one."""
    problem = time_problem(value)
    if problem is not None:
        raise InvalidInput(f"{field}: {problem}", field=field)
    return value.astimezone(UTC)


def parse_moment(text: str, field: str = "time") -> datetime:
    """An ISO 8601 time with a time zone, from a command line."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"{text!r} is not an ISO 8601 time", field=field) from None
    return checked_moment(value, field)


def _from_text(value: Any) -> Any:
    """A time arrives as ISO 8601 text (a bare number or a boolean is not one); read here,
    so that models validated strictly take it too."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        raise PydanticCustomError("time_type", "a time is ISO 8601 text with a time zone")
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value[:40]!r} is not an ISO 8601 time") from None


def _bounded(value: datetime) -> datetime:
    problem = time_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value.astimezone(UTC)


Moment = Annotated[datetime, BeforeValidator(_from_text), AfterValidator(_bounded)]
