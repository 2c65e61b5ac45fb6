"""From a channel's new articles to what its digest shows: filter, group, rank, cap."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.curate.filters import FilterRule
from bot.curate.selection import also_outlets, curate
from bot.digest.sections import build_article
from bot.ingest.plaintext import parse_plaintext
from bot.models import Article

NOW = datetime(2024, 5, 1, 12, tzinfo=UTC)


def article(title: str, body: str, outlet: str, minutes: int, url: str) -> Article:
    built = build_article(parse_plaintext(f"{title}\n\n{body}\n", url))
    return Article(
        built.title,
        built.sections,
        url,
        published=NOW - timedelta(minutes=minutes),
        url=url,
        outlet=outlet,
    )


VOTE = (
    "Riverton council approves $68 million solar farm",
    "The Riverton city council voted 7-2 on Tuesday to approve a $68 million solar farm on the "
    "old rail yard. Construction starts in March and the farm will power 12,000 homes.",
)
VOTE_AGAIN = (
    "Solar farm wins council vote in Riverton",
    "Riverton's council approved the $68 million solar farm on the former rail yard on Tuesday "
    "by seven votes to two. The 12,000-home project breaks ground in March.",
)
MATCH = (
    "Harbour FC win the cup final on penalties",
    "Harbour FC beat Lakeside 5-4 on penalties in the cup final on Saturday after a 1-1 draw. "
    "The winning kick came from the captain in front of 30,000 fans.",
)


def test_filtered_grouped_ranked_and_capped() -> None:
    articles = {
        1: article(*VOTE, "Coast Ledger", 30, "https://ledger.example/vote"),
        2: article(*VOTE_AGAIN, "Harbor Gazette", 20, "https://gazette.example/solar"),
        3: article(*MATCH, "Sports Daily", 10, "https://sports.example/final"),
    }
    curated = curate(articles, [], cap=5)
    assert len(curated.stories) == 2
    assert sorted(curated.stories[0]) == [1, 2]  # told by two outlets: first
    assert curated.stories[1] == [3]
    others = also_outlets(articles, curated.stories[0])
    assert [o.name for o in others] == [articles[i].outlet_name for i in curated.stories[0][1:]]
    assert curate(articles, [], cap=1).shown == curated.shown[:1]
    dropping = curate(articles, [FilterRule(9, "exclude", "penalties", False)], cap=5)
    assert [d[0] for d in dropping.dropped] == [3] and 3 not in dropping.shown
    assert dropping.as_plan()["dropped"] == [3]


def test_the_outlet_is_the_feed_the_site_or_the_folder() -> None:
    named = article(*VOTE, "Coast Ledger", 0, "https://ledger.example/a")
    assert named.outlet_name == "Coast Ledger"
    unnamed = Article("t", (), "https://www.example.org/x", url="https://www.example.org/x")
    assert unnamed.outlet_name == "example.org"
    assert Article("t", (), "/data/feeds/harbour/a.txt").outlet_name == "harbour"
