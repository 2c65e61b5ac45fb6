"""web console: channels' workspace or server, sign-in links, sessions, full-text search

Revision ID: 0008
Revises: 0007
"""

import json

import sqlalchemy as sa
from alembic import op

from bot.store import search

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

BACKFILL_BATCH = 500


def upgrade() -> None:
    with op.batch_alter_table("channels", schema=None) as batch_op:
        batch_op.add_column(sa.Column("tenant", sa.String(length=64), nullable=True))
        batch_op.create_index("ix_channels_tenant", ["tenant"], unique=False)
    op.create_table(
        "web_sign_ins",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=True),
        sa.Column("tenant", sa.String(length=64), nullable=True),
        sa.Column("user_id", sa.String(length=128), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("token_hash"),
    )
    op.create_table(
        "web_sessions",
        sa.Column("id_hash", sa.String(length=64), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=True),
        sa.Column("tenant", sa.String(length=64), nullable=True),
        sa.Column("user_id", sa.String(length=128), nullable=False),
        sa.Column("csrf", sa.String(length=64), nullable=False),
        sa.Column("flash", sa.Text(), nullable=True),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id_hash"),
    )
    with op.batch_alter_table("delivered_articles", schema=None) as batch_op:
        # the archive search goes from matching articles to the digests that carried them
        batch_op.create_index("ix_delivered_articles_article_id", ["article_id"], unique=False)
    connection = op.get_bind()
    search.create(connection)
    _backfill(connection)


def _backfill(connection: sa.Connection) -> None:
    """Index the articles stored before search existed, a batch at a time."""
    from bot.store.codec import article_from_dict

    last = 0
    while True:
        rows = connection.execute(
            sa.text("SELECT id, body FROM articles WHERE id > :last ORDER BY id LIMIT :n"),
            {"last": last, "n": BACKFILL_BATCH},
        ).all()
        if not rows:
            return
        for article_id, body in rows:
            try:
                loaded = body if isinstance(body, dict) else json.loads(body)
                words = search.article_words(article_from_dict(loaded))
            except Exception:  # an unreadable old row stays unsearchable, never blocks startup
                words = ""
            search.index_article(connection, article_id, words)
        last = rows[-1][0]


def downgrade() -> None:
    search.drop(op.get_bind())
    with op.batch_alter_table("delivered_articles", schema=None) as batch_op:
        batch_op.drop_index("ix_delivered_articles_article_id")
    op.drop_table("web_sessions")
    op.drop_table("web_sign_ins")
    with op.batch_alter_table("channels", schema=None) as batch_op:
        batch_op.drop_index("ix_channels_tenant")
        batch_op.drop_column("tenant")
