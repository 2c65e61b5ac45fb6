"""A digest a channel can read in seconds: coverage, bullets that stand alone, real headings."""

from __future__ import annotations

import re

from support.heading_articles import ARTICLES, as_printable

from bot.digest.article_digest import summarize_article
from bot.digest.channel_view import channel_view
from bot.digest.formats import digest_to_markdown, posted_text
from bot.digest.plain_text import article_from_text
from bot.digest.sections import build_article
from bot.ingest import parse_bytes
from bot.ingest.plaintext import parse_plaintext
from bot.summarize.standalone import opens_with_pronoun, without_connective
from bot.text.words import VERB_FORMS, content_words


def test_the_sample_summary_covers_its_sections(sample_text: str) -> None:
    article = build_article(parse_plaintext(sample_text, "sample"))
    digest = summarize_article(article)
    summary = " ".join(b.text for b in digest.summary)
    cited = {i for b in digest.summary for i in b.sentence_ids}
    sections_covered = {s.id for s in article.sections if cited & {x.id for x in s.sentences}}
    assert len(sections_covered) >= 4, sections_covered  # not just the lead
    assert {"why-now", "bottom-line"} <= sections_covered
    assert "wish list" in summary  # what Kim wants
    assert "late in the game" in summary  # why now
    assert "Putin" in summary and "opportunity for Putin" in summary  # what Putin gains
    assert "laborers" in summary and "food shortage" in summary  # Kim's two urgent concerns
    assert not any(b.text.startswith(("But ", "And ")) for b in digest.summary)


def test_the_posted_digest_repeats_nothing_and_stays_short(sample_text: str) -> None:
    article = build_article(parse_plaintext(sample_text, "sample"))
    digest = summarize_article(article)
    view = channel_view(digest)
    shown = [
        i
        for b in [*view.summary, *(s.bullet for s in view.sections if s.bullet)]
        for i in b.sentence_ids
    ]
    assert len(shown) == len(set(shown))
    words = sum(len(s.text.split()) for s in article.sentences)
    assert view.words <= 0.25 * words  # a fifth for the summary, one section's point beside it
    named = {s.id for s in (*view.sections, *view.listed)}
    assert named == {s.id for s in article.sections} - {"overview"}  # every section, by name
    markdown = digest_to_markdown(digest)
    assert markdown.count("North Korean laborers") <= 2
    for sentence in (b.text for b in digest.summary):
        assert markdown.count(sentence) == 1 and posted_text(digest).count(sentence) == 1


def test_dangling_connectives_are_dropped_or_avoided() -> None:
    assert without_connective("But it's not entirely clear how much Putin can oblige.") == (
        "It's not entirely clear how much Putin can oblige."
    )
    assert (
        without_connective("However, the plan passed on a narrow vote.")
        == "The plan passed on a narrow vote."
    )
    assert without_connective("And so it goes.") is None
    text = (
        "Storm wall vote\n\nThe council voted on Monday to rebuild the harbour wall after two breaches. "
        "But the cost of the wall has doubled since the first estimate in 2021. "
        "And residents near the quay will pay a small levy toward the bond.\n"
    )
    bullets = [b.text for b in summarize_article(article_from_text(text)).summary]
    assert bullets and not any(re.match(r"(?:But|And|However|Yet|Meanwhile)\b", b) for b in bullets)


def test_the_first_bullet_never_opens_with_an_unresolved_pronoun() -> None:
    text = (
        "Minister resigns\n\nHe said the decision had been the hardest of his career. "
        "Transport minister Alan Reyes resigned on Friday after a report criticised the rail tender. "
        "The report found that officials ignored two cheaper bids. "
        "Reyes had led the ministry for three years.\n"
    )
    summary = summarize_article(article_from_text(text)).summary
    assert summary and not opens_with_pronoun(summary[0].text)
    assert summary[0].text.startswith("Transport minister")
    assert opens_with_pronoun("They voted no.") and not opens_with_pronoun(
        "It's clear the vote failed."
    )


def test_boilerplate_is_never_a_bullet() -> None:
    text = (
        "Council backs plan\n\nThe council backed the harbour plan on Monday by six votes to one. "
        "This copy is for your personal, non-commercial use only and may not be redistributed. "
        "Sign up for our daily newsletter to get the news in your inbox every morning. "
        "We use cookies to give you the best experience; by continuing you accept our cookie policy. "
        "By Jane Smith, Staff Reporter. Photo: John Doe/Getty Images. "
        "Work on the wall starts in the spring and will take two years to finish.\n"
    )
    digest = summarize_article(article_from_text(text))
    bullets = [b.text for b in digest.summary] + [
        b.text for s in digest.sections for b in s.bullets
    ]
    for junk in ("non-commercial", "newsletter", "cookie", "Jane Smith", "Getty"):
        assert not any(junk in b for b in bullets), junk


def test_junk_blocks_never_become_sections_on_any_path() -> None:
    page = (
        "<html><head><title>Pier repairs approved</title></head><body><article>"
        "<h1>Pier repairs approved</h1>"
        + "".join(
            f"<p>The harbour board approved repairs to pier {n} on Monday after engineers warned that "
            f"the old timber had rotted in {n + 2} places and could fail in a winter storm.</p>"
            for n in range(4)
        )
        + "<h2>What happens next</h2><p>Work starts in May and the pier will reopen in the autumn, "
        "the board said in a statement on Monday evening.</p>"
        "<h2>Most read in local news</h2><ul><li>Chef opens bistro</li><li>Road closed</li></ul>"
        "<h2>Comments</h2><p>Great news for the town!</p><p>About time.</p>"
        "<p>* * *</p><h3>Related stories</h3><p>Pier closed last winter</p>"
        "</article></body></html>"
    )
    printable = (
        "Pier repairs approved\n\nThe harbour board approved repairs to the pier on Monday after a "
        "long debate about the cost.\n\n-----------\n\nRELATED STORIES\n\nPier closed last winter\n\n"
        "WHAT HAPPENS NEXT\n\nWork starts in May and the pier will reopen in the autumn, the board said.\n"
    )
    for article in (
        build_article(parse_bytes(page.encode(), "page", "text/html")[0]),
        article_from_text(printable),
    ):
        headings = [s.heading.lower() for s in article.sections]
        assert "what happens next" in headings, headings
        assert not any(h in ("comments", "related stories") or "most read" in h for h in headings)
        text = " ".join(s.text for s in article.sentences)
        assert "Great news for the town" not in text and "Chef opens bistro" not in text
        assert "---" not in text and "* * *" not in text


def test_generated_headings_are_short_noun_phrases_that_name_the_topic() -> None:
    hits = total = 0
    for title, sections in ARTICLES:
        article = article_from_text(title + "\n\n" + as_printable(sections, keep_headings=False))
        real = [h for h, _ in sections if h]
        generated = [s for s in article.sections[1:]]
        assert len(generated) == len(real)
        for heading, section in zip(real, generated, strict=True):
            assert not section.titled
            words = section.heading.split()
            assert 1 <= len(words) <= 6
            assert words[-1].lower() not in ("and", "or", "of", "the")
            assert words[-1].lower() not in VERB_FORMS and " and " not in section.heading
            total += 1
            hits += bool(set(content_words(heading)) & set(content_words(section.heading)))
    assert hits / total >= 0.6, f"{hits}/{total}"  # bench.digest_quality reports the figure
