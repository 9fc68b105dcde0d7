"""Sightings keep their track's path, which an export showing one person follows.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sightings") as batch:
        batch.add_column(sa.Column("path", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sightings") as batch:
        batch.drop_column("path")
