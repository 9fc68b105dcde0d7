"""Third-party keys by two people: a key works once a supervisor of its cameras' groups
approves it. Public viewing counted, never tracked: streams opened and seconds watched per
camera per day, no address kept.

Keys issued before were issued by one person; they stay usable, marked as approved
"before two-person approval" so that the record says so (an admin may revoke them).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from vigil.store.models.base import UTCDateTime

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BEFORE = "before two-person approval"


def upgrade() -> None:
    with op.batch_alter_table("partner_keys") as batch:
        batch.add_column(sa.Column("approved_by", sa.String(64), nullable=True))
        batch.add_column(sa.Column("approved_at", UTCDateTime(), nullable=True))
    keys = sa.table(
        "partner_keys",
        sa.column("approved_by", sa.String),
        sa.column("approved_at", sa.DateTime),
        sa.column("created_at", sa.DateTime),
    )
    op.execute(keys.update().values(approved_by=BEFORE, approved_at=keys.c.created_at))
    op.create_table(
        "public_viewing",
        sa.Column("camera_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("streams", sa.Integer(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["camera_id"],
            ["cameras.id"],
            name="fk_public_viewing_camera_id_cameras",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("camera_id", "day", name="pk_public_viewing"),
    )


def downgrade() -> None:
    op.drop_table("public_viewing")
    with op.batch_alter_table("partner_keys") as batch:
        batch.drop_column("approved_at")
        batch.drop_column("approved_by")
