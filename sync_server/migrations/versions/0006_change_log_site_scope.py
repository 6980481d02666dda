"""change log scope index: (force, site, seq), so a pull reads only its own rows in order

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 03:30:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # (force_id, seq) left a pull's "this site or the whole force" sorting every later row of
    # the force on each page: a first pull at a busy site was quadratic in its history.
    op.create_index("ix_changes_site_scope", "changes", ["force_id", "site_id", "seq"])
    op.drop_index("ix_changes_scope", table_name="changes")


def downgrade() -> None:
    op.create_index("ix_changes_scope", "changes", ["force_id", "seq"])
    op.drop_index("ix_changes_site_scope", table_name="changes")
