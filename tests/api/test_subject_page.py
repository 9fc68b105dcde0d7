"""The subject requests' page while a request is compared in the background: it says so and
reloads itself until the answer is there."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import update

from tests.api.conftest import Api
from vigil.auth.roles import Role
from vigil.store.models import SubjectRequestRow

PHOTO = "lfw-dev/lfw-deepfunneled/Colin_Powell/Colin_Powell_0120.jpg"
REFRESH = '<meta http-equiv="refresh"'


def test_the_page_reloads_itself_while_a_request_is_compared(api: Api, datasets: Path) -> None:
    s = api.env.services
    dana = api.token_for("dana", Role.DPO)
    request = s.subjects.open(
        api.env.acting("dana"),
        [("mine.jpg", (datasets / PHOTO).read_bytes())],
        reference="DPO-9",
        identity_checked_by="dana",
    )
    page = api.client.get("/subjects", headers=api.bearer(dana))
    assert page.status_code == 200
    assert REFRESH not in page.text  # nothing is being compared
    with s.db.write() as session:  # approved, its comparison under way elsewhere
        session.execute(
            update(SubjectRequestRow)
            .where(SubjectRequestRow.id == request.id)
            .values(state="comparing", decided_by="sue")
        )
    page = api.client.get("/subjects", headers=api.bearer(dana))
    assert REFRESH in page.text
    assert "being read" in page.text
    s.subjects.compare(request.id)
    page = api.client.get("/subjects", headers=api.bearer(dana))
    assert REFRESH not in page.text
    assert "DPO-9" in page.text
