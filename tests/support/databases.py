"""Real databases for tests: a fresh SQLite file, and a fresh PostgreSQL database when one runs.

`.ci/run` starts a throwaway PostgreSQL and sets NEWSDIGEST_TEST_DATABASE_URL; without it the
PostgreSQL variants are skipped locally (CI fails if the variable is missing there).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from bot.store.db import normalize_url
from bot.store.repo import Store
from support.loopback import free_port
from support.paths import ROOT

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


@contextmanager
def own_postgres() -> Iterator[tuple[str, Callable[[], None]]]:
    """A PostgreSQL server of the test's own (scripts/pg-test-server on a free port), for a
    test that restarts it: yields its URL and a function that restarts it (a fast restart,
    which cuts every connection), and removes it afterwards."""
    if not PG_URL or shutil.which("initdb") is None:
        if os.environ.get("CI"):
            pytest.fail("CI must have PostgreSQL's initdb and pg_ctl on PATH")
        pytest.skip("no PostgreSQL server binaries here")
    script = str(ROOT / "scripts" / "pg-test-server")
    env = {
        **os.environ,
        "NEWSDIGEST_PG_PORT": str(free_port()),
        # not under tmp_path: the server runs as `postgres`, which may not enter pytest's
        # private temporary folders when the suite runs as root
        "NEWSDIGEST_PG_DIR": f"/tmp/nd-pg-{uuid.uuid4().hex[:12]}",
    }

    def run(action: str) -> str:
        done = subprocess.run([script, action], env=env, check=True, capture_output=True)
        return done.stdout.decode().strip()

    def restart() -> None:
        run("restart")

    url = run("start")
    try:
        yield url, restart
    finally:
        run("stop")
