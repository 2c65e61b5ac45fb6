"""article_sources by source: a delivery's new articles are found from its sources' rows

Without it the new-articles query (`Store._new_articles_many`) scanned every article for every
delivery: O(all articles) per channel digest, 1.3 ms at 3,000 articles on SQLite and growing
with the archive; with it, O(the channel's own articles).

Revision ID: 0013
Revises: 0012
"""

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_article_sources_source_id", "article_sources", ["source_id", "article_id"])


def downgrade() -> None:
    op.drop_index("ix_article_sources_source_id", table_name="article_sources")
