"""A real Redis server for tests: `redis-server` on a free port, in a temp dir, no persistence; stopped afterwards.

Fixtures (import them into a test module): `redis_server` (session), `redis_prefix` (a key prefix per test; its
keys are deleted after the test). Tests skip only when `redis-server` is not installed (apt-get install
redis-server).
"""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis

from tests.pg import free_port, reap, started

START_TIMEOUT_S = 20.0
_numbers = itertools.count(1)


class RedisServer:
    def __init__(self, binary: str) -> None:
        self.binary = binary
        self.root = Path(tempfile.mkdtemp(prefix="zhcrawl-redis-"))
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url)

    def start(self) -> None:
        log = open(self.root / "redis.log", "wb")
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.root),
             "--save", "", "--appendonly", "no", "--protected-mode", "no"],
            stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                with self.client() as client:
                    client.ping()
                return
            except redis.ConnectionError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError("redis-server did not start: "
                                       + (self.root / "redis.log").read_text(errors="replace")[-2000:])
                time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            reap(self.process, START_TIMEOUT_S)
        shutil.rmtree(self.root, ignore_errors=True)


def find_redis() -> str | None:
    """The redis-server binary: on PATH, or where Debian's package puts it."""
    return shutil.which("redis-server") or ("/usr/bin/redis-server" if os.path.exists("/usr/bin/redis-server")
                                            else None)


@contextmanager
def running_redis() -> Iterator[RedisServer]:
    binary = find_redis()
    if binary is None:
        raise RuntimeError("redis-server not found")
    with started(RedisServer(binary)) as server:
        yield server


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    if find_redis() is None:
        pytest.skip("redis-server not installed; apt-get install redis-server")
    with running_redis() as server:
        yield server


@pytest.fixture
def redis_prefix(redis_server: RedisServer) -> Iterator[str]:
    """A key prefix of this test's own (`REDIS_KEY_PREFIX`); every key under it is deleted afterwards."""
    prefix = f"test{os.getpid()}-{next(_numbers)}:"
    yield prefix
    with redis_server.client() as client:
        keys = list(client.scan_iter(match=f"{prefix}*"))
        if keys:
            client.delete(*keys)
