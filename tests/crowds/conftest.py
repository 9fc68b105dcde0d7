"""The API client fixture, for the event stream tests here."""

from tests.api.conftest import api

__all__ = ["api"]
