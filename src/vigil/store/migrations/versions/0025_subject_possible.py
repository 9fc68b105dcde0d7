"""A subject request's found sightings say whether they were within the match point or
only possible beyond it (issue 31); those found before were all within it.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("subject_matches") as batch:
        batch.add_column(sa.Column("match", sa.Boolean(), nullable=False, server_default=sa.true()))


def downgrade() -> None:
    with op.batch_alter_table("subject_matches") as batch:
        batch.drop_column("match")
