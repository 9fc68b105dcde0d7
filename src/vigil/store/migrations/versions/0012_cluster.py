"""Cluster mode: the ingest nodes, the node that records each camera, and the node that
recorded (and serves) each segment.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from vigil.store.models import UTCDateTime

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "cluster_nodes",
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("seen_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_cluster_nodes")),
    )
    with op.batch_alter_table("cameras") as batch:
        batch.add_column(sa.Column("node", sa.String(length=255), nullable=True))
    with op.batch_alter_table("segments") as batch:
        batch.add_column(sa.Column("node", sa.String(length=255), nullable=True))
        batch.create_index(batch.f("ix_segments_node"), ["node"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("segments") as batch:
        batch.drop_index(batch.f("ix_segments_node"))
        batch.drop_column("node")
    with op.batch_alter_table("cameras") as batch:
        batch.drop_column("node")
    op.drop_table("cluster_nodes")
