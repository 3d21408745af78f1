"""`site` spider: harvest whole sites from start URLs, storing article pages and following listings."""

from __future__ import annotations

import logging
import re
from functools import lru_cache
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlparse, urlsplit

import scrapy
from lxml import etree
from scrapy.http import Response
from w3lib.html import HTML5_WHITESPACE
from w3lib.url import safe_url_string

from crawler.distributed import DistributedSpiderMixin
from crawler.distributed import enabled as distributed_enabled
from crawler.items import Article
from crawler.pagetype import url_shape
from crawler.spiders.base import NON_PAGE_EXTENSIONS, NewsSpider, Page

logger = logging.getLogger(__name__)

# Schemes Scrapy's LinkExtractor keeps (scrapy.linkextractors._is_valid_url); the safety middleware refuses
# what is not http(s), counted.
LINK_SCHEMES = frozenset({"http", "https", "file", "ftp"})
DENIED_SUFFIXES = tuple(f".{extension}" for extension in NON_PAGE_EXTENSIONS)


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


def page_links(tree: etree._Element, page_url: str, base_url: str) -> list[str]:
    """The URLs a site crawl follows from a page, in document order, each once: the hrefs of <a> and <area>
    resolved as Scrapy's LinkExtractor(deny_extensions=NON_PAGE_EXTENSIONS, unique=True) resolves them (HTML5
    whitespace stripped, joined to the base URL, escaped as UTF-8 (safe_url_string), joined to the page URL),
    without non-page extensions and other schemes than LinkExtractor keeps. On the tree the spider already
    parsed, instead of a second parse, and without what the crawl does not use (link text, nofollow)."""
    urls: dict[str, None] = {}
    hrefs: set[str] = set()
    origin = _origin(base_url)
    for element in tree.iter("a", "area"):
        href = element.get("href")
        if href is None or href in hrefs:  # the same href resolves to the same URL
            continue
        hrefs.add(href)
        href = href.strip(HTML5_WHITESPACE)
        # A site's navigation repeats on every page: an absolute or root-relative href resolves the same on
        # every page of the origin, so its resolution is cached under the origin, not the page.
        if href.startswith(("http://", "https://")):
            url = _resolve("", "", href)
        elif href.startswith("/") and not href.startswith("//"):
            url = _resolve(origin, origin, href)
        else:
            url = _resolve(base_url, page_url, href)
        if url is not None:
            urls[url] = None
    return list(urls)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/"


@lru_cache(maxsize=100_000)
def _resolve(base_url: str, page_url: str, href: str) -> str | None:
    """The URL `href` leads to from a page at `page_url` with base `base_url` (see page_links); None when the
    crawl does not follow it."""
    try:
        url = safe_url_string(urljoin(base_url, href), encoding="utf-8")
    except ValueError:  # bogus links (an invalid IPv6 host...)
        return None
    url = urljoin(page_url, url)
    if url.split("://", 1)[0] not in LINK_SCHEMES or urlparse(url).path.lower().endswith(DENIED_SUFFIXES):
        return None
    return url


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
        # Hashes of the URLs this process already asked Scrapy for (~60 bytes each): a site's navigation
        # repeats on every page, and a request costs Scrapy's middlewares and duplicate filter ~0.1 ms even
        # when it is then dropped as seen. Scrapy's duplicate filter still decides (and persists, with JOBDIR).
        self.requested: set[int] = set()
        self.depth_limit = 0

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
        spider.depth_limit = settings.getint("DEPTH_LIMIT")  # a -s DEPTH_LIMIT on the command line wins
        if pages:
            settings.set("CLOSESPIDER_PAGECOUNT", pages, priority="spider")
        return spider

    def parse(self, response: Response, **kwargs: Any) -> Iterator[Article | scrapy.Request]:
        page = self.read_page(response)
        if page is None:
            return
        item, links = self.read_links(page)
        del page  # the parsed tree: not kept while Scrapy drains this generator
        if item is not None:
            yield item
        # Off-site links are filtered by Scrapy's OffsiteMiddleware on `allowed_domains` (by host name).
        depth = response.meta.get("depth", 0) + 1
        remember = not self.depth_limit or depth <= self.depth_limit
        for url in links:
            key = hash(url)
            if key in self.requested:
                continue
            if remember:  # a request past the depth limit is dropped now, but may be reached by a shorter path
                self.requested.add(key)
            yield scrapy.Request(url, callback=self.parse)

    def read_links(self, page: Page) -> tuple[Article | None, list[str]]:
        """The page's Article (None for a listing) and the URLs to follow from it."""
        links = page_links(page.tree, page.response.url, page.base_url()) if page.tree is not None else []
        if page.kind.is_article:
            return page.article(), links
        logger.debug("Listing page %s (%s)", page.response.url, ", ".join(page.kind.reasons))
        known = self.known_articles()
        # News listings are newest first: a page of articles all stored before this crawl means the
        # pages after it (pagination, older listings) hold nothing new either.
        if known is not None and known.all_known(url for url in links if url_shape(url) > 0):
            self.crawler.stats.inc_value(f"{self.name}/listings_all_known")
            logger.info("Listing %s holds only known articles: not going deeper", page.response.url)
            return None, []
        return None, links
