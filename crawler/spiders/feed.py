"""`feed` spider: articles listed by RSS 2.0, RSS 1.0 (RDF) and Atom feeds, given or auto-discovered on a home page."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urljoin

import scrapy
from lxml import etree
from scrapy.http import Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from crawler.spiders.discovery import Entry, StartUrlSpider
from crawler.xmlsafe import GZIP_MAGIC, child_text, children, local_name, parse_date, text_of

logger = logging.getLogger(__name__)

# Root elements of RSS 0.9x/2.0, Atom and RSS 1.0 (rdf:RDF).
FEED_ROOTS = frozenset({"rss", "feed", "RDF"})
FEED_LINK_TYPES = frozenset({"application/rss+xml", "application/atom+xml", "application/rdf+xml",
                             "application/xml", "text/xml"})
# Probed, in this order, only when a home page declares no feed: the paths of the common CMSs
# (WordPress /feed, Jekyll/Hugo /rss.xml /atom.xml /index.xml, DedeCMS/PHPCMS /rss).
DEFAULT_FEED_PATHS = ("/rss.xml", "/feed", "/atom.xml", "/rss")
# A feed starts (after a BOM, an XML declaration, comments) with one of these elements.
FEED_START_RE = re.compile(rb"<(?:rss|feed|rdf:RDF|RDF)[\s>]")
SNIFF_BYTES = 4096


def looks_like_feed(body: bytes) -> bool:
    return body[:2] == GZIP_MAGIC or FEED_START_RE.search(body[:SNIFF_BYTES]) is not None


def _item_link(item: etree._Element) -> str:
    """RSS / RDF item link: <link> text (not an atom:link), else a permalink <guid>, else rdf:about."""
    for link in children(item, "link"):
        if text_of(link):
            return text_of(link)
    for guid in children(item, "guid"):
        value = text_of(guid)
        if guid.get("isPermaLink", "true").lower() != "false" and value.startswith(("http://", "https://")):
            return value
    return next((value for name, value in item.attrib.items() if local_name_of(name) == "about"), "")


def _entry_link(entry: etree._Element) -> str:
    """Atom entry link: rel=alternate (or no rel), an HTML one first."""
    alternates = [link for link in children(entry, "link") if link.get("rel", "alternate") == "alternate"
                  and link.get("href")]
    alternates.sort(key=lambda link: link.get("type", "text/html") != "text/html")
    if alternates:
        return alternates[0].get("href", "")
    entry_id = child_text(entry, "id")
    return entry_id if entry_id.startswith(("http://", "https://")) else ""


def local_name_of(attribute: str) -> str:
    return attribute.rpartition("}")[2]


def feed_entries(root: etree._Element, base_url: str) -> Iterator[Entry]:
    """The items of an RSS 2.0 / RSS 1.0 / Atom document, links resolved against `base_url`."""
    kind = local_name(root)
    if kind == "feed":
        for entry in children(root, "entry"):
            link = _entry_link(entry)
            updated = parse_date(child_text(entry, "updated"))
            if link:
                yield Entry(urljoin(base_url, link), published=parse_date(child_text(entry, "published")) or updated,
                            modified=updated, title=child_text(entry, "title") or None)
        return
    items = children(root, "item")  # RSS 1.0: items are children of rdf:RDF
    for channel in children(root, "channel"):
        items += children(channel, "item")
    for item in items:
        link = _item_link(item)
        if link:
            published = parse_date(child_text(item, "pubDate") or child_text(item, "date"))
            yield Entry(urljoin(base_url, link), published=published, title=child_text(item, "title") or None)


def declared_feeds(response: TextResponse) -> list[str]:
    """Feeds a page declares: <link rel="alternate" type="application/rss+xml|atom+xml" href="...">."""
    found = []
    for link in response.css("link[href]"):
        rel = (link.attrib.get("rel") or "").lower().split()
        kind = (link.attrib.get("type") or "").lower().split(";")[0].strip()
        if "alternate" in rel and kind in FEED_LINK_TYPES:
            found.append(response.urljoin(link.attrib["href"]))
    return list(dict.fromkeys(found))


class FeedSpider(StartUrlSpider):
    """Fetches the articles of RSS / Atom feeds; a start URL that is an HTML page is searched for its feeds."""

    name = "feed"

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> FeedSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.feed_paths = crawler.settings.getlist("DISCOVERY_FEED_PATHS", list(DEFAULT_FEED_PATHS))
        return spider  # type: ignore[return-value]

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for url in self.start_urls:
            yield self.xml_request(url, self.parse_start)

    def parse_start(self, response: Response) -> Iterator[scrapy.Request]:
        """A start URL: a feed, or a page whose feeds are declared (or found at the common paths)."""
        if looks_like_feed(response.body) or not isinstance(response, TextResponse):
            yield from self.parse_feed(response)
            return
        feeds = declared_feeds(response)
        if feeds:
            self.count("feeds_declared", len(feeds))
            logger.info("%s declares %d feeds", response.url, len(feeds))
            for url in feeds:
                yield self.xml_request(url, self.parse_feed)
            return
        logger.info("%s declares no feed; probing %s", response.url, ", ".join(self.feed_paths))
        for path in self.feed_paths:
            yield self.xml_request(urljoin(response.url, path), self.parse_probe, errback=self.probe_failed)

    def parse_probe(self, response: Response) -> Iterator[scrapy.Request]:
        if not looks_like_feed(response.body):  # a soft 404: the home page or an error page with status 200
            self.count("probe_missed/not_feed")
            return
        self.count("feeds_probed")
        yield from self.parse_feed(response)

    def probe_failed(self, failure: Failure) -> None:
        if failure.check(HttpError):
            self.count(f"probe_missed/http_{failure.value.response.status}")
        else:
            self.count(f"probe_missed/{failure.type.__name__}")
        logger.debug("No feed at %s: %s", failure.request.url, failure.value)  # type: ignore[attr-defined]

    def parse_feed(self, response: Response) -> Iterator[scrapy.Request]:
        document = self.read_xml(response)
        if document is None:
            return
        kind = local_name(document.root)
        if kind not in FEED_ROOTS:
            self.count("refused/not_feed")
            logger.warning("Refused %s: root element <%s> is not RSS or Atom", response.url, kind)
            return
        self.count("feeds_read")
        yield from self.article_requests(feed_entries(document.root, response.url), response.url)
