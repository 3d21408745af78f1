"""`feed` spider: RSS 2.0 / RSS 1.0 / Atom parsing, feed auto-discovery (declared, then probed), the feed's date
for pages without one, re-crawls that fetch only new and changed articles, and `since`."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from scrapy.http import HtmlResponse

from crawler.spiders.feed import declared_feeds, feed_entries, looks_like_feed
from crawler.xmlsafe import parse_xml
from tests.crawlrun import run_crawl
from tests.discovery.site import DiscoverySite, Story, now_iso, serve

RSS1 = b"""<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"
  xmlns:dc="http://purl.org/dc/elements/1.1/">
 <channel rdf:about="http://x.cn/"><title>t</title></channel>
 <item rdf:about="http://x.cn/a/1.html"><title>RDF item</title><dc:date>2024-11-05T09:30:00+08:00</dc:date></item>
</rdf:RDF>"""
# An old RSS 0.91 feed: DOCTYPE with an external DTD (never loaded), an HTML entity, a relative link, a guid.
RSS091 = b"""<?xml version="1.0" encoding="gb2312"?>
<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" "http://my.netscape.com/publish/formats/rss-0.91.dtd">
<rss version="0.91"><channel><title>\xb2\xe2\xca\xd4</title>
<item><title>\xd0\xc2\xce\xc5&nbsp;\xd2\xbb</title><link>/a/2.html</link><pubDate>Tue, 05 Nov 2024 09:30:00 CST</pubDate></item>
<item><title>guid only</title><guid>http://x.cn/a/3.html</guid></item>
<item><title>no link</title><guid isPermaLink="false">abc</guid></item>
</channel></rss>"""
ATOM = b"""<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>
<entry><title>A</title><link rel="self" href="http://x.cn/feed/1"/><link rel="alternate" type="application/pdf"
 href="http://x.cn/a/1.pdf"/><link href="http://x.cn/a/1.html"/><updated>2024-11-05T01:30:00Z</updated></entry>
<entry><title>B</title><id>http://x.cn/a/2.html</id><published>2024-11-04</published><updated>2024-11-06T00:00:00Z</updated></entry>
</feed>"""


def test_rss1_rss091_and_atom_entries() -> None:
    (rdf,) = feed_entries(parse_xml(RSS1).root, "http://x.cn/rss")
    assert (rdf.url, rdf.title, rdf.published) == ("http://x.cn/a/1.html", "RDF item", "2024-11-05T09:30+08:00")
    second, third = feed_entries(parse_xml(RSS091).root, "http://x.cn/rss.xml")
    assert (second.url, second.title, second.published) == ("http://x.cn/a/2.html", "新闻\xa0一",
                                                             "2024-11-05T09:30+08:00")  # CST is China time
    assert (third.url, third.published) == ("http://x.cn/a/3.html", None)
    first, other = feed_entries(parse_xml(ATOM).root, "http://x.cn/atom.xml")
    assert (first.url, first.published, first.modified) == ("http://x.cn/a/1.html",) + ("2024-11-05T09:30+08:00",) * 2
    assert (other.url, other.published, other.modified) == ("http://x.cn/a/2.html", "2024-11-04",
                                                            "2024-11-06T08:00+08:00")


def test_declared_feeds_and_sniffing() -> None:
    page = HtmlResponse("http://x.cn/news/", body=b"""<html><head>
        <link rel="alternate" type="application/rss+xml" href="/rss.xml">
        <link rel="Alternate" type="application/atom+xml; charset=utf-8" href="http://x.cn/atom.xml">
        <link rel="alternate" hreflang="en" href="/en/"><link rel="stylesheet" type="text/css" href="/a.css">
        <link rel="alternate" type="application/rss+xml" href="/rss.xml"></head></html>""", encoding="utf-8")
    assert declared_feeds(page) == ["http://x.cn/rss.xml", "http://x.cn/atom.xml"]
    assert looks_like_feed(b"\xef\xbb\xbf<?xml version='1.0'?>\n<!-- c -->\n<rss version='2.0'>")
    assert looks_like_feed(b"<feed xmlns='http://www.w3.org/2005/Atom'>") and looks_like_feed(b"\x1f\x8b\x08")
    assert not looks_like_feed(b"<!DOCTYPE html><html><head><title>feed</title>")


def _crawl(url: str, out: Path, name: str, **args: Any) -> dict[str, Any]:
    reports = out / f"reports-{name}"
    result = run_crawl("feed", {"start": url, **args}, out, settings={"REPORT_DIR": str(reports)})
    assert result.returncode == 0, result.stderr[-3000:]
    (report,) = reports.glob("*.json")
    return json.loads(report.read_text(encoding="utf-8"))


def _articles(log: list[tuple[str, int, bool]]) -> set[str]:
    return {path for path, _, _ in log if path.startswith(("/news/", "/special/"))}


def test_discovered_feeds_recrawl_and_dates(tmp_path: Path) -> None:
    root, out = tmp_path / "site", tmp_path / "out"
    with serve(root) as served:
        site = DiscoverySite(root, served.url, hostile=False)
        site.build()
        first = _crawl(served.url, out, "first")
        in_feeds = site.dated[6:] + site.dateless
        assert _articles(served.log) == {f"/{s.path}" for s in in_feeds}
        assert {"/", "/rss.xml", "/atom.xml"} <= set(served.paths()) and "/feed" not in served.paths()
        assert first["store"]["new"] == len(in_feeds)
        assert first["stats"]["feed/feeds_declared"] == 2 and first["stats"]["feed/feeds_read"] == 2
        assert first["stats"]["feed/published_from_listing"] == 2

        # A new story in both feeds, and an edit that moves the story's Atom <updated>.
        site.dated.append(Story(12, "2024-10-13"))
        site.editions[7], site.modified[7] = 2, now_iso()
        site.build()
        served.log.clear()
        second = _crawl(served.url, out, "second")
        assert _articles(served.log) == {f"/{site.dated[n].path}" for n in (7, 12)}
        assert {"/", "/rss.xml", "/atom.xml"} <= set(served.paths())  # feeds are fetched on every run
        assert second["store"] == {"new": 1, "updated": 1, "unchanged": 0}

        # A page that declares no feed: the common paths are probed; `since` keeps entries dated on or after it.
        served.log.clear()
        probed = _crawl(served.url + "plain.html", tmp_path / "out-probe", "probe", since="2024-11-01")
        assert {"/rss.xml", "/feed", "/atom.xml", "/rss"} <= set(served.paths())
        assert probed["stats"]["feed/probe_missed/http_404"] == 2 and probed["stats"]["feed/feeds_probed"] == 2
        # RSS dates are the page dates + 30 days (all in November); Atom gives the page dates (October).
        assert _articles(served.log) == {f"/{s.path}" for s in site.dated[9:] + site.dateless}
        assert probed["stats"]["feed/skipped/before_since"] == 6

    db = sqlite3.connect(out / "articles.sqlite")
    published = {url.split("/", 3)[3]: value for url, value in db.execute("SELECT url, published FROM articles")}
    # Pages without a date take the feed's (RSS pubDate in "CST" = China time; Atom <updated> when there is
    # no <published>); dated pages keep their own date although the RSS dates differ.
    assert published[site.dateless[0].path] == "2024-11-05T08:00+08:00"
    assert published[site.dateless[1].path] == "2024-11-06T10:00+08:00"
    assert published[site.dated[9].path] == "2024-10-10T09:30+08:00"
    assert db.execute("SELECT COUNT(*), SUM(version) FROM articles").fetchone() == (len(in_feeds) + 1,
                                                                                   len(in_feeds) + 2)
