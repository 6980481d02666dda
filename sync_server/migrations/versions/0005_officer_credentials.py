"""officer credentials for kiosks: a change for every existing force account

Revision ID: 0005
Revises: 0003
Create Date: 2026-11-30 17:30:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Accounts made before kiosks learnt of them: the pull renders each (or its delete).
    op.execute(
        "INSERT INTO changes (force_id, site_id, kind, entity_id, op, at) "
        "SELECT force_id, NULL, 'officer', CAST(id AS VARCHAR(64)), 'upsert', CURRENT_TIMESTAMP "
        "FROM staff_users WHERE force_id IS NOT NULL ORDER BY id"
    )


def downgrade() -> None:
    op.execute("DELETE FROM changes WHERE kind = 'officer'")
