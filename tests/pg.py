"""A real PostgreSQL server for tests and benchmarks: initdb + postgres from the installed binaries, on a free
port, unix socket in a temp dir, run as an unprivileged user (the server refuses root); one database per test.

Fixtures (import them into a test module): `postgres_server` (session), `pg_url` (a fresh database),
`location` (a store on each backend: the test runs once on a SQLite file, once on PostgreSQL).
Tests skip only when the server binaries are not installed (`apt-get install postgresql`).
"""

from __future__ import annotations

import itertools
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest

START_TIMEOUT_S = 30.0
# Test data is thrown away: no fsync, no WAL safety, which makes initdb and every commit fast.
FAST_UNSAFE = ("-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")


def find_bindir() -> Path | None:
    """The directory holding initdb and postgres: $PG_BINDIR, the newest /usr/lib/postgresql/*/bin, or PATH."""
    candidates = [Path(os.environ["PG_BINDIR"])] if os.environ.get("PG_BINDIR") else []
    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name)
                         if p.parent.name.isdigit() else 0, reverse=True)
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(on_path).parent)
    for directory in candidates:
        if (directory / "initdb").is_file() and (directory / "postgres").is_file():
            return directory
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_user() -> str | None:
    """Who runs the server: None (this user) unless we are root, then `postgres` when it exists, else nobody."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    raise RuntimeError("running as root and neither a 'postgres' nor a 'nobody' user exists")


class PostgresServer:
    """One throwaway cluster; `url(db)` gives a connection URL, `create_database()` a fresh database."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.user = server_user()
        self.root = Path(tempfile.mkdtemp(prefix="zhcrawl-pg-"))
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self._numbers = itertools.count(1)

    def _command(self, *args: str) -> list[str]:
        return ["runuser", "-u", self.user, "--", *args] if self.user else list(args)

    def start(self) -> None:
        if self.user:
            entry = pwd.getpwnam(self.user)
            os.chown(self.root, entry.pw_uid, entry.pw_gid)
        data = self.root / "data"
        subprocess.run(self._command(str(self.bindir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust",
                                     "-E", "UTF8", "--locale=C", "--no-sync"),
                       check=True, capture_output=True)
        log = open(self.root / "server.log", "wb")
        self.process = subprocess.Popen(
            self._command(str(self.bindir / "postgres"), "-D", str(data), "-p", str(self.port),
                          "-k", str(self.root), "-c", "listen_addresses=127.0.0.1", *FAST_UNSAFE),
            stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                psycopg.connect(self.url("postgres"), connect_timeout=2).close()
                return
            except psycopg.OperationalError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError("PostgreSQL did not start: " + self.log_tail())
                time.sleep(0.1)

    def log_tail(self) -> str:
        path = self.root / "server.log"
        return path.read_text(errors="replace")[-2000:] if path.exists() else "(no log)"

    def url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self) -> str:
        name = f"test_{os.getpid()}_{next(self._numbers)}"
        with psycopg.connect(self.url("postgres"), autocommit=True) as admin:
            admin.execute(f"CREATE DATABASE {name}")
        return name

    def drop_database(self, name: str) -> None:
        with psycopg.connect(self.url("postgres"), autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def stop(self) -> None:
        """Fast shutdown of the postmaster (read from its pid file: runuser may sit in between)."""
        pid_file = self.root / "data" / "postmaster.pid"
        try:
            os.kill(int(pid_file.read_text().split()[0]), signal.SIGINT)
        except (OSError, ValueError, IndexError):
            pass
        if self.process is not None:
            reap(self.process, START_TIMEOUT_S)
        shutil.rmtree(self.root, ignore_errors=True)


def reap(process: subprocess.Popen[bytes], timeout: float) -> None:
    """Wait for a server process told to stop; kill it when it has not exited within `timeout` seconds."""
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def started(server: Any) -> Iterator[Any]:
    """`server` started (its `start()`), and stopped (its `stop()`) when the block ends, whatever happens."""
    server.start()
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def running_postgres() -> Iterator[PostgresServer]:
    """A started server, stopped and deleted afterwards. RuntimeError when the binaries are missing."""
    bindir = find_bindir()
    if bindir is None:
        raise RuntimeError("PostgreSQL server binaries (initdb, postgres) not found")
    with started(PostgresServer(bindir)) as server:
        yield server


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    if find_bindir() is None:
        pytest.skip("PostgreSQL server binaries (initdb, postgres) not installed; apt-get install postgresql")
    with running_postgres() as server:
        yield server


@pytest.fixture
def pg_url(postgres_server: PostgresServer) -> Iterator[str]:
    """The URL of a new, empty database, dropped after the test."""
    name = postgres_server.create_database()
    yield postgres_server.url(name)
    postgres_server.drop_database(name)


@pytest.fixture(params=["sqlite", "postgresql"])
def location(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where a test's store lives: a SQLite file, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return str(tmp_path / "out" / "a.sqlite")
    return request.getfixturevalue("pg_url")


def store_settings(location: str, **extra: object) -> dict[str, object]:
    """Crawler settings for a store: STORE_PATH for a file (the default way), STORE_URL for PostgreSQL."""
    name = "STORE_URL" if location.startswith("postgresql://") else "STORE_PATH"
    return {name: location, **extra}
