"""`site` spider: harvest whole sites from start URLs, storing article pages and following listings."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy.http import Response
from scrapy.linkextractors import LinkExtractor

from crawler.distributed import DistributedSpiderMixin
from crawler.distributed import enabled as distributed_enabled
from crawler.items import Article
from crawler.pagetype import url_shape
from crawler.spiders.base import NON_PAGE_EXTENSIONS, NewsSpider

logger = logging.getLogger(__name__)


def split_urls(value: str) -> list[str]:
    """URLs from an argument or file: separated by commas, whitespace or newlines; `#` lines are comments."""
    urls = []
    for line in value.splitlines():
        if not line.lstrip().startswith("#"):
            urls.extend(u for u in re.split(r"[\s,]+", line) if u)
    return urls


def site_domain(url: str) -> str:
    """The domain a start URL allows (subdomains included): its host without a leading `www.`."""
    host = urlsplit(url).hostname or ""
    return host.removeprefix("www.")


def start_url_list(start: str, start_file: str, required: bool = True) -> list[str]:
    """Start URLs from `-a start=...` and `-a start_file=...`; only http(s)."""
    urls = split_urls(start)
    if start_file:
        urls += split_urls(Path(start_file).read_text(encoding="utf-8"))
    if not urls and required:
        raise ValueError("give start URLs: -a start=URL[,URL...] or -a start_file=urls.txt")
    bad = [u for u in urls if urlsplit(u).scheme not in ("http", "https")]
    if bad:
        raise ValueError(f"start URLs must be http(s): {', '.join(bad)}")
    return urls


class SiteSpider(DistributedSpiderMixin, NewsSpider):
    """Follows links within the start domains; yields an Article for each page that looks like one."""

    name = "site"

    def __init__(self, start: str = "", start_file: str = "", depth: str | int | None = None,
                 max_pages: str | int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # Optional here: a distributed crawl (REDIS_URL) also takes start URLs from Redis; checked in from_crawler.
        self.start_urls = start_url_list(start, start_file, required=False)
        self.allowed_domains = sorted({site_domain(u) for u in self.start_urls})
        self.depth = depth
        self.max_pages = max_pages
        # Off-site links are filtered by Scrapy's OffsiteMiddleware on `allowed_domains` (by host name;
        # LinkExtractor's allow_domains would compare host:port and miss sites on a non-default port).
        self.link_extractor = LinkExtractor(deny_extensions=NON_PAGE_EXTENSIONS, unique=True)

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> SiteSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        if not spider.start_urls and not distributed_enabled(settings):
            start_url_list("", "")  # raises the usage error
        spider.setup_distributed(crawler)
        depth = int(spider.depth) if spider.depth not in (None, "") else settings.getint("SITE_DEPTH_LIMIT")
        pages = int(spider.max_pages) if spider.max_pages not in (None, "") else settings.getint("SITE_MAX_PAGES")
        # Settings are still open here (they freeze after the spider is built): arguments win.
        settings.set("DEPTH_LIMIT", depth, priority="spider")
        if pages:
            settings.set("CLOSESPIDER_PAGECOUNT", pages, priority="spider")
        return spider

    def parse(self, response: Response, **kwargs: Any) -> Iterator[Article | scrapy.Request]:
        page = self.read_page(response)
        if page is None:
            return
        links = self.link_extractor.extract_links(page.response)
        if page.kind.is_article:
            yield page.article()
        else:
            logger.debug("Listing page %s (%s)", response.url, ", ".join(page.kind.reasons))
            known = self.known_articles()
            # News listings are newest first: a page of articles all stored before this crawl means the
            # pages after it (pagination, older listings) hold nothing new either.
            if known is not None and known.all_known(link.url for link in links if url_shape(link.url) > 0):
                self.crawler.stats.inc_value(f"{self.name}/listings_all_known")
                logger.info("Listing %s holds only known articles: not going deeper", response.url)
                return
        for link in links:
            yield response.follow(link.url, callback=self.parse)
