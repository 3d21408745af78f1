"""WARC archive of every fetched response (crawler/warc.py), as it came off the wire: before decompression.

At order 950 (settings.py) this middleware is the closest one to the downloader, so its process_response sees
every response first: redirects before RedirectMiddleware (600) follows them, 304s before the incremental
middleware (650) drops them, robots.txt, 404s, and bodies still compressed before HttpCompressionMiddleware
(590) decodes them. The record keeps Content-Encoding and the compressed body, as ISO 28500 asks of a response
record; WARC readers (warcio's content_stream, `scrapy clean`) decode it. Its process_request also runs last, so
the request record holds the headers every other middleware added.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.http import Headers, Request, Response

from crawler.warc import HeaderList, HttpExchange, WarcFileWriter

logger = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 1024 ** 3


def header_list(headers: Headers) -> HeaderList:
    return [(name.decode("latin-1"), value.decode("latin-1"))
            for name, values in headers.items() for value in values]


def exchange_of(request: Request, response: Response) -> HttpExchange:
    protocol = (response.protocol or "HTTP/1.1").upper()
    if not protocol.startswith("HTTP/"):
        protocol = "HTTP/1.1"
    return HttpExchange(url=response.url, method=request.method, request_headers=header_list(request.headers),
                        request_body=request.body or b"", status=response.status,
                        response_headers=header_list(response.headers), body=response.body,
                        protocol=protocol, ip_address=str(response.ip_address) if response.ip_address else None)


class WarcMiddleware:
    """Downloader middleware: writes a request + response record pair for every response (WARC_ENABLED)."""

    def __init__(self, writer: WarcFileWriter, stats: Any = None) -> None:
        self.writer = writer
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Any) -> WarcMiddleware:
        settings = crawler.settings
        if not settings.getbool("WARC_ENABLED", False):
            raise NotConfigured("WARC_ENABLED is off")
        spider = crawler.spider
        info = {"operator": settings.get("BOT_NAME", ""), "http-header-user-agent": settings.get("USER_AGENT", ""),
                "robots": "obey" if settings.getbool("ROBOTSTXT_OBEY") else "ignore",
                "description": f"scrapy crawl {spider.name}" if spider is not None else "scrapy crawl"}
        prefix = settings.get("WARC_PREFIX") or (spider.name if spider is not None else "zhcrawl")
        writer = WarcFileWriter(Path(settings.get("WARC_DIR", "output/warc")), prefix,
                                settings.getint("WARC_MAX_BYTES", DEFAULT_MAX_BYTES), info)
        middleware = cls(writer, crawler.stats)
        crawler.signals.connect(middleware.close, signal=signals.spider_closed)
        return middleware

    def process_response(self, request: Request, response: Response) -> Response:
        try:
            self.writer.write(exchange_of(request, response))
        except OSError as error:  # a full disk costs the archive, never the crawl
            logger.error("WARC: could not write %s: %r", response.url, error)
            self._inc("warc/errors")
            return response
        self._inc("warc/records")
        self._inc("warc/bytes", len(response.body))
        return response

    def _inc(self, key: str, count: int = 1) -> None:
        if self.stats is not None:
            self.stats.inc_value(key, count)

    def close(self) -> None:
        self.writer.close()
        if self.stats is not None:
            self.stats.set_value("warc/files", len(self.writer.closed_files))
        logger.info("WARC: %d files written to %s", len(self.writer.closed_files), self.writer.directory)
