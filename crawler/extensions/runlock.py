"""Run lock: one crawl at a time per store (and per JOBDIR); an overlapping run is refused, not interleaved."""

from __future__ import annotations

import fcntl
import logging
import os
from pathlib import Path
from typing import IO, Any

from scrapy import signals
from scrapy.exceptions import CloseSpider, NotConfigured

from crawler.middlewares.incremental import utc_now
from pipelines.store import store_location
from pipelines.storesql import parse_location

logger = logging.getLogger(__name__)

# Settings priority above `-s` on the command line: a refused run must not touch what the holder uses.
OVERRIDE_PRIORITY = 100
REFUSED_REASON = "run_locked"


# Store locks this process holds, with how many crawlers use each: crawlers of one process (several
# spiders started by one command) share a store safely; SQLite serialises their writes.
_HELD: dict[Path, list[Any]] = {}


def lock_paths(store_path: str | None, jobdir: str | None) -> list[tuple[Path, bool]]:
    """(lock file, shareable within this process): the store's lock, and JOBDIR's, never shared."""
    paths = [(Path(f"{store_path}.lock").resolve(), True)] if store_path else []
    if jobdir:
        paths.append(((Path(jobdir) / "run.lock").resolve(), False))
    return paths


def try_lock(path: Path) -> IO[str] | None:
    """An open file holding an exclusive flock on `path`, or None when another process holds it.

    flock locks die with their process, so a killed crawl never leaves a stale lock behind.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = open(path, "a+", encoding="utf-8")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        return None
    handle.seek(0)
    handle.truncate()
    handle.write(f"pid {os.getpid()} since {utc_now()}\n")
    handle.flush()
    return handle


def hold(path: Path) -> bool:
    """Take the lock `path` for this process, or join this process's hold on it; False when another process
    holds it. `scrapy crawlall` holds the store's lock between the crawlers it runs one after another."""
    if path in _HELD:
        _HELD[path][1] += 1
        return True
    handle = try_lock(path)
    if handle is None:
        return False
    _HELD[path] = [handle, 1]
    return True


def release_hold(path: Path) -> None:
    """Leave this process's hold on `path`; the lock is released when its last holder leaves."""
    entry = _HELD[path]
    entry[1] -= 1
    if entry[1] == 0:
        fcntl.flock(entry[0], fcntl.LOCK_UN)
        entry[0].close()
        del _HELD[path]


def store_lock_path(settings: Any) -> Path | None:
    """The lock file of the SQLite store named by these settings; None for PostgreSQL or no store."""
    location = store_location(settings)
    store = parse_location(location).sqlite_path if location else None
    return lock_paths(str(store), None)[0][0] if store else None


def holder(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8").strip() or "unknown process"
    except OSError:
        return "unknown process"


class RunLock:
    """Extension: takes STORE_PATH.lock (and JOBDIR/run.lock) before anything opens them; when another
    crawl holds one, this run closes at once with reason `run_locked` and a clear error in the log."""

    def __init__(self, paths: list[tuple[Path, bool]]) -> None:
        self.held: list[Path] = []
        self.refused: Path | None = None
        for path, shareable in paths:
            if (path in _HELD and not shareable) or not hold(path):
                self.refused = path
                self.release()
                break
            self.held.append(path)

    @classmethod
    def from_crawler(cls, crawler: Any) -> RunLock:
        settings = crawler.settings
        if not settings.getbool("RUNLOCK_ENABLED", True):
            raise NotConfigured("RUNLOCK_ENABLED is off")
        # A PostgreSQL store is shared by workers on purpose (its writes are safe concurrently): only a
        # SQLite store (and JOBDIR) is locked.
        # Distributed workers (REDIS_URL, crawler/distributed.py) share their store on purpose.
        store = None if settings.get("REDIS_URL") else store_lock_path(settings)
        paths = [(store, True)] if store else []
        lock = cls(paths + lock_paths(None, settings.get("JOBDIR")))
        if lock.refused is not None:
            logger.error("Another crawl is running on this store (lock %s held by %s): this run is refused "
                         "and closes without crawling.", lock.refused, holder(lock.refused))
            # Built before the scheduler, pipelines and feed exports: keep them off the holder's files.
            for name, value in (("JOBDIR", None), ("STORE_ENABLED", False), ("FEEDS", {})):
                settings.set(name, value, priority=OVERRIDE_PRIORITY)
            crawler.stats.set_value("runlock/refused", str(lock.refused))
        crawler.signals.connect(lock.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(lock.release, signal=signals.engine_stopped)
        return lock

    def spider_opened(self) -> None:
        if self.refused is not None:
            raise CloseSpider(REFUSED_REASON)

    def release(self) -> None:
        for path in self.held:
            release_hold(path)
        self.held = []
