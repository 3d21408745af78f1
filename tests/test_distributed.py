"""Distributed crawls: real `scrapy crawl site` workers sharing a real Redis (queue, dupefilter) and a real
PostgreSQL store, on a generated site; one worker SIGKILLed halfway, then the documented recovery."""

from __future__ import annotations

import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.crawlrun import ROOT, TEST_SETTINGS, run_crawl
from tests.pg import pg_url, postgres_server  # noqa: F401 (fixtures)
from tests.redisserver import RedisServer, redis_prefix, redis_server  # noqa: F401 (fixtures)
from crawler.items import url_article_id
from tests.sitegen import ARTICLE_PATH_RE, FIRST_ID, serve_site

COMPARED = ("id", "url", "title", "text", "published")
WORKER_TIMEOUT_S = 150
# Fast local site: many requests in flight per worker, an idle worker leaves 3 s after the queue runs dry.
FAST = {"CONCURRENT_REQUESTS": "32", "CONCURRENT_REQUESTS_PER_DOMAIN": "32", "MAX_IDLE_TIME_BEFORE_CLOSE": "3",
        "REPORT_ENABLED": "False", "LOG_LEVEL": "INFO"}


def scrapy_command(*args: str, settings: dict[str, Any]) -> list[str]:
    command = [sys.executable, "-m", "scrapy", *args]
    for name, value in settings.items():
        command += ["-s", f"{name}={value}"]
    return command


def redis_settings(server: RedisServer, prefix: str) -> dict[str, str]:
    return {"REDIS_URL": server.url, "REDIS_KEY_PREFIX": prefix}


def start_worker(log: Path, redis: dict[str, str], store_url: str, **args: str) -> subprocess.Popen[bytes]:
    settings = {**TEST_SETTINGS, **FAST, **redis, "STORE_URL": store_url, "FEEDS": "{}"}
    command = scrapy_command("crawl", "site", settings=settings)
    for name, value in args.items():
        command += ["-a", f"{name}={value}"]
    with log.open("wb") as out:
        return subprocess.Popen(command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)


def seed(redis: dict[str, str], *urls: str, reset: bool = False) -> str:
    command = scrapy_command("seed", "site", *urls, *(["--reset"] if reset else []), settings=redis)
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def frontier(redis: dict[str, str]) -> str:
    result = subprocess.run(scrapy_command("frontier", "site", settings=redis), cwd=ROOT, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def wait_all(workers: list[subprocess.Popen[bytes]], logs: list[Path]) -> None:
    for worker, log in zip(workers, logs):
        try:
            worker.wait(timeout=WORKER_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
            pytest.fail(f"worker did not finish: {log.read_text(errors='replace')[-3000:]}")


def stored(store_url: str) -> list[dict[str, Any]]:
    with psycopg.connect(store_url) as db, db.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(COMPARED)} FROM articles")
        return [dict(zip(COMPARED, row)) for row in cursor.fetchall()]


def projection(rows: list[dict[str, Any]]) -> set[tuple]:
    return {tuple(str(row[name]) if row[name] is not None else None for name in COMPARED) for row in rows}


def test_three_workers_share_one_crawl(redis_server: RedisServer, redis_prefix: str, pg_url: str,
                                       tmp_path: Path) -> None:
    """2,000 articles, three workers, one Redis queue and one PostgreSQL store: every page fetched once, every
    article stored once (the equality with a single-process crawl is checked on the next test's site)."""
    pages = 2000
    redis = redis_settings(redis_server, redis_prefix)
    logs = [tmp_path / f"worker{n}.log" for n in range(3)]
    with serve_site(pages) as site:
        assert "1 start URLs pushed" in seed(redis, site.url)
        started = time.monotonic()
        workers = [start_worker(log, redis, pg_url) for log in logs]
        wait_all(workers, logs)
        elapsed = time.monotonic() - started
    print(f"\n3 workers crawled {pages} articles in {elapsed:.1f} s")
    for worker, log in zip(workers, logs):
        assert worker.returncode == 0, log.read_text(errors="replace")[-3000:]
    # Every worker took part, and no page (article, listing, home) was fetched twice across the three.
    worked = [int(re.search(r"'response_received_count': (\d+)", log.read_text(errors="replace")).group(1))
              for log in logs]
    assert all(count > 1 for count in worked), worked  # more than its robots.txt
    assert site.requests["/robots.txt"] <= 3
    assert {path: n for path, n in site.requests.items() if path != "/robots.txt" and n != 1} == {}
    assert len(article_requests_of(site.requests)) == pages and site.requests["/"] == 1
    rows = stored(pg_url)
    assert sorted(row["url"] for row in rows) == sorted(site.article_urls())
    for row in rows:  # each row holds its own page (titles are converted to simplified script: prefix only)
        n = int(ARTICLE_PATH_RE.match("/" + row["url"].split("/", 3)[3]).group(4)) - FIRST_ID
        assert row["id"] == url_article_id(row["url"]) and row["title"].startswith(f"第{n}号新闻：")
        assert f"这是本站第{n}号稿件" in row["text"]
    status = frontier(redis)
    assert "0 requests queued" in status and f"{pages + site.listings + 1} URLs seen" in status


def article_requests_of(requests: Counter[str]) -> dict[str, int]:
    return {path: count for path, count in requests.items() if ARTICLE_PATH_RE.match(path)}


def test_killed_worker_then_recovery(redis_server: RedisServer, redis_prefix: str, pg_url: str,
                                     tmp_path: Path) -> None:
    """Documented guarantee: requests a killed worker had popped (in flight, or items not yet written) are
    lost from the shared queue, and the others finish everything else. After the recovery command
    (`scrapy seed site URL --reset` + a worker) every article is stored exactly once, and no article stored
    before the recovery is fetched again (the incremental store skips it)."""
    pages = 600
    redis = redis_settings(redis_server, redis_prefix)
    logs = [tmp_path / f"worker{n}.log" for n in range(3)]
    with serve_site(pages, per_listing=20) as site:
        seed(redis, site.url)
        workers = [start_worker(log, redis, pg_url) for log in logs]
        deadline = time.monotonic() + WORKER_TIMEOUT_S
        while sum(article_requests_of(site.requests).values()) < pages // 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        workers[0].send_signal(signal.SIGKILL)
        wait_all(workers, logs)
        assert workers[0].returncode == -signal.SIGKILL
        assert [w.returncode for w in workers[1:]] == [0, 0], logs[1].read_text(errors="replace")[-3000:]
        before = stored(pg_url)
        fetched_before = Counter(article_requests_of(site.requests))
        assert set(fetched_before.values()) == {1}  # nothing fetched twice, even with a worker killed
        assert 0 < len(before) <= pages and len({r["url"] for r in before}) == len(before)
        # Recovery: a new round (forget the seen URLs) with the same seed; one worker is enough.
        assert "reset" in seed(redis, site.url, reset=True)
        recovery = start_worker(tmp_path / "recovery.log", redis, pg_url)
        wait_all([recovery], [tmp_path / "recovery.log"])
        assert recovery.returncode == 0
        fetched_after = Counter(article_requests_of(site.requests))
        single = run_crawl("site", {"start": site.url}, tmp_path / "single", {**FAST, "FEEDS": "{}"})
    assert single.returncode == 0, single.stderr[-3000:]
    rows = stored(pg_url)
    assert len(rows) == pages and len({r["url"] for r in rows}) == pages
    # The same articles, field for field, as one process crawling the site alone.
    db = sqlite3.connect(tmp_path / "single" / "articles.sqlite")
    db.row_factory = sqlite3.Row
    reference = [dict(row) for row in db.execute(f"SELECT {', '.join(COMPARED)} FROM articles")]
    assert len(reference) == pages and projection(rows) == projection(reference)
    stored_before = {r["url"].split("/", 3)[3] for r in before}
    refetched = {path for path, n in fetched_after.items() if n > fetched_before[path]}
    assert not refetched & {f"/{p}" for p in stored_before}
    print(f"\nkilled worker: {pages - len(before)} articles missing before recovery, "
          f"{len(refetched)} fetched by the recovery run")


def test_addon_switches_only_with_redis_url(redis_server: RedisServer, redis_prefix: str) -> None:
    from scrapy.utils.project import get_project_settings

    from scrapy.downloadermiddlewares.offsite import OffsiteMiddleware
    from scrapy.utils.conf import build_component_list
    from scrapy.utils.misc import load_object

    from crawler.distributed import DistributedAddon, SharedDomainsOffsite

    plain = get_project_settings()
    DistributedAddon().update_settings(plain)
    assert plain["SCHEDULER"] == "scrapy.core.scheduler.Scheduler" and not plain.getbool("SCHEDULER_PERSIST")
    shared = get_project_settings()
    shared.setdict(redis_settings(redis_server, redis_prefix), priority="cmdline")
    DistributedAddon().update_settings(shared)
    assert shared["SCHEDULER"] == "scrapy_redis.scheduler.Scheduler"
    assert shared["DUPEFILTER_CLASS"] == "scrapy_redis.dupefilter.RFPDupeFilter" and shared["SCHEDULER_PERSIST"]
    assert shared["SCHEDULER_QUEUE_KEY"] == f"{redis_prefix}%(spider)s:requests"
    def classes(settings: Any) -> list[type]:
        return [load_object(m) for m in build_component_list(settings.getwithbase("DOWNLOADER_MIDDLEWARES"))]

    assert SharedDomainsOffsite in classes(shared) and OffsiteMiddleware not in classes(shared)
    assert OffsiteMiddleware in classes(plain) and SharedDomainsOffsite not in classes(plain)


def test_seeds_and_shared_domains(redis_server: RedisServer, redis_prefix: str) -> None:
    from crawler.distributed import keys, parse_seed

    redis = redis_settings(redis_server, redis_prefix)
    assert "2 start URLs pushed" in seed(redis, "http://www.news.example.cn/", "https://gov.example.org/list.html")
    spider_keys = keys(redis, "site")
    with redis_server.client() as server:
        assert server.lrange(spider_keys["start_urls"], 0, -1) == [b"http://www.news.example.cn/",
                                                                   b"https://gov.example.org/list.html"]
        assert server.smembers(spider_keys["domains"]) == {b"news.example.cn", b"gov.example.org"}
        server.sadd(spider_keys["dupefilter"], "f" * 40)
    assert "2 start URLs waiting, 2 domains" in frontier(redis) and "1 URLs seen" in frontier(redis)
    assert parse_seed(b'{"url": "http://a.cn/x"}') == "http://a.cn/x" and parse_seed(b"ftp://a.cn/") is None
    bad = subprocess.run(scrapy_command("seed", "site", "ftp://a.cn/", settings=redis), cwd=ROOT,
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode != 0 and "http(s)" in bad.stderr
    reset = subprocess.run(scrapy_command("frontier", "site", "--reset", settings=redis), cwd=ROOT,
                           capture_output=True, text=True, timeout=60)
    assert "0 requests queued, 0 URLs seen, 0 start URLs waiting, 0 domains" in reset.stdout
