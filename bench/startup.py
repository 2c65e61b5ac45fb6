"""CLI start-up: what a user waits for before anything happens, against bare Python."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "printable-riverton-solar.txt"


def timed(command: list[str], runs: int = 9) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, cwd=ROOT, capture_output=True, check=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> int:
    python = [sys.executable]
    cli = [sys.executable, "-m", "bot.cli"]
    bare = timed([*python, "-c", "pass"])
    rows = [
        ("python -c pass (baseline)", bare),
        ("newsdigest --help", timed([*cli, "--help"])),
        ("newsdigest sections FILE (small text file)", timed([*cli, "sections", str(EXAMPLE)])),
        ("newsdigest digest FILE", timed([*cli, "digest", str(EXAMPLE)], runs=5)),
    ]
    print("CLI start-up (median of runs; ratio to bare Python in the same run)")
    for label, seconds in rows:
        print(f"  {label:44} {1000 * seconds:6.0f} ms  ({seconds / bare:4.1f}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
