"""What every spider shares: decoding a response the product's way, classifying it, building the Article."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import scrapy
from lxml import html as lxml_html
from scrapy.http import HtmlResponse, Response, TextResponse

from crawler.items import Article, new_article, url_article_id
from crawler.pagetype import PageKind, classify_page
from pipelines.decode import DecodeError, decode_bytes

logger = logging.getLogger(__name__)

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


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass
class Page:
    """A fetched HTML page as the product decoded it."""

    response: HtmlResponse  # re-encoded as UTF-8, for link extraction and selectors
    html: str
    encoding: str
    kind: PageKind

    def article(self) -> Article:
        """The Article item for this page (decoded HTML; the pipeline extracts and cleans it)."""
        url = self.response.url
        return new_article(id=url_article_id(url), url=url, html=self.html, encoding=self.encoding,
                           kind="html", fetched_at=utc_now())


class NewsSpider(scrapy.Spider):
    """Base for the product's spiders: `read_page` turns a response into a Page, or None with a counted reason."""

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
        try:
            tree = lxml_html.document_fromstring(decoded.text)
            kind = classify_page(response.url, tree)
        except (ValueError, lxml_html.etree.ParserError) as error:
            self.skip(response, "unparsable", repr(error))
            return None
        page = HtmlResponse(response.url, body=decoded.text.encode("utf-8"), encoding="utf-8",
                            request=response.request)
        self.crawler.stats.inc_value(f"{self.name}/pages/{'article' if kind.is_article else 'listing'}")
        return Page(page, decoded.text, decoded.encoding, kind)

    def parse(self, response: Response, **kwargs: Any) -> Any:
        raise NotImplementedError
