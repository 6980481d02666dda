"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-25 11:12:12.027425
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "counters",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_counters")),
    )
    op.create_table(
        "device",
        sa.Column("row", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.String(length=36), nullable=True),
        sa.Column("ed25519_private_key", sa.LargeBinary(), nullable=True),
        sa.Column("x25519_identity", sa.String(length=100), nullable=True),
        sa.Column("server_url", sa.String(length=2048), nullable=True),
        sa.Column("force_id", sa.String(length=128), nullable=True),
        sa.Column("force_name", sa.String(length=120), nullable=True),
        sa.Column("site_id", sa.String(length=128), nullable=True),
        sa.Column("site_name", sa.String(length=120), nullable=True),
        sa.Column("access_code_prefix", sa.String(length=3), nullable=True),
        sa.Column("publisher_keys", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("row", name=op.f("pk_device")),
    )
    op.create_table(
        "installed_packs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("pack_id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("path", sa.String(length=1024), nullable=False),
        sa.Column("signature", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("installed_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_installed_packs")),
        sa.UniqueConstraint("pack_id", "version", name=op.f("uq_installed_packs_pack_id")),
    )
    op.create_table(
        "journal",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.String(length=36), nullable=False),
        sa.Column("enrolment_id", sa.String(length=36), nullable=True),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("step_id", sa.String(length=64), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(), nullable=False),
        sa.Column("monotonic_ms", sa.Integer(), nullable=False),
        sa.Column("acked_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journal")),
        sa.UniqueConstraint("seq", name=op.f("uq_journal_seq")),
    )
    with op.batch_alter_table("journal", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_journal_enrolment_id"), ["enrolment_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_journal_participant_id"), ["participant_id"], unique=False
        )
        batch_op.create_index("ix_journal_unacked", ["acked_at", "seq"], unique=False)

    op.create_table(
        "participants",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("first_name", sa.String(length=60), nullable=False),
        sa.Column("access_code", sa.String(length=9), nullable=False),
        sa.Column("pin_hash", sa.String(length=512), nullable=True),
        sa.Column("pin_must_change", sa.Boolean(), nullable=False),
        sa.Column("failed_pin_attempts", sa.Integer(), nullable=False),
        sa.Column("last_failed_pin_at", sa.DateTime(), nullable=True),
        sa.Column("locked", sa.Boolean(), nullable=False),
        sa.Column("language", sa.String(length=35), nullable=False),
        sa.Column("accessibility", sa.JSON(), nullable=False),
        sa.Column("privacy_confirmed_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_participants")),
        sa.UniqueConstraint("access_code", name=op.f("uq_participants_access_code")),
    )
    op.create_table(
        "settings",
        sa.Column("row", sa.Integer(), nullable=False),
        sa.Column("idle_timeout_seconds", sa.Integer(), nullable=False),
        sa.Column("idle_warning_seconds", sa.Integer(), nullable=False),
        sa.Column("max_pin_attempts", sa.Integer(), nullable=False),
        sa.Column("sync_interval_seconds", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("row", name=op.f("pk_settings")),
    )
    op.create_table(
        "enrolments",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("participant_id", sa.String(length=36), nullable=False),
        sa.Column("programme_id", sa.String(length=64), nullable=False),
        sa.Column("programme_version", sa.Integer(), nullable=True),
        sa.Column("disposal_type", sa.String(length=40), nullable=False),
        sa.Column("conditions", sa.Text(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
            name=op.f("fk_enrolments_participant_id_participants"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enrolments")),
    )
    with op.batch_alter_table("enrolments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_enrolments_participant_id"), ["participant_id"], unique=False
        )

    op.create_table(
        "drafts",
        sa.Column("participant_id", sa.String(length=36), nullable=False),
        sa.Column("enrolment_id", sa.String(length=36), nullable=False),
        sa.Column("step_id", sa.String(length=64), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["enrolment_id"], ["enrolments.id"], name=op.f("fk_drafts_enrolment_id_enrolments")
        ),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
            name=op.f("fk_drafts_participant_id_participants"),
        ),
        sa.PrimaryKeyConstraint(
            "participant_id", "enrolment_id", "step_id", name=op.f("pk_drafts")
        ),
    )
    op.create_table(
        "resume_pointers",
        sa.Column("participant_id", sa.String(length=36), nullable=False),
        sa.Column("enrolment_id", sa.String(length=36), nullable=False),
        sa.Column("step_id", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["enrolment_id"],
            ["enrolments.id"],
            name=op.f("fk_resume_pointers_enrolment_id_enrolments"),
        ),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
            name=op.f("fk_resume_pointers_participant_id_participants"),
        ),
        sa.PrimaryKeyConstraint("participant_id", "enrolment_id", name=op.f("pk_resume_pointers")),
    )


def downgrade() -> None:

    op.drop_table("resume_pointers")
    op.drop_table("drafts")
    with op.batch_alter_table("enrolments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_enrolments_participant_id"))

    op.drop_table("enrolments")
    op.drop_table("settings")
    op.drop_table("participants")
    with op.batch_alter_table("journal", schema=None) as batch_op:
        batch_op.drop_index("ix_journal_unacked")
        batch_op.drop_index(batch_op.f("ix_journal_participant_id"))
        batch_op.drop_index(batch_op.f("ix_journal_enrolment_id"))

    op.drop_table("journal")
    op.drop_table("installed_packs")
    op.drop_table("device")
    op.drop_table("counters")
