from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

from support.paths import ROOT

from bot.digest.summarize_command import summarize_lines

ARTICLE = (
    "The city opened a new bridge on Monday after four years of work on the river crossing. "
    "Officials said the bridge cost $40 million and will carry 20,000 cars a day. "
    "Local shops hope the new traffic will bring more customers to the old town centre."
)


def test_contract_in_order_with_errors_inline() -> None:
    lines = [
        json.dumps({"id": 1, "article": ARTICLE}),
        "{not json",
        json.dumps({"id": "x"}),
        json.dumps({"id": 3, "article": ""}),
        json.dumps({"id": 4, "article": ARTICLE}),
    ]
    out = list(summarize_lines(lines, 2))
    assert [o.get("id") for o in out] == [1, None, "x", 3, 4]
    assert (
        len(out[0]["bullets"]) == 2
        and "error" in out[1]
        and "error" in out[2]
        and "error" in out[3]
    )
    assert out[4] == out[0] | {"id": 4}


def test_cli_reads_stdin_and_writes_json_lines(tmp_path: Path) -> None:
    data = "\n".join(json.dumps({"id": i, "article": ARTICLE}) for i in range(3)) + "\n"
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "summarize", "--input", "-", "--bullets", "1"],
        cwd=ROOT,
        input=data,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in io.StringIO(result.stdout)]
    assert [r["id"] for r in rows] == [0, 1, 2] and all(len(r["bullets"]) == 1 for r in rows)
