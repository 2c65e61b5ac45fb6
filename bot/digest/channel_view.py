"""What a posted digest shows of an article: the summary, then the sections by name.

A digest in a channel is read in seconds, so it carries the summary bullets and, for
each other section, its heading with its one best bullet while a word budget allows
(else the heading alone, in a compact list); never a sentence twice. The full bullets of
a section are one `/digest section` (or the Sections button) away. Every platform
renders this same view, so Slack, Discord, the console and Markdown agree.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.digest.sections import OVERVIEW_HEADING, display_heading
from bot.models import Bullet, Digest
from bot.text.words import base, content_words, word_count

__all__ = ["ChannelView", "SectionLine", "channel_view", "display_heading"]

POSTED_SHARE = 0.20  # of the article's words, summary included
MIN_SECTION_WORDS = 40  # a short article still gets one section line when its summary is tiny


@dataclass(frozen=True)
class SectionLine:
    id: str
    index: int
    heading: str
    titled: bool
    bullet: Bullet | None  # None: named in the compact list only


@dataclass(frozen=True)
class ChannelView:
    summary: tuple[Bullet, ...]
    sections: tuple[SectionLine, ...]  # with their best new bullet
    listed: tuple[SectionLine, ...]  # by heading only

    @property
    def words(self) -> int:
        bullets = [*self.summary, *(s.bullet for s in self.sections if s.bullet)]
        headings = [s.heading for s in (*self.sections, *self.listed)]
        return sum(word_count(t) for t in [*(b.text for b in bullets), *headings])


def channel_view(digest: Digest, share: float = POSTED_SHARE) -> ChannelView:
    language = base(digest.article.language)
    article_words = sum(word_count(s.text) for s in digest.article.sentences)
    shown = {i for b in digest.summary for i in b.sentence_ids}
    said = {_said(b.text, language) for b in digest.summary}
    used = sum(word_count(b.text) for b in digest.summary)
    budget = max(share * article_words, used + MIN_SECTION_WORDS)
    with_bullet: list[SectionLine] = []
    listed: list[SectionLine] = []
    sections = digest.sections if len(digest.sections) > 1 else ()
    for section in sections:
        if section.index == 1 and not section.titled and section.heading == OVERVIEW_HEADING:
            continue  # the opening is what the summary starts from
        heading_words = word_count(section.heading)
        fresh = next(
            (
                b
                for b in section.bullets
                if not shown & set(b.sentence_ids) and _said(b.text, language) not in said
            ),
            None,
        )
        heading = display_heading(section.heading, section.titled)
        line = SectionLine(section.id, section.index, heading, section.titled, None)
        if fresh is not None and used + heading_words + word_count(fresh.text) <= budget:
            with_bullet.append(
                SectionLine(section.id, section.index, heading, section.titled, fresh)
            )
            shown.update(fresh.sentence_ids)
            said.add(_said(fresh.text, language))
            used += heading_words + word_count(fresh.text)
        else:
            listed.append(line)
            used += heading_words
    return ChannelView(digest.summary, tuple(with_bullet), tuple(listed))


def _said(text: str, language: str = "en") -> frozenset[str]:
    """What a bullet says, for "never the same sentence twice" across repeated page text."""
    return frozenset(content_words(text, language)) or frozenset([text.lower()])
