"""Identity as evidence: several descriptors per sighting, analysis failures counted,
searches made from a weak probe marked.

Existing sightings keep their one descriptor (``descriptors`` = 1); existing segments and
searches count no failure and no weak probe.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sightings", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("descriptors", sa.Integer(), server_default="1", nullable=False)
        )
    with op.batch_alter_table("segments", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("analysis_attempts", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(sa.Column("analysis_error", sa.Text(), nullable=True))
        batch_op.add_column(
            sa.Column("frames_failed", sa.Integer(), server_default="0", nullable=False)
        )
    with op.batch_alter_table("case_searches", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("weak_probe", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("case_searches", schema=None) as batch_op:
        batch_op.drop_column("weak_probe")
    with op.batch_alter_table("segments", schema=None) as batch_op:
        batch_op.drop_column("frames_failed")
        batch_op.drop_column("analysis_error")
        batch_op.drop_column("analysis_attempts")
    with op.batch_alter_table("sightings", schema=None) as batch_op:
        batch_op.drop_column("descriptors")
