"""Sightings: tracked faces from video, with crops and descriptors that expire.

Segments get ``analysed_at``: those without it are the analysis backlog.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from vigil.store.models import UTCDateTime

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("segments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("analysed_at", UTCDateTime(), nullable=True))
        batch_op.create_index(batch_op.f("ix_segments_analysed_at"), ["analysed_at"], unique=False)
    op.create_table(
        "sightings",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("camera_id", sa.Integer(), nullable=False),
        sa.Column(
            "segment_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("start", UTCDateTime(), nullable=False),
        sa.Column("end", UTCDateTime(), nullable=False),
        sa.Column("box", sa.Text(), nullable=False),
        sa.Column("face_px", sa.Integer(), nullable=False),
        sa.Column("sharpness", sa.Float(), nullable=False),
        sa.Column("frontalness", sa.Float(), nullable=False),
        sa.Column("faces", sa.Integer(), nullable=False),
        sa.Column("crop", sa.LargeBinary(), nullable=True),
        sa.Column("embedding", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["camera_id"], ["cameras.id"], name=op.f("fk_sightings_camera_id_cameras")
        ),
        sa.ForeignKeyConstraint(
            ["segment_id"],
            ["segments.id"],
            name=op.f("fk_sightings_segment_id_segments"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sightings")),
    )
    with op.batch_alter_table("sightings", schema=None) as batch_op:
        batch_op.create_index("ix_sightings_camera_id_start", ["camera_id", "start"], unique=False)
        batch_op.create_index("ix_sightings_segment_id", ["segment_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("segments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_segments_analysed_at"))
        batch_op.drop_column("analysed_at")
    with op.batch_alter_table("sightings", schema=None) as batch_op:
        batch_op.drop_index("ix_sightings_segment_id")
        batch_op.drop_index("ix_sightings_camera_id_start")

    op.drop_table("sightings")
