"""One real crawl over a server that misbehaves every way it can: the crawl finishes, every bad page is counted
under its reason, good pages among them are stored, and what an earlier crawl stored is still there."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from tests.crawlrun import run_crawl
from tests.hostile.server import BAD_PATHS, RETRY_AFTER, Hostile, serve_hostile

GOOD_BEFORE = ["/news/good-1.html", "/news/good-2.html", "/news/good-3.html"]


def settings(server: Hostile) -> dict[str, str]:
    """The guard on, as in production, with only the test server's own host:port let through."""
    return {"NETWORK_ALLOW_PRIVATE": "False", "NETWORK_ALLOW_HOSTS": f"127.0.0.1:{server.port}",
            "ROBOTSTXT_OBEY": "False", "SITE_DEPTH_LIMIT": "0", "DOWNLOAD_TIMEOUT": "4", "RETRY_TIMES": "2",
            "RETRYAFTER_MAX_SECONDS": "5"}


def stored_urls(out: Path) -> set[str]:
    db = sqlite3.connect(out / "articles.sqlite")
    try:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        return {url for (url,) in db.execute("SELECT url FROM articles")}
    finally:
        db.close()


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("hostile")
    with serve_hostile() as server:
        first = run_crawl("site", {"start": ",".join(server.url + p.lstrip("/") for p in GOOD_BEFORE)}, out,
                          settings=settings(server), timeout=60)
        assert first.returncode == 0, first.stderr[-3000:]
        before = stored_urls(out)
        for report in (out / "reports").glob("*"):
            report.unlink()
        starts = [server.url + p.lstrip("/") for p in [*BAD_PATHS, "/news/good-4.html"]]
        starts.append(f"http://2130706433:{server.port}/news/good-5.html")  # the allowed address, spelt otherwise
        second = run_crawl("site", {"start": ",".join(starts)}, out, settings=settings(server), timeout=120)
        log = list(server.log)
        url = server.url
    [report] = (out / "reports").glob("*.json")
    return {"result": second, "before": before, "after": stored_urls(out), "log": log, "url": url,
            "stats": json.loads(report.read_text(encoding="utf-8"))["stats"]}


def requests_of(crawled: dict[str, Any], path: str) -> list[tuple[float, str, int]]:
    return [entry for entry in crawled["log"] if entry[1] == path]


def test_the_crawl_finishes_and_keeps_what_was_stored(crawled: dict[str, Any]) -> None:
    assert crawled["result"].returncode == 0, crawled["result"].stderr[-3000:]
    assert crawled["stats"]["finish_reason"] == "finished"
    assert len(crawled["before"]) == 3
    assert crawled["before"] <= crawled["after"]


def test_good_pages_among_the_bad_are_stored(crawled: dict[str, Any]) -> None:
    url = crawled["url"]
    expected = {url + "news/good-4.html", url + "news/flaky.html", url + "news/ratelimited.html",
                url + "news/invalid-bytes.html"}
    assert expected <= crawled["after"]
    bad = {url + p.lstrip("/") for p in BAD_PATHS} - expected
    assert not bad & crawled["after"]
    assert len(crawled["after"]) == len(crawled["before"]) + len(expected)


def test_network_guard_reasons(crawled: dict[str, Any]) -> None:
    stats = crawled["stats"]
    # redirect to 127.0.0.1:<other port>, redirect to `localhost` (a name: refused once resolved), and the
    # test server itself spelt 2130706433: only its exact host:port is allowed.
    assert stats["safety/refused/loopback"] == 3
    assert stats["safety/refused/link_local"] == 1  # redirect to 169.254.169.254
    assert stats["safety/refused/scheme"] == 1  # redirect to file:///etc/passwd
    assert stats["safety/refused/redirect_loop"] == 1
    assert [p for _, p, _ in crawled["log"] if "good-90" in p or "good-5" in p] == []
    assert len(requests_of(crawled, "/bad/loop-a.html")) == 1 and len(requests_of(crawled, "/bad/loop-b.html")) == 1


def test_bodies_that_lie(crawled: dict[str, Any]) -> None:
    stats, log = crawled["stats"], crawled["result"].stderr
    assert stats["site/skipped/decode_binary"] == 1
    assert stats["site/skipped/decode_empty"] == 1
    assert stats["limits/dropped/too_many_links"] == 1
    assert stats["limits/dropped/too_deep"] == 1
    assert "exceeded DOWNLOAD_MAXSIZE" in log and "gzip-bomb" in log  # inflated only up to the limit
    assert "larger than download max size" in log  # 50 MB without Content-Length, stopped at 20 MB


def test_transport_faults_are_retried_then_given_up(crawled: dict[str, Any]) -> None:
    stats = crawled["stats"]
    assert len(requests_of(crawled, "/bad/reset.html")) == 3  # RETRY_TIMES = 2
    assert stats["downloader/exception_type_count/scrapy.exceptions.ResponseDataLossError"] == 3
    assert len(requests_of(crawled, "/bad/slow.html")) == 3
    assert stats["downloader/exception_type_count/scrapy.exceptions.DownloadTimeoutError"] >= 3


def test_5xx_burst_is_retried_and_stored(crawled: dict[str, Any]) -> None:
    assert [status for _, _, status in requests_of(crawled, "/news/flaky.html")] == [503, 503, 200]


def test_retry_after_is_honoured(crawled: dict[str, Any]) -> None:
    (first, _, status), (retry, _, final) = requests_of(crawled, "/news/ratelimited.html")
    assert (status, final) == (429, 200)
    assert retry - first >= RETRY_AFTER
    assert crawled["stats"]["retryafter/waits"] == 1
