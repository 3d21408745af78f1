"""Store step: one row per article (SQLite or PostgreSQL), unique by canonical URL; a changed re-crawl keeps the earlier version."""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from itemadapter import ItemAdapter
from scrapy.exceptions import NotConfigured
from scrapy.settings import BaseSettings

from crawler.items import EXPORT_FIELDS, Article
from pipelines.storesql import Database, StoreLocation

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
    {{rowid}}
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
# Backend-neutral SQL (pipelines/storesql.py turns `?` and the {words} into the backend's dialect).
_INSERT_COLUMNS = ("key", *EXPORT_FIELDS, *VALIDATOR_COLUMNS, "first_seen", "last_seen")
# DO NOTHING + RETURNING: no row back means another writer inserted this key first (PostgreSQL waits
# for that writer's commit), so the record is compared with what it stored instead.
_INSERT = (f"INSERT INTO articles ({', '.join(_INSERT_COLUMNS)}) VALUES ({', '.join('?' for _ in _INSERT_COLUMNS)})"
           " ON CONFLICT (key) DO NOTHING RETURNING key")
_SELECT_FOR_WRITE = "SELECT content_hash FROM articles WHERE key = ? {for_update}"
_UPDATE_COLUMNS = tuple(name for name in (*EXPORT_FIELDS, *VALIDATOR_COLUMNS) if name != "id")
_UPDATE = (f"UPDATE articles SET {', '.join(f'{name} = ?' for name in _UPDATE_COLUMNS)}, last_seen = ?,"
           " version = version + 1 WHERE key = ?")
_ARCHIVE = ("INSERT INTO versions (key, version, fetched_at, replaced_at, title, text, content_hash)"
            " SELECT key, version, fetched_at, ?, title, text, content_hash FROM articles WHERE key = ?"
            " ON CONFLICT (key, version) DO UPDATE SET fetched_at = excluded.fetched_at,"
            " replaced_at = excluded.replaced_at, title = excluded.title, text = excluded.text,"
            " content_hash = excluded.content_hash")
# Same content again: keep the recorded validators unless the response brought new ones.
_TOUCH = ("UPDATE articles SET last_seen = ?, etag = COALESCE(?, etag),"
          " last_modified = COALESCE(?, last_modified) WHERE key = ?")
_ALIAS = "INSERT INTO aliases (url, key) VALUES (?, ?) ON CONFLICT (url) DO UPDATE SET key = excluded.key"
_SET_META = "INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value"


def article_key(record: Mapping[str, Any]) -> str:
    """The store's unique key: the URL, or the record id when there is no URL."""
    return record.get("url") or f"id:{record.get('id')}"


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def store_location(settings: BaseSettings) -> str | None:
    """Where the crawl's store is: STORE_URL when set, else STORE_PATH; None when STORE_ENABLED is off."""
    if not settings.getbool("STORE_ENABLED", True):
        return None
    return settings.get("STORE_URL") or settings.get("STORE_PATH")


def open_store(url_or_path: str | Path | StoreLocation) -> ArticleStore:
    """The one way the product opens a store: a SQLite path or URL, or a postgresql:// URL."""
    return ArticleStore(url_or_path)


@dataclass(frozen=True)
class StoredFetch:
    """What a re-crawl needs to know about a stored article."""

    key: str
    last_seen: str
    etag: str | None
    last_modified: str | None


class ArticleStore:
    """The article tables (SQLite or PostgreSQL): batched upserts keeping earlier versions, lookups by key,
    alias and hash. Several processes may write one store at once (see `upsert`)."""

    def __init__(self, location: str | Path | StoreLocation) -> None:
        self.db = Database(location)
        self.location = self.db.location
        self.path = self.location.sqlite_path  # None on PostgreSQL
        try:
            self._migrate()
        except BaseException:
            self.db.close()
            raise

    def _migrate(self) -> None:
        """Create the schema, or bring an older one up to SCHEMA_VERSION (columns added, tables created).

        One opener at a time migrates (SQLite's write lock, a PostgreSQL advisory lock), so workers
        starting together on a new database do not race on CREATE TABLE.
        """
        with self.db.transaction(lock="schema"):
            self.db.script(SCHEMA)
            row = self.db.one("SELECT value FROM meta WHERE name = 'schema_version'")
            found = int(row[0]) if row else SCHEMA_VERSION
            if found > SCHEMA_VERSION:
                raise ValueError(f"{self.location} has store schema {found}; this code knows up to {SCHEMA_VERSION}")
            have = self.db.columns("articles")
            # New Article fields (EXPORT_FIELDS grows) and the version-2 validators become new columns.
            for name in (*EXPORT_FIELDS, *VALIDATOR_COLUMNS):
                if name not in have:
                    self.db.execute(f"ALTER TABLE articles ADD COLUMN {name} TEXT")
            if found < SCHEMA_VERSION:
                logger.info("Store %s upgraded from schema %d to %d", self.location, found, SCHEMA_VERSION)
            self.db.execute(_SET_META, ("schema_version", str(SCHEMA_VERSION)))

    def upsert(self, records: Iterable[Mapping[str, Any]]) -> list[str]:
        """Insert or update `records` (Article-shaped mappings) in one transaction; one outcome each.

        A record may also carry `etag`, `last_modified` (HTTP validators of its response) and `aliases`
        (other URLs that fetched it). A changed article (other content_hash) is updated in place with
        its version incremented, the earlier version kept in `versions`; an unchanged one only gets
        its last_seen and validators refreshed.

        Concurrent writers: SQLite serialises whole batches (BEGIN IMMEDIATE). PostgreSQL locks the
        rows it writes; they are taken in key order (articles, then aliases), so two writers with
        overlapping batches wait for each other instead of deadlocking. Within a batch, rows are
        therefore inserted in key order.
        """
        records = list(records)
        now = utc_now()
        outcomes = [""] * len(records)
        with self.db.transaction(lock=""):
            for position in sorted(range(len(records)), key=lambda i: article_key(records[i])):
                outcomes[position] = self._upsert_one(records[position], now)
            aliases = [(url, article_key(record)) for record in records for url in record.get("aliases") or ()
                       if url and url != article_key(record)]
            self.db.executemany(_ALIAS, sorted(aliases, key=lambda alias: alias[0]))
        return outcomes

    def _upsert_one(self, record: Mapping[str, Any], now: str) -> str:
        key = article_key(record)
        fields = [json.dumps(record.get(name), ensure_ascii=False) if name in JSON_FIELDS
                  else record.get(name) for name in EXPORT_FIELDS]
        validators = [record.get(name) for name in VALIDATOR_COLUMNS]
        row = self.db.one(_SELECT_FOR_WRITE, (key,))
        if row is None:
            if self.db.one(_INSERT, (key, *fields, *validators, now, now)) is not None:
                return NEW
            row = self.db.one(_SELECT_FOR_WRITE, (key,))
        if row[0] == record.get("content_hash"):
            self.db.execute(_TOUCH, (now, *validators, key))
            return UNCHANGED
        self.db.execute(_ARCHIVE, (now, key))
        values = dict(zip(EXPORT_FIELDS, fields)) | dict(zip(VALIDATOR_COLUMNS, validators))
        self.db.execute(_UPDATE, (*(values[name] for name in _UPDATE_COLUMNS), now, key))
        return UPDATED

    def lookup(self, url: str) -> StoredFetch | None:
        """The stored article fetched from `url` (its key or one of its aliases), or None."""
        query = "SELECT key, last_seen, etag, last_modified FROM articles WHERE key = ?"
        row = self.db.one(query, (url,))
        if row is None:
            alias = self.db.one("SELECT key FROM aliases WHERE url = ?", (url,))
            row = self.db.one(query, (alias[0],)) if alias else None
        return StoredFetch(*row) if row else None

    def touch(self, key: str, when: str | None = None) -> None:
        """Record that a fetch (a 304) confirmed the stored version of `key`."""
        self.db.execute("UPDATE articles SET last_seen = ? WHERE key = ?", (when or utc_now(), key))

    def find_by_hash(self, content_hash: str, exclude_key: str | None = None) -> str | None:
        """The id of a stored article with this content hash under another key, or None."""
        if exclude_key is None:
            row = self.db.one("SELECT id FROM articles WHERE content_hash = ? LIMIT 1", (content_hash,))
        else:
            row = self.db.one("SELECT id FROM articles WHERE content_hash = ? AND key <> ? LIMIT 1",
                              (content_hash, exclude_key))
        return row[0] if row else None

    def iter_articles(self, *, since: str | None = None, languages: Iterable[str] = (),
                      originals_only: bool = False) -> Iterator[dict[str, Any]]:
        """Stored articles as Article-shaped dicts (plus version, first_seen, last_seen), oldest first,
        streamed in batches.

        since: an ISO date (YYYY-MM-DD): only articles published that day or later, or, without a
        publication date, fetched that day or later (ISO strings compare as dates by their prefix).
        languages: only these codes.
        originals_only: leave out near-duplicates (articles with `duplicate_of` set).
        """
        conditions: list[str] = []
        params: list[Any] = []
        if since:
            conditions.append("COALESCE(NULLIF(published, ''), fetched_at) >= ?")
            params.append(since)
        languages = list(languages)
        if languages:
            conditions.append(f"language IN ({', '.join('?' for _ in languages)})")
            params += languages
        if originals_only:
            conditions.append("(duplicate_of IS NULL OR duplicate_of = '')")
        where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
        query = f"SELECT {', '.join(EXPORT_FIELDS)}, version, first_seen, last_seen FROM articles{where} ORDER BY rowid"
        for record in self.db.stream(query, params):
            for name in JSON_FIELDS:
                value = json.loads(record[name]) if record[name] else None
                record[name] = value if value is not None else ({} if name == "cleaning" else [])
            yield record

    def iter_versions(self, key: str) -> Iterator[dict[str, Any]]:
        """The earlier versions of one article, oldest first."""
        cursor = self.db.execute("SELECT version, fetched_at, replaced_at, title, text, content_hash FROM versions"
                                 " WHERE key = ? ORDER BY version", (key,))
        names = [d[0] for d in cursor.description]
        for row in cursor:
            yield dict(zip(names, row))

    def count(self) -> int:
        return self.db.one("SELECT COUNT(*) FROM articles")[0]

    def close(self) -> None:
        self.db.close()


class StorePipeline:
    """Writes kept articles to the store (STORE_URL, else STORE_PATH) in batches (STORE_BATCH_SIZE) to keep
    the reactor free.

    A kill loses at most the uncommitted batch; those articles are not in the store, so the resumed
    crawl fetches them again (see crawler/extensions/jobstate.py).
    """

    def __init__(self, location: str, batch_size: int = 50, stats: StatsCollector | None = None) -> None:
        self.location = location
        self.batch_size = max(1, batch_size)
        self.stats = stats
        self.store: ArticleStore | None = None
        self.pending: list[dict[str, Any]] = []

    @classmethod
    def from_crawler(cls, crawler: Any) -> StorePipeline:
        settings = crawler.settings
        location = store_location(settings)
        if location is None:
            raise NotConfigured("STORE_ENABLED is off")
        return cls(location, settings.getint("STORE_BATCH_SIZE", 50), stats=crawler.stats)

    def open_spider(self) -> None:
        self.store = open_store(self.location)
        logger.info("Storing articles in %s (%d already there)", self.store.location, self.store.count())

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
