"""curation: per-channel filters and what they dropped, channel settings, story groups

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "channel_filters",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=8), nullable=False),
        sa.Column("pattern", sa.String(length=500), nullable=False),
        sa.Column("is_regex", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["channel_id"], ["channels.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("channel_filters", schema=None) as batch_op:
        batch_op.create_index("ix_channel_filters_channel_id", ["channel_id"], unique=False)
    op.create_table(
        "filter_drops",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column("filter_id", sa.Integer(), nullable=True),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("rule", sa.String(length=520), nullable=False),
        sa.Column("dropped_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["channel_id"], ["channels.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["article_id"], ["articles.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["filter_id"], ["channel_filters.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("filter_drops", schema=None) as batch_op:
        batch_op.create_index("ix_filter_drops_channel_id", ["channel_id"], unique=False)
    with op.batch_alter_table("channels", schema=None) as batch_op:
        batch_op.add_column(sa.Column("articles_per_digest", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("bullets_per_article", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("list_sections", sa.Boolean(), nullable=True))
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("plan", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_column("plan")
    with op.batch_alter_table("channels", schema=None) as batch_op:
        batch_op.drop_column("list_sections")
        batch_op.drop_column("bullets_per_article")
        batch_op.drop_column("articles_per_digest")
    op.drop_table("filter_drops")
    op.drop_table("channel_filters")
