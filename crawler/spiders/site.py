"""`site` spider: harvest whole sites from start URLs, storing article pages and following listings."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import scrapy
from lxml import html as lxml_html
from scrapy.http import HtmlResponse, Response, TextResponse
from scrapy.linkextractors import LinkExtractor

from crawler.items import Article, new_article, url_article_id
from crawler.pagetype import classify_page
from pipelines.decode import DecodeError, decode_bytes

logger = logging.getLogger(__name__)

CHARSET_RE = re.compile(r"charset=[\"']?([\w.:-]+)", re.IGNORECASE)
# Links to these are never pages: skip them before a request is even made.
NON_PAGE_EXTENSIONS = [
    "7z", "apk", "avi", "bmp", "css", "csv", "doc", "docx", "exe", "flv", "gif", "gz", "ico", "jpeg", "jpg",
    "js", "json", "m4a", "mov", "mp3", "mp4", "pdf", "png", "ppt", "pptx", "rar", "rss", "svg", "swf",
    "tar", "tif", "tiff", "txt", "wav", "webm", "webp", "wmv", "xls", "xlsx", "xml", "zip",
]


def split_urls(value: str) -> list[str]:
    """Start URLs from an argument: separated by commas, whitespace or newlines; `#` starts a comment."""
    urls = []
    for line in value.splitlines():
        line = line.split("#", 1)[0] if line.lstrip().startswith("#") else line
        urls.extend(u for u in re.split(r"[\s,]+", line) if u)
    return urls


def site_domain(url: str) -> str:
    """The domain a start URL allows (subdomains included): its host without a leading `www.`."""
    host = urlsplit(url).hostname or ""
    return host.removeprefix("www.")


def http_charset(response: Response) -> str | None:
    content_type = response.headers.get(b"Content-Type", b"").decode("latin-1")
    match = CHARSET_RE.search(content_type)
    return match.group(1) if match else None


class SiteSpider(scrapy.Spider):
    """Follows links within the start domains; yields an Article for each page that looks like one."""

    name = "site"

    def __init__(self, start: str = "", start_file: str = "", depth: str | int | None = None,
                 max_pages: str | int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        urls = split_urls(start)
        if start_file:
            urls += split_urls(Path(start_file).read_text(encoding="utf-8"))
        if not urls:
            raise ValueError("give start URLs: -a start=URL[,URL...] or -a start_file=urls.txt")
        bad = [u for u in urls if urlsplit(u).scheme not in ("http", "https")]
        if bad:
            raise ValueError(f"start URLs must be http(s): {', '.join(bad)}")
        self.start_urls = urls
        self.allowed_domains = sorted({site_domain(u) for u in urls})
        self.depth = depth
        self.max_pages = max_pages
        self.link_extractor = LinkExtractor(allow_domains=self.allowed_domains,
                                            deny_extensions=NON_PAGE_EXTENSIONS, unique=True)

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> SiteSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        depth = int(spider.depth) if spider.depth not in (None, "") else settings.getint("SITE_DEPTH_LIMIT")
        pages = int(spider.max_pages) if spider.max_pages not in (None, "") else settings.getint("SITE_MAX_PAGES")
        # Settings are still open here (they freeze after the spider is built): arguments win.
        settings.set("DEPTH_LIMIT", depth, priority="spider")
        if pages:
            settings.set("CLOSESPIDER_PAGECOUNT", pages, priority="spider")
        return spider

    def parse(self, response: Response, **kwargs: Any) -> Iterator[Article | scrapy.Request]:
        if not isinstance(response, TextResponse) or b"html" not in response.headers.get(b"Content-Type", b"html"):
            self.crawler.stats.inc_value("site/skipped/not_html")
            return
        charset = http_charset(response)
        try:
            decoded = decode_bytes(response.body, charset)
        except DecodeError as error:
            self.crawler.stats.inc_value(f"site/skipped/{error}")
            logger.warning("Skipping %s: cannot decode (%s)", response.url, error)
            return
        # Re-read the page as the decoder understood it, so links with Chinese paths come out right.
        page = HtmlResponse(response.url, body=decoded.text.encode("utf-8"), encoding="utf-8")
        try:
            tree = lxml_html.document_fromstring(decoded.text)
            kind = classify_page(response.url, tree)
        except (ValueError, lxml_html.etree.ParserError) as error:
            self.crawler.stats.inc_value("site/skipped/unparsable")
            logger.warning("Skipping %s: unparsable HTML (%s)", response.url, error)
            return
        if kind.is_article:
            self.crawler.stats.inc_value("site/pages/article")
            yield new_article(
                id=url_article_id(response.url), url=response.url, html=decoded.text, encoding=decoded.encoding,
                kind="html", fetched_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
            )
        else:
            self.crawler.stats.inc_value("site/pages/listing")
            logger.debug("Listing page %s (%s)", response.url, ", ".join(kind.reasons))
        for link in self.link_extractor.extract_links(page):
            yield response.follow(link.url, callback=self.parse)
