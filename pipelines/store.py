"""Store step: one SQLite row per article, unique by URL; a re-crawl updates the row in place."""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Iterator, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from itemadapter import ItemAdapter
from scrapy.exceptions import NotConfigured

from crawler.items import EXPORT_FIELDS, Article

if TYPE_CHECKING:
    from scrapy.statscollectors import StatsCollector

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 1
JSON_FIELDS = frozenset({"authors", "cleaning"})

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS articles (
    key TEXT PRIMARY KEY,          -- the URL, or "id:<id>" for a record without one
    {", ".join(f"{name} TEXT" for name in EXPORT_FIELDS)},
    first_seen TEXT NOT NULL,
    last_seen TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX IF NOT EXISTS articles_content_hash ON articles (content_hash);
CREATE INDEX IF NOT EXISTS articles_id ON articles (id);
"""

_COLUMNS = ("key", *EXPORT_FIELDS, "first_seen", "last_seen")
_UPSERT = (
    f"INSERT INTO articles ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' for _ in _COLUMNS)}) "
    "ON CONFLICT(key) DO UPDATE SET "
    + ", ".join(f"{name} = excluded.{name}" for name in EXPORT_FIELDS if name != "id")
    + ", last_seen = excluded.last_seen,"
    " version = articles.version + (articles.content_hash IS NOT excluded.content_hash)"
)


def article_key(record: Mapping[str, Any]) -> str:
    """The store's unique key: the URL, or the record id when there is no URL."""
    return record.get("url") or f"id:{record.get('id')}"


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class ArticleStore:
    """The SQLite article table: upserts in batches, lookups by key and by content hash."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # WAL lets readers (dedup, exports) run while a crawl writes; synchronous=NORMAL is still
        # crash-safe in WAL mode (a kill loses at most the last uncommitted batch, never the file).
        self.db = sqlite3.connect(self.path, timeout=30)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        with self.db:
            self.db.executescript(SCHEMA)
            self.db.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))

    def upsert(self, records: list[Mapping[str, Any]]) -> None:
        """Insert or update `records` (Article-shaped mappings) in one transaction."""
        now = utc_now()
        rows = []
        for record in records:
            values = [article_key(record)]
            for name in EXPORT_FIELDS:
                value = record.get(name)
                values.append(json.dumps(value, ensure_ascii=False) if name in JSON_FIELDS else value)
            rows.append((*values, now, now))
        with self.db:
            self.db.executemany(_UPSERT, rows)

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

    def count(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM articles").fetchone()[0]

    def close(self) -> None:
        self.db.close()


class StorePipeline:
    """Writes kept articles to the SQLite store in batches (STORE_BATCH_SIZE) to keep the reactor free."""

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
            self.store.upsert(self.pending)
            if self.stats:
                self.stats.inc_value("store/written", len(self.pending))
            self.pending = []

    def process_item(self, item: Article) -> Article:
        adapter = ItemAdapter(item)
        self.pending.append({name: adapter.get(name) for name in EXPORT_FIELDS})
        if len(self.pending) >= self.batch_size:
            self.flush()
        return item
