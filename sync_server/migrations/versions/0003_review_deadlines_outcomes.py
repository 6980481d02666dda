"""review queue, deadlines and outcomes: one verdict per submission, extension dates,
reoffending records, and a partial index over reflections and letters

Revision ID: 0003
Revises: 0004
Create Date: 2026-11-27 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
# Written beside 0004 (certificates), which landed first: this one follows it.
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WRITINGS = "type IN ('reflection.submitted', 'letter.submitted')"


def upgrade() -> None:
    with op.batch_alter_table("reviews") as batch_op:
        batch_op.create_unique_constraint(
            op.f("uq_reviews_submission_event_id"), ["submission_event_id"]
        )
    with op.batch_alter_table("outcomes") as batch_op:
        batch_op.add_column(sa.Column("previous_due_date", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("new_due_date", sa.Date(), nullable=True))
    op.create_table(
        "reoffending_records",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("enrolment_id", sa.String(length=36), nullable=False),
        sa.Column("months", sa.Integer(), nullable=False),
        sa.Column("reoffended", sa.Boolean(), nullable=False),
        sa.Column("recorded_by", BIG_ID, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("months IN (3, 6, 12)", name=op.f("ck_reoffending_records_months")),
        sa.ForeignKeyConstraint(
            ["enrolment_id"],
            ["enrolments.id"],
            name=op.f("fk_reoffending_records_enrolment_id_enrolments"),
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by"],
            ["staff_users.id"],
            name=op.f("fk_reoffending_records_recorded_by_staff_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reoffending_records")),
        sa.UniqueConstraint(
            "enrolment_id", "months", name=op.f("uq_reoffending_records_enrolment_id")
        ),
    )
    op.create_index(
        "ix_events_writings",
        "events",
        ["enrolment_id", "step_id", "occurred_at", "id"],
        sqlite_where=sa.text(WRITINGS),
        postgresql_where=sa.text(WRITINGS),
    )


def downgrade() -> None:
    op.drop_index("ix_events_writings", table_name="events")
    op.drop_table("reoffending_records")
    with op.batch_alter_table("outcomes") as batch_op:
        batch_op.drop_column("new_due_date")
        batch_op.drop_column("previous_due_date")
    with op.batch_alter_table("reviews") as batch_op:
        batch_op.drop_constraint(op.f("uq_reviews_submission_event_id"), type_="unique")
