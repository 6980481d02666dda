"""completion certificates: signed facts and the issued PDF per completed enrolment

Revision ID: 0004
Revises: 0002
Create Date: 2026-11-27 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
# 0003 (review queue, deadlines, outcomes) is being written beside this one; whichever
# lands second points its down_revision at the other.
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "certificates",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("enrolment_id", sa.String(length=36), nullable=False),
        sa.Column("force_id", sa.String(length=40), nullable=False),
        sa.Column("record", sa.Text(), nullable=False),
        sa.Column("signature", sa.String(length=100), nullable=False),
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("document", sa.LargeBinary(), nullable=False),
        sa.Column("document_sha256", sa.String(length=64), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("issued_by", BIG_ID, nullable=False),
        sa.ForeignKeyConstraint(
            ["enrolment_id"],
            ["enrolments.id"],
            name=op.f("fk_certificates_enrolment_id_enrolments"),
        ),
        sa.ForeignKeyConstraint(
            ["force_id"], ["forces.id"], name=op.f("fk_certificates_force_id_forces")
        ),
        sa.ForeignKeyConstraint(
            ["issued_by"], ["staff_users.id"], name=op.f("fk_certificates_issued_by_staff_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certificates")),
        sa.UniqueConstraint("code", name=op.f("uq_certificates_code")),
        sa.UniqueConstraint("enrolment_id", name=op.f("uq_certificates_enrolment_id")),
    )
    op.create_index(op.f("ix_certificates_force_id"), "certificates", ["force_id"])
    op.create_index(op.f("ix_certificates_document_sha256"), "certificates", ["document_sha256"])


def downgrade() -> None:
    op.drop_index(op.f("ix_certificates_document_sha256"), table_name="certificates")
    op.drop_index(op.f("ix_certificates_force_id"), table_name="certificates")
    op.drop_table("certificates")
