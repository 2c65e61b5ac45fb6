"""Full-text search over stored articles: SQLite FTS5 or PostgreSQL's text search.

Both databases get the same words: the bot's own tokenizer (bot/text/words.py) turns title
and text into lower-case words, Chinese and Japanese into characters and character pairs,
and the database only matches those words. So a search finds the same articles on SQLite and
PostgreSQL and in every language, where the databases' own tokenizers would split Chinese
not at all and stem only some languages. The index is a side table outside the ORM models
(FTS5 is a virtual table), kept in step by `index_article` wherever an article is written.
"""

from __future__ import annotations

from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

from bot.models import Article
from bot.text.words import tokens

TABLE = "article_search"
MAX_INDEXED_CHARS = 50_000  # a page's first 50k characters: plenty to be found by
MAX_QUERY_WORDS = 12
NEUTRAL = "und"  # no language's rules: casefolded words, CJK characters and pairs


def is_search_table(name: str | None) -> bool:
    """The search tables (FTS5 makes shadow tables too): not part of the ORM's schema."""
    return bool(name) and str(name).startswith(TABLE)


def include_name(name: str | None, type_: str, _parents: object) -> bool:
    """For Alembic's comparisons: the search tables are made by hand, not from the models."""
    return not (type_ == "table" and is_search_table(name))


def article_words(article: Article) -> str:
    body = " ".join(s.text for s in article.sentences)
    return words_of(f"{article.title} {body}"[:MAX_INDEXED_CHARS])


def words_of(text_: str) -> str:
    return " ".join(tokens(text_, NEUTRAL))


def create(connection: Connection) -> None:
    """The search table for this database (a migration calls it)."""
    if connection.dialect.name == "sqlite":
        connection.execute(text(f"CREATE VIRTUAL TABLE IF NOT EXISTS {TABLE} USING fts5(words)"))
    else:
        connection.execute(
            text(
                f"CREATE TABLE IF NOT EXISTS {TABLE} (article_id INTEGER PRIMARY KEY "
                "REFERENCES articles(id) ON DELETE CASCADE, words TSVECTOR NOT NULL)"
            )
        )
        connection.execute(
            text(f"CREATE INDEX IF NOT EXISTS ix_{TABLE}_words ON {TABLE} USING GIN (words)")
        )


def drop(connection: Connection) -> None:
    connection.execute(text(f"DROP TABLE IF EXISTS {TABLE}"))


def index_article(session: Session | Connection, article_id: int, words: str) -> None:
    """Make (or remake) an article's entry, in the caller's transaction."""
    bind = session.get_bind() if isinstance(session, Session) else session
    if bind.dialect.name == "sqlite":
        session.execute(text(f"DELETE FROM {TABLE} WHERE rowid = :id"), {"id": article_id})
        session.execute(
            text(f"INSERT INTO {TABLE} (rowid, words) VALUES (:id, :words)"),
            {"id": article_id, "words": words},
        )
    else:
        session.execute(
            text(
                f"INSERT INTO {TABLE} (article_id, words) VALUES (:id, to_tsvector('simple', "
                ":words)) ON CONFLICT (article_id) DO UPDATE SET words = excluded.words"
            ),
            {"id": article_id, "words": words},
        )


def query_words(query: str) -> list[str]:
    """What a search looks for: the query's words, the same way articles' words are made."""
    return list(dict.fromkeys(tokens(query, NEUTRAL)))[:MAX_QUERY_WORDS]


def matching_ids_sql(dialect: str) -> str:
    """A query of the ids (column `id`) of the articles holding every word in :q (see
    `match_value`). Join from it rather than test `IN (…)`: SQLite would otherwise probe
    the list once per row of the other side (seconds for a common word in a big workspace)."""
    if dialect == "sqlite":
        return f"SELECT rowid AS id FROM {TABLE} WHERE {TABLE} MATCH :q"
    return f"SELECT article_id AS id FROM {TABLE} WHERE words @@ plainto_tsquery('simple', :q)"


def match_value(dialect: str, words: list[str]) -> str:
    """The :q for `matching_ids_sql`: every word quoted (FTS5 syntax never reaches a user's
    characters) on SQLite, plain words on PostgreSQL (plainto_tsquery ignores operators)."""
    if dialect == "sqlite":
        return " ".join('"' + w.replace('"', '""') + '"' for w in words)
    return " ".join(words)
