"""Fuzz feed ingest: `python fuzz/fuzz_feed.py -max_total_time=60` (or `make fuzz`)."""

import atheris
from _harness import run

with atheris.instrument_imports():
    from bot.digest.sections import build_article
    from bot.ingest.feed import parse_feed


def target(data: bytes) -> None:
    for doc in parse_feed(
        b'<?xml version="1.0"?><rss version="2.0"><channel>' + data + b"</channel></rss>", "fuzz"
    ):
        build_article(doc)


if __name__ == "__main__":
    run(target)
