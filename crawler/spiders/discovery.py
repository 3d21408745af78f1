"""What the discovery spiders (sitemap, feed, urls) share: safe XML fetches, the `since` filter, the page budget,
article requests that re-check known articles a sitemap or feed says changed, and the entry's date as a fallback."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import scrapy
from itemadapter import ItemAdapter
from scrapy import signals
from scrapy.exceptions import CloseSpider, IgnoreRequest, NotConfigured
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from crawler.canonical import canonical_url
from crawler.items import Article
from crawler.spiders.base import NewsSpider
from crawler.spiders.site import start_url_list
from crawler.xmlsafe import DEFAULT_MAX_BYTES, XmlDocument, XmlRefused, as_datetime, parse_xml

logger = logging.getLogger(__name__)

# After the cleaning steps, which may still find a dateline in the text (the page's own date always wins), and
# from CLEAN_WORKERS_SPLIT (700) on: it reads the spider's hints, so it runs in the crawl process.
HINTS_PIPELINE_ORDER = 720
MAX_PAGES_REASON = "max_pages"


@dataclass(frozen=True)
class Entry:
    """An article URL as a sitemap or feed lists it, with what the listing says about it (ISO dates)."""

    url: str
    published: str | None = None  # news:publication_date, pubDate, Atom published / updated
    modified: str | None = None  # sitemap lastmod, Atom updated
    title: str | None = None  # news:title, item title

    @property
    def date(self) -> str | None:
        return self.published or self.modified


def parse_since(value: Any) -> date | None:
    """`-a since=YYYY-MM-DD` (a TOML date also works); None when empty."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise ValueError(f"since must be a date YYYY-MM-DD, got {value!r}") from None


def optional_int(value: Any, name: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a whole number, got {value!r}") from None
    if number < 0:
        raise ValueError(f"{name} must be 0 or more, got {number}")
    return number


class DiscoverySpider(NewsSpider):
    """Base of the spiders that are told where articles are (sitemaps, feeds, URL lists) instead of following links."""

    # The `urls` spider stores what it is given even when the classifier calls it a listing.
    store_listings = False

    def __init__(self, since: Any = "", max_pages: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.since = parse_since(since)
        self.max_pages = optional_int(max_pages, "max_pages")
        self.pages_read = 0
        # Entry of each article response on its way through the pipeline (by canonical URL), for HintsPipeline.
        self.hints: dict[str, Entry] = {}

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> DiscoverySpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        spider.max_xml_bytes = settings.getint("DISCOVERY_MAX_XML_BYTES", DEFAULT_MAX_BYTES)
        if spider.max_pages is None:
            spider.max_pages = settings.getint("DISCOVERY_MAX_PAGES", 0)
        # Settings are still open while the spider is built; the step only makes sense for these spiders.
        settings.set_in_component_priority_dict("ITEM_PIPELINES", HintsPipeline, HINTS_PIPELINE_ORDER)
        crawler.signals.connect(spider._forget_hint, signal=signals.item_dropped)
        return spider

    def count(self, key: str, number: int = 1) -> None:
        self.crawler.stats.inc_value(f"{self.name}/{key}", number)

    # --- sitemaps and feeds --------------------------------------------------------------------------
    def xml_request(self, url: str, callback: Any, **kwargs: Any) -> scrapy.Request:
        """A sitemap / feed / robots.txt request: always fetched (never skipped as a known article), allowed up
        to DISCOVERY_MAX_XML_BYTES (above DOWNLOAD_MAXSIZE: sitemaps reach 50 MB)."""
        meta = {"incremental": False, "download_maxsize": self.max_xml_bytes,
                "download_warnsize": self.max_xml_bytes, **kwargs.pop("meta", {})}
        kwargs.setdefault("errback", self.xml_failed)
        return scrapy.Request(url, callback=callback, meta=meta, **kwargs)

    def read_xml(self, response: Response) -> XmlDocument | None:
        """The parsed body, or None with the refusal counted (`<spider>/refused/<reason>`) and logged."""
        try:
            document = parse_xml(response.body, self.max_xml_bytes)
        except XmlRefused as refused:
            self.count(f"refused/{refused.reason}")
            logger.warning("Refused %s: %s", response.url, refused)
            return None
        if document.recovered:
            self.count("xml_recovered")
            logger.info("%s is not well-formed XML; kept what could be read", response.url)
        return document

    def fetch_failed(self, failure: Failure) -> None:
        """Errback: a failed fetch is counted as `<spider>/fetch_failed/<reason>` (http_404, DNSLookupError...);
        requests dropped on purpose (robots.txt, fresh known articles) are counted by whoever dropped them."""
        request = failure.request  # type: ignore[attr-defined]
        message = str(failure.value)
        if "maxsize" in message.lower() or "max size" in message.lower():
            # Scrapy cancels a body (or its Content-Encoding inflation) past the request's download_maxsize.
            self.count("refused/too_large")
        elif failure.check(HttpError):
            self.count(f"fetch_failed/http_{failure.value.response.status}")
        elif failure.check(IgnoreRequest):
            logger.debug("Not fetched: %s (%s)", request.url, message)
            return
        else:
            self.count(f"fetch_failed/{failure.type.__name__}")
        logger.warning("Could not fetch %s: %s", request.url, message)

    xml_failed = fetch_failed

    # --- article requests --------------------------------------------------------------------------------
    def wanted(self, entry: Entry, skipped: str = "skipped/before_since") -> bool:
        """False (counted as `skipped`) for an entry dated before `since`; entries without a date are kept."""
        if self.since is None or not entry.date:
            return True
        if as_datetime(entry.date).date() >= self.since:
            return True
        self.count(skipped)
        return False

    def article_requests(self, entries: Iterator[Entry], listing_url: str) -> Iterator[scrapy.Request]:
        """Requests for the wanted entries of one sitemap or feed (URLs resolved against it)."""
        listed = 0
        for entry in entries:
            listed += 1
            url = urljoin(listing_url, entry.url)
            if urlsplit(url).scheme not in ("http", "https"):
                self.count("skipped/bad_url")
                logger.warning("%s lists a URL that is not http(s): %r", listing_url, entry.url)
            elif self.wanted(entry):
                yield self.article_request(replace(entry, url=url))
        self.count("entries", listed)
        logger.info("%s lists %d articles", listing_url, listed)

    def article_request(self, entry: Entry) -> scrapy.Request:
        """A request for a listed article; a stored one the listing says changed after we last saw it is fetched
        even when fresh (conditionally: an unchanged page answers 304)."""
        meta: dict[str, Any] = {"discovery_entry": entry}
        headers: dict[str, str] = {}
        known = self.known_articles() if entry.modified else None
        if known is not None and entry.modified:
            found = known.store.lookup(canonical_url(entry.url))
            if found is not None and as_datetime(entry.modified) > datetime.fromisoformat(found.last_seen):
                # The incremental middleware would skip a fresh article: this request bypasses it, but keeps
                # its 304 handling (incremental_key) and validators.
                meta.update(incremental=False, incremental_key=found.key)
                if found.etag:
                    headers["If-None-Match"] = found.etag
                if found.last_modified:
                    headers["If-Modified-Since"] = found.last_modified
                self.count("rechecked_modified")
        return scrapy.Request(entry.url, callback=self.parse_article, errback=self.fetch_failed, meta=meta,
                              headers=headers)

    def parse_article(self, response: Response) -> Iterator[Article]:
        if self.max_pages and self.pages_read >= self.max_pages:
            self.count(f"skipped/{MAX_PAGES_REASON}")
            return
        page = self.read_page(response)
        if page is None:
            return
        if not page.kind.is_article and not self.store_listings:
            self.count("skipped/listing")
            logger.info("Not an article (%s): %s", ", ".join(page.kind.reasons), response.url)
            return
        self.pages_read += 1
        item = page.article()
        entry = response.meta.get("discovery_entry")
        if entry is not None:
            self.hints[item["url"]] = entry
        yield item
        if self.max_pages and self.pages_read >= self.max_pages:
            logger.info("Read %d pages (max_pages): closing", self.pages_read)
            raise CloseSpider(MAX_PAGES_REASON)

    def _forget_hint(self, item: Any) -> None:
        self.hints.pop(ItemAdapter(item).get("url"), None)


class StartUrlSpider(DiscoverySpider):
    """A discovery spider that starts from URLs given as `-a start=...` / `-a start_file=...` (sitemap, feed)."""

    def __init__(self, start: str = "", start_file: str = "", since: Any = "", max_pages: Any = None,
                 **kwargs: Any) -> None:
        super().__init__(since=since, max_pages=max_pages, **kwargs)
        self.start_urls = start_url_list(start, start_file)


class HintsPipeline:
    """Item pipeline step added by the discovery spiders: the sitemap's / feed's publication date (and title) for
    an article whose page gave none. The page's own values always win."""

    def __init__(self, spider: DiscoverySpider, stats: Any) -> None:
        self.spider = spider
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Any) -> HintsPipeline:
        spider = getattr(crawler, "spider", None)
        if not isinstance(spider, DiscoverySpider):
            raise NotConfigured("only for the sitemap, feed and urls spiders")
        return cls(spider, crawler.stats)

    def process_item(self, item: Article) -> Article:
        entry = self.spider.hints.pop(item.get("url"), None)
        if entry is None:
            return item
        if entry.published and not item.get("published"):
            item["published"] = entry.published
            self.stats.inc_value(f"{self.spider.name}/published_from_listing")
        if entry.title and not item.get("title"):
            item["title"] = entry.title
            self.stats.inc_value(f"{self.spider.name}/title_from_listing")
        return item
