"""Exact-duplicate step: hash the normalised text; drop a second URL carrying the same body."""

from __future__ import annotations

import hashlib
import logging
import re
import unicodedata
from typing import TYPE_CHECKING, Any

from scrapy.exceptions import DropItem

from crawler.items import Article
from pipelines.store import ArticleStore, article_key, open_store, store_location

if TYPE_CHECKING:
    from scrapy.statscollectors import StatsCollector

logger = logging.getLogger(__name__)

# Whitespace and punctuation differ between copies of one story (full vs half width, line breaks);
# only letters and digits decide whether two bodies are the same.
NOT_WORD_RE = re.compile(r"[\W_]+")


def content_hash(text: str) -> str:
    """Hex SHA-256 (first 32 digits) of the text reduced to its lower-cased letters and digits."""
    normalised = NOT_WORD_RE.sub("", unicodedata.normalize("NFC", text).lower())
    return hashlib.sha256(normalised.encode("utf-8")).hexdigest()[:32]


# With a store, only the hashes of this many recent articles stay in memory: they cover the articles the
# store step has not written yet (it writes STORE_BATCH_SIZE at a time); older ones are found in the store,
# so memory stays flat however long the crawl. Without a store every hash of the run stays in memory.
RECENT_HASHES = 10_000


class DuplicateIndex:
    """Content hashes seen in this run (the recent ones, with a store), backed by the store's hashes."""

    def __init__(self, store: ArticleStore | None = None, recent: int = RECENT_HASHES) -> None:
        self.store = store
        self.recent = recent if store is not None else 0
        self.seen: dict[str, tuple[str, str]] = {}  # hash -> (key, id), oldest first

    def original_of(self, digest: str, key: str, article_id: str) -> str | None:
        """The id of an earlier article with this hash under another key; remembers this one if new."""
        earlier = self.seen.get(digest)
        if earlier is not None and earlier[0] != key:
            return earlier[1]
        if self.store is not None:
            stored = self.store.find_by_hash(digest, exclude_key=key)
            if stored is not None:
                return stored
        if digest not in self.seen:
            self.seen[digest] = (key, article_id)
            if self.recent and len(self.seen) > self.recent:
                del self.seen[next(iter(self.seen))]  # the oldest: the store has it by now
        return None


class DedupPipeline:
    """Sets `content_hash`; drops an item whose text is already stored under another URL or id."""

    def __init__(self, enabled: bool = True, store_path: str | None = None,
                 stats: StatsCollector | None = None) -> None:
        self.enabled = enabled
        self.store_path = store_path  # STORE_URL or STORE_PATH
        self.stats = stats
        self.index = DuplicateIndex()

    @classmethod
    def from_crawler(cls, crawler: Any) -> DedupPipeline:
        settings = crawler.settings
        return cls(settings.getbool("DEDUP_ENABLED", True), store_location(settings), stats=crawler.stats)

    def open_spider(self) -> None:
        if self.store_path:
            self.index = DuplicateIndex(open_store(self.store_path))

    def close_spider(self) -> None:
        if self.index.store is not None:
            self.index.store.close()

    def process_item(self, item: Article) -> Article:
        digest = content_hash(item.get("text") or "")
        item["content_hash"] = digest
        if not self.enabled:
            return item
        original = self.index.original_of(digest, article_key(item), str(item.get("id")))
        if original is not None:
            if self.stats:
                self.stats.inc_value("dedup/dropped/exact")
            raise DropItem(f"dedup:exact:{original}")
        return item
