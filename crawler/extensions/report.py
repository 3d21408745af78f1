"""Crawl report: at the end of every run, JSON and a self-contained HTML page (inline SVG charts) in REPORT_DIR."""

from __future__ import annotations

import html
import json
import logging
import re
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from string import Template
from typing import Any
from urllib.parse import urlsplit

from scrapy import signals
from scrapy.exceptions import NotConfigured

logger = logging.getLogger(__name__)

TEMPLATE = Path(__file__).with_name("report.html")
DAY_RE = re.compile(r"^\d{4}-\d{2}-\d{2}")
# Exceptions that are decisions, not failures: skips by the incremental middleware, robots.txt, offsite.
NOT_ERRORS = ("IgnoreRequest",)
# A chart with more bars than this is unreadable; the rest are summed into one "other" bar.
MAX_BARS = 30
# Publication days shown: the most recent ones, older days summed into "earlier".
MAX_DAYS = 60
BAR_COLOURS = {"sites": "#4e79a7", "days": "#59a14f", "drops": "#e15759", "fetch": "#f28e2b", "store": "#76b7b2"}


def _prefixed(stats: dict[str, Any], prefix: str) -> dict[str, int]:
    return {key[len(prefix):]: int(value) for key, value in stats.items()
            if key.startswith(prefix) and isinstance(value, (int, float))}


def _iso(value: Any) -> str | None:
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).isoformat(timespec="seconds")
    return str(value) if value is not None else None


def build_report(spider: str, stats: dict[str, Any], sites: Counter[str], days: Counter[str],
                 drops: Counter[str]) -> dict[str, Any]:
    """The report as plain JSON-able data, from the crawl's stats and the per-item counts."""
    statuses = _prefixed(stats, "downloader/response_status_count/")
    errors = {name: n for name, n in _prefixed(stats, "downloader/exception_type_count/").items()
              if not name.endswith(NOT_ERRORS)}
    store = {name: int(stats.get(f"store/{name}", 0)) for name in ("new", "updated", "unchanged")}
    return {
        "spider": spider,
        "started": _iso(stats.get("start_time")),
        "finished": _iso(stats.get("finish_time")) or datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "elapsed_seconds": round(float(stats.get("elapsed_time_seconds") or 0), 1),
        "finish_reason": stats.get("finish_reason"),
        "requests": int(stats.get("downloader/request_count", 0)),
        "articles": {"total": sum(sites.values()), "per_site": dict(sites.most_common()),
                     "per_day": dict(sorted(days.items()))},
        "store": store,
        "incremental": _prefixed(stats, "incremental/"),
        "drops": dict(drops.most_common()),
        "fetch": {"status": dict(sorted(statuses.items())), "errors": dict(sorted(errors.items())),
                  "http_errors": sum(n for code, n in statuses.items() if code[:1] in "45")},
        "stats": {key: _iso(value) if isinstance(value, datetime) else value for key, value in sorted(stats.items())},
    }


def summary_line(report: dict[str, Any]) -> str:
    store, fetch = report["store"], report["fetch"]
    return (f"{report['articles']['total']} articles (new {store['new']}, updated {store['updated']}, "
            f"unchanged {store['unchanged']}), {sum(report['drops'].values())} dropped, "
            f"{report['requests']} requests, {fetch['http_errors']} HTTP errors, "
            f"{sum(fetch['errors'].values())} download errors, finish reason {report['finish_reason']}")


def _limit(items: list[tuple[str, int]], limit: int, rest: str) -> list[tuple[str, int]]:
    if len(items) <= limit:
        return items
    return items[: limit - 1] + [(rest, sum(n for _, n in items[limit - 1:]))]


def bar_chart(chart_id: str, title: str, bars: list[tuple[str, int]], colour: str) -> str:
    """A horizontal bar chart as an inline SVG element (labels left, bars scaled to the largest value)."""
    label_width, bar_width, row, top = 220, 320, 20, 28
    height = top + row * max(1, len(bars)) + 8
    parts = [f'<svg id="{chart_id}" class="bar-chart" xmlns="http://www.w3.org/2000/svg" width="{label_width + bar_width + 70}"'
             f' height="{height}" role="img" aria-label="{html.escape(title)}">',
             f'<text x="4" y="16" font-weight="bold">{html.escape(title)}</text>']
    if not bars:
        parts.append(f'<text class="empty" x="4" y="{top + 14}">none</text>')
    largest = max((n for _, n in bars), default=1) or 1
    for index, (label, number) in enumerate(bars):
        y = top + index * row
        width = max(1, round(bar_width * number / largest))
        shown = label if len(label) <= 32 else label[:31] + "…"
        parts.append(f'<text x="{label_width - 6}" y="{y + 13}" text-anchor="end">{html.escape(shown)}</text>'
                     f'<rect class="bar" x="{label_width}" y="{y + 2}" width="{width}" height="{row - 6}"'
                     f' fill="{colour}"><title>{html.escape(label)}: {number}</title></rect>'
                     f'<text x="{label_width + width + 4}" y="{y + 13}">{number}</text>')
    parts.append("</svg>")
    return "".join(parts)


def render_html(report: dict[str, Any]) -> str:
    """The report page: summary tiles, five bar charts, every stat in a table."""
    days = list(report["articles"]["per_day"].items())
    if len(days) > MAX_DAYS:
        days = [("earlier", sum(n for _, n in days[:-(MAX_DAYS - 1)]))] + days[-(MAX_DAYS - 1):]
    fetch = [(f"HTTP {code}", n) for code, n in report["fetch"]["status"].items()] + \
        [(name.rsplit(".", 1)[-1], n) for name, n in report["fetch"]["errors"].items()]
    charts = [
        bar_chart("chart-sites", "Articles per site", _limit(list(report["articles"]["per_site"].items()),
                                                               MAX_BARS, "other sites"), BAR_COLOURS["sites"]),
        bar_chart("chart-days", "Articles per day of publication", days, BAR_COLOURS["days"]),
        bar_chart("chart-store", "Store: new / updated / unchanged", list(report["store"].items()),
                  BAR_COLOURS["store"]),
        bar_chart("chart-drops", "Dropped items by reason", _limit(list(report["drops"].items()), MAX_BARS,
                                                                   "other reasons"), BAR_COLOURS["drops"]),
        bar_chart("chart-fetch", "Responses and download errors", fetch, BAR_COLOURS["fetch"]),
    ]
    tiles = [("articles", report["articles"]["total"]), ("new", report["store"]["new"]),
             ("updated", report["store"]["updated"]), ("unchanged", report["store"]["unchanged"]),
             ("dropped", sum(report["drops"].values())), ("requests", report["requests"]),
             ("HTTP errors", report["fetch"]["http_errors"]),
             ("skipped fresh", report["incremental"].get("skipped_fresh", 0)),
             ("not modified", report["incremental"].get("not_modified", 0))]
    rows = "".join(f"<tr><td>{html.escape(str(k))}</td><td>{html.escape(str(v))}</td></tr>"
                   for k, v in report["stats"].items())
    summary = (f"Started {report['started']}, finished {report['finished']} "
               f"({report['elapsed_seconds']} s): {summary_line(report)}")
    return Template(TEMPLATE.read_text(encoding="utf-8")).substitute(
        spider=html.escape(report["spider"]), finished=html.escape(str(report["finished"])),
        summary=html.escape(summary), charts="\n".join(f'<div class="chart">{c}</div>' for c in charts),
        tiles="".join(f'<div class="tile"><b>{n}</b>{html.escape(label)}</div>' for label, n in tiles),
        stats_rows=rows)


def write_report(report: dict[str, Any], directory: Path) -> tuple[Path, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    base = directory / f"{report['spider']}-{stamp}"
    number = 1
    while base.with_suffix(".json").exists():  # two runs within one second
        number += 1
        base = directory / f"{report['spider']}-{stamp}-{number}"
    json_path, html_path = base.with_suffix(".json"), base.with_suffix(".html")
    json_path.write_text(json.dumps(report, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    html_path.write_text(render_html(report), encoding="utf-8")
    return json_path, html_path


class CrawlReport:
    """Extension: counts stored articles (per site, per publication day) and drops (per reason) during
    the crawl; writes the report when the spider closes and logs a one-line summary."""

    def __init__(self, directory: Path, stats: Any) -> None:
        self.directory = directory
        self.stats = stats
        self.sites: Counter[str] = Counter()
        self.days: Counter[str] = Counter()
        self.drops: Counter[str] = Counter()

    @classmethod
    def from_crawler(cls, crawler: Any) -> CrawlReport:
        settings = crawler.settings
        if not settings.getbool("REPORT_ENABLED", True):
            raise NotConfigured("REPORT_ENABLED is off")
        report = cls(Path(settings.get("REPORT_DIR", "output/reports")), crawler.stats)
        crawler.signals.connect(report.item_scraped, signal=signals.item_scraped)
        crawler.signals.connect(report.item_dropped, signal=signals.item_dropped)
        crawler.signals.connect(report.spider_closed, signal=signals.spider_closed)
        return report

    def item_scraped(self, item: Any) -> None:
        self.sites[urlsplit(item.get("url") or "").hostname or "(no URL)"] += 1
        published = item.get("published") or ""
        self.days[published[:10] if DAY_RE.match(published) else "unknown"] += 1

    def item_dropped(self, exception: BaseException) -> None:
        self.drops[":".join(str(exception).split(":")[:2]) or type(exception).__name__] += 1

    def spider_closed(self, spider: Any, reason: str) -> None:
        if self.stats.get_value("runlock/refused"):
            return  # a refused overlapping run crawled nothing; the running crawl writes the report
        stats = dict(self.stats.get_stats())
        stats.setdefault("finish_reason", reason)
        report = build_report(spider.name, stats, self.sites, self.days, self.drops)
        try:
            _, html_path = write_report(report, self.directory)
        except OSError as error:
            logger.error("Crawl report not written to %s: %s", self.directory, error)
            return
        logger.info("Crawl report: %s; see %s", summary_line(report), html_path)
