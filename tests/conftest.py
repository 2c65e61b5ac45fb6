"""Shared fixtures: real databases (SQLite, and PostgreSQL when one runs) and sample articles.

Tests are laid out as the code is: tests/unit/<package>/test_<module>.py for one module,
tests/scenarios/test_<feature>.py for a feature end to end, tests/support/ for what they share.
"""

from __future__ import annotations

import pytest
from support.databases import database_url, store  # noqa: F401  (fixtures for every test module)
from support.paths import EXAMPLE, SAMPLE


@pytest.fixture(scope="session")
def sample_text() -> str:
    if not SAMPLE.exists():
        pytest.skip(f"shared sample not found at {SAMPLE}")
    return SAMPLE.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def example_text() -> str:
    return EXAMPLE.read_text(encoding="utf-8")
