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

from bot.i18n import N_, _
from bot.ingest.cleanup import (
    interrupts_only,
    is_junk_heading,
    is_separator,
    strip_agency_dateline,
)
from bot.models import Article, Block, BlockKind, Document, Paragraph, Section, Sentence
from bot.text.language import article_language
from bot.text.lexicon import words
from bot.text.sentences import split_sentences
from bot.text.words import CJK, STOPWORDS, VERB_FORMS, base, content_words, stopwords, word_count

OVERVIEW_HEADING = N_("Overview")
CONTINUED_HEADING = N_("Continued")
PLACEHOLDER_HEADINGS = frozenset({OVERVIEW_HEADING, CONTINUED_HEADING})


def display_heading(heading: str, titled: bool) -> str:
    """A section's heading as shown: the bot's placeholders ("Overview") in the bot's
    language, the article's own headings and key phrases as they are."""
    if not titled and heading in PLACEHOLDER_HEADINGS:
        return _(heading)
    return heading


_SLUG_FILLER = words("slug-filler")
_SLUG_MAX_WORDS = 5
COMMON_WORD_FACTOR = 0.5
_VERBISH = words("verbish")
_PHRASE_SPLIT = re.compile(r"[^\w'’-]+")


LANGUAGE_SAMPLE = 2000  # characters of title and text the language is told from


def build_article(doc: Document) -> Article:
    """Group a document's blocks into sections and number every sentence, in the document's
    language (declared by the source when the text agrees, else told from the text)."""
    raw_sections = _group_blocks(doc.blocks)
    sections: list[Section] = []
    used_ids: set[str] = set()
    sentence_id = 0
    all_paragraphs = [b.text for _, blocks in raw_sections for b in blocks]
    language = article_language(_sample(doc.title, all_paragraphs), doc.language)
    code = base(language)
    for heading, blocks in raw_sections:
        paragraphs: list[Paragraph] = []
        for block in blocks:
            texts = [strip_agency_dateline(t) for t in split_sentences(block.text, code)]
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
                else generate_heading([p.text for p in paragraphs], all_paragraphs, language=code)
            )
        slug_source = heading if titled or code != "en" else heading.split(" and ")[0]
        section_id = _unique(slugify(slug_source, code), used_ids)
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
        outlet=doc.outlet,
        language=language,
    )


def _sample(title: str, paragraphs: list[str]) -> str:
    """The start of the article, enough to tell its language."""
    parts, size = [title], len(title)
    for text in paragraphs:
        if size >= LANGUAGE_SAMPLE:
            break
        parts.append(text)
        size += len(text)
    return "\n".join(parts)[:LANGUAGE_SAMPLE]


def _group_blocks(blocks: Iterable[Block]) -> list[tuple[str | None, list[Block]]]:
    """Blocks under their headings; junk headings ("Most read", "Comments", rules) and what
    they introduce never become sections, on any input path."""
    groups: list[tuple[str | None, list[Block]]] = [(None, [])]
    junk = False
    for block in blocks:
        if block.kind is not BlockKind.BREAK and is_separator(block.text):
            continue
        if block.kind is BlockKind.HEADING and is_junk_heading(block.text):
            # a promo box's own lines follow it; after "Story continues" the article does
            junk = not interrupts_only(block.text)
            continue
        if junk and block.kind is BlockKind.PARAGRAPH and not _reads_as_article(block.text):
            continue  # the box's links, teasers and comments
        junk = False
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
    kept = [g for g in groups if g[1]]
    # a heading over nothing but a teaser is a promo for another article, not a section
    return kept[:1] + [g for g in kept[1:] if not _promo(g[0], g[1])]


def _promo(heading: str | None, blocks: list[Block]) -> bool:
    """Another article's headline (a long heading, not a section's label) over its teaser."""
    return (
        heading is not None
        and word_count(heading) >= 6
        and len(blocks) <= 2
        and all(_teaser_like(b) for b in blocks)
    )


def _teaser_like(block: Block) -> bool:
    """A link's teaser: short, and not a finished sentence (or trailing off into "…")."""
    text = block.text.rstrip()
    return word_count(text) < 30 and (
        text.endswith(("…", "...")) or text[-1:] not in ".!?\"”’'。！？」』)"
    )


def _reads_as_article(text: str) -> bool:
    """A full paragraph of prose: where the article resumes after a promo box."""
    return word_count(text) >= 20 and text.rstrip()[-1:] in ".!?\"”’'。！？」』"


def slugify(heading: str, language: str = "en") -> str:
    """A short, stable id that users can type, made of whole words of the heading in their own
    letters: "So what's the bottom line?" → bottom-line, "Définition des objectifs" →
    définition-des-objectifs, "经济增长放缓" → 经济增长-放缓."""
    code = base(language)
    if code in CJK:
        from bot.text.cjk import words_of

        found = [w.casefold() for w in words_of(heading, code)]
        kept = [w for w in found if w not in stopwords(code)] or found
        return "-".join(kept[:4]).strip("-") or "section"
    found = [w.replace("'", "") for w in re.split(r"[^\w']+", heading.casefold().replace("’", "'"))]
    found = [w for w in found if w and w != "_"]
    if code == "en":
        kept = [w for w in found if w not in _SLUG_FILLER] or found
    else:  # function words inside a heading stay: "définition des objectifs"
        filler = stopwords(code)
        kept = found
        while len(kept) > 1 and kept[0] in filler:
            kept = kept[1:]
        while len(kept) > 1 and kept[-1] in filler:
            kept = kept[:-1]
    slug = "-".join(kept[:_SLUG_MAX_WORDS])
    return slug.strip("-_") or "section"


def _unique(slug: str, used: set[str]) -> str:
    candidate, n = slug, 2
    while candidate in used:
        candidate = f"{slug}-{n}"
        n += 1
    used.add(candidate)
    return candidate


def generate_heading(
    paragraphs: list[str],
    article_paragraphs: list[str],
    max_words: int = 6,
    language: str = "en",
) -> str:
    """Name an untitled section by its own key phrase, in the article's language: a short
    noun phrase, never a clause, never ending in a function word.

    Candidates are runs of content words between stopwords (RAKE; in Chinese and Japanese,
    runs of nouns), scored by how much they set this section apart from the rest of the
    article. The word before each occurrence says what kind of phrase it is: after "the",
    "his" or "of" (le, der, del…) it names a thing; after "to" or a subject pronoun it is a
    verb ("to weaken…", "they raised…") and is no heading."""
    code = base(language)
    text = " ".join(paragraphs)
    doc_freq: Counter[str] = Counter()
    for para in article_paragraphs:
        doc_freq.update(set(content_words(para, code)))
    n_docs = max(len(article_paragraphs), 1)
    section_counts = Counter(content_words(text, code))

    def weight(stem_: str) -> float:
        return section_counts[stem_] * math.log(1 + n_docs / max(doc_freq[stem_], 1))

    noun_cues, verb_cues = _cues(code)
    scores: dict[str, float] = {}
    seen: Counter[str] = Counter()
    nominal: Counter[str] = Counter()
    verbal: Counter[str] = Counter()
    for phrase, before in _candidates(text, code):
        stems = content_words(phrase, code)
        if not stems:
            continue
        seen[phrase] += 1
        if before in noun_cues or phrase[:1].isupper():
            nominal[phrase] += 1
        if before in verb_cues:
            verbal[phrase] += 1
        scores[phrase] = sum(weight(w) for w in stems) / len(stems) ** 0.5
    topic = max(section_counts, key=lambda s: (section_counts[s] >= 2, weight(s)), default="")
    ranked: list[tuple[float, str]] = []
    for phrase, score in scores.items():
        if topic in content_words(phrase, code):
            score *= 1.5  # the word the section keeps coming back to
        words = phrase.split() if code not in CJK else [phrase]
        if verbal[phrase] >= max(nominal[phrase], 1) or (
            code == "en" and words[0].lower() in _VERBISH
        ):
            continue  # a verb phrase ("weaken Washington's influence")
        if len(words) == 1 and phrase.islower():
            score *= COMMON_WORD_FACTOR  # a lone common noun ("month") names little; a name does
        if nominal[phrase]:
            score *= 1.2
        repeats = seen[phrase] - 1 if len(words) > 1 else 0
        ranked.append((score * (1 + 0.5 * repeats), phrase))
    ranked.sort(key=lambda item: -item[0])  # stable: ties keep text order
    if not ranked:
        return CONTINUED_HEADING
    best = ranked[0][1]
    if code in CJK:
        return best
    words = best.split()[:max_words]
    found = re.findall(r"\b[^\W\d_][\w'’-]*", " ".join(article_paragraphs))
    lowercase_words = {w for w in found if w[0].islower()}  # words that do occur lower-case
    heading = _natural_case(" ".join(words), lowercase_words)
    return heading[0].upper() + heading[1:]


def _cues(language: str) -> tuple[frozenset[str], frozenset[str]]:
    return words("noun-cues", language), words("verb-cues", language)


def _candidates(text: str, language: str) -> Iterable[tuple[str, str | None]]:
    if language in CJK:
        from bot.text.cjk import noun_phrases

        return ((p, None) for p in noun_phrases(text, language, stopwords(language)))
    return _candidate_phrases(text, language)


def _natural_case(phrase: str, lowercase_words: set[str]) -> str:
    """Lower-case words that were capitalised only for starting a sentence."""
    return " ".join(
        w.lower() if w[:1].isupper() and w.lower() in lowercase_words else w for w in phrase.split()
    )


def _candidate_phrases(text: str, language: str = "en") -> Iterable[tuple[str, str | None]]:
    """RAKE-style candidates: runs of content words between stopwords and punctuation, each
    with the word just before it (None at the start of a clause)."""
    english = language == "en"
    function_words = STOPWORDS if english else stopwords(language)
    for chunk in re.split(r"[.,;:!?()\"“”„«»—–¿¡؟،؛]+", text):
        run: list[str] = []
        before: str | None = None
        last: str | None = None
        for token in _PHRASE_SPLIT.split(chunk):
            word = token.strip("'’-")
            lowered = word.lower().replace("’", "'").removesuffix("'s")
            if (
                not word
                or lowered in function_words
                or not word[0].isalpha()
                or len(word) < 3
                or (english and lowered.endswith("ly"))
                or (english and word.islower() and lowered in VERB_FORMS)  # a verb ends it
            ):
                kept = _noun_ending(run[:4]) if english else run[:4]
                if kept:
                    yield " ".join(kept), before
                run = []
                if word:
                    last = word.lower()
            else:
                if not run:
                    before = last
                run.append(word)
        kept = _noun_ending(run[:4]) if english else run[:4]
        if kept:
            yield " ".join(kept), before


def _noun_ending(words: list[str]) -> list[str]:
    """Drop trailing words that read as verbs or adverbs: a heading names things."""
    while words and (
        words[-1].lower() in _VERBISH
        or (words[-1].lower().endswith(("ed", "ing")) and not words[-1][0].isupper())
    ):
        words = words[:-1]
    return words
