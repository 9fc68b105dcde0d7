"""Alerts stand for an appearance: later sightings of the same person merge into them.

Existing alerts get their sighting as their first and their time as last seen.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from vigil.store.models import UTCDateTime

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "alert_sightings",
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column(
            "sighting_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["alert_id"],
            ["alerts.id"],
            name=op.f("fk_alert_sightings_alert_id_alerts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["sighting_id"],
            ["sightings.id"],
            name=op.f("fk_alert_sightings_sighting_id_sightings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("alert_id", "sighting_id", name=op.f("pk_alert_sightings")),
    )
    with op.batch_alter_table("alert_sightings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_alert_sightings_sighting_id"), ["sighting_id"], unique=False
        )

    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_seen_at", UTCDateTime(), nullable=True))
    op.execute("UPDATE alerts SET last_seen_at = seen_at")
    op.execute(
        "INSERT INTO alert_sightings (alert_id, sighting_id) "
        "SELECT id, sighting_id FROM alerts WHERE sighting_id IS NOT NULL"
    )


def downgrade() -> None:
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_column("last_seen_at")

    with op.batch_alter_table("alert_sightings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alert_sightings_sighting_id"))

    op.drop_table("alert_sightings")
