"""replicas: which part of a delivery may be out without its record, and a claim index

Revision ID: 0011
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("part_in_flight", sa.Integer(), nullable=True))
        batch_op.create_index("ix_deliveries_state_lease", ["state", "lease_until"], unique=False)
    # deliveries interrupted before this revision did not mark their sends: a planned one may
    # have a part out without its record, so it is reconciled as before
    op.execute(
        "UPDATE deliveries SET part_in_flight = parts_sent "
        "WHERE state = 'sending' AND parts_total > parts_sent"
    )


def downgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_deliveries_state_lease")
        batch_op.drop_column("part_in_flight")
