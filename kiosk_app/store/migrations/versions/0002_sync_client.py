"""sync client: journal origin and answers, sync state, pack catalogue

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30 16:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("journal", schema=None) as batch_op:
        batch_op.add_column(sa.Column("origin_device_id", sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column("origin_seq", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("sync_status", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("sync_reason", sa.String(length=500), nullable=True))
    op.create_table(
        "sync_state",
        sa.Column("row", sa.Integer(), nullable=False),
        sa.Column("pull_cursor", sa.String(length=200), nullable=False),
        sa.Column("last_attempt_at", sa.DateTime(), nullable=True),
        sa.Column("last_success_at", sa.DateTime(), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("clock_offset_seconds", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("row", name=op.f("pk_sync_state")),
    )
    op.create_table(
        "catalogue",
        sa.Column("pack_id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("language", sa.String(length=35), nullable=False),
        sa.Column("family", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("signature", sa.Text(), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("revoked", sa.Boolean(), nullable=False),
        sa.Column("partial_etag", sa.String(length=200), nullable=True),
        sa.Column("problem", sa.String(length=500), nullable=True),
        sa.PrimaryKeyConstraint("pack_id", "version", name=op.f("pk_catalogue")),
    )


def downgrade() -> None:
    op.drop_table("catalogue")
    op.drop_table("sync_state")
    with op.batch_alter_table("journal", schema=None) as batch_op:
        batch_op.drop_column("sync_reason")
        batch_op.drop_column("sync_status")
        batch_op.drop_column("origin_seq")
        batch_op.drop_column("origin_device_id")
