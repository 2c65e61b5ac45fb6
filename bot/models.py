"""The data that flows one way through the core: source → Article → Digest.

Models are small frozen dataclasses so that every stage can be a pure function
and nothing downstream can quietly change what an earlier stage decided.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from pathlib import PurePath
from urllib.parse import urlsplit


class BlockKind(str, Enum):
    """What a line-level block of cleaned text is, before sections exist."""

    HEADING = "heading"
    PARAGRAPH = "paragraph"
    BREAK = "break"  # a run of blank lines where a heading was probably lost


@dataclass(frozen=True)
class Block:
    """One unit of cleaned text from any ingester; sectioning works on these only."""

    kind: BlockKind
    text: str = ""
    truncated: bool = False


@dataclass(frozen=True)
class Document:
    """What an ingester produces: metadata plus ordered blocks, not yet sectioned."""

    title: str
    blocks: tuple[Block, ...]
    source: str
    published: datetime | None = None
    dateline: str | None = None
    author: str | None = None
    url: str | None = None
    guid: str | None = None
    teaser: str | None = None  # why only a feed's teaser could be read, when that is all we have
    outlet: str | None = None  # who published it: the feed's title or the site's name
    language: str | None = None  # as the page or feed declares it (BCP 47), if it does
    published_guessed: bool = False  # the page printed no year ("04/23 06:41"): it was inferred


@dataclass(frozen=True)
class Sentence:
    """A sentence with an article-wide id so bullets can point back to it."""

    id: int
    text: str
    truncated: bool = False


@dataclass(frozen=True)
class Paragraph:
    sentences: tuple[Sentence, ...]
    truncated: bool = False

    @property
    def text(self) -> str:
        return " ".join(s.text for s in self.sentences)


@dataclass(frozen=True)
class Section:
    """A titled part of an article; `titled` is False when the heading was generated."""

    id: str
    index: int
    heading: str
    titled: bool
    paragraphs: tuple[Paragraph, ...]

    @property
    def sentences(self) -> tuple[Sentence, ...]:
        return tuple(s for p in self.paragraphs for s in p.sentences)


@dataclass(frozen=True)
class Article:
    title: str
    sections: tuple[Section, ...]
    source: str
    published: datetime | None = None
    dateline: str | None = None
    author: str | None = None
    url: str | None = None
    teaser: str | None = None  # set when the article page could not be read: why
    outlet: str | None = None  # the feed's title or the site's name
    language: str = "en"  # BCP 47: declared by the source when the text agrees, else detected

    @property
    def sentences(self) -> tuple[Sentence, ...]:
        return tuple(s for sec in self.sections for s in sec.sentences)

    @property
    def has_sentences(self) -> bool:
        """`bool(self.sentences)` without building the tuple: asked on the event loop for
        every digest, where a long article's sentences cost more than the question."""
        return any(p.sentences for sec in self.sections for p in sec.paragraphs)

    def section_by_id(self, section_id: str) -> Section | None:
        return next((s for s in self.sections if s.id == section_id), None)

    @property
    def outlet_name(self) -> str:
        """Who reported it, as readers know them: the feed's title or the site's name, else
        the host of the link, else the folder a local file came from."""
        if self.outlet:
            return self.outlet
        host = urlsplit(self.url or self.source).hostname or ""
        if host:
            return host.removeprefix("www.")
        return PurePath(self.source).parent.name or self.source


@dataclass(frozen=True)
class Bullet:
    """A digest line; `sentence_ids` keep it auditable against the article."""

    text: str
    sentence_ids: tuple[int, ...]
    translated: bool = False  # by the LLM into the channel's language (marked where shown)


@dataclass(frozen=True)
class SectionDigest:
    id: str
    index: int
    heading: str
    titled: bool
    bullets: tuple[Bullet, ...]


@dataclass(frozen=True)
class Digest:
    article: Article
    summary: tuple[Bullet, ...]
    sections: tuple[SectionDigest, ...]
    summarizer: str = "extractive"
    notes: tuple[str, ...] = field(default_factory=tuple)

    def section(self, section_id: str) -> SectionDigest | None:
        return next((s for s in self.sections if s.id == section_id), None)
