"""`sitemap` spider: articles listed by a site's sitemaps (robots.txt, indexes, gzip, Google News), parsed safely."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urljoin, urlsplit

import scrapy
from lxml import etree
from scrapy.http import Response
from scrapy.utils.sitemap import sitemap_urls_from_robots
from twisted.python.failure import Failure

from crawler.spiders.discovery import Entry, StartUrlSpider
from crawler.spiders.feed import FEED_ROOTS, feed_entries
from crawler.xmlsafe import child, child_text, children, local_name, parse_date

logger = logging.getLogger(__name__)

# A site without `Sitemap:` lines in robots.txt usually still has one here.
FALLBACK_SITEMAP = "/sitemap.xml"
# Sitemap indexes nest rarely more than once; the limit stops loops and runaway index chains.
DEFAULT_SITEMAP_DEPTH = 3


def is_site_home(url: str) -> bool:
    """A start URL naming a site (its home page), not a sitemap: read robots.txt to find the sitemaps."""
    return urlsplit(url).path in ("", "/")


def sitemap_entries(root: etree._Element) -> Iterator[Entry]:
    """The <url> entries of a urlset; Google News entries bring their publication date and title."""
    for element in children(root, "url"):
        loc = child_text(element, "loc")
        if not loc:
            continue
        news = child(element, "news")
        published = parse_date(child_text(news, "publication_date")) if news is not None else None
        title = (child_text(news, "title") or None) if news is not None else None
        yield Entry(loc, published=published, modified=parse_date(child_text(element, "lastmod")), title=title)


class SitemapSpider(StartUrlSpider):
    """Reads robots.txt `Sitemap:` lines (or /sitemap.xml), follows sitemap indexes, fetches the listed articles."""

    name = "sitemap"

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> SitemapSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.max_depth = crawler.settings.getint("DISCOVERY_SITEMAP_DEPTH", DEFAULT_SITEMAP_DEPTH)
        return spider  # type: ignore[return-value]

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for url in self.start_urls:
            if is_site_home(url) or urlsplit(url).path.endswith("/robots.txt"):
                robots = urljoin(url, "/robots.txt")
                yield self.xml_request(robots, self.parse_robots, errback=self.robots_failed,
                                       meta={"dont_obey_robotstxt": True})
            else:
                yield self.xml_request(url, self.parse_sitemap)

    def _fallback(self, robots_url: str) -> scrapy.Request:
        self.count("robots_without_sitemap")
        return self.xml_request(urljoin(robots_url, FALLBACK_SITEMAP), self.parse_sitemap)

    def parse_robots(self, response: Response) -> Iterator[scrapy.Request]:
        urls = list(dict.fromkeys(sitemap_urls_from_robots(response.body, base_url=response.url)))
        if not urls:
            logger.info("%s lists no sitemap; trying %s", response.url, FALLBACK_SITEMAP)
            yield self._fallback(response.url)
            return
        self.count("sitemaps_from_robots", len(urls))
        for url in urls:
            yield self.xml_request(url, self.parse_sitemap)

    def robots_failed(self, failure: Failure) -> Iterator[scrapy.Request]:
        url = failure.request.url  # type: ignore[attr-defined]
        logger.info("No robots.txt at %s (%s); trying %s", url, failure.value, FALLBACK_SITEMAP)
        yield self._fallback(url)

    def parse_sitemap(self, response: Response, depth: int = 0) -> Iterator[scrapy.Request]:
        document = self.read_xml(response)
        if document is None:
            return
        root = document.root
        kind = local_name(root)
        self.count("sitemaps_read")
        if kind == "sitemapindex":
            yield from self._follow_index(root, response.url, depth)
        elif kind == "urlset":
            yield from self.article_requests(sitemap_entries(root), response.url)
        elif kind in FEED_ROOTS:  # search engines accept RSS and Atom feeds as sitemaps
            yield from self.article_requests(feed_entries(root, response.url), response.url)
        else:
            self.count("refused/not_sitemap")
            logger.warning("Refused %s: root element <%s> is not a sitemap", response.url, kind)

    def _follow_index(self, root: etree._Element, url: str, depth: int) -> Iterator[scrapy.Request]:
        if depth >= self.max_depth:
            self.count("skipped/depth_limit")
            logger.warning("Sitemap index %s is nested deeper than %d levels: not followed", url, self.max_depth)
            return
        for element in children(root, "sitemap"):
            loc = child_text(element, "loc")
            if not loc:
                continue
            # A child sitemap unchanged since `since` cannot list anything newer.
            if not self.wanted(Entry(loc, modified=parse_date(child_text(element, "lastmod"))),
                               skipped="skipped/sitemap_before_since"):
                continue
            yield self.xml_request(urljoin(url, loc), self.parse_sitemap, cb_kwargs={"depth": depth + 1})
