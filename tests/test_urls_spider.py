"""`urls` spider: a URL list (file or argument) fetched, cleaned and stored; bad lines, duplicates and dead URLs
counted; listings given explicitly stored; no link followed; max_pages stops at exactly that many pages."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from crawler.spiders.urls import UrlsSpider
from tests.crawlrun import run_crawl
from tests.discovery.site import DiscoverySite, serve


def test_url_list_parsing(tmp_path: Path) -> None:
    listing = tmp_path / "urls.txt"
    listing.write_text("# comment\n\nhttp://x.cn/a/1.html\nhttp://m.x.cn/a/1.html\nhttp://x.cn/a/1.html?utm_source=wx\n"
                       "mailto:editor@x.cn\nhttp://x.cn/a/2.html  http://x.cn/a/3.html\n", encoding="utf-8")
    spider = UrlsSpider(file=str(listing), start="http://x.cn/a/4.html,http://x.cn/a/2.html#top")
    assert spider.start_urls == ["http://x.cn/a/4.html", "http://x.cn/a/2.html#top", "http://x.cn/a/1.html",
                                 "http://m.x.cn/a/1.html", "http://x.cn/a/3.html"]
    assert spider.bad_urls == ["mailto:editor@x.cn"] and spider.duplicates == 2
    with pytest.raises(ValueError, match="give article URLs"):
        UrlsSpider(start="ftp://x.cn/a.html")
    with pytest.raises(ValueError, match="max_pages"):
        UrlsSpider(start="http://x.cn/a.html", max_pages="many")


def _crawl(args: dict[str, str], out: Path) -> tuple[dict[str, Any], str]:
    result = run_crawl("urls", args, out)
    assert result.returncode == 0, result.stderr[-3000:]
    (report,) = (out / "reports").glob("*.json")
    return json.loads(report.read_text(encoding="utf-8")), result.stderr


def test_listed_pages_are_stored_and_nothing_is_followed(tmp_path: Path) -> None:
    root = tmp_path / "site"
    with serve(root) as served:
        site = DiscoverySite(root, served.url, hostile=False)
        site.build()
        base = served.url
        listing = tmp_path / "urls.txt"
        listing.write_text(f"# articles to store\n{base}{site.dated[0].path}\n\n{base}{site.dated[1].path}?utm_source=x\n"
                           f"{base}{site.dated[1].path}\nftp://example.cn/file\n{base}topics/chengshi/index.html\n"
                           f"{base}missing.html\n{base}{site.dateless[0].path}\n", encoding="utf-8")
        report, log = _crawl({"file": str(listing)}, tmp_path / "out")
        requested = [path for path, _, _ in served.log if path != "/robots.txt"]
        assert sorted(requested) == sorted([f"/{site.dated[0].path}", f"/{site.dated[1].path}?utm_source=x",
                                            "/topics/chengshi/index.html", "/missing.html",
                                            f"/{site.dateless[0].path}"])
        stats = report["stats"]
        assert stats["urls/skipped/bad_url"] == 1 and stats["urls/skipped/duplicate"] == 1
        assert stats["urls/fetch_failed/http_404"] == 1 and stats["urls/pages/listing"] == 1
        assert "Skipping 'ftp://example.cn/file': not an http(s) URL" in log

        served.log.clear()
        limited, _ = _crawl({"start": ",".join(base + s.path for s in site.dated[:6]), "max_pages": "2"},
                            tmp_path / "out-limited")

    db = sqlite3.connect(tmp_path / "out" / "articles.sqlite")
    stored = {url.split("/", 3)[3]: published for url, published in db.execute("SELECT url, published FROM articles")}
    # The topic page is a listing to the classifier, but it was listed: stored. The tracking parameter is gone.
    assert set(stored) == {site.dated[0].path, site.dated[1].path, "topics/chengshi/", site.dateless[0].path}
    assert stored[site.dateless[0].path] is None  # no page date, and no feed to take one from
    assert limited["finish_reason"] == "max_pages" and limited["store"]["new"] == 2
    db = sqlite3.connect(tmp_path / "out-limited" / "articles.sqlite")
    assert db.execute("SELECT COUNT(*) FROM articles").fetchone() == (2,)
