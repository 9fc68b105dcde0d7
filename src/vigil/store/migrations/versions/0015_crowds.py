"""Crowds without identification: people counts, events and their limits, occupancy alerts,
and no-identification zones.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from vigil.store.models import UTCDateTime

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _fk(table: str, column: str, other: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{other}.id"], name=op.f(f"fk_{table}_{column}_{other}"), ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "people_counts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("camera_id", sa.Integer(), nullable=False),
        sa.Column("segment_id", sa.Integer(), nullable=True),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("people", sa.Integer(), nullable=False),
        _fk("people_counts", "camera_id", "cameras"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_people_counts")),
    )
    op.create_table(
        "events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("start", UTCDateTime(), nullable=False),
        sa.Column("end", UTCDateTime(), nullable=False),
        sa.Column("total_limit", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        _fk("events", "group_id", "camera_groups"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
        sa.UniqueConstraint("name", name=op.f("uq_events_name")),
    )
    op.create_table(
        "event_limits",
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("camera_id", sa.Integer(), nullable=False),
        sa.Column("people", sa.Integer(), nullable=False),
        _fk("event_limits", "event_id", "events"),
        _fk("event_limits", "camera_id", "cameras"),
        sa.PrimaryKeyConstraint("event_id", "camera_id", name=op.f("pk_event_limits")),
    )
    op.create_table(
        "occupancy_alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("camera_id", sa.Integer(), nullable=True),
        sa.Column("place", sa.String(length=200), nullable=False),
        sa.Column("people", sa.Integer(), nullable=False),
        sa.Column("limit", sa.Integer(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        _fk("occupancy_alerts", "event_id", "events"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_occupancy_alerts")),
    )
    op.create_table(
        "no_id_zones",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=True),
        sa.Column("start", UTCDateTime(), nullable=False),
        sa.Column("end", UTCDateTime(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("proposed_by", sa.String(length=64), nullable=False),
        sa.Column("proposed_at", UTCDateTime(), nullable=False),
        sa.Column("approved_by", sa.String(length=64), nullable=True),
        sa.Column("approved_at", UTCDateTime(), nullable=True),
        sa.Column("lift_proposed_by", sa.String(length=64), nullable=True),
        sa.Column("lift_proposed_at", UTCDateTime(), nullable=True),
        sa.Column("lifted_by", sa.String(length=64), nullable=True),
        sa.Column("lifted_at", UTCDateTime(), nullable=True),
        _fk("no_id_zones", "group_id", "camera_groups"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_no_id_zones")),
    )
    with op.batch_alter_table("people_counts") as batch:
        batch.create_index(batch.f("ix_people_counts_at"), ["at"])
        batch.create_index(batch.f("ix_people_counts_segment_id"), ["segment_id"])
    with op.batch_alter_table("occupancy_alerts") as batch:
        batch.create_index(batch.f("ix_occupancy_alerts_event_id"), ["event_id"])


def downgrade() -> None:
    for table in (
        "no_id_zones", "occupancy_alerts", "event_limits", "events", "people_counts",
    ):  # fmt: skip
        op.drop_table(table)
