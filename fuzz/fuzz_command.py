"""Fuzz the `/digest` parser and section lookup: `python fuzz/fuzz_command.py -max_total_time=60`."""

import atheris
from _harness import run

with atheris.instrument_imports():
    from bot.chat.commands import COMMANDS
    from bot.chat.grammar import parse_text
    from bot.digest.article_digest import summarize_article
    from bot.digest.lookup import find_section
    from bot.digest.sections import build_article
    from bot.errors import NewsdigestError
    from bot.ingest.plaintext import parse_plaintext

DIGEST = summarize_article(
    build_article(
        parse_plaintext(
            "Title\n\nFirst paragraph is here. It has two sentences.\n\nWHY NOW?\n\nBecause it matters now.\n",
            "x",
        )
    )
)


def target(data: bytes) -> None:
    text = data.decode("utf-8", "replace")
    try:
        parsed = parse_text(text, COMMANDS)
        if parsed.values.get("name"):
            find_section(DIGEST, parsed.values["name"])
    except NewsdigestError:
        pass  # a message for the user


if __name__ == "__main__":
    run(target)
