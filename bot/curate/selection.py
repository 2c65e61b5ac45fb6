"""From a channel's new articles to what its digest shows: filter, group, rank, cap.

Pure: the delivery engine loads the articles and the channel's rules, calls `curate`,
and stores the result with the delivery, so a resumed delivery shows the same stories.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from bot.curate.filters import Candidate, FilterRule, apply_filters
from bot.curate.mentions import MentionRule, mentioned
from bot.curate.stories import StoryItem, group_stories, rank_stories
from bot.models import Article
from bot.text.words import word_count

LEAD_WORDS = 150  # the opening says who, what, where and when; the rest is background


@dataclass(frozen=True)
class Outlet:
    name: str
    url: str | None


@dataclass(frozen=True)
class Curated:
    stories: list[list[int]]  # article ids per story, the one to show first; ranked, capped
    dropped: list[tuple[int, int, str]]  # (article id, filter id, rule) kept out by filters
    mentions: list[str] = field(default_factory=list)  # role or group ids the stories call for

    @property
    def shown(self) -> list[int]:
        return [story[0] for story in self.stories]

    def as_plan(self) -> dict[str, list[list[int]] | list[int] | list[str]]:
        return {
            "stories": self.stories,
            "dropped": [d[0] for d in self.dropped],
            "mentions": self.mentions,
        }


def curate(
    articles: Mapping[int, Article],
    rules: Sequence[FilterRule],
    cap: int,
    sources: Mapping[int, frozenset[int]] | None = None,
    mention_rules: Sequence[MentionRule] = (),
) -> Curated:
    """`sources`: the sources each article came from, for rules that hold for one source;
    `mention_rules`: who to notify when a story in the digest matches."""
    carried = sources or {}
    candidates = [
        Candidate(
            i,
            a.title,
            " ".join(s.text for s in a.sentences),
            a.language,
            carried.get(i, frozenset()),
        )
        for i, a in articles.items()
    ]
    kept, dropped = apply_filters(rules, candidates)
    items = [
        StoryItem(
            c.article_id,
            articles[c.article_id].title,
            _opening(articles[c.article_id]),
            articles[c.article_id].outlet_name,
            articles[c.article_id].url,
            articles[c.article_id].published,
            word_count(c.text),
            articles[c.article_id].language,
        )
        for c in kept
    ]
    ranked = rank_stories(group_stories(items))[: max(cap, 1)]
    stories = [[s.shown.article_id, *(o.article_id for o in s.others)] for s in ranked]
    told = {i for story in stories for i in story}
    mentions = mentioned(mention_rules, [c for c in kept if c.article_id in told])
    return Curated(stories, [(c.article_id, r.id, r.describe()) for c, r in dropped], mentions)


def _opening(article: Article) -> str:
    """The first sentences of the article, up to about LEAD_WORDS words."""
    taken: list[str] = []
    words = 0
    for sentence in article.sentences:
        taken.append(sentence.text)
        words += word_count(sentence.text)
        if words >= LEAD_WORDS:
            break
    return " ".join(taken)


def also_outlets(articles: Mapping[int, Article], story: Sequence[int]) -> tuple[Outlet, ...]:
    return tuple(
        Outlet(articles[i].outlet_name, articles[i].url) for i in story[1:] if i in articles
    )
