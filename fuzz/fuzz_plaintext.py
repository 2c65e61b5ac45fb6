"""Fuzz the printable-page cleaner and sectioner: `python fuzz/fuzz_plaintext.py -max_total_time=60`."""

import atheris
from _harness import run

with atheris.instrument_imports():
    from bot.digest.article_digest import summarize_article
    from bot.digest.sections import build_article
    from bot.ingest.plaintext import parse_plaintext


def target(data: bytes) -> None:
    article = build_article(parse_plaintext(data.decode("utf-8", "replace"), "fuzz"))
    if article.sentences:
        summarize_article(article)


if __name__ == "__main__":
    run(target)
