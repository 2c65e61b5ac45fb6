"""Shared fixtures: where the shared evaluation material lives, and sample articles."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("NEWSDIGEST_SHARED", ROOT.parent / "shared"))
SAMPLE = SHARED / "samples" / "printable-kim-putin.txt"
EXAMPLE = ROOT / "examples" / "printable-riverton-solar.txt"


@pytest.fixture(scope="session")
def sample_text() -> str:
    if not SAMPLE.exists():
        pytest.skip(f"shared sample not found at {SAMPLE}")
    return SAMPLE.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def example_text() -> str:
    return EXAMPLE.read_text(encoding="utf-8")


from store_fixtures import database_url, store  # noqa: E402, F401  (fixtures for every test module)
