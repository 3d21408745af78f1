"""`scrapy crawlall`: the TOML config (loaded, checked, clear errors), and real runs of several sites in one process:
good sites stored, a dead one reported, a summary table, exit code 2 only for an invalid config."""

from __future__ import annotations

import json
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from crawler.commands.crawlall import count_errors, local_feed_path, summary_table
from crawler.extensions.runlock import try_lock
from crawler.sites import SitesConfigError, load_sites, select
from tests.crawlrun import ROOT
from tests.discovery.site import DiscoverySite, Story, serve, stories

CONFIG = Path(__file__).parent / "discovery" / "sites.toml"


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def problems(path: Path) -> list[str]:
    with pytest.raises(SitesConfigError) as caught:
        load_sites(path)
    return caught.value.problems


def test_config_loaded_with_defaults(tmp_path: Path) -> None:
    write(tmp_path / "urls.txt", "http://x.cn/a/1.html\n")
    config = write(tmp_path / "sites.toml", """
[defaults]
max_pages = 50
since = "2024-11-01"
settings = { DOWNLOAD_DELAY = 2.0, ROBOTSTXT_OBEY = true }
[[site]]
name = "a"
spider = "sitemap"
start = ["https://www.a.cn/", "https://www.a.cn/news/sitemap.xml"]
since = 2024-10-01
settings = { DOWNLOAD_DELAY = 0.5 }
[[site]]
name = "b.list"
spider = "urls"
file = "urls.txt"
[[site]]
name = "c"
spider = "site"
start = "https://c.cn/"
depth = 2
[[site]]
name = "off"
spider = "feed"
start = "https://d.cn/"
enabled = false
""")
    a, b, c = load_sites(config)
    assert (a.spider, a.args) == ("sitemap", {"start": "https://www.a.cn/,https://www.a.cn/news/sitemap.xml",
                                              "since": "2024-10-01", "max_pages": "50"})
    assert a.settings == {"DOWNLOAD_DELAY": 0.5, "ROBOTSTXT_OBEY": True}
    assert b.args == {"file": str(tmp_path / "urls.txt"), "max_pages": "50"}  # relative to the config file
    assert c.args == {"start": "https://c.cn/", "depth": "2", "max_pages": "50"}  # `since` is not a site key
    assert [s.name for s in select([a, b, c], "c, a", config)] == ["a", "c"]
    with pytest.raises(SitesConfigError, match="no enabled site named 'off'"):
        select([a, b, c], "off", config)


def test_invalid_configs_name_file_site_and_key(tmp_path: Path) -> None:
    config = write(tmp_path / "bad.toml", """
[defaults]
max_pages = -1
[[site]]
name = "a"
spider = "sitemaps"
start = "https://a.cn/"
[[site]]
name = "b"
spider = "feed"
start = ["https://b.cn/", "b.cn/rss.xml"]
mx_pages = 10
since = "last week"
settings = { download_delay = 1 }
[[site]]
name = "b"
spider = "urls"
file = "missing.txt"
[[site]]
spider = "site"
""")
    found = problems(config)
    assert all(line.startswith(f"{config}: ") for line in found)
    expected = [
        "[defaults]: key 'max_pages': must be a whole number >= 0, got -1",
        "site #1 ('a'): key 'spider': must be one of site, sitemap, feed, urls, got 'sitemaps'",
        "site #2 ('b'): key 'mx_pages': not a key of a 'feed' site",
        "site #2 ('b'): key 'since': must be a date YYYY-MM-DD, got 'last week'",
        "site #2 ('b'): key 'start': not an http(s) URL: 'b.cn/rss.xml'",
        "site #2 ('b'): key 'settings': 'download_delay' is not a setting name",
        "site #3 ('b'): key 'name': another site already has this name",
        "site #3 ('b'): key 'file': no such file:",
        "site #4: key 'name': required",
        "site #4: key 'start': required",
    ]
    for fragment in expected:
        assert any(fragment in line for line in found), (fragment, found)
    assert len(found) == len(expected)
    assert problems(write(tmp_path / "typo.toml", "[[sites]]\nname = 'a'\n")) == [
        f"{tmp_path / 'typo.toml'}: top level: key 'sites': unknown (expected a [defaults] table and [[site]] tables)",
        f"{tmp_path / 'typo.toml'}: top level: key 'site': no sites: add [[site]] tables with name, spider and start"]
    (syntax,) = problems(write(tmp_path / "syntax.toml", "[[site]\nname = 'a'\n"))
    assert syntax.startswith(f"{tmp_path / 'syntax.toml'}: not valid TOML")
    (missing,) = problems(tmp_path / "nowhere.toml")
    assert "cannot read" in missing


def test_summary_helpers() -> None:
    stats = {"downloader/response_status_count/200": 9, "downloader/response_status_count/404": 3,
             "downloader/response_status_count/503": 1, "feed/probe_missed/http_404": 2,
             "downloader/exception_type_count/scrapy.exceptions.IgnoreRequest": 4,
             "downloader/exception_type_count/twisted.internet.error.DNSLookupError": 2,
             "feed/refused/entities": 1, "spider_exceptions/count": 1}
    assert count_errors(stats, "feed") == (3 + 1 - 2) + 2 + 1 + 1
    table = summary_table([{"site": "xinhua", "spider": "sitemap", "finish": "finished", "fetched": 120, "new": 80,
                            "updated": 2, "unchanged": 0, "dropped": 5, "errors": 0}])
    header, rule, row = table.splitlines()
    assert header.split() == ["site", "spider", "finish", "fetched", "new", "updated", "unchanged", "dropped",
                              "errors"]
    assert row.split() == ["xinhua", "sitemap", "finished", "120", "80", "2", "0", "5", "0"]
    assert local_feed_path("output/a.jsonl") == Path("output/a.jsonl")
    assert local_feed_path("file:///tmp/a.jsonl") == Path("/tmp/a.jsonl")
    assert local_feed_path("s3://bucket/a.jsonl") is None and local_feed_path("out/%(name)s.jsonl") is None


def dead_url() -> str:
    """A local port nobody listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


def crawlall(config: Path, out: Path, *options: str) -> subprocess.CompletedProcess[str]:
    feeds = {str(out / "articles.jsonl"): {"format": "jsonlines", "encoding": "utf8", "overwrite": True}}
    command = [sys.executable, "-m", "scrapy", "crawlall", str(config), *options,
               "-s", f"STORE_PATH={out / 'articles.sqlite'}", "-s", f"REPORT_DIR={out / 'reports'}",
               "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "NETWORK_ALLOW_PRIVATE=True",
               "-s", "FEEDS=" + json.dumps(feeds)]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=180)


def summary_rows(stdout: str) -> dict[str, list[str]]:
    lines = stdout[stdout.index("crawlall: "):].splitlines()[3:]
    return {line.split()[0]: line.split()[1:] for line in lines if line.strip()}


def test_crawlall_runs_every_site_and_reports_the_dead_one(tmp_path: Path) -> None:
    other = [Story(100 + s.n, s.day) for s in stories(12)]  # other texts: the two sites share no article
    with serve(tmp_path / "a") as first, serve(tmp_path / "b") as second:
        DiscoverySite(tmp_path / "a", first.url, hostile=False).build()
        DiscoverySite(tmp_path / "b", second.url, dated=other, dateless=[Story(170, None), Story(171, None)],
                      hostile=False).build()
        text = CONFIG.read_text(encoding="utf-8").replace("@SITEMAP_SITE@", first.url) \
            .replace("@FEED_SITE@", second.url).replace("@DEAD_SITE@", dead_url())
        config = write(tmp_path / "sites.toml", text)
        out = tmp_path / "out"
        result = crawlall(config, out)
        assert result.returncode == 0, result.stderr[-3000:]

        rows = summary_rows(result.stdout)
        assert sorted(rows) == ["dead", "feed-site", "sitemap-site"]  # the disabled site is not run
        fields = ["spider", "finish", "fetched", "new", "updated", "unchanged", "dropped", "errors"]
        sitemap_row, feed_row, dead_row = (dict(zip(fields, rows[name])) for name in
                                           ("sitemap-site", "feed-site", "dead"))
        # since = 2024-10-05: stories 0 (no lastmod) and 4-11, and the dateless page of the news sitemap.
        assert sitemap_row["new"] == "10" and sitemap_row["errors"] == "0" and sitemap_row["finish"] == "finished"
        assert feed_row["new"] == "8" and feed_row["errors"] == "0"
        # Two URLs and robots.txt, each tried twice (RETRY_TIMES = 1 in [defaults]): six connection errors.
        assert (dead_row["fetched"], dead_row["new"], dead_row["errors"]) == ("0", "0", "6")

        db = sqlite3.connect(out / "articles.sqlite")
        hosts = [urlsplit(url).port for (url,) in db.execute("SELECT url FROM articles")]
        assert hosts.count(urlsplit(first.url).port) == 10 and hosts.count(urlsplit(second.url).port) == 8
        # One feed file for the run, appended by every site; one report directory per site; a summary.
        assert len((out / "articles.jsonl").read_text(encoding="utf-8").splitlines()) == 18
        assert {p.parent.name for p in (out / "reports").glob("*/*.json")} == {"sitemap-site", "feed-site", "dead"}
        (summary,) = (out / "reports").glob("crawlall-*.json")
        saved = json.loads(summary.read_text(encoding="utf-8"))
        assert [row["site"] for row in saved["sites"]] == ["sitemap-site", "feed-site", "dead"]

        # Two sites at a time (--only): each writes its own feed file; the store is shared and nothing is new.
        again = crawlall(config, out, "--only", "feed-site,sitemap-site", "-s", "CRAWLALL_CONCURRENCY=2")
        assert again.returncode == 0, again.stderr[-3000:]
        rows = summary_rows(again.stdout)
        assert sorted(rows) == ["feed-site", "sitemap-site"] and all(row[3] == "0" for row in rows.values())
        assert (out / "articles.sitemap-site.jsonl").exists() and (out / "articles.feed-site.jsonl").exists()
        assert db.execute("SELECT COUNT(*) FROM articles").fetchone() == (18,)


def test_invalid_config_exits_2_and_crawls_nothing(tmp_path: Path) -> None:
    config = write(tmp_path / "sites.toml", '[[site]]\nname = "a"\nspider = "sitemap"\nstart = "www.a.cn"\n')
    result = crawlall(config, tmp_path / "out")
    assert result.returncode == 2
    assert f"{config}: site #1 ('a'): key 'start': not an http(s) URL: 'www.a.cn'" in result.stderr
    assert not (tmp_path / "out").exists()


def test_locked_store_is_left_alone(tmp_path: Path) -> None:
    config = write(tmp_path / "sites.toml", f'[[site]]\nname = "a"\nspider = "urls"\nstart = "{dead_url()}"\n')
    out = tmp_path / "out"
    handle = try_lock(out / "articles.sqlite.lock")  # this test process plays the running crawl
    assert handle is not None
    try:
        result = crawlall(config, out)
    finally:
        handle.close()
    assert result.returncode == 0
    assert "another crawl is running on this store" in result.stderr and "nothing crawled" in result.stderr
    assert not (out / "articles.sqlite").exists() and not (out / "reports").exists()


def test_shipped_example_config_is_valid() -> None:
    sites = load_sites(ROOT / "sites.example.toml")
    assert {site.spider for site in sites} == {"sitemap", "feed", "site"}
    assert all(site.args["start"].startswith("https://") for site in sites)
