"""mentions: roles or user groups a channel notifies for a source's articles or for words

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "channel_mentions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column("target", sa.String(length=64), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=True),
        sa.Column("pattern", sa.String(length=500), nullable=True),
        sa.Column("is_regex", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["channel_id"], ["channels.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["source_id"], ["sources.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("channel_mentions", schema=None) as batch_op:
        batch_op.create_index("ix_channel_mentions_channel_id", ["channel_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("channel_mentions", schema=None) as batch_op:
        batch_op.drop_index("ix_channel_mentions_channel_id")
    op.drop_table("channel_mentions")
