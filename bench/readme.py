"""Put the latest benchmark output between the README's <!-- bench:NAME --> markers."""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"


def main() -> int:
    readme = ROOT / "README.md"
    text = readme.read_text()
    for result in sorted(RESULTS.glob("*.txt")):
        name = result.stem
        body = result.read_text().strip()
        if "\n|" not in body:  # plain report lines: keep their columns in a code block
            body = f"```text\n{body}\n```"
        pattern = re.compile(rf"(<!-- bench:{name} -->\n).*?(<!-- /bench:{name} -->)", re.S)
        text, count = pattern.subn(lambda m, b=body: f"{m.group(1)}{b}\n{m.group(2)}", text)
        if not count:
            print(f"no markers for {name} in README.md", file=sys.stderr)
    readme.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
