"""What every spider shares: decoding a response the product's way, classifying it, building the Article."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import cached_property
from typing import Any

import scrapy
from lxml import etree
from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.http import Response, TextResponse
from w3lib.html import get_base_url

from crawler.canonical import canonical_url, choose_canonical
from crawler.items import Article, new_article, url_article_id
from crawler.middlewares.incremental import DEFAULT_REFRESH_HOURS, KnownArticles
from crawler.pagetype import PageKind, classify_page, parse_html
from pipelines.decode import DecodeError, decode_bytes
from pipelines.limits import LINK_RE, PageLimits, limits_from_settings
from pipelines.store import open_store, store_location

logger = logging.getLogger(__name__)

# Scrapy reads a <base href> in the first 4 KB of a page (scrapy.utils.response.get_base_url): so do we.
BASE_SCAN_CHARS = 4096
CHARSET_RE = re.compile(r"charset=[\"']?([\w.:-]+)", re.IGNORECASE)
# Links to these are never pages: skip them before a request is even made.
NON_PAGE_EXTENSIONS = [
    "7z", "apk", "avi", "bmp", "css", "csv", "doc", "docx", "exe", "flv", "gif", "gz", "ico", "jpeg", "jpg",
    "js", "json", "m4a", "mov", "mp3", "mp4", "pdf", "png", "ppt", "pptx", "rar", "rss", "svg", "swf",
    "tar", "tif", "tiff", "txt", "wav", "webm", "webp", "wmv", "xls", "xlsx", "xml", "zip",
]


def http_charset(response: Response) -> str | None:
    content_type = response.headers.get(b"Content-Type", b"").decode("latin-1")
    match = CHARSET_RE.search(content_type)
    return match.group(1) if match else None


def header(response: Response, name: bytes) -> str | None:
    value = response.headers.get(name)
    return (value.decode("latin-1").strip() or None) if value else None


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def unread_reason(html: str, limits: PageLimits | None) -> str | None:
    """`too_large` or `too_many_links` when parsing, classifying and following the links of `html` would hold
    the reactor for long (a 100,000-link page: seconds) for a page the limits step drops anyway; else None.
    The same counts as pipelines/limits.py, by C-speed scans."""
    if limits is None:
        return None
    if len(html) > limits.max_html_chars:
        return "too_large"
    if len(LINK_RE.findall(html)) > limits.max_links:
        return "too_many_links"
    return None


@dataclass
class Page:
    """A fetched HTML page as the product decoded it, parsed once (classification, canonical link, links)."""

    response: TextResponse  # as fetched
    html: str
    encoding: str
    kind: PageKind
    tree: etree._Element | None  # None for a page left unread (unread_reason)
    etag: str | None = None
    last_modified: str | None = None
    encoding_reason: str | None = None  # why this encoding (pipelines/decode.py)

    def base_url(self) -> str:
        """What relative links of the page resolve against: its <base href>, else its URL."""
        return get_base_url(self.html[:BASE_SCAN_CHARS], self.response.url, "utf-8")

    def canonical_url(self) -> str:
        """The page's canonical URL: its own, cleaned (crawler/canonical.py), or its same-site rel=canonical."""
        declared = None
        for link in self.tree.iter("link") if self.tree is not None else ():
            rel, href = link.get("rel"), link.get("href")
            if rel is not None and href is not None and "canonical" in rel.lower().split():
                declared = href
                break
        return choose_canonical(self.response.url, declared)

    def article(self) -> Article:
        """The Article item for this page (decoded HTML; the pipeline extracts and cleans it)."""
        url = self.canonical_url()
        fetched = [*self.response.meta.get("redirect_urls", ()), self.response.url]
        aliases = sorted({canonical_url(u) for u in fetched} - {url})
        return new_article(id=url_article_id(url), url=url, html=self.html, encoding=self.encoding, kind="html",
                           encoding_reason=self.encoding_reason, fetched_at=utc_now(), etag=self.etag,
                           last_modified=self.last_modified, aliases=aliases)


class NewsSpider(scrapy.Spider):
    """Base for the product's spiders: `read_page` turns a response into a Page, or None with a counted reason."""

    _known: KnownArticles | None = None

    @cached_property
    def page_limits(self) -> PageLimits | None:
        """The page limits as the limits step reads them; None when LIMITS_ENABLED is off."""
        try:
            return limits_from_settings(self.crawler.settings)
        except NotConfigured:
            return None

    def known_articles(self) -> KnownArticles | None:
        """What the store held, fresh, when this crawl began; None when re-crawls are not incremental."""
        settings = self.crawler.settings
        location = store_location(settings)
        if not (settings.getbool("INCREMENTAL_ENABLED", True) and location):
            return None
        if self._known is None:
            # A crawl resumed after a kill began at its first attempt (crawler/extensions/jobstate.py).
            started = settings.get("JOBSTATE_CRAWL_STARTED") or self.crawler.stats.get_value("start_time")
            if isinstance(started, datetime):
                started = started.astimezone(timezone.utc).isoformat(timespec="seconds")
            self._known = KnownArticles(open_store(location),
                                        settings.getfloat("INCREMENTAL_REFRESH_HOURS", DEFAULT_REFRESH_HOURS),
                                        started or utc_now())
            self.crawler.signals.connect(self._known.store.close, signal=signals.spider_closed)
        return self._known

    def skip(self, response: Response, reason: str, detail: str = "") -> None:
        self.crawler.stats.inc_value(f"{self.name}/skipped/{reason}")
        logger.warning("Skipping %s: %s %s", response.url, reason, detail)

    def read_page(self, response: Response) -> Page | None:
        content_type = response.headers.get(b"Content-Type", b"text/html").lower()
        if not isinstance(response, TextResponse) or b"html" not in content_type:
            self.skip(response, "not_html", content_type.decode("latin-1"))
            return None
        try:
            decoded = decode_bytes(response.body, http_charset(response))
        except DecodeError as error:
            self.skip(response, f"decode_{error}")
            return None
        validators = header(response, b"ETag"), header(response, b"Last-Modified")
        unread = unread_reason(decoded.text, self.page_limits)
        if unread:
            # Yielded like an article, unparsed and without its links: the limits step drops and counts it.
            self.crawler.stats.inc_value(f"{self.name}/pages/{unread}")
            logger.warning("Not parsing %s (%s): the limits step drops it, its links are not followed",
                           response.url, unread)
            return Page(response, decoded.text, decoded.encoding, PageKind(True, 0, (f"limits:{unread}",)), None,
                        *validators, encoding_reason=decoded.reason)
        try:
            tree = parse_html(decoded.text)
            kind = classify_page(response.url, tree)
        except (ValueError, etree.LxmlError) as error:
            self.skip(response, "unparsable", repr(error))
            return None
        self.crawler.stats.inc_value(f"{self.name}/pages/{'article' if kind.is_article else 'listing'}")
        return Page(response, decoded.text, decoded.encoding, kind, tree, *validators, encoding_reason=decoded.reason)

    def parse(self, response: Response, **kwargs: Any) -> Any:
        raise NotImplementedError
