"""shared pacing: one GCRA bucket row per platform limit, for every replica together

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # made on SQLite too, so that one schema serves both; only PostgreSQL replicas use it
    op.create_table(
        "pace_buckets",
        sa.Column("key", sa.String(length=160), nullable=False),
        sa.Column("tat", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )


def downgrade() -> None:
    op.drop_table("pace_buckets")
