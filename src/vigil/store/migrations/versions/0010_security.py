"""Security: who created each API token (audited with every act done with it), and the
client addresses people signed in from (exempt from the lock failed logins put on a name).

Tokens made before this revision record their creator as ``unrecorded``.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from vigil.store.models import UTCDateTime

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("created_by", sa.String(64), server_default="unrecorded", nullable=False)
        )
    op.create_table(
        "login_clients",
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("client", sa.String(length=64), nullable=False),
        sa.Column("last_success_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("username", "client", name=op.f("pk_login_clients")),
    )


def downgrade() -> None:
    op.drop_table("login_clients")
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_column("created_by")
