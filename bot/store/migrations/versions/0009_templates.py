"""templates: a channel's message templates for its digest's header and each article's entry

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("channels", schema=None) as batch_op:
        batch_op.add_column(sa.Column("header_template", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("entry_template", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("channels", schema=None) as batch_op:
        batch_op.drop_column("entry_template")
        batch_op.drop_column("header_template")
