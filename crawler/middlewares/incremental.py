"""Incremental re-crawls: skip stored articles fetched recently, ask the server whether older ones changed."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta, timezone
from typing import Any

from scrapy import signals
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Request, Response

from crawler.canonical import canonical_url
from pipelines.store import ArticleStore, StoredFetch, open_store, store_location

logger = logging.getLogger(__name__)

# News pages change mostly in their first hours (corrections, updates); after three days a re-check
# is worth one conditional request.
DEFAULT_REFRESH_HOURS = 72.0


def iso_hours_before(moment: str, hours: float) -> str:
    """The ISO UTC time `hours` before `moment` (both in the store's isoformat, comparable as strings)."""
    when = datetime.fromisoformat(moment) - timedelta(hours=hours)
    return when.astimezone(timezone.utc).isoformat(timespec="seconds")


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class KnownArticles:
    """Which URLs lead to articles the store held, fresh, when this crawl began (a resumed crawl began at its
    first attempt): what decides that a listing page holds nothing new."""

    def __init__(self, store: ArticleStore, refresh_hours: float, crawl_started: str) -> None:
        self.store = store
        self.until = crawl_started
        self.since = iso_hours_before(crawl_started, refresh_hours)

    def is_known(self, url: str) -> bool:
        found = self.store.lookup(canonical_url(url))
        return found is not None and self.since <= found.last_seen < self.until

    def all_known(self, urls: Iterable[str]) -> bool:
        """True when there is at least one URL and every one is known."""
        urls = list(urls)
        return bool(urls) and all(self.is_known(url) for url in urls)


class IncrementalMiddleware:
    """Downloader middleware: fresh stored articles are not fetched; stale ones are fetched conditionally.

    Only URLs stored as articles are affected; listing pages and feeds are always fetched, and a request
    with `meta["incremental"] = False` is left alone.
    """

    def __init__(self, store_path: str, refresh_hours: float = DEFAULT_REFRESH_HOURS, stats: Any = None) -> None:
        self.store_path = store_path  # STORE_URL or STORE_PATH
        self.refresh_hours = refresh_hours
        self.stats = stats
        self.store: ArticleStore | None = None

    @classmethod
    def from_crawler(cls, crawler: Any) -> IncrementalMiddleware:
        settings = crawler.settings
        if not settings.getbool("INCREMENTAL_ENABLED", True):
            raise NotConfigured("INCREMENTAL_ENABLED is off")
        location = store_location(settings)
        if location is None:
            raise NotConfigured("no store to compare with (STORE_ENABLED is off)")
        middleware = cls(location,
                         settings.getfloat("INCREMENTAL_REFRESH_HOURS", DEFAULT_REFRESH_HOURS), crawler.stats)
        crawler.signals.connect(middleware.close, signal=signals.spider_closed)
        return middleware

    def close(self) -> None:
        if self.store is not None:
            self.store.close()
            self.store = None

    def _inc(self, key: str) -> None:
        if self.stats is not None:
            self.stats.inc_value(f"incremental/{key}")

    def _lookup(self, url: str) -> StoredFetch | None:
        if self.store is None:
            self.store = open_store(self.store_path)
        return self.store.lookup(canonical_url(url))

    def process_request(self, request: Request) -> None:
        if request.meta.get("incremental") is False or request.method != "GET":
            return None
        found = self._lookup(request.url)
        if found is None:
            return None
        if found.last_seen >= iso_hours_before(utc_now(), self.refresh_hours):
            self._inc("skipped_fresh")
            raise IgnoreRequest(f"incremental:fresh {request.url}")
        if found.etag:
            request.headers[b"If-None-Match"] = found.etag
        if found.last_modified:
            request.headers[b"If-Modified-Since"] = found.last_modified
        request.meta["incremental_key"] = found.key
        self._inc("refetched")
        return None

    def process_response(self, request: Request, response: Response) -> Response:
        key = request.meta.get("incremental_key")
        if response.status == 304 and key:
            assert self.store is not None
            self.store.touch(key)
            self._inc("not_modified")
            raise IgnoreRequest(f"incremental:not_modified {request.url}")
        return response
