"""Article and Digest ↔ JSON, so the store keeps what was read and summarized exactly."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.models import Article, Bullet, Digest, Paragraph, Section, SectionDigest, Sentence


def article_to_dict(article: Article) -> dict[str, Any]:
    return {
        "title": article.title,
        "source": article.source,
        "published": article.published.isoformat() if article.published else None,
        "dateline": article.dateline,
        "author": article.author,
        "url": article.url,
        **({"teaser": article.teaser} if article.teaser else {}),
        **({"outlet": article.outlet} if article.outlet else {}),
        "language": article.language,
        "sections": [
            {
                "id": s.id,
                "index": s.index,
                "heading": s.heading,
                "titled": s.titled,
                "paragraphs": [
                    {
                        "truncated": p.truncated,
                        "sentences": [[x.id, x.text, x.truncated] for x in p.sentences],
                    }
                    for p in s.paragraphs
                ],
            }
            for s in article.sections
        ],
    }


def article_from_dict(data: dict[str, Any]) -> Article:
    return Article(
        title=data["title"],
        source=data["source"],
        published=datetime.fromisoformat(data["published"]) if data.get("published") else None,
        dateline=data.get("dateline"),
        author=data.get("author"),
        url=data.get("url"),
        teaser=data.get("teaser"),
        outlet=data.get("outlet"),
        language=data.get("language") or "en",  # stored before languages were known: English
        sections=tuple(
            Section(
                s["id"],
                s["index"],
                s["heading"],
                s["titled"],
                tuple(
                    Paragraph(
                        tuple(Sentence(i, t, c) for i, t, c in p["sentences"]), p["truncated"]
                    )
                    for p in s["paragraphs"]
                ),
            )
            for s in data["sections"]
        ),
    )


def digest_to_dict(digest: Digest) -> dict[str, Any]:
    return {
        "summarizer": digest.summarizer,
        "notes": list(digest.notes),
        "summary": [[b.text, list(b.sentence_ids)] for b in digest.summary],
        "sections": [
            {
                "id": s.id,
                "index": s.index,
                "heading": s.heading,
                "titled": s.titled,
                "bullets": [[b.text, list(b.sentence_ids)] for b in s.bullets],
            }
            for s in digest.sections
        ],
    }


def digest_from_dict(article: Article, data: dict[str, Any]) -> Digest:
    return Digest(
        article=article,
        summary=tuple(Bullet(t, tuple(ids)) for t, ids in data["summary"]),
        sections=tuple(
            SectionDigest(
                s["id"],
                s["index"],
                s["heading"],
                s["titled"],
                tuple(Bullet(t, tuple(ids)) for t, ids in s["bullets"]),
            )
            for s in data["sections"]
        ),
        summarizer=data.get("summarizer", "extractive"),
        notes=tuple(data.get("notes", ())),
    )
