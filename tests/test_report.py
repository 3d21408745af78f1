"""Crawl report: JSON figures from stats and per-item counts; the HTML page renders in headless Chromium."""

from __future__ import annotations

import json
import shutil
import subprocess
import zlib
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

import pytest
from scrapy.exceptions import DropItem
from scrapy.utils.test import get_crawler

from crawler.extensions.report import CrawlReport, bar_chart, build_report, render_html, write_report
from crawler.items import new_article

STATS = {
    "start_time": datetime(2024, 10, 20, 1, 0, tzinfo=timezone.utc),
    "finish_time": datetime(2024, 10, 20, 1, 5, tzinfo=timezone.utc),
    "elapsed_time_seconds": 300.04, "finish_reason": "finished",
    "downloader/request_count": 120,
    "downloader/response_status_count/200": 100, "downloader/response_status_count/304": 8,
    "downloader/response_status_count/404": 3, "downloader/response_status_count/503": 1,
    "downloader/exception_type_count/twisted.internet.error.TimeoutError": 2,
    "downloader/exception_type_count/scrapy.exceptions.IgnoreRequest": 40,
    "store/new": 50, "store/updated": 2, "store/unchanged": 7,
    "incremental/skipped_fresh": 40, "incremental/not_modified": 8,
}


def sample_report() -> dict:
    sites = Counter({"www.example.com": 40, "news.example.cn": 19})
    days = Counter({"2024-10-19": 20, "2024-10-20": 30, "unknown": 9})
    drops = Counter({"dedup:exact": 4, "quality:short": 3})
    return build_report("site", STATS, sites, days, drops)


def test_report_figures() -> None:
    report = sample_report()
    assert report["articles"] == {"total": 59, "per_site": {"www.example.com": 40, "news.example.cn": 19},
                                  "per_day": {"2024-10-19": 20, "2024-10-20": 30, "unknown": 9}}
    assert report["store"] == {"new": 50, "updated": 2, "unchanged": 7}
    assert report["drops"] == {"dedup:exact": 4, "quality:short": 3}
    assert report["fetch"] == {"status": {"200": 100, "304": 8, "404": 3, "503": 1},
                               "errors": {"twisted.internet.error.TimeoutError": 2}, "http_errors": 4}
    assert report["incremental"] == {"skipped_fresh": 40, "not_modified": 8}
    assert (report["started"], report["elapsed_seconds"]) == ("2024-10-20T01:00:00+00:00", 300.0)
    json.dumps(report)


def test_html_is_self_contained_with_charts() -> None:
    page = render_html(sample_report())
    for chart in ("chart-sites", "chart-days", "chart-store", "chart-drops", "chart-fetch"):
        assert f'<svg id="{chart}"' in page
    assert page.count('class="bar"') == 2 + 3 + 3 + 2 + 5
    assert "<script" not in page and "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "&lt;b&gt;" in bar_chart("c", "t", [("<b>", 1)], "#000")  # labels are escaped


def test_extension_counts_items_and_drops(tmp_path: Path) -> None:
    crawler = get_crawler(settings_dict={"REPORT_DIR": str(tmp_path)})
    extension = CrawlReport.from_crawler(crawler)
    extension.item_scraped(new_article(url="http://www.x.com/a/1.html", published="2024-10-20T09:30:00+08:00"))
    extension.item_scraped(new_article(url="http://www.x.com/a/2.html", published=None))
    extension.item_dropped(DropItem("dedup:exact:abc123"))
    crawler.stats.set_value("store/new", 2)
    spider = type("Spider", (), {"name": "demo"})()
    extension.spider_closed(spider, "finished")
    (written,) = tmp_path.glob("demo-*.json")
    report = json.loads(written.read_text(encoding="utf-8"))
    assert report["articles"]["per_site"] == {"www.x.com": 2}
    assert report["articles"]["per_day"] == {"2024-10-20": 1, "unknown": 1}
    assert report["drops"] == {"dedup:exact": 1} and report["finish_reason"] == "finished"
    assert written.with_suffix(".html").exists()


CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def png_pixel_bytes(path: Path) -> bytes:
    """The decompressed image data of a PNG (filter bytes included): enough to tell a blank image."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    position, chunks = 8, []
    while position < len(data):
        length = int.from_bytes(data[position:position + 4], "big")
        kind = data[position + 4:position + 8]
        if kind == b"IDAT":
            chunks.append(data[position + 8:position + 8 + length])
        position += 12 + length
    return zlib.decompress(b"".join(chunks))


@pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian package `chromium` is not installed")
def test_report_renders_in_headless_chromium(tmp_path: Path) -> None:
    _, page = write_report(sample_report(), tmp_path / "reports")
    url = page.resolve().as_uri()
    base = ["chromium", *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}"]
    shot = tmp_path / "shot.png"
    subprocess.run([*base, "--window-size=1200,1400", f"--screenshot={shot}", url],
                   check=True, capture_output=True, timeout=60)
    assert shot.stat().st_size > 20_000
    pixels = png_pixel_bytes(shot)
    assert len(set(pixels)) > 50  # text, bars in five colours, borders: not a blank page
    dom = subprocess.run([*base, "--dump-dom", url], check=True, capture_output=True, text=True, timeout=60).stdout
    assert dom.count("<svg") == 5 and dom.count('class="bar"') == 15
    assert "Articles per site" in dom and "www.example.com" in dom
