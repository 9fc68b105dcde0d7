"""Analysis close to the machine's limit: each camera's face size learned (frames are
searched at the scale its faces need), the rate a segment was analysed at when
back-pressure lowered it (``vigil status`` says how many), and a camera's analysis stream
(a sub-stream recorded for analysis alone: its segments are marked ``analysis``).

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("cameras") as batch:
        batch.add_column(sa.Column("face_px", sa.Float(), nullable=True))
        batch.add_column(sa.Column("analysis_url", sa.Text(), nullable=True))
    with op.batch_alter_table("segments") as batch:
        batch.add_column(sa.Column("lowered_fps", sa.Float(), nullable=True))
        batch.add_column(sa.Column("stream", sa.String(16), nullable=False, server_default="main"))


def downgrade() -> None:
    with op.batch_alter_table("segments") as batch:
        batch.drop_column("stream")
        batch.drop_column("lowered_fps")
    with op.batch_alter_table("cameras") as batch:
        batch.drop_column("analysis_url")
        batch.drop_column("face_px")
