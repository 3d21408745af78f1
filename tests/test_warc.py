"""WARC archive: real crawls with WARC_ENABLED, files checked with warcio, then re-cleaned by `scrapy clean`."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import shutil
import sqlite3
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from crawler.inputs import InputError, read_documents
from crawler.items import url_article_id
from crawler.warc import HttpExchange, WarcFileWriter, warc_filename
from demo.httpsite import serve_directory
from tests.crawlrun import ROOT, run_crawl
from tests.sitegen import article_html, serve_site

E2E_SITE = Path(__file__).parent / "e2e_site" / "site"
COMPARED = ("id", "url", "title", "text", "published")


def sha1_digest(data: bytes) -> str:
    return "sha1:" + base64.b32encode(hashlib.sha1(data).digest()).decode("ascii")


def records(directory: Path) -> list[dict]:
    """Every record of every closed WARC file in `directory`, in file order, with its payload read."""
    found = []
    for path in sorted(directory.glob("*.warc.gz")):
        with path.open("rb") as stream:
            for record in ArchiveIterator(stream):
                found.append({"file": path.name, "type": record.rec_type, "headers": record.rec_headers,
                              "http": record.http_headers, "raw": record.raw_stream.read()})
    return found


def clean(inputs: Path, out: Path) -> list[dict]:
    result = subprocess.run([sys.executable, "-m", "scrapy", "clean", str(inputs), "-o", str(out),
                             "--rejected", str(out.with_suffix(".rejected.jsonl")), "--workers", "0"],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    return [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]


def stored(out: Path) -> list[dict]:
    db = sqlite3.connect(out / "articles.sqlite")
    db.row_factory = sqlite3.Row
    return [dict(row) for row in db.execute("SELECT * FROM articles")]


def projection(articles: list[dict]) -> dict[str, tuple]:
    return {a["id"]: tuple(a[name] for name in COMPARED) for a in articles}


@pytest.fixture(scope="module")
def e2e_crawl(tmp_path_factory: pytest.TempPathFactory) -> dict:
    out = tmp_path_factory.mktemp("warc-e2e")
    with serve_directory(E2E_SITE) as site:
        result = run_crawl("site", {"start": site.url}, out,
                           {"WARC_ENABLED": "True", "WARC_DIR": str(out / "warc"), "WARC_PREFIX": "e2e"})
    assert result.returncode == 0, result.stderr[-3000:]
    return {"out": out, "requests": site.requests, "log": result.stderr}


def test_every_fetch_is_a_response_and_request_pair(e2e_crawl: dict) -> None:
    warc_dir = e2e_crawl["out"] / "warc"
    assert not list(warc_dir.glob("*.open")), "the crawl's end closes (renames) its file"
    found = records(warc_dir)
    assert found[0]["type"] == "warcinfo"
    responses = [r for r in found if r["type"] == "response"]
    requests = [r for r in found if r["type"] == "request"]
    # Every GET the server saw (robots.txt, pages, 404s) is archived once, as a response with its request.
    fetched = Counter(r["headers"].get_header("WARC-Target-URI").split("/", 3)[3] for r in responses)
    assert fetched == Counter(path.lstrip("/") for path in e2e_crawl["requests"])
    assert "robots.txt" in fetched
    by_id = {r["headers"].get_header("WARC-Record-ID"): r for r in responses}
    assert len(requests) == len(responses)
    for request in requests:
        response = by_id[request["headers"].get_header("WARC-Concurrent-To")]
        assert request["headers"].get_header("WARC-Target-URI") == response["headers"].get_header("WARC-Target-URI")
        assert request["http"].protocol == "GET" and request["http"].statusline.startswith("/")
        assert request["http"].get_header("User-Agent", "").startswith("Mozilla/5.0 (compatible; zhcrawl")
    for response in responses:
        body = response["raw"]
        assert response["headers"].get_header("WARC-Payload-Digest") == sha1_digest(body)
        assert response["headers"].get_header("WARC-Date").endswith("Z")
        assert response["http"].get_header("Content-Length") == str(len(body))


def test_file_name_and_warcinfo(e2e_crawl: dict) -> None:
    files = list((e2e_crawl["out"] / "warc").glob("*.warc.gz"))
    assert len(files) == 1
    prefix, stamp, serial, pid = files[0].name.removesuffix(".warc.gz").split("-")
    assert (prefix, len(stamp), serial) == ("e2e", 17, "00001") and pid.isdigit()
    with files[0].open("rb") as stream:
        info = next(iter(ArchiveIterator(stream)))
        assert info.rec_headers.get_header("WARC-Filename") == files[0].name
        fields = info.content_stream().read().decode("utf-8")
    assert "software: zhcrawl" in fields and "description: scrapy crawl site" in fields


def test_clean_of_the_warc_gives_the_crawls_articles(e2e_crawl: dict, tmp_path: Path) -> None:
    out = e2e_crawl["out"]
    crawled = stored(out)
    assert len(crawled) >= 3
    cleaned = clean(out / "warc", tmp_path / "clean.jsonl")
    assert projection(cleaned) == projection(crawled)
    rejected = Counter(json.loads(line)["reason"]
                       for line in (tmp_path / "clean.rejected.jsonl").read_text(encoding="utf-8").splitlines())
    assert rejected["warc:request"] == len(e2e_crawl["requests"]) and rejected["warc:not_html"] == 1  # robots


def test_compressed_bodies_rotation_and_clean(tmp_path: Path) -> None:
    """A gzip-serving site: bodies are archived compressed (Content-Encoding kept), files rotate at a tiny
    WARC_MAX_BYTES, and `scrapy clean` decodes them back to the crawl's articles."""
    with serve_site(12, per_listing=6) as site:
        result = run_crawl("site", {"start": f"{site.url},{site.url}news/missing.html"}, tmp_path,
                           {"WARC_ENABLED": "True", "WARC_DIR": str(tmp_path / "warc"), "WARC_MAX_BYTES": "4000"})
    assert result.returncode == 0, result.stderr[-3000:]
    files = sorted((tmp_path / "warc").glob("*.warc.gz"))
    assert len(files) > 3 and not list((tmp_path / "warc").glob("*.open"))
    assert all(f.stat().st_size < 4000 + 20000 for f in files)  # a file closes after the pair that passes the limit
    found = records(tmp_path / "warc")
    assert sum(r["type"] == "warcinfo" for r in found) == len(files)
    articles = [r for r in found if r["type"] == "response" and "/news/2024/" in r["headers"].get_header(
        "WARC-Target-URI")]
    assert len(articles) == 12
    for record in articles:
        assert record["http"].get_header("Content-Encoding") == "gzip"
        assert "<h1>" in gzip.decompress(record["raw"]).decode("utf-8")
    missing = [r for r in found if r["type"] == "response" and r["headers"].get_header("WARC-Target-URI").endswith(
        "/news/missing.html")]
    assert [r["http"].get_statuscode() for r in missing] == ["404"]
    crawled = stored(tmp_path)
    assert len(crawled) == 12
    assert projection(clean(tmp_path / "warc", tmp_path / "clean.jsonl")) == projection(crawled)
    rejected = Counter(json.loads(line)["reason"]
                       for line in (tmp_path / "clean.rejected.jsonl").read_text(encoding="utf-8").splitlines())
    assert rejected["warc:status_404"] == 1


def test_killed_writer_leaves_a_readable_open_file(tmp_path: Path) -> None:
    writer = WarcFileWriter(tmp_path, "k", 10 ** 9, {})
    page = article_html(7).replace('charset="utf-8"', 'charset="gbk"').encode("gb18030")
    try:
        for n in range(3):
            writer.write(HttpExchange(url=f"http://example.cn/news/2024/0101/c1-{n}00000.html", method="GET",
                                      request_headers=[("User-Agent", "t")], request_body=b"", status=200,
                                      response_headers=[("Content-Type", "text/html; charset=GBK"),
                                                        ("Transfer-Encoding", "chunked")], body=page))
        # Not closed, as after a SIGKILL: every record written so far is on disk, flushed.
        (open_file,) = tmp_path.glob("*.warc.gz.open")
        readable = open_file.with_name(open_file.name.removesuffix(".open"))
        shutil.copyfile(open_file, readable)
        documents = list(read_documents(readable))
    finally:
        writer.close()
    articles = [d for d in documents if not isinstance(d, InputError)]
    assert [a["url"] for a in articles] == [f"http://example.cn/news/2024/0101/c1-{n}00000.html" for n in range(3)]
    assert all(a["id"] == url_article_id(a["url"]) and a["http_encoding"] == "gbk" and a["body"] == page
               for a in articles)
    assert [d.reason for d in documents if isinstance(d, InputError)] == ["warc:request"] * 3
    assert not list(tmp_path.glob("k-*.open")) and writer.closed_files == [readable]


def test_filename_is_sortable_and_unique_per_process() -> None:
    from datetime import datetime, timezone
    when = datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=timezone.utc)
    assert warc_filename("site", when, 3, 42) == "site-20240506070809123-00003-42.warc.gz"
