"""End to end: a real `scrapy crawl site` of a local site; stored articles checked field by field."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from crawler.items import EXPORT_FIELDS, url_article_id
from tests.crawlrun import run_crawl
from demo.httpsite import serve_directory

SITE = Path(__file__).parent / "e2e_site"
EXPECTED = json.loads((SITE / "expected.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def crawl(tmp_path_factory: pytest.TempPathFactory) -> dict:
    out = tmp_path_factory.mktemp("crawl")
    with serve_directory(SITE / "site") as site:
        result = run_crawl("site", {"start": site.url}, out)
        # A full re-crawl of the same site (incremental skipping off: every page is fetched and stored again).
        second = run_crawl("site", {"start": site.url}, out, {"INCREMENTAL_ENABLED": "False"})
    assert result.returncode == 0, result.stderr[-3000:]
    assert second.returncode == 0, second.stderr[-3000:]
    articles = [json.loads(line) for line in (out / "articles.jsonl").read_text(encoding="utf-8").splitlines()]
    db = sqlite3.connect(out / "articles.sqlite")
    db.row_factory = sqlite3.Row
    rows = [dict(row) for row in db.execute("SELECT * FROM articles")]
    return {"base": site.url, "requests": site.requests, "articles": articles, "rows": rows,
            "log": result.stderr}


def path_of(url: str) -> str:
    return url.split("/", 3)[3]


def test_articles_stored_field_by_field(crawl: dict) -> None:
    stored = {path_of(a["url"]): a for a in crawl["articles"]}
    assert sorted(stored) == sorted(EXPECTED)
    for path, expected in EXPECTED.items():
        article = stored[path]
        assert list(article) == list(EXPORT_FIELDS)
        assert article["id"] == url_article_id(article["url"])
        assert article["content_hash"] and article["fetched_at"].endswith("+00:00")
        for name, value in expected.items():
            assert article[name] == value, (path, name)


def test_listings_followed_not_stored_and_robots_obeyed(crawl: dict) -> None:
    requested = set(crawl["requests"])
    assert {"/news/index.html", "/news/list_2.html", "/about.html", "/robots.txt"} <= requested
    assert not any(path.startswith("/private/") for path in requested)


def test_duplicate_dropped_with_reason(crawl: dict) -> None:
    assert "/news/2024/1021/c1002-200001.html" in crawl["requests"]
    assert "Dropped: dedup:exact:" in crawl["log"]


def test_store_has_one_row_per_url_after_recrawl(crawl: dict) -> None:
    rows = crawl["rows"]
    assert sorted(path_of(r["url"]) for r in rows) == sorted(EXPECTED)
    assert all(r["version"] == 1 for r in rows)  # the same pages again: updated in place, unchanged
    by_path = {path_of(r["url"]): r for r in rows}
    economy = by_path["news/2024/1020/c1001-100001.html"]
    assert json.loads(economy["authors"]) == ["王明"] and economy["encoding"] == "gb18030"
    # Why that encoding is recorded for crawled pages too, as for files `scrapy clean` reads.
    assert all(r["encoding_reason"] for r in rows)
