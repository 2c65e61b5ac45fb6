"""HTML pages: the body with its headings, and the metadata."""

from __future__ import annotations

import gzip
import json

import pytest
from support.paths import SHARED

from bot.digest.sections import build_article
from bot.ingest import parse_bytes

PARAGRAPH = (
    "The committee met on Monday to discuss the proposal in detail. Members raised several "
    "concerns about the cost and the timeline of the project. "
)


HTML_PAGE = f"""<!doctype html><html><head><title>Bridge plan approved</title>
<meta property="article:published_time" content="2024-05-02T10:00:00Z"></head>
<body><nav><a href="/">Home</a> | <a href="/news">News</a></nav>
<article><h1>Bridge plan approved</h1>
<p>LONDON (Reuters) - {PARAGRAPH * 2}</p>
<h2>What it costs</h2><p>{PARAGRAPH}The bridge will cost $40 million over four years.</p>
<h2>Why it matters</h2><p>{PARAGRAPH}Commuters will save twenty minutes each way.</p>
</article><footer>Copyright 2024 Example News. All rights reserved.</footer></body></html>"""


def test_html_keeps_headings_and_metadata() -> None:
    [doc] = parse_bytes(HTML_PAGE.encode(), "page.html")
    article = build_article(doc)
    assert article.title == "Bridge plan approved"
    assert article.published is not None and article.published.year == 2024
    assert article.dateline == "LONDON"
    ids = [s.id for s in article.sections]
    assert ids == ["overview", "it-costs", "why-it-matters"]
    text = " ".join(s.text for s in article.sentences)
    assert "All rights reserved" not in text and "Reuters" not in text


def test_shared_extraction_pages_parse() -> None:
    truth_file = SHARED / "data" / "extraction" / "ground-truth.json"
    if not truth_file.exists():
        pytest.skip("shared extraction data not present")
    truth = json.loads(truth_file.read_text())
    for sha in sorted(truth)[:10]:
        html = gzip.decompress(
            (SHARED / "data" / "extraction" / "html" / f"{sha}.html.gz").read_bytes()
        )
        [doc] = parse_bytes(html, sha)
        assert build_article(doc).sentences


def test_titles_lose_the_sites_name_however_the_site_writes_it() -> None:
    from bot.ingest.cleanup import title_without_site

    assert title_without_site("Court rules | Al Bawaba", "Al Bawaba") == "Court rules"
    assert title_without_site("BBC News - Storm hits coast", "BBC News") == "Storm hits coast"
    assert (
        title_without_site(
            "Vasco Rossi live - Remember 80/90 - Memorabilia anni 80/90",
            None,
            "https://www.remember8090.it/vasco",
        )
        == "Vasco Rossi live"
    )
    assert (
        title_without_site("Vláda schválila rozpočet | Aktuálně.cz", "https://zpravy.aktualne.cz")
        == "Vláda schválila rozpočet"
    )
    assert (
        title_without_site("Covid-19 - the story so far", "BBC News")
        == "Covid-19 - the story so far"
    )
    page = (
        "<html><head><title>Harbour reopens after storm | Coast Ledger</title>"
        '<meta property="og:site_name" content="Coast Ledger"></head><body><article>'
        "<h1>Harbour reopens after storm</h1>"
        + "<p>The harbour reopened on Monday after the storm damaged two piers badly.</p>" * 3
        + "</article></body></html>"
    )
    [doc] = parse_bytes(page.encode(), "test", "text/html", "https://coastledger.example/a")
    assert doc.title == "Harbour reopens after storm" and doc.outlet == "Coast Ledger"


def test_furniture_glued_to_sentences_never_becomes_a_bullet() -> None:
    from bot.ingest.cleanup import is_boilerplate, strip_agency_dateline

    assert strip_agency_dateline(
        "SUSIE O’BRIEN THE good thing about Ikea is that you can build it yourself."
    ).startswith("The good thing about Ikea")
    assert strip_agency_dateline("PreviousNext “One girl can be silenced,” she said.").startswith(
        "“One girl"
    )
    assert strip_agency_dateline("1/50 United goin down was a shock for the fans.").startswith(
        "United"
    )
    assert strip_agency_dateline(
        "本报讯（记者 王丽）滨海新区港口扩建工程于周一正式开工。"
    ).startswith("滨海")
    assert strip_agency_dateline("NASA SAID on Monday it would delay the launch.").startswith(
        "NASA"
    )
    for line in (
        "Unfortunately, this video is not available",
        "Like us on Facebook for more local news",
        "Follow our Facebook page!",
        "12/50",
        "Previous Next",
        "Leia também: Governo anuncia novo pacote para a habitação",
        "LIRE AUSSI : Les agriculteurs bloquent l'autoroute",
        "Saiba mais",
        "Lesen Sie auch",
    ):
        assert is_boilerplate(line), line
    for line in (  # the same words inside a sentence are the article's own
        "Read more about the plan on the council's website, the mayor said.",
        "Saiba mais sobre o plano, disse o prefeito na segunda-feira.",
    ):
        assert not is_boilerplate(line), line


def test_another_articles_headline_over_its_teaser_is_no_section() -> None:
    body = "<p>The council approved the new harbour plan on Monday after a long debate.</p>" * 4
    promo = (
        "<h2>Il sindaco annuncia un nuovo piano per le piste ciclabili in centro</h2>"
        "<p>Leggi l'intervista completa al sindaco</p>"
    )
    page = (
        f"<html><body><article><h1>Harbour plan approved</h1>{body}{promo}</article></body></html>"
    )
    [doc] = parse_bytes(page.encode(), "test", "text/html")
    article = build_article(doc)
    assert [s.heading for s in article.sections][1:] == []
