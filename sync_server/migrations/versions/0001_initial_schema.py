"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-25 10:49:23.241555
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=80), nullable=False),
        sa.Column("action", sa.String(length=80), nullable=False),
        sa.Column("subject", sa.String(length=80), nullable=True),
        sa.Column("force_id", sa.String(length=40), nullable=True),
        sa.Column(
            "details",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_log_action"), ["action"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_log_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_log_force_id"), ["force_id"], unique=False)

    op.create_table(
        "enrol_attempts",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("client", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enrol_attempts")),
    )
    with op.batch_alter_table("enrol_attempts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_enrol_attempts_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_enrol_attempts_client"), ["client"], unique=False)

    op.create_table(
        "forces",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_forces")),
    )
    op.create_table(
        "nonces",
        sa.Column("device_id", sa.String(length=36), nullable=False),
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("device_id", "nonce", name=op.f("pk_nonces")),
    )
    with op.batch_alter_table("nonces", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_nonces_seen_at"), ["seen_at"], unique=False)

    op.create_table(
        "packs",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("pack_id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("path", sa.String(length=500), nullable=False),
        sa.Column("payload_offset", sa.BigInteger(), nullable=False),
        sa.Column("payload_size", sa.BigInteger(), nullable=False),
        sa.Column("payload_sha256", sa.String(length=64), nullable=False),
        sa.Column(
            "manifest",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("manifest_sha256", sa.String(length=64), nullable=False),
        sa.Column("signature", sa.Text(), nullable=False),
        sa.Column("publisher_key_id", sa.String(length=16), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_packs")),
        sa.UniqueConstraint("pack_id", "version", name=op.f("uq_packs_pack_id")),
    )
    with op.batch_alter_table("packs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_packs_pack_id"), ["pack_id"], unique=False)

    op.create_table(
        "catalogue",
        sa.Column("force_id", sa.String(length=40), nullable=False),
        sa.Column("pack", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["force_id"], ["forces.id"], name=op.f("fk_catalogue_force_id_forces")
        ),
        sa.ForeignKeyConstraint(["pack"], ["packs.id"], name=op.f("fk_catalogue_pack_packs")),
        sa.PrimaryKeyConstraint("force_id", "pack", name=op.f("pk_catalogue")),
    )
    op.create_table(
        "settings",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("force_id", sa.String(length=40), nullable=True),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column(
            "value",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["force_id"], ["forces.id"], name=op.f("fk_settings_force_id_forces")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_settings")),
    )
    op.create_table(
        "sites",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("force_id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["force_id"], ["forces.id"], name=op.f("fk_sites_force_id_forces")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sites")),
    )
    with op.batch_alter_table("sites", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sites_force_id"), ["force_id"], unique=False)

    op.create_table(
        "staff_users",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("username", sa.String(length=80), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("force_id", sa.String(length=40), nullable=True),
        sa.Column(
            "role",
            sa.Enum(
                "officer",
                "supervisor",
                "admin",
                "content",
                name="staff_role",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["force_id"], ["forces.id"], name=op.f("fk_staff_users_force_id_forces")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_users")),
        sa.UniqueConstraint("username", name=op.f("uq_staff_users_username")),
    )
    with op.batch_alter_table("staff_users", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_staff_users_force_id"), ["force_id"], unique=False)

    op.create_table(
        "changes",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("force_id", sa.String(length=40), nullable=True),
        sa.Column("site_id", sa.String(length=40), nullable=True),
        sa.Column(
            "kind",
            sa.Enum(
                "participant",
                "enrolment",
                "catalogue",
                "revocation",
                "settings",
                name="change_kind",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("entity_id", sa.String(length=64), nullable=False),
        sa.Column("op", sa.String(length=8), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["force_id"], ["forces.id"], name=op.f("fk_changes_force_id_forces")
        ),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name=op.f("fk_changes_site_id_sites")),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_changes")),
    )
    with op.batch_alter_table("changes", schema=None) as batch_op:
        batch_op.create_index("ix_changes_scope", ["force_id", "seq"], unique=False)

    op.create_table(
        "devices",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("force_id", sa.String(length=40), nullable=False),
        sa.Column("site_id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("ed25519_public_key", sa.LargeBinary(length=32), nullable=False),
        sa.Column("x25519_recipient", sa.String(length=100), nullable=False),
        sa.Column("access_code_prefix", sa.String(length=3), nullable=False),
        sa.Column("app_version", sa.String(length=40), nullable=False),
        sa.Column("enrolled_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_pull_cursor", sa.BigInteger(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "revoked_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.ForeignKeyConstraint(
            ["force_id"], ["forces.id"], name=op.f("fk_devices_force_id_forces")
        ),
        sa.ForeignKeyConstraint(
            ["revoked_by"], ["staff_users.id"], name=op.f("fk_devices_revoked_by_staff_users")
        ),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name=op.f("fk_devices_site_id_sites")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_devices")),
        sa.UniqueConstraint("force_id", "access_code_prefix", name=op.f("uq_devices_force_id")),
    )
    with op.batch_alter_table("devices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_devices_force_id"), ["force_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_devices_site_id"), ["site_id"], unique=False)

    op.create_table(
        "enrolment_codes",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("force_id", sa.String(length=40), nullable=False),
        sa.Column("site_id", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "created_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("used_by_device", sa.String(length=36), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["staff_users.id"],
            name=op.f("fk_enrolment_codes_created_by_staff_users"),
        ),
        sa.ForeignKeyConstraint(
            ["force_id"], ["forces.id"], name=op.f("fk_enrolment_codes_force_id_forces")
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_enrolment_codes_site_id_sites")
        ),
        sa.ForeignKeyConstraint(
            ["used_by_device"],
            ["devices.id"],
            name=op.f("fk_enrolment_codes_used_by_device_devices"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enrolment_codes")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_enrolment_codes_code_hash")),
    )
    op.create_table(
        "events",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("device_id", sa.String(length=36), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("participant_id", sa.String(length=36), nullable=False),
        sa.Column("enrolment_id", sa.String(length=36), nullable=True),
        sa.Column("type", sa.String(length=40), nullable=False),
        sa.Column("step_id", sa.String(length=64), nullable=True),
        sa.Column(
            "data",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("monotonic_ms", sa.BigInteger(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.id"], name=op.f("fk_events_device_id_devices")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
    )
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.create_index("ix_events_device_seq", ["device_id", "seq"], unique=False)
        batch_op.create_index("ix_events_enrolment_id", ["enrolment_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_events_participant_id"), ["participant_id"], unique=False
        )

    op.create_table(
        "pack_headers",
        sa.Column("device_id", sa.String(length=36), nullable=False),
        sa.Column("pack", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("header", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.id"], name=op.f("fk_pack_headers_device_id_devices")
        ),
        sa.ForeignKeyConstraint(["pack"], ["packs.id"], name=op.f("fk_pack_headers_pack_packs")),
        sa.PrimaryKeyConstraint("device_id", "pack", name=op.f("pk_pack_headers")),
    )
    op.create_table(
        "participants",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("force_id", sa.String(length=40), nullable=False),
        sa.Column("site_id", sa.String(length=40), nullable=False),
        sa.Column("first_name", sa.String(length=60), nullable=False),
        sa.Column("surname", sa.String(length=100), nullable=True),
        sa.Column("force_reference", sa.String(length=40), nullable=False),
        sa.Column("access_code", sa.String(length=12), nullable=False),
        sa.Column("pin_hash", sa.String(length=200), nullable=True),
        sa.Column("pin_must_change", sa.Boolean(), nullable=False),
        sa.Column("failed_pin_attempts", sa.Integer(), nullable=False),
        sa.Column("locked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column(
            "accessibility",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_device", sa.String(length=36), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_device"],
            ["devices.id"],
            name=op.f("fk_participants_created_by_device_devices"),
        ),
        sa.ForeignKeyConstraint(
            ["force_id"], ["forces.id"], name=op.f("fk_participants_force_id_forces")
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_participants_site_id_sites")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_participants")),
        sa.UniqueConstraint("force_id", "access_code", name=op.f("uq_participants_force_id")),
    )
    with op.batch_alter_table("participants", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_participants_force_id"), ["force_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_participants_site_id"), ["site_id"], unique=False)

    op.create_table(
        "enrolments",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("participant_id", sa.String(length=36), nullable=False),
        sa.Column("force_id", sa.String(length=40), nullable=False),
        sa.Column("site_id", sa.String(length=40), nullable=False),
        sa.Column("programme_id", sa.String(length=64), nullable=False),
        sa.Column("programme_version", sa.Integer(), nullable=True),
        sa.Column(
            "disposal_type",
            sa.Enum(
                "community_resolution",
                "conditional_caution",
                name="disposal_type",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("conditions", sa.Text(), nullable=False),
        sa.Column("offence_summary", sa.Text(), nullable=True),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "assigned",
                "in_progress",
                "complete",
                "withdrawn",
                name="enrolment_status",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("progress_percent", sa.Integer(), nullable=False),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completion_received_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by_device", sa.String(length=36), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_device"],
            ["devices.id"],
            name=op.f("fk_enrolments_created_by_device_devices"),
        ),
        sa.ForeignKeyConstraint(
            ["force_id"], ["forces.id"], name=op.f("fk_enrolments_force_id_forces")
        ),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
            name=op.f("fk_enrolments_participant_id_participants"),
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_enrolments_site_id_sites")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enrolments")),
    )
    with op.batch_alter_table("enrolments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_enrolments_force_id"), ["force_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_enrolments_participant_id"), ["participant_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_enrolments_programme_id"), ["programme_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_enrolments_site_id"), ["site_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_enrolments_status"), ["status"], unique=False)

    op.create_table(
        "outcomes",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("enrolment_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column(
            "recorded_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["enrolment_id"], ["enrolments.id"], name=op.f("fk_outcomes_enrolment_id_enrolments")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by"], ["staff_users.id"], name=op.f("fk_outcomes_recorded_by_staff_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outcomes")),
    )
    with op.batch_alter_table("outcomes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_outcomes_enrolment_id"), ["enrolment_id"], unique=False
        )

    op.create_table(
        "reviews",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("enrolment_id", sa.String(length=36), nullable=False),
        sa.Column("submission_event_id", sa.String(length=36), nullable=False),
        sa.Column("step_id", sa.String(length=64), nullable=False),
        sa.Column(
            "reviewer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("verdict", sa.String(length=16), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["enrolment_id"], ["enrolments.id"], name=op.f("fk_reviews_enrolment_id_enrolments")
        ),
        sa.ForeignKeyConstraint(
            ["reviewer_id"], ["staff_users.id"], name=op.f("fk_reviews_reviewer_id_staff_users")
        ),
        sa.ForeignKeyConstraint(
            ["submission_event_id"],
            ["events.id"],
            name=op.f("fk_reviews_submission_event_id_events"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reviews")),
    )
    with op.batch_alter_table("reviews", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reviews_enrolment_id"), ["enrolment_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("reviews", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reviews_enrolment_id"))

    op.drop_table("reviews")
    with op.batch_alter_table("outcomes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outcomes_enrolment_id"))

    op.drop_table("outcomes")
    with op.batch_alter_table("enrolments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_enrolments_status"))
        batch_op.drop_index(batch_op.f("ix_enrolments_site_id"))
        batch_op.drop_index(batch_op.f("ix_enrolments_programme_id"))
        batch_op.drop_index(batch_op.f("ix_enrolments_participant_id"))
        batch_op.drop_index(batch_op.f("ix_enrolments_force_id"))

    op.drop_table("enrolments")
    with op.batch_alter_table("participants", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_participants_site_id"))
        batch_op.drop_index(batch_op.f("ix_participants_force_id"))

    op.drop_table("participants")
    op.drop_table("pack_headers")
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_events_participant_id"))
        batch_op.drop_index("ix_events_enrolment_id")
        batch_op.drop_index("ix_events_device_seq")

    op.drop_table("events")
    op.drop_table("enrolment_codes")
    with op.batch_alter_table("devices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_devices_site_id"))
        batch_op.drop_index(batch_op.f("ix_devices_force_id"))

    op.drop_table("devices")
    with op.batch_alter_table("changes", schema=None) as batch_op:
        batch_op.drop_index("ix_changes_scope")

    op.drop_table("changes")
    with op.batch_alter_table("staff_users", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staff_users_force_id"))

    op.drop_table("staff_users")
    with op.batch_alter_table("sites", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sites_force_id"))

    op.drop_table("sites")
    op.drop_table("settings")
    op.drop_table("catalogue")
    with op.batch_alter_table("packs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_packs_pack_id"))

    op.drop_table("packs")
    with op.batch_alter_table("nonces", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_nonces_seen_at"))

    op.drop_table("nonces")
    op.drop_table("forces")
    with op.batch_alter_table("enrol_attempts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_enrol_attempts_client"))
        batch_op.drop_index(batch_op.f("ix_enrol_attempts_at"))

    op.drop_table("enrol_attempts")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_log_force_id"))
        batch_op.drop_index(batch_op.f("ix_audit_log_at"))
        batch_op.drop_index(batch_op.f("ix_audit_log_action"))

    op.drop_table("audit_log")
