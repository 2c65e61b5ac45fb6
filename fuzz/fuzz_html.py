"""Fuzz HTML extraction: `python fuzz/fuzz_html.py -max_total_time=60`."""

import atheris
from _harness import run

with atheris.instrument_imports():
    from bot.digest.sections import build_article
    from bot.ingest.html import parse_html


def target(data: bytes) -> None:
    build_article(parse_html(data.decode("utf-8", "replace"), "fuzz"))


if __name__ == "__main__":
    run(target)
