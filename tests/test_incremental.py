"""Incremental re-crawls: fresh stored articles skipped, stale ones fetched conditionally, listings stop early."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from scrapy.exceptions import IgnoreRequest
from scrapy.http import HtmlResponse, Request
from scrapy.utils.test import get_crawler

from crawler.items import new_article
from crawler.middlewares.incremental import IncrementalMiddleware, KnownArticles
from pipelines.store import ArticleStore
from tests.crawlrun import run_crawl
from tests.incremental.site import article_page, article_path, build_site, serve

OLD = "2020-01-01T00:00:00+00:00"


def _store(path: Path) -> ArticleStore:
    store = ArticleStore(path)
    store.upsert([dict(new_article(id="a", url="http://x.com/a/1.html", text="正文", content_hash="h"))
                  | {"etag": '"e1"', "last_modified": "Mon, 01 Jan 2024 00:00:00 GMT"}])
    return store


def _middleware(path: Path, **settings: Any) -> IncrementalMiddleware:
    crawler = get_crawler(settings_dict={"STORE_PATH": str(path), **settings})
    return IncrementalMiddleware.from_crawler(crawler)


def test_fresh_article_is_not_fetched(tmp_path: Path) -> None:
    _store(tmp_path / "a.sqlite").close()
    middleware = _middleware(tmp_path / "a.sqlite")
    with pytest.raises(IgnoreRequest):
        # Tracking parameters and a fragment: the same canonical URL.
        middleware.process_request(Request("http://X.com/a/1.html?utm_source=wx#top"))
    assert middleware.stats.get_value("incremental/skipped_fresh") == 1
    assert middleware.process_request(Request("http://x.com/a/2.html")) is None  # not stored
    assert middleware.process_request(Request("http://x.com/a/1.html", meta={"incremental": False})) is None


def test_stale_article_is_fetched_conditionally_and_304_touches(tmp_path: Path) -> None:
    store = _store(tmp_path / "a.sqlite")
    store.touch("http://x.com/a/1.html", OLD)
    middleware = _middleware(tmp_path / "a.sqlite", INCREMENTAL_REFRESH_HOURS=1)
    request = Request("http://x.com/a/1.html")
    assert middleware.process_request(request) is None
    assert request.headers[b"If-None-Match"] == b'"e1"'
    assert request.headers[b"If-Modified-Since"] == b"Mon, 01 Jan 2024 00:00:00 GMT"
    changed = HtmlResponse(request.url, status=200, body=b"<html></html>", request=request)
    assert middleware.process_response(request, changed) is changed
    with pytest.raises(IgnoreRequest):
        middleware.process_response(request, HtmlResponse(request.url, status=304, request=request))
    assert middleware.stats.get_value("incremental/not_modified") == 1
    assert store.lookup("http://x.com/a/1.html").last_seen > OLD  # type: ignore[union-attr]
    middleware.close()


def test_known_articles_are_those_fresh_before_the_crawl_began(tmp_path: Path) -> None:
    store = _store(tmp_path / "a.sqlite")
    store.touch("http://x.com/a/1.html", "2024-05-01T10:00:00+00:00")
    known = KnownArticles(store, 72, "2024-05-02T00:00:00+00:00")
    assert known.all_known(["http://x.com/a/1.html?utm_medium=x"])
    assert not known.all_known([])  # no article links: nothing says the listing is old
    assert not known.all_known(["http://x.com/a/1.html", "http://x.com/a/2.html"])
    # Stored after the crawl began (by this crawl, or an earlier attempt of it): not known.
    assert not KnownArticles(store, 72, "2024-05-01T09:00:00+00:00").is_known("http://x.com/a/1.html")
    # Stored, but too long before the crawl began: stale, so not known.
    assert not KnownArticles(store, 12, "2024-05-02T00:00:00+00:00").is_known("http://x.com/a/1.html")


def test_disabled(tmp_path: Path) -> None:
    from scrapy.exceptions import NotConfigured
    with pytest.raises(NotConfigured):
        _middleware(tmp_path / "a.sqlite", INCREMENTAL_ENABLED=False)


def _crawl(url: str, out: Path, name: str, **settings: Any) -> dict[str, Any]:
    reports = out / f"reports-{name}"
    result = run_crawl("site", {"start": url}, out, settings={"REPORT_DIR": str(reports), **settings})
    assert result.returncode == 0, result.stderr[-3000:]
    (report,) = reports.glob("*.json")
    return json.loads(report.read_text(encoding="utf-8"))


def test_recrawls_fetch_only_what_is_new_or_changed(tmp_path: Path) -> None:
    root, out = tmp_path / "site", tmp_path / "out"
    build_site(root, 60, per_page=20)
    with serve(root) as site:
        first = _crawl(site.url, out, "first")
        assert first["store"] == {"new": 60, "updated": 0, "unchanged": 0}

        # Nothing new: the start page lists only known articles; nothing else is fetched.
        site.log.clear()
        second = _crawl(site.url, out, "second")
        assert sorted(site.paths()) == ["/", "/robots.txt"]
        assert second["stats"]["site/listings_all_known"] == 1 and second["store"]["new"] == 0

        # Five new articles on top: page 1 is read, page 2 (shifted, all known) stops the walk.
        build_site(root, 65, per_page=20)
        site.log.clear()
        third = _crawl(site.url, out, "third")
        new_paths = {"/" + article_path(n) for n in range(60, 65)}
        assert third["store"] == {"new": 5, "updated": 0, "unchanged": 0}
        assert {p for p in site.paths() if p.startswith("/news/")} == new_paths
        assert "/list_2.html" in site.paths() and "/list_3.html" not in site.paths()
        assert third["incremental"]["skipped_fresh"] == 15

        # Everything stale: conditional requests; one article changed, the rest answer 304.
        (root / article_path(7)).write_text(article_page(7, edition=2), encoding="utf-8")
        site.log.clear()
        fourth = _crawl(site.url, out, "fourth", INCREMENTAL_REFRESH_HOURS="0")
        articles = [entry for entry in site.log if entry[0].startswith("/news/")]
        assert len(articles) == 65 and all(conditional for _, _, conditional in articles)
        assert sorted(status for _, status, _ in articles) == [200] + [304] * 64
        assert fourth["incremental"]["not_modified"] == 64
        assert fourth["store"] == {"new": 0, "updated": 1, "unchanged": 0}

    db = sqlite3.connect(out / "articles.sqlite")
    assert db.execute("SELECT COUNT(*), SUM(version) FROM articles").fetchone() == (65, 66)
    (key,) = db.execute("SELECT key FROM articles WHERE version = 2").fetchone()
    assert key.endswith(article_path(7))
    versions = db.execute("SELECT version, text FROM versions WHERE key = ?", (key,)).fetchall()
    assert [v for v, _ in versions] == [1] and "（更新）" not in versions[0][1]
    assert db.execute("SELECT COUNT(*) FROM articles WHERE etag IS NULL OR last_modified IS NULL").fetchone() == (0,)
