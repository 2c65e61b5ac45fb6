"""Fuzz the `/digest` parser and section lookup: `python fuzz/fuzz_command.py -max_total_time=60`."""

import atheris
from _harness import run

with atheris.instrument_imports():
    from bot.chat.commands import find_section, parse_command
    from bot.digest.build import build_digest
    from bot.digest.sections import build_article
    from bot.ingest.plaintext import parse_plaintext

DIGEST = build_digest(
    build_article(
        parse_plaintext(
            "Title\n\nFirst paragraph is here. It has two sentences.\n\nWHY NOW?\n\nBecause it matters now.\n",
            "x",
        )
    )
)


def target(data: bytes) -> None:
    text = data.decode("utf-8", "replace")
    command = parse_command(text)
    if command.args:
        find_section(DIGEST, " ".join(command.args))


if __name__ == "__main__":
    run(target)
