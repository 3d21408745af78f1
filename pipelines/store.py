"""Store step: one SQLite row per article, unique by canonical URL; a changed re-crawl keeps the earlier version."""

from __future__ import annotations

import json
import logging
import sqlite3
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from itemadapter import ItemAdapter
from scrapy.exceptions import NotConfigured

from crawler.items import EXPORT_FIELDS, Article

if TYPE_CHECKING:
    from scrapy.statscollectors import StatsCollector

logger = logging.getLogger(__name__)

# 1: articles + meta. 2: HTTP validators (etag, last_modified) per article, `versions` (earlier
# versions of changed articles) and `aliases` (fetched URLs that led to an article stored under
# another key: redirects, rel=canonical).
SCHEMA_VERSION = 2
JSON_FIELDS = frozenset({"authors", "cleaning"})
VALIDATOR_COLUMNS = ("etag", "last_modified")
# How a stored record compares with what was there: counted as store/<outcome>.
NEW, UPDATED, UNCHANGED = "new", "updated", "unchanged"

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS articles (
    key TEXT PRIMARY KEY,          -- the canonical URL, or "id:<id>" for a record without one
    {", ".join(f"{name} TEXT" for name in EXPORT_FIELDS)},
    first_seen TEXT NOT NULL,
    last_seen TEXT NOT NULL,       -- last time a fetch confirmed this version (stored, unchanged or 304)
    version INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX IF NOT EXISTS articles_content_hash ON articles (content_hash);
CREATE INDEX IF NOT EXISTS articles_id ON articles (id);
CREATE TABLE IF NOT EXISTS versions (
    key TEXT NOT NULL,
    version INTEGER NOT NULL,
    fetched_at TEXT,               -- when that version was fetched
    replaced_at TEXT NOT NULL,     -- when a changed version replaced it
    title TEXT,
    text TEXT,
    content_hash TEXT,
    PRIMARY KEY (key, version)
);
CREATE TABLE IF NOT EXISTS aliases (url TEXT PRIMARY KEY, key TEXT NOT NULL);
"""

_INSERT_COLUMNS = ("key", *EXPORT_FIELDS, *VALIDATOR_COLUMNS, "first_seen", "last_seen")
_INSERT = f"INSERT INTO articles ({', '.join(_INSERT_COLUMNS)}) VALUES ({', '.join('?' for _ in _INSERT_COLUMNS)})"
_UPDATE_COLUMNS = tuple(name for name in (*EXPORT_FIELDS, *VALIDATOR_COLUMNS) if name != "id")
_UPDATE = (f"UPDATE articles SET {', '.join(f'{name} = ?' for name in _UPDATE_COLUMNS)}, last_seen = ?,"
           " version = version + 1 WHERE key = ?")
_ARCHIVE = ("INSERT OR REPLACE INTO versions (key, version, fetched_at, replaced_at, title, text, content_hash)"
            " SELECT key, version, fetched_at, ?, title, text, content_hash FROM articles WHERE key = ?")
# Same content again: keep the recorded validators unless the response brought new ones.
_TOUCH = ("UPDATE articles SET last_seen = ?, etag = COALESCE(?, etag),"
          " last_modified = COALESCE(?, last_modified) WHERE key = ?")


def article_key(record: Mapping[str, Any]) -> str:
    """The store's unique key: the URL, or the record id when there is no URL."""
    return record.get("url") or f"id:{record.get('id')}"


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass(frozen=True)
class StoredFetch:
    """What a re-crawl needs to know about a stored article."""

    key: str
    last_seen: str
    etag: str | None
    last_modified: str | None


class ArticleStore:
    """The SQLite article table: upserts in batches (earlier versions kept), lookups by key, alias and hash."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # WAL lets readers (dedup, exports) run while a crawl writes; synchronous=NORMAL is still
        # crash-safe in WAL mode (a kill loses at most the last uncommitted batch, never the file).
        self.db = sqlite3.connect(self.path, timeout=30)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self._migrate()

    def _migrate(self) -> None:
        """Create the schema, or bring an older one up to SCHEMA_VERSION (columns added, tables created)."""
        self.db.execute("BEGIN IMMEDIATE")  # one process/connection migrates at a time
        try:
            for statement in SCHEMA.split(";"):
                if statement.strip():
                    self.db.execute(statement)
            row = self.db.execute("SELECT value FROM meta WHERE name = 'schema_version'").fetchone()
            found = int(row[0]) if row else SCHEMA_VERSION
            if found > SCHEMA_VERSION:
                raise ValueError(f"{self.path} has store schema {found}; this code knows up to {SCHEMA_VERSION}")
            have = {r[1] for r in self.db.execute("PRAGMA table_info(articles)")}
            # New Article fields (EXPORT_FIELDS grows) and the version-2 validators become new columns.
            for name in (*EXPORT_FIELDS, *VALIDATOR_COLUMNS):
                if name not in have:
                    self.db.execute(f"ALTER TABLE articles ADD COLUMN {name} TEXT")
            if found < SCHEMA_VERSION:
                logger.info("Store %s upgraded from schema %d to %d", self.path, found, SCHEMA_VERSION)
            self.db.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise

    def upsert(self, records: Iterable[Mapping[str, Any]]) -> list[str]:
        """Insert or update `records` (Article-shaped mappings) in one transaction; one outcome each.

        A record may also carry `etag`, `last_modified` (HTTP validators of its response) and `aliases`
        (other URLs that fetched it). A changed article (other content_hash) is updated in place with
        its version incremented, the earlier version kept in `versions`; an unchanged one only gets
        its last_seen and validators refreshed.
        """
        now = utc_now()
        outcomes = []
        with self.db:
            for record in records:
                key = article_key(record)
                fields = [json.dumps(record.get(name), ensure_ascii=False) if name in JSON_FIELDS
                          else record.get(name) for name in EXPORT_FIELDS]
                validators = [record.get(name) for name in VALIDATOR_COLUMNS]
                row = self.db.execute("SELECT content_hash FROM articles WHERE key = ?", (key,)).fetchone()
                if row is None:
                    self.db.execute(_INSERT, (key, *fields, *validators, now, now))
                    outcomes.append(NEW)
                elif row[0] == record.get("content_hash"):
                    self.db.execute(_TOUCH, (now, *validators, key))
                    outcomes.append(UNCHANGED)
                else:
                    self.db.execute(_ARCHIVE, (now, key))
                    values = dict(zip(EXPORT_FIELDS, fields)) | dict(zip(VALIDATOR_COLUMNS, validators))
                    self.db.execute(_UPDATE, (*(values[name] for name in _UPDATE_COLUMNS), now, key))
                    outcomes.append(UPDATED)
                aliases = [(url, key) for url in record.get("aliases") or () if url and url != key]
                self.db.executemany("INSERT OR REPLACE INTO aliases (url, key) VALUES (?, ?)", aliases)
        return outcomes

    def lookup(self, url: str) -> StoredFetch | None:
        """The stored article fetched from `url` (its key or one of its aliases), or None."""
        query = "SELECT key, last_seen, etag, last_modified FROM articles WHERE key = ?"
        row = self.db.execute(query, (url,)).fetchone()
        if row is None:
            alias = self.db.execute("SELECT key FROM aliases WHERE url = ?", (url,)).fetchone()
            row = self.db.execute(query, (alias[0],)).fetchone() if alias else None
        return StoredFetch(*row) if row else None

    def touch(self, key: str, when: str | None = None) -> None:
        """Record that a fetch (a 304) confirmed the stored version of `key`."""
        with self.db:
            self.db.execute("UPDATE articles SET last_seen = ? WHERE key = ?", (when or utc_now(), key))

    def find_by_hash(self, content_hash: str, exclude_key: str | None = None) -> str | None:
        """The id of a stored article with this content hash under another key, or None."""
        row = self.db.execute(
            "SELECT id FROM articles WHERE content_hash = ? AND key IS NOT ? LIMIT 1",
            (content_hash, exclude_key),
        ).fetchone()
        return row[0] if row else None

    def iter_articles(self) -> Iterator[dict[str, Any]]:
        """Every stored article as an Article-shaped dict, oldest first."""
        cursor = self.db.execute(
            f"SELECT {', '.join(EXPORT_FIELDS)}, version, first_seen, last_seen FROM articles ORDER BY rowid"
        )
        names = [d[0] for d in cursor.description]
        for row in cursor:
            record = dict(zip(names, row))
            for name in JSON_FIELDS:
                record[name] = json.loads(record[name]) if record[name] else ({} if name == "cleaning" else [])
            yield record

    def iter_versions(self, key: str) -> Iterator[dict[str, Any]]:
        """The earlier versions of one article, oldest first."""
        cursor = self.db.execute("SELECT version, fetched_at, replaced_at, title, text, content_hash FROM versions"
                                 " WHERE key = ? ORDER BY version", (key,))
        names = [d[0] for d in cursor.description]
        for row in cursor:
            yield dict(zip(names, row))

    def count(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM articles").fetchone()[0]

    def close(self) -> None:
        self.db.close()


class StorePipeline:
    """Writes kept articles to the SQLite store in batches (STORE_BATCH_SIZE) to keep the reactor free.

    A kill loses at most the uncommitted batch; those articles are not in the store, so the resumed
    crawl fetches them again (see crawler/extensions/jobstate.py).
    """

    def __init__(self, path: str, batch_size: int = 50, stats: StatsCollector | None = None) -> None:
        self.path = path
        self.batch_size = max(1, batch_size)
        self.stats = stats
        self.store: ArticleStore | None = None
        self.pending: list[dict[str, Any]] = []

    @classmethod
    def from_crawler(cls, crawler: Any) -> StorePipeline:
        settings = crawler.settings
        if not settings.getbool("STORE_ENABLED", True):
            raise NotConfigured("STORE_ENABLED is off")
        return cls(settings.get("STORE_PATH"), settings.getint("STORE_BATCH_SIZE", 50), stats=crawler.stats)

    def open_spider(self) -> None:
        self.store = ArticleStore(self.path)
        logger.info("Storing articles in %s (%d already there)", self.path, self.store.count())

    def close_spider(self) -> None:
        self.flush()
        if self.store is not None:
            self.store.close()
            self.store = None

    def flush(self) -> None:
        if self.pending and self.store is not None:
            outcomes = self.store.upsert(self.pending)
            if self.stats:
                self.stats.inc_value("store/written", len(self.pending))
                for outcome, number in Counter(outcomes).items():
                    self.stats.inc_value(f"store/{outcome}", number)
            self.pending = []

    def process_item(self, item: Article) -> Article:
        adapter = ItemAdapter(item)
        record = {name: adapter.get(name) for name in EXPORT_FIELDS}
        # Crawled items carry their HTTP validators and fetched URLs (crawler/spiders/base.py).
        for name in (*VALIDATOR_COLUMNS, "aliases"):
            if adapter.get(name):
                record[name] = adapter.get(name)
        self.pending.append(record)
        if len(self.pending) >= self.batch_size:
            self.flush()
        return item
