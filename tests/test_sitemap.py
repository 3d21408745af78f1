"""`sitemap` spider: robots.txt -> index -> gzipped / Google News sitemaps; re-crawls fetch only what is new, changed
or stale; hostile sitemaps are refused and counted while the crawl goes on; `since` filters by listed dates."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from crawler.spiders.sitemap import is_site_home, sitemap_entries
from crawler.xmlsafe import parse_xml
from tests.crawlrun import run_crawl
from tests.discovery.site import SECRET, DiscoverySite, Story, news_entry, now_iso, serve, url_entry, urlset

SITEMAPS = {"/sitemap_index.xml", "/sitemap-news.xml", "/sitemap-articles.xml.gz", "/sitemap-2023.xml",
            "/sitemap-laughs.xml", "/sitemap-xxe.xml", "/sitemap-bomb.xml.gz"}


def test_google_news_sitemap_entries() -> None:
    body = urlset([news_entry("http://x.cn/a/1.html", "2024-11-05T08:00:00Z", "标题一"),
                   url_entry("http://x.cn/a/2.html", "2024-11-04"), url_entry("http://x.cn/a/3.html", None)],
                  news=True).encode("utf-8")
    first, second, third = sitemap_entries(parse_xml(body).root)
    assert (first.url, first.published, first.title, first.modified) == \
        ("http://x.cn/a/1.html", "2024-11-05T16:00+08:00", "标题一", None)
    assert (second.published, second.modified, second.date) == (None, "2024-11-04", "2024-11-04")
    assert third.date is None


def test_site_home_or_sitemap() -> None:
    assert is_site_home("https://www.news.cn") and is_site_home("https://www.news.cn/")
    assert not is_site_home("https://www.news.cn/sitemap.xml")


def _crawl(url: str, out: Path, name: str, **settings: Any) -> tuple[dict[str, Any], str]:
    reports = out / f"reports-{name}"
    args = {"start": url}
    if "since" in settings:
        args["since"] = settings.pop("since")
    result = run_crawl("sitemap", args, out, settings={"REPORT_DIR": str(reports), **settings})
    assert result.returncode == 0, result.stderr[-3000:]
    (report,) = reports.glob("*.json")
    return json.loads(report.read_text(encoding="utf-8")), result.stderr


def _article_paths(log: list[tuple[str, int, bool]]) -> list[str]:
    return [path for path, _, _ in log if path.startswith(("/news/", "/special/"))]


def test_recrawls_fetch_new_changed_and_stale_only(tmp_path: Path) -> None:
    root, out = tmp_path / "site", tmp_path / "out"
    with serve(root) as served:
        site = DiscoverySite(root, served.url)
        site.build()
        first, log = _crawl(served.url, out, "first")
        stats = first["stats"]
        listed = site.dated + site.archive + site.dateless[:1]
        assert first["store"] == {"new": len(listed), "updated": 0, "unchanged": 0}
        assert sorted(_article_paths(served.log)) == sorted(f"/{s.path}" for s in listed)
        assert SITEMAPS <= set(served.paths())
        # Hostile sitemaps refused with their reason; the crawl went on.
        assert stats["sitemap/refused/too_large"] == 1 and stats["sitemap/refused/entities"] == 2
        assert stats["sitemap/sitemaps_read"] == 4 and first["finish_reason"] == "finished"
        assert stats["httpcompression/response_count"] >= 1  # the news sitemap came with Content-Encoding: gzip
        assert SECRET not in log

        # The site changes: two new stories, one edited (its lastmod moves), one deleted but still listed.
        site.dated += [Story(12, "2024-10-13"), Story(13, "2024-10-14")]
        site.editions[5], site.modified[5] = 2, now_iso()
        site.deleted.add(3)
        site.build()
        served.log.clear()
        second, _ = _crawl(served.url, out, "second")
        assert sorted(_article_paths(served.log)) == sorted(f"/{site.dated[n].path}" for n in (5, 12, 13))
        assert SITEMAPS <= set(served.paths())  # sitemaps are fetched on every run
        edited = [entry for entry in served.log if entry[0] == f"/{site.dated[5].path}"]
        assert edited == [(f"/{site.dated[5].path}", 200, True)]  # a conditional request, answered with the edit
        assert second["store"] == {"new": 2, "updated": 1, "unchanged": 0}
        assert second["stats"]["sitemap/rechecked_modified"] == 1

        # Everything stale: every stored article is asked for conditionally; the deleted one answers 404.
        served.log.clear()
        third, _ = _crawl(served.url, out, "third", INCREMENTAL_REFRESH_HOURS="0")
        articles = [entry for entry in served.log if entry[0].startswith(("/news/", "/special/"))]
        assert len(articles) == len(listed) + 2 and all(conditional for _, _, conditional in articles)
        assert sorted(status for _, status, _ in articles) == [304] * (len(listed) + 1) + [404]
        assert third["stats"]["sitemap/fetch_failed/http_404"] == 1
        assert third["store"] == {"new": 0, "updated": 0, "unchanged": 0}

    db = sqlite3.connect(out / "articles.sqlite")
    rows = db.execute("SELECT url, id, version, published, text FROM articles").fetchall()
    assert len(rows) == len(listed) + 2 == len({r[0] for r in rows}) == len({r[1] for r in rows})
    by_path = {url.split("/", 3)[3]: row for url, *row in rows}
    assert by_path[site.dated[5].path][1] == 2 and "（更新）" in by_path[site.dated[5].path][3]
    assert sum(row[1] for row in by_path.values()) == len(rows) + 1
    (old,) = db.execute("SELECT version, text FROM versions").fetchall()
    assert old[0] == 1 and "（更新）" not in old[1]
    assert by_path[site.dated[3].path][1] == 1  # a 404 leaves the stored article as it was
    # The page without a date took the Google News publication date; dated pages kept their own.
    assert by_path[site.dateless[0].path][2] == "2024-11-05T08:00+08:00"
    assert by_path[site.dated[8].path][2] == "2024-10-09T09:30+08:00"
    assert not any(SECRET in row[3] for row in rows)


def test_since_filters_listed_dates_and_keeps_undated_entries(tmp_path: Path) -> None:
    root, out = tmp_path / "site", tmp_path / "out"
    with serve(root) as served:
        site = DiscoverySite(root, served.url, hostile=False)
        site.build()
        report, _ = _crawl(served.url, out, "since", since="2024-10-10")
        fetched = set(_article_paths(served.log))
    # Story 0 is listed without a lastmod: kept. Stories 9-11 are dated 10-10 to 10-12; the dateless page's
    # Google News date is 2024-11-05. The 2023 archive sitemap (lastmod 2023-12-31) is not even fetched.
    expected = {f"/{s.path}" for s in [site.dated[0], *site.dated[9:], site.dateless[0]]}
    assert fetched == expected
    assert "/sitemap-2023.xml" not in served.paths()
    stats = report["stats"]
    assert stats["sitemap/skipped/sitemap_before_since"] == 1
    assert stats["sitemap/skipped/before_since"] == 9  # stories 1-8 in the main sitemap, story 8 in the news one
    assert report["store"]["new"] == len(expected)
