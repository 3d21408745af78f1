"""`scrapy crawlall SITES.toml [--only NAME,...] [-s NAME=VALUE ...]`: every site of a config crawled in one
process, a summary table at the end."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from scrapy.commands import ScrapyCommand
from scrapy.crawler import AsyncCrawlerProcess, Crawler
from scrapy.exceptions import UsageError
from scrapy.settings import Settings

from crawler.extensions.runlock import hold, holder, release_hold, store_lock_path
from crawler.sites import SiteConfig, SitesConfigError, load_sites, select

logger = logging.getLogger(__name__)

CONFIG_ERROR_EXIT = 2
# Per-site settings (a site's own `settings` table) sit at Scrapy's "spider" priority: above the project's,
# below `-s` on the command line. What crawlall derives per site (report directory, JOBDIR, feed files)
# sits above `-s`, so `-s REPORT_DIR=x` still gets one sub-directory per site; below the run lock's override.
SITE_PRIORITY = "spider"
DERIVED_PRIORITY = 45
COLUMNS = ("site", "spider", "finish", "fetched", "new", "updated", "unchanged", "dropped", "errors")


def _prefixed(stats: dict[str, Any], prefix: str) -> dict[str, int]:
    return {key[len(prefix):]: int(value) for key, value in stats.items()
            if key.startswith(prefix) and isinstance(value, (int, float))}


def count_errors(stats: dict[str, Any], spider: str) -> int:
    """Failed fetches (HTTP 4xx/5xx and download errors, retries included; feed path probes that miss are not
    errors), sitemaps / feeds refused, and spider exceptions."""
    statuses = _prefixed(stats, "downloader/response_status_count/")
    http_errors = sum(n for code, n in statuses.items() if code[:1] in "45")
    probe_misses = sum(_prefixed(stats, f"{spider}/probe_missed/http_").values())
    download_errors = sum(n for name, n in _prefixed(stats, "downloader/exception_type_count/").items()
                          if not name.endswith("IgnoreRequest"))
    refused = sum(_prefixed(stats, f"{spider}/refused/").values())
    return http_errors - probe_misses + download_errors + refused + int(stats.get("spider_exceptions/count", 0))


def site_row(site: SiteConfig, stats: dict[str, Any] | None, error: str | None) -> dict[str, Any]:
    """One line of the summary: what the site's crawl fetched, stored, dropped and failed."""
    stats = stats or {}
    finish = f"failed: {error}" if error else str(stats.get("finish_reason") or "not run")
    return {"site": site.name, "spider": site.spider, "finish": finish,
            "fetched": int(stats.get("downloader/response_count", 0)),
            "new": int(stats.get("store/new", 0)), "updated": int(stats.get("store/updated", 0)),
            "unchanged": int(stats.get("store/unchanged", 0)),
            "dropped": int(stats.get("item_dropped_count", 0)), "errors": count_errors(stats, site.spider)}


def summary_table(rows: list[dict[str, Any]]) -> str:
    cells = [list(COLUMNS)] + [[str(row[column]) for column in COLUMNS] for row in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(COLUMNS))]
    lines = ["  ".join(cell.ljust(width) if i < 3 else cell.rjust(width)
                       for i, (cell, width) in enumerate(zip(line, widths))).rstrip() for line in cells]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def local_feed_path(uri: str) -> Path | None:
    """The file a feed URI writes to, for plain local paths and file:// URIs without %(placeholders)s."""
    if "%(" in uri:
        return None
    parts = urlsplit(uri)
    if parts.scheme == "file":
        return Path(parts.path)
    if parts.scheme == "" or len(parts.scheme) == 1:  # a path (or a Windows drive letter)
        return Path(uri)
    return None


@dataclass
class SiteRun:
    site: SiteConfig
    crawler: Crawler | None = None
    error: str | None = None

    def row(self) -> dict[str, Any]:
        stats = self.crawler.stats.get_stats() if self.crawler is not None and hasattr(self.crawler, "stats") \
            else None
        return site_row(self.site, stats, self.error)


class Command(ScrapyCommand):
    requires_project = True

    def syntax(self) -> str:
        return "SITES.toml [--only NAME,...] [-s NAME=VALUE ...]"

    def short_desc(self) -> str:
        return "Crawl every site of a TOML config in one process; print a summary table"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--only", metavar="NAME,...", help="crawl only these sites (names, comma-separated)")

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if len(args) != 1:
            raise UsageError("give one config file: scrapy crawlall sites.toml")
        try:
            sites = select(load_sites(args[0]), opts.only, args[0])
        except SitesConfigError as error:
            sys.stderr.write(f"crawlall: invalid config, nothing crawled:\n{error}\n")
            self.exitcode = CONFIG_ERROR_EXIT
            return
        assert self.settings is not None
        if not isinstance(self.crawler_process, AsyncCrawlerProcess) \
                or not self.settings.getbool("TWISTED_REACTOR_ENABLED", True):
            raise UsageError("crawlall runs on the default asyncio Twisted reactor (TWISTED_REACTOR unchanged)")
        self.concurrency = max(1, self.settings.getint("CRAWLALL_CONCURRENCY", 1))
        self.truncated: set[Path] = set()
        self.stopping = False
        lock = store_lock_path(self.settings) if self.settings.getbool("RUNLOCK_ENABLED", True) else None
        # One hold on the store for the whole run: no other crawl slips in between two sites.
        if lock is not None and not hold(lock):
            sys.stderr.write(f"crawlall: another crawl is running on this store (lock {lock} held by "
                             f"{holder(lock)}); nothing crawled\n")
            return
        runs = [SiteRun(site) for site in sites]
        try:
            self._start(runs)
        finally:
            if lock is not None:
                release_hold(lock)
        rows = [run.row() for run in runs]
        print(f"\ncrawlall: {len(rows)} sites from {args[0]}\n{summary_table(rows)}", flush=True)
        self._write_summary(args[0], rows)

    def _start(self, runs: list[SiteRun]) -> None:
        from twisted.internet import reactor

        def stop(_: Any) -> None:
            if reactor.running:
                reactor.callLater(0, reactor.stop)

        loop = asyncio.get_event_loop()
        driver = loop.create_task(self._crawl_all(runs))
        driver.add_done_callback(stop)
        assert self.crawler_process is not None
        self.crawler_process.start(stop_after_crawl=False)

    async def _crawl_all(self, runs: list[SiteRun]) -> None:
        # Sites start in config order (asyncio semaphores are fair); CRAWLALL_CONCURRENCY run at a time.
        slots = asyncio.Semaphore(self.concurrency)

        async def crawl_one(run: SiteRun) -> None:
            async with slots:
                if not self.stopping:
                    await self._crawl_site(run)

        await asyncio.gather(*(crawl_one(run) for run in runs))

    async def _crawl_site(self, run: SiteRun) -> None:
        assert self.crawler_process is not None
        site = run.site
        logger.info("crawlall: site %s (%s spider)", site.name, site.spider)
        try:
            spidercls = self.crawler_process.spider_loader.load(site.spider)
            run.crawler = Crawler(spidercls, self._site_settings(site))
            await self.crawler_process.crawl(run.crawler, **site.args)
        except Exception as error:  # one site's failure never stops the others
            run.error = f"{type(error).__name__}: {error}"
            logger.error("crawlall: site %s failed: %s", site.name, run.error)
        if run.crawler is not None and hasattr(run.crawler, "stats") \
                and run.crawler.stats.get_value("finish_reason") == "shutdown":
            self.stopping = True  # Ctrl-C / SIGTERM: the remaining sites are not started

    def _site_settings(self, site: SiteConfig) -> Settings:
        assert self.settings is not None
        settings = self.settings.copy()
        settings.setdict(site.settings, priority=SITE_PRIORITY)
        settings.set("REPORT_DIR", str(Path(settings.get("REPORT_DIR", "output/reports")) / site.name),
                     priority=DERIVED_PRIORITY)
        if settings.get("JOBDIR"):  # one job state per site: queues and seen requests must not mix
            settings.set("JOBDIR", str(Path(settings["JOBDIR"]) / site.name), priority=DERIVED_PRIORITY)
        settings.set("FEEDS", self._site_feeds(settings.getdict("FEEDS"), site.name), priority=DERIVED_PRIORITY)
        return settings

    def _site_feeds(self, feeds: dict[str, Any], name: str) -> dict[str, Any]:
        """One site after another: every site appends to the run's feed files (emptied once, when the first site
        that writes them starts). Several at a time: each site writes its own file (articles.<site>.jsonl)."""
        result: dict[str, Any] = {}
        for uri, options in feeds.items():
            options = dict(options or {})
            path = local_feed_path(str(uri))
            if path is None:
                result[uri] = options
            elif self.concurrency > 1:
                result[str(path.with_name(f"{path.stem}.{name}{path.suffix}"))] = options
            else:
                if options.get("overwrite") and path not in self.truncated:
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_bytes(b"")
                    self.truncated.add(path)
                result[str(path)] = {**options, "overwrite": False}
        return result

    def _write_summary(self, config: str, rows: list[dict[str, Any]]) -> None:
        assert self.settings is not None
        directory = Path(self.settings.get("REPORT_DIR", "output/reports"))
        if not self.settings.getbool("REPORT_ENABLED", True):
            return
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        try:
            directory.mkdir(parents=True, exist_ok=True)
            path = directory / f"crawlall-{stamp}.json"
            path.write_text(json.dumps({"config": config, "finished": stamp, "sites": rows}, ensure_ascii=False,
                                       indent=1), encoding="utf-8")
        except OSError as error:
            logger.error("crawlall summary not written to %s: %s", directory, error)
            return
        logger.info("crawlall summary: %s", path)
