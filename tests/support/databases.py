"""Real databases for tests: a fresh SQLite file, and a fresh PostgreSQL database when one runs.

`.ci/run` starts a throwaway PostgreSQL and sets NEWSDIGEST_TEST_DATABASE_URL; without it the
PostgreSQL variants are skipped locally (CI fails if the variable is missing there).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from bot.store.db import normalize_url
from bot.store.repo import Store

PG_URL = os.environ.get("NEWSDIGEST_TEST_DATABASE_URL")
BACKENDS = ["sqlite", "postgresql"]


def fresh_database_url(backend: str, tmp_path: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.sqlite3'}"
        return
    if not PG_URL:
        if os.environ.get("CI"):
            pytest.fail("NEWSDIGEST_TEST_DATABASE_URL must be set in CI")
        pytest.skip("no PostgreSQL for tests (set NEWSDIGEST_TEST_DATABASE_URL)")
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(normalize_url(PG_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    base = PG_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield from fresh_database_url(request.param, tmp_path)


@pytest.fixture()
def store(database_url: str) -> Iterator[Store]:
    opened = Store.open(database_url)
    yield opened
    opened.engine.dispose()
