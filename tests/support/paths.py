"""Where things are: the checkout, the shared evaluation material, sample articles."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("NEWSDIGEST_SHARED", ROOT.parent / "shared"))
SAMPLE = SHARED / "samples" / "printable-kim-putin.txt"
EXAMPLE = ROOT / "examples" / "printable-riverton-solar.txt"
