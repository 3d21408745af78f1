"""`urls` spider: fetch, clean and store the pages of a URL list; no link is followed."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import scrapy

from crawler.canonical import canonical_url
from crawler.spiders.discovery import DiscoverySpider
from crawler.spiders.site import split_urls

logger = logging.getLogger(__name__)


class UrlsSpider(DiscoverySpider):
    """Every URL given is an article candidate: stored even when the classifier calls the page a listing (the
    user listed it; the quality and dedup steps still apply). Bad lines are skipped with a counted reason."""

    name = "urls"
    store_listings = True

    def __init__(self, start: str = "", file: str = "", start_file: str = "", max_pages: Any = None,
                 **kwargs: Any) -> None:
        super().__init__(max_pages=max_pages, **kwargs)
        given = split_urls(start)
        for path in (file, start_file):
            if path:
                given += split_urls(Path(path).read_text(encoding="utf-8"))
        self.bad_urls = [u for u in given if urlsplit(u).scheme not in ("http", "https") or not urlsplit(u).hostname]
        good = [u for u in given if u not in self.bad_urls]
        # One request per canonical URL (the first spelling given): tracking parameters, fragments and
        # mobile twins are the same article.
        first: dict[str, str] = {}
        for url in good:
            first.setdefault(canonical_url(url), url)
        self.start_urls = list(first.values())
        self.duplicates = len(good) - len(self.start_urls)
        if not self.start_urls:
            raise ValueError("give article URLs: -a start=URL[,URL...] or -a file=urls.txt (one per line, # comments)"
                             + (f"; not http(s): {', '.join(self.bad_urls[:5])}" if self.bad_urls else ""))

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for url in self.bad_urls:
            logger.warning("Skipping %r: not an http(s) URL", url)
        if self.bad_urls:
            self.count("skipped/bad_url", len(self.bad_urls))
        if self.duplicates:
            self.count("skipped/duplicate", self.duplicates)
        for url in self.start_urls:
            yield scrapy.Request(url, callback=self.parse_article, errback=self.fetch_failed)
