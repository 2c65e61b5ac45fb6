"""filters per subscription: a channel's rule may hold for one of its sources only

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("channel_filters", schema=None) as batch_op:
        batch_op.add_column(sa.Column("source_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_channel_filters_source_id_sources",
            "sources",
            ["source_id"],
            ["id"],
            ondelete="CASCADE",
        )


def downgrade() -> None:
    with op.batch_alter_table("channel_filters", schema=None) as batch_op:
        batch_op.drop_constraint("fk_channel_filters_source_id_sources", type_="foreignkey")
        batch_op.drop_column("source_id")
