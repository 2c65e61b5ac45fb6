"""Blocks → titled sections with stable slugs and sentence ids.

Headings come from the source when it kept them; where only a run of blank lines
is left, a section still starts there and gets a short heading made of its key
phrases, marked `titled=False` so nobody mistakes it for the author's words.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable

from bot.ingest.cleanup import strip_agency_dateline
from bot.models import Article, Block, BlockKind, Document, Paragraph, Section, Sentence
from bot.text.sentences import split_sentences
from bot.text.words import STOPWORDS, content_words

OVERVIEW_HEADING = "Overview"
_SLUG_FILLER = frozenset(
    [
        "a",
        "an",
        "the",
        "so",
        "what's",
        "whats",
        "what",
        "is",
        "are",
        "was",
        "were",
        "of",
        "and",
        "or",
        "to",
        "in",
        "on",
        "for",
        "it's",
        "its",
        "there's",
        "here's",
        "heres",
        "theres",
    ]
)
_SLUG_MAX_WORDS = 5
COMMON_WORD_FACTOR = 0.5
_VERBISH = frozenset(
    [
        "said",
        "says",
        "say",
        "left",
        "climb",
        "climbs",
        "show",
        "shows",
        "want",
        "wants",
        "take",
        "takes",
        "took",
        "get",
        "gets",
        "make",
        "makes",
        "made",
        "expressed",
        "estimate",
        "estimates",
        "remain",
        "remains",
        "become",
        "becomes",
        "seem",
        "seems",
        "keep",
        "keeps",
        "put",
        "puts",
        "give",
        "gives",
        "need",
        "needs",
    ]
)
_PHRASE_SPLIT = re.compile(r"[^\w'’-]+")


def build_article(doc: Document) -> Article:
    """Group a document's blocks into sections and number every sentence."""
    raw_sections = _group_blocks(doc.blocks)
    sections: list[Section] = []
    used_ids: set[str] = set()
    sentence_id = 0
    all_paragraphs = [b.text for _, blocks in raw_sections for b in blocks]
    for heading, blocks in raw_sections:
        paragraphs: list[Paragraph] = []
        for block in blocks:
            texts = [strip_agency_dateline(t) for t in split_sentences(block.text)]
            sentences = []
            for j, text in enumerate(texts):
                cut = block.truncated and j == len(texts) - 1
                sentences.append(Sentence(sentence_id, text, truncated=cut))
                sentence_id += 1
            if sentences:
                paragraphs.append(Paragraph(tuple(sentences), truncated=block.truncated))
        if not paragraphs:
            continue
        titled = heading is not None
        if heading is None:
            heading = (
                OVERVIEW_HEADING
                if not sections
                else generate_heading([p.text for p in paragraphs], all_paragraphs)
            )
        slug_source = heading if titled else heading.split(" and ")[0]
        section_id = _unique(slugify(slug_source), used_ids)
        sections.append(Section(section_id, len(sections) + 1, heading, titled, tuple(paragraphs)))
    return Article(
        title=doc.title,
        sections=tuple(sections),
        source=doc.source,
        published=doc.published,
        dateline=doc.dateline,
        author=doc.author,
        url=doc.url,
        teaser=doc.teaser,
    )


def _group_blocks(blocks: Iterable[Block]) -> list[tuple[str | None, list[Block]]]:
    groups: list[tuple[str | None, list[Block]]] = [(None, [])]
    for block in blocks:
        if block.kind is BlockKind.HEADING:
            if not groups[-1][1] and groups[-1][0] is not None:
                groups[-1] = (block.text, [])  # two headings in a row: keep the nearer one
            else:
                groups.append((block.text, []))
        elif block.kind is BlockKind.BREAK:
            if groups[-1][1]:
                groups.append((None, []))
        elif block.text.strip():
            groups[-1][1].append(block)
    return [g for g in groups if g[1]]


def slugify(heading: str) -> str:
    """A short, stable, URL-safe id that users can type: "So what's the bottom line?" → bottom-line."""
    words = [w for w in re.split(r"[^a-z0-9']+", heading.lower().replace("’", "'")) if w]
    kept = [w for w in words if w not in _SLUG_FILLER] or words
    slug = "-".join(w.replace("'", "") for w in kept[:_SLUG_MAX_WORDS])
    return slug.strip("-") or "section"


def _unique(slug: str, used: set[str]) -> str:
    candidate, n = slug, 2
    while candidate in used:
        candidate = f"{slug}-{n}"
        n += 1
    used.add(candidate)
    return candidate


def generate_heading(
    paragraphs: list[str], article_paragraphs: list[str], max_phrases: int = 2
) -> str:
    """Name an untitled section by the phrases that set it apart from the rest of the article."""
    text = " ".join(paragraphs)
    doc_freq: Counter[str] = Counter()
    for para in article_paragraphs:
        doc_freq.update(set(content_words(para)))
    n_docs = max(len(article_paragraphs), 1)
    section_counts = Counter(content_words(text))

    def weight(stem_: str) -> float:
        return section_counts[stem_] * math.log(1 + n_docs / max(doc_freq[stem_], 1))

    phrases: dict[str, float] = {}
    seen: Counter[str] = Counter()
    for phrase in _candidate_phrases(text):
        stems = content_words(phrase)
        if not stems:
            continue
        seen[phrase] += 1
        score = sum(weight(w) for w in stems) / len(stems) ** 0.5
        repeats = seen[phrase] - 1 if len(stems) > 1 else 0
        if len(stems) == 1 and phrase.islower():
            score *= COMMON_WORD_FACTOR  # a lone common noun ("month") names little; a name does
        phrases[phrase] = score * (1 + 0.5 * repeats)
    ranked = sorted(phrases, key=lambda p: -phrases[p])  # stable: ties keep text order
    chosen: list[str] = []
    for phrase in ranked:
        words = set(content_words(phrase))
        if any(words & set(content_words(c)) for c in chosen):
            continue
        chosen.append(phrase)
        if len(chosen) == max_phrases:
            break
    if not chosen:
        return "More"
    lowercase_words = set(re.findall(r"\b[a-z][\w'’-]*", " ".join(article_paragraphs)))
    heading = " and ".join(_natural_case(p, lowercase_words) for p in chosen)
    return heading[0].upper() + heading[1:]


def _natural_case(phrase: str, lowercase_words: set[str]) -> str:
    """Lower-case words that were capitalised only for starting a sentence."""
    return " ".join(
        w.lower() if w[:1].isupper() and w.lower() in lowercase_words else w for w in phrase.split()
    )


def _candidate_phrases(text: str) -> Iterable[str]:
    """RAKE-style candidates: runs of content words between stopwords and punctuation."""
    for chunk in re.split(r"[.,;:!?()\"“”—–]+", text):
        run: list[str] = []
        for token in _PHRASE_SPLIT.split(chunk):
            word = token.strip("'’-")
            lowered = word.lower().replace("’", "'").removesuffix("'s")
            if (
                not word
                or lowered in STOPWORDS
                or not word[0].isalpha()
                or len(word) < 3
                or lowered.endswith("ly")
            ):
                run = _noun_ending(run[:3])
                if run:
                    yield " ".join(run)
                run = []
            else:
                run.append(word)
        run = _noun_ending(run[:3])
        if run:
            yield " ".join(run)


def _noun_ending(words: list[str]) -> list[str]:
    """Drop trailing words that read as verbs or adverbs: a heading names things."""
    while words and (
        words[-1].lower() in _VERBISH
        or (words[-1].lower().endswith(("ed", "ing")) and not words[-1][0].isupper())
    ):
        words = words[:-1]
    return words
