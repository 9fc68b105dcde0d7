"""Imported files are a case's evidence, not a camera's recording: their sightings name the
case they belong to, the file's SHA-256 and who imported it. A case says whether its scope
includes imports, and which no-identification zones its approver was shown.

Sightings stored before were imported as camera footage; they stay as they were.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sightings") as batch:
        batch.add_column(sa.Column("case_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("imported_sha256", sa.String(64), nullable=True))
        batch.add_column(sa.Column("imported_by", sa.String(64), nullable=True))
        batch.create_foreign_key("fk_sightings_case_id_cases", "cases", ["case_id"], ["id"])
        batch.create_index("ix_sightings_case_id", ["case_id"])
    with op.batch_alter_table("cases") as batch:
        batch.add_column(
            sa.Column("imports", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("zones_seen", sa.Text(), nullable=False, server_default="[]"))


def downgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("zones_seen")
        batch.drop_column("imports")
    with op.batch_alter_table("sightings") as batch:
        batch.drop_index("ix_sightings_case_id")
        batch.drop_constraint("fk_sightings_case_id_cases", type_="foreignkey")
        batch.drop_column("imported_by")
        batch.drop_column("imported_sha256")
        batch.drop_column("case_id")
