"""Third parties: organisations, their keys (cameras, a window, a quota) and their usage.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from vigil.store.models import UTCDateTime

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _fk(table: str, column: str, other: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{other}.id"], name=op.f(f"fk_{table}_{column}_{other}"), ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "organisations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=128), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organisations")),
        sa.UniqueConstraint("name", name=op.f("uq_organisations_name")),
    )
    op.create_table(
        "partner_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("secret_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("label", sa.String(length=128), nullable=False),
        sa.Column("valid_from", UTCDateTime(), nullable=False),
        sa.Column("valid_until", UTCDateTime(), nullable=False),
        sa.Column("quota_s", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("revoked_by", sa.String(length=64), nullable=True),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        _fk("partner_keys", "organisation_id", "organisations"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partner_keys")),
        sa.UniqueConstraint("secret_hash", name=op.f("uq_partner_keys_secret_hash")),
    )
    op.create_table(
        "partner_key_cameras",
        sa.Column("key_id", sa.Integer(), nullable=False),
        sa.Column("camera_id", sa.Integer(), nullable=False),
        _fk("partner_key_cameras", "key_id", "partner_keys"),
        _fk("partner_key_cameras", "camera_id", "cameras"),
        sa.PrimaryKeyConstraint("key_id", "camera_id", name=op.f("pk_partner_key_cameras")),
    )
    op.create_table(
        "partner_usage",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("camera", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("ended_at", UTCDateTime(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("bytes", sa.BigInteger(), nullable=False),
        _fk("partner_usage", "key_id", "partner_keys"),
        _fk("partner_usage", "organisation_id", "organisations"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partner_usage")),
    )
    with op.batch_alter_table("partner_keys") as batch:
        batch.create_index(batch.f("ix_partner_keys_organisation_id"), ["organisation_id"])
    with op.batch_alter_table("partner_usage") as batch:
        batch.create_index(batch.f("ix_partner_usage_key_id"), ["key_id"])
        batch.create_index(batch.f("ix_partner_usage_organisation_id"), ["organisation_id"])
        batch.create_index(batch.f("ix_partner_usage_started_at"), ["started_at"])


def downgrade() -> None:
    for table in ("partner_usage", "partner_key_cameras", "partner_keys", "organisations"):
        op.drop_table(table)
