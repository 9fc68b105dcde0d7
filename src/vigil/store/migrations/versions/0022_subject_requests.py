"""Subject requests: a person on camera learns what is held about them (vigil.subjects).

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from vigil.store.models.base import UTCDateTime

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SIGHTING_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "subject_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(200), nullable=False),
        sa.Column("identity_checked_by", sa.String(200), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("requested_by", sa.String(64), nullable=False),
        sa.Column("requested_at", UTCDateTime(), nullable=False),
        sa.Column("probes", sa.Text(), nullable=False),
        sa.Column("embedder", sa.String(32), nullable=False),
        sa.Column("descriptors", sa.LargeBinary(), nullable=True),
        sa.Column("decided_by", sa.String(64), nullable=True),
        sa.Column("decided_at", UTCDateTime(), nullable=True),
        sa.Column("restriction", sa.Text(), nullable=True),
        sa.Column("searched", sa.BigInteger(), nullable=True),
        sa.Column("watchlist", sa.Text(), nullable=False, server_default="[]"),
        sa.Column("erased_by", sa.String(64), nullable=True),
        sa.Column("erased_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_subject_requests"),
    )
    op.create_index("ix_subject_requests_state", "subject_requests", ["state"])
    op.create_table(
        "subject_matches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("sighting_id", SIGHTING_ID, nullable=False),
        sa.Column("distance", sa.Float(), nullable=False),
        sa.Column("estimated_fmr", sa.Float(), nullable=False),
        sa.Column("kept", sa.Text(), nullable=True),
        sa.Column("verdict", sa.String(16), nullable=True),
        sa.Column("reviewed_by", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_subject_matches"),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["subject_requests.id"],
            name="fk_subject_matches_request_id_subject_requests",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["sighting_id"],
            ["sightings.id"],
            name="fk_subject_matches_sighting_id_sightings",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_subject_matches_request_id", "subject_matches", ["request_id"])
    op.create_index("ix_subject_matches_sighting_id", "subject_matches", ["sighting_id"])


def downgrade() -> None:
    op.drop_table("subject_matches")
    op.drop_table("subject_requests")
