"""Case searches at city scale: an index of the sightings that still hold a descriptor,
by camera, start, id, case and descriptor models, so that counting a search's scope reads
the index alone (at 10 million sightings, two counts over a 100-camera week read the
table's rows for about 2 s), and the vector index's look for rows stored since it last
read a camera's day finds them in the index instead of reading the day's rows.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DESCRIBED = sa.text("embedding IS NOT NULL")


def upgrade() -> None:
    op.create_index(
        "ix_sightings_described",
        "sightings",
        ["camera_id", "start", "id", "case_id", "embedding_models"],
        postgresql_where=DESCRIBED,
        sqlite_where=DESCRIBED,
    )


def downgrade() -> None:
    op.drop_index("ix_sightings_described", table_name="sightings")
