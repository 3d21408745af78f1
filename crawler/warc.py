"""WARC files (ISO 28500) of a crawl: request + response record pairs, gzip per record, rotated by size.

A file is written as `<prefix>-<UTC timestamp>-<serial>-<pid>.warc.gz.open` and renamed to `.warc.gz` when it
is closed (rotation or the end of the crawl). Every record pair is compressed in memory and written with one
`write()` and a flush, so a killed crawl leaves a `.open` file whose records are all complete but maybe the
last: rename it to `.warc.gz` to read it (a cut last record reads as an error after the good ones).
"""

from __future__ import annotations

import gzip
import io
import os
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from http import HTTPStatus
from pathlib import Path
from typing import IO

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

OPEN_SUFFIX = ".open"
# zlib level 6: within a few percent of level 9 on HTML, at a fraction of its CPU time (warcio uses 9).
GZIP_LEVEL = 6
# Hop-by-hop framing that Twisted has already undone (chunks joined): the stored body is not chunked, so the
# header would make readers de-chunk it a second time.
FRAMING_HEADERS = frozenset({"transfer-encoding", "content-length"})

HeaderList = list[tuple[str, str]]


@dataclass(frozen=True)
class HttpExchange:
    """One fetch as the crawler saw it: the request sent and the response received (body not decoded)."""

    url: str
    method: str
    request_headers: HeaderList
    request_body: bytes
    status: int
    response_headers: HeaderList
    body: bytes
    protocol: str = "HTTP/1.1"
    ip_address: str | None = None


def request_target(url: str) -> str:
    """The request-target of the HTTP request line: path and query of `url`."""
    rest = url.split("://", 1)[-1]
    slash = rest.find("/")
    path = rest[slash:] if slash >= 0 else "/"
    return path.split("#", 1)[0] or "/"


def url_host(url: str) -> str:
    return url.split("://", 1)[-1].split("/", 1)[0].split("@")[-1]


def status_line(status: int) -> str:
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return str(status)


def warc_filename(prefix: str, when: datetime, serial: int, pid: int) -> str:
    """`<prefix>-<UTC timestamp, 17 digits to the millisecond>-<serial>-<pid>.warc.gz` (Heritrix-like order)."""
    stamp = when.astimezone(timezone.utc).strftime("%Y%m%d%H%M%S%f")[:17]
    return f"{prefix}-{stamp}-{serial:05d}-{pid}.warc.gz"


class WarcFileWriter:
    """Writes HttpExchanges to rotating WARC files in `directory`; `close()` renames the open file."""

    def __init__(self, directory: Path, prefix: str, max_bytes: int, info: dict[str, str]) -> None:
        self.directory = directory
        self.prefix = prefix
        self.max_bytes = max_bytes
        self.info = info
        self.serial = 0
        self.path: Path | None = None  # the final name of the file being written (without `.open`)
        self.handle: IO[bytes] | None = None
        self.records = 0
        self.closed_files: list[Path] = []
        self.builder = WARCWriter(None, gzip=False)

    def _record_bytes(self, records: Iterable[object]) -> bytes:
        """Each record as its own gzip member, concatenated (what `.warc.gz` readers expect)."""
        out = bytearray()
        for record in records:
            buffer = io.BytesIO()
            WARCWriter(buffer, gzip=False).write_record(record)
            out += gzip.compress(buffer.getvalue(), compresslevel=GZIP_LEVEL, mtime=0)
        return bytes(out)

    def _open(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        while True:
            self.serial += 1
            name = warc_filename(self.prefix, datetime.now(timezone.utc), self.serial, os.getpid())
            path = self.directory / name
            try:
                # O_EXCL: never append to another writer's file, even one left behind by a dead crawl.
                handle = open(f"{path}{OPEN_SUFFIX}", "xb")
            except FileExistsError:
                continue
            if path.exists():
                handle.close()
                os.unlink(f"{path}{OPEN_SUFFIX}")
                continue
            break
        self.path, self.handle = path, handle
        info = {"software": "zhcrawl (Scrapy, warcio)", "format": "WARC File Format 1.0",
                "hostname": socket.gethostname(), **self.info}
        self._write(self._record_bytes([self.builder.create_warcinfo_record(name, info)]))

    def _write(self, data: bytes) -> None:
        assert self.handle is not None
        self.handle.write(data)
        self.handle.flush()

    def write(self, exchange: HttpExchange) -> None:
        """Append the exchange as a response record and a request record pointing to it (WARC-Concurrent-To)."""
        if self.handle is None:
            self._open()
        warc_headers = {"WARC-IP-Address": exchange.ip_address} if exchange.ip_address else {}
        headers = [(k, v) for k, v in exchange.response_headers if k.lower() not in FRAMING_HEADERS]
        headers.append(("Content-Length", str(len(exchange.body))))
        response = self.builder.create_warc_record(
            exchange.url, "response", payload=io.BytesIO(exchange.body), length=len(exchange.body),
            http_headers=StatusAndHeaders(status_line(exchange.status), headers, protocol=exchange.protocol),
            warc_headers_dict=warc_headers)
        request_headers = list(exchange.request_headers)
        if not any(k.lower() == "host" for k, _ in request_headers):
            request_headers.insert(0, ("Host", url_host(exchange.url)))
        request = self.builder.create_warc_record(
            exchange.url, "request", payload=io.BytesIO(exchange.request_body), length=len(exchange.request_body),
            http_headers=StatusAndHeaders(f"{exchange.method} {request_target(exchange.url)} {exchange.protocol}",
                                          request_headers, is_http_request=True))
        for name in ("WARC-Target-URI", "WARC-Date"):
            request.rec_headers.replace_header(name, response.rec_headers.get_header(name))
        request.rec_headers.add_header("WARC-Concurrent-To", response.rec_headers.get_header("WARC-Record-ID"))
        self._write(self._record_bytes([response, request]))
        self.records += 1
        assert self.handle is not None
        if self.handle.tell() >= self.max_bytes:
            self.close()

    def close(self) -> None:
        """Close the open file, if any, and give it its final name."""
        if self.handle is None:
            return
        assert self.path is not None
        self.handle.close()
        os.replace(f"{self.path}{OPEN_SUFFIX}", self.path)
        self.closed_files.append(self.path)
        self.handle = None
        self.path = None
