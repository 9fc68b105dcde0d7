"""Descriptors name their model: sightings' and reference photos' descriptors say which
models made them; alerts and searches say which embedder's distances they hold.

Everything stored before was dlib's alone.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = (
    ("sightings", "embedding_models"),
    ("watchlist_photos", "embedding_models"),
    ("alerts", "embedder"),
    ("case_searches", "embedder"),
)


def upgrade() -> None:
    for table, column in COLUMNS:
        with op.batch_alter_table(table) as batch:
            batch.add_column(
                sa.Column(column, sa.String(32), nullable=False, server_default="dlib")
            )


def downgrade() -> None:
    for table, column in COLUMNS:
        with op.batch_alter_table(table) as batch:
            batch.drop_column(column)
