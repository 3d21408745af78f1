"""Safe XML: entity attacks refused without expanding or fetching anything, gzip bombs refused early and with
little memory, size limits, malformed bodies refused or recovered, real sitemaps and feed dates read."""

from __future__ import annotations

import gzip
import os
import threading
import time
import tracemalloc
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from crawler.spiders.sitemap import sitemap_entries
from crawler.xmlsafe import DEFAULT_MAX_BYTES, XmlRefused, inflate, parse_date, parse_xml
from tests.discovery.site import billion_laughs, external_entity, gzip_bomb, url_entry, urlset


def refused(body: bytes, max_bytes: int = DEFAULT_MAX_BYTES) -> str:
    with pytest.raises(XmlRefused) as caught:
        parse_xml(body, max_bytes)
    return caught.value.reason


class _Recorder(BaseHTTPRequestHandler):
    requests: list[str] = []

    def do_GET(self) -> None:
        self.requests.append(self.path)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b'<!ENTITY leaked "LEAKED">')

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def listener() -> Any:
    """A local HTTP server that records any request: external DTDs and entities must never reach it."""
    handler = type("Recorder", (_Recorder,), {"requests": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/", handler.requests
    server.shutdown()
    server.server_close()
    thread.join()


def test_billion_laughs_is_refused_at_once() -> None:
    started = time.monotonic()
    assert refused(billion_laughs().encode()) == "entities"
    # The same attack in UTF-16 escapes the byte-level look at the prolog: the parsed DTD is checked too.
    assert refused(billion_laughs().replace('"1.0"?>', '"1.0" encoding="UTF-16"?>').encode("utf-16")) == "entities"
    assert time.monotonic() - started < 1


def test_external_entities_are_never_resolved(tmp_path: Path, listener: Any) -> None:
    base, requests = listener
    # A FIFO blocks whoever opens it for reading: if the parser tried to read the file, the parse would hang.
    fifo = tmp_path / "passwd"
    os.mkfifo(fifo)
    outcome: list[str] = []
    worker = threading.Thread(target=lambda: outcome.append(refused(external_entity(fifo.as_uri()).encode())),
                              daemon=True)
    worker.start()
    worker.join(timeout=5)
    assert outcome == ["entities"], "the parser opened the external entity's file"
    assert refused(external_entity("file:///etc/passwd").encode()) == "entities"
    assert refused(external_entity(base + "entity").encode("utf-16")) == "entities"
    parameter = f'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY % p SYSTEM "{base}p.dtd"> %p;]><urlset/>'
    assert refused(parameter.encode()) == "entities"
    # An external DTD without entity declarations (old RSS 0.91 feeds) is parsed, but never fetched.
    with_dtd = f'<?xml version="1.0"?><!DOCTYPE urlset SYSTEM "{base}evil.dtd"><urlset><url><loc>http://x.cn/1</loc></url></urlset>'
    assert [e.url for e in sitemap_entries(parse_xml(with_dtd.encode()).root)] == ["http://x.cn/1"]
    assert requests == []


def test_gzip_bomb_is_refused_quickly_with_little_memory(tmp_path: Path) -> None:
    bomb = tmp_path / "sitemap.xml.gz"
    gzip_bomb(bomb, gigabytes=1)  # 1 GB of zeros, about 1 MB on disk
    body = bomb.read_bytes()
    assert len(body) < 2 * 1024 * 1024
    tracemalloc.start()
    started = time.monotonic()
    try:
        assert refused(body) == "too_large"
        elapsed = time.monotonic() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # Inflated up to the limit (50 MB) and one chunk more, then refused: never the whole gigabyte.
    assert elapsed < 3, elapsed
    assert peak < DEFAULT_MAX_BYTES + 8 * 1024 * 1024, peak
    # The same bomb under a Content-Encoding layer (a .xml.gz sent gzipped once more) is refused alike.
    assert refused(gzip.compress(body, compresslevel=1)) == "too_large"


def test_size_limits_on_plain_and_gzipped_bodies() -> None:
    sitemap = urlset([url_entry(f"http://x.cn/a/{n}.html", "2024-11-05") for n in range(2000)]).encode()
    assert len(sitemap) > 100_000
    assert refused(sitemap, max_bytes=100_000) == "too_large"
    compressed = gzip.compress(sitemap)
    assert len(compressed) < 100_000
    assert refused(compressed, max_bytes=100_000) == "too_large"
    assert len(list(sitemap_entries(parse_xml(compressed).root))) == 2000


def test_malformed_bodies_refused_or_recovered() -> None:
    assert refused(b"") == "malformed"
    assert refused(b"\x00" * 100) == "malformed"
    assert refused("这不是XML，只是一段文字".encode()) == "malformed"
    assert refused(b"\x1f\x8b\x08\x00garbage") == "malformed"  # gzip magic, broken stream
    # A truncated sitemap keeps its complete entries.
    truncated = parse_xml(b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>http://x.cn/1</loc>'
                          b"</url><url><loc>http://x.cn/2</loc></url><url><lo")
    assert truncated.recovered and [e.url for e in sitemap_entries(truncated.root)][:2] == ["http://x.cn/1",
                                                                                           "http://x.cn/2"]
    # A bare `&` in a query string (invalid XML, common in real sitemaps) is read as `&amp;`, not lost.
    amp = parse_xml(b"<urlset><url><loc>http://x.cn/show.php?id=1&type=2&amp;p=3</loc></url></urlset>")
    assert amp.recovered and [e.url for e in sitemap_entries(amp.root)] == ["http://x.cn/show.php?id=1&type=2&p=3"]
    # Concatenated gzip members are one body; a truncated gzip stream keeps what was inflated.
    assert inflate(gzip.compress(b"<urlset>") + gzip.compress(b"</urlset>"), 1000) == b"<urlset></urlset>"
    assert inflate(gzip.compress(b"<urlset></urlset>" * 100)[:-12], 10_000).startswith(b"<urlset></urlset>")


def test_good_sitemap_with_bom_and_namespaces() -> None:
    body = ("\ufeff<?xml version='1.0' encoding='UTF-8'?>\n<!-- generated -->\n"
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:xhtml="http://www.w3.org/1999/xhtml" '
            'xmlns:image="http://www.google.com/schemas/sitemap-image/1.1">'
            "<url><loc> http://x.cn/新闻/1.html </loc><lastmod>2024-11-05T09:30:00+08:00</lastmod>"
            '<xhtml:link rel="alternate" hreflang="en" href="http://x.cn/en/1.html"/>'
            "<image:image><image:loc>http://x.cn/1.jpg</image:loc></image:image></url></urlset>").encode("utf-8")
    document = parse_xml(gzip.compress(body))
    assert not document.recovered and document.size == len(body)
    (entry,) = sitemap_entries(document.root)
    assert (entry.url, entry.modified) == ("http://x.cn/新闻/1.html", "2024-11-05T09:30+08:00")


@pytest.mark.parametrize("value, expected", [
    ("2024-11-05", "2024-11-05"),
    ("2024-11-05T09:30:15+08:00", "2024-11-05T09:30:15+08:00"),
    ("2024-11-05T01:30:00Z", "2024-11-05T09:30+08:00"),
    ("2024-11-05T01:30:00.123-0500", "2024-11-05T14:30+08:00"),
    ("2024-11-05 09:30", "2024-11-05T09:30+08:00"),  # no zone: China time
    ("Tue, 05 Nov 2024 09:30:00 +0800", "2024-11-05T09:30+08:00"),
    ("Tue, 05 Nov 2024 09:30:00 GMT", "2024-11-05T17:30+08:00"),
    ("Tue, 05 Nov 2024 09:30:00 CST", "2024-11-05T09:30+08:00"),  # China Standard Time in Chinese feeds
    ("2024-13-05", None), ("1900-01-01", None), ("yesterday", None), ("", None),
])
def test_listing_dates(value: str, expected: str | None) -> None:
    assert parse_date(value) == expected
