"""Distributed crawls on Redis (scrapy-redis): one setting, REDIS_URL, turns any number of workers into one crawl.

With REDIS_URL set, `DistributedAddon` (in ADDONS) swaps in scrapy-redis's scheduler and dupefilter, so every
worker pops requests from, and pushes discovered links to, one shared priority queue, and a URL seen by any
worker is not requested again by another. Keys, per spider and under REDIS_KEY_PREFIX:

    <prefix><spider>:requests     sorted set, the shared request queue (scrapy-redis PriorityQueue)
    <prefix><spider>:dupefilter   set of request fingerprints seen by any worker
    <prefix><spider>:start_urls   list of start URLs to crawl (`scrapy seed`, or redis-cli LPUSH)
    <prefix><spider>:domains      set of domains the workers may crawl (those of every start URL)

`DistributedSpiderMixin` makes a spider read `<spider>:start_urls` when it is idle and wait for more (for
MAX_IDLE_TIME_BEFORE_CLOSE seconds, 0 = forever) instead of closing. SCHEDULER_PERSIST is on: the queue and
the dupefilter outlive the workers, so workers can join and leave; `scrapy frontier SPIDER --reset` starts a
new crawl round.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator, Iterable
from typing import Any
from urllib.parse import urlsplit

import redis
import scrapy
from scrapy import signals
from scrapy.downloadermiddlewares.offsite import OffsiteMiddleware
from scrapy.exceptions import DontCloseSpider
from scrapy.utils.httpobj import urlparse_cached

logger = logging.getLogger(__name__)

SCRAPY_OFFSITE = "scrapy.downloadermiddlewares.offsite.OffsiteMiddleware"
# Start URLs taken from Redis per idle check: a worker's share, not the whole list (others take theirs).
SEED_BATCH = 16


def enabled(settings: Any) -> bool:
    return bool(settings.get("REDIS_URL"))


def keys(settings: Any, spider: str) -> dict[str, str]:
    """The Redis keys of `spider`'s distributed crawl (see the module docstring)."""
    prefix = settings.get("REDIS_KEY_PREFIX", "")
    return {name: f"{prefix}{spider}:{name}" for name in ("requests", "dupefilter", "start_urls", "domains")}


def client(settings: Any) -> redis.Redis:
    return redis.Redis.from_url(settings.get("REDIS_URL"), socket_timeout=30, socket_connect_timeout=30)


def url_domain(url: str) -> str:
    """The domain a start URL opens to the crawl: its host without `www.` (subdomains are allowed too)."""
    return (urlsplit(url).hostname or "").removeprefix("www.")


def parse_seed(data: bytes | str) -> str | None:
    """A start URL from a `start_urls` entry: a plain URL, or JSON `{"url": ...}` (scrapy-redis's format)."""
    text = (data.decode("utf-8", "replace") if isinstance(data, bytes) else data).strip()
    if text.startswith("{"):
        try:
            text = str(json.loads(text).get("url") or "")
        except (ValueError, AttributeError):
            return None
    return text if urlsplit(text).scheme in ("http", "https") and urlsplit(text).hostname else None


def push_seeds(server: redis.Redis, spider_keys: dict[str, str], urls: Iterable[str]) -> int:
    """Queue start URLs for the workers (their domains first, so no worker drops their links as offsite)."""
    urls = list(urls)
    if not urls:
        return 0
    with server.pipeline() as pipe:
        pipe.sadd(spider_keys["domains"], *{url_domain(u) for u in urls})
        pipe.rpush(spider_keys["start_urls"], *urls)
        pipe.execute()
    return len(urls)


class DistributedAddon:
    """Scrapy add-on: with REDIS_URL set, the scheduler, dupefilter and offsite filter become shared ones."""

    def update_settings(self, settings: Any) -> None:
        if not enabled(settings):
            return
        prefix = settings.get("REDIS_KEY_PREFIX", "")
        for name, value in (("SCHEDULER", "scrapy_redis.scheduler.Scheduler"),
                            ("DUPEFILTER_CLASS", "scrapy_redis.dupefilter.RFPDupeFilter"),
                            ("SCHEDULER_PERSIST", True),
                            ("SCHEDULER_QUEUE_KEY", f"{prefix}%(spider)s:requests"),
                            ("SCHEDULER_DUPEFILTER_KEY", f"{prefix}%(spider)s:dupefilter")):
            settings.set(name, value, priority="addon")
        # In place, whatever the priority the project gave DOWNLOADER_MIDDLEWARES (it outranks add-ons).
        # Scrapy's own filter is listed in DOWNLOADER_MIDDLEWARES_BASE by import path: disabled by that path.
        settings["DOWNLOADER_MIDDLEWARES"].set(SCRAPY_OFFSITE, None, priority="addon")
        settings.set_in_component_priority_dict("DOWNLOADER_MIDDLEWARES", SharedDomainsOffsite, 50)


class SharedDomainsOffsite(OffsiteMiddleware):
    """Scrapy's offsite filter, plus the crawl's shared `domains` set: a link to a site another worker was
    seeded with is followed here too (the set is asked only for hosts outside this worker's own list)."""

    def should_follow(self, request: scrapy.Request, spider: scrapy.Spider) -> bool:
        distributed = getattr(spider, "distributed", False)
        # Scrapy allows every site when allowed_domains is empty: a worker not yet told any domain allows none.
        if (not distributed or getattr(spider, "allowed_domains", None)) and super().should_follow(request, spider):
            return True
        domain = spider.shared_domain(urlparse_cached(request).hostname or "") if distributed else None
        if domain is None:
            return False
        spider.allowed_domains = [*spider.allowed_domains, domain]  # type: ignore[attr-defined]
        return True


class DistributedSpiderMixin:
    """Start URLs from Redis and a wait for more when idle (REDIS_URL only; otherwise the spider is unchanged).

    A spider using it calls `setup_distributed(crawler)` in from_crawler and keeps `start_urls` and
    `allowed_domains` lists (empty allowed_domains would allow every site)."""

    distributed = False
    start_urls: list[str]
    allowed_domains: list[str]

    def setup_distributed(self, crawler: Any) -> None:
        settings = crawler.settings
        if not enabled(settings):
            return
        self.distributed = True
        self.redis = client(settings)
        self.redis_keys = keys(settings, self.name)  # type: ignore[attr-defined]
        self.max_idle = settings.getfloat("MAX_IDLE_TIME_BEFORE_CLOSE", 0)
        self.idle_since: float | None = None
        self.last_responses = -1
        if self.start_urls:
            push_domains = {url_domain(u) for u in self.start_urls}
            self.redis.sadd(self.redis_keys["domains"], *push_domains)
        known = {d.decode("utf-8") for d in self.redis.smembers(self.redis_keys["domains"])}
        self.allowed_domains = sorted(set(self.allowed_domains) | known)
        crawler.signals.connect(self.distributed_idle, signal=signals.spider_idle)
        crawler.signals.connect(self.redis.close, signal=signals.spider_closed)
        logger.info("Distributed crawl on %s: start URLs from %s, queue %s", crawler.settings.get("REDIS_URL"),
                    self.redis_keys["start_urls"], self.redis_keys["requests"])

    async def start(self) -> AsyncIterator[Any]:
        # Filtered by the shared dupefilter: every worker may be given the same -a start=..., one fetches it.
        for url in self.start_urls:
            yield scrapy.Request(url, dont_filter=not self.distributed)

    def shared_domain(self, host: str) -> str | None:
        """The crawl's domain (from the shared set) that `host` belongs to, or None."""
        if not self.distributed or not host:
            return None
        labels = host.lower().removeprefix("www.").split(".")
        candidates = [".".join(labels[i:]) for i in range(len(labels))]
        with self.redis.pipeline() as pipe:
            for candidate in candidates:
                pipe.sismember(self.redis_keys["domains"], candidate)
            found = pipe.execute()
        return next((c for c, member in zip(candidates, found) if member), None)

    def seed_requests(self) -> list[scrapy.Request]:
        popped = self.redis.lpop(self.redis_keys["start_urls"], SEED_BATCH) or []
        requests = []
        for data in popped:
            url = parse_seed(data)
            if url is None:
                self.crawler.stats.inc_value("distributed/bad_seed")  # type: ignore[attr-defined]
                logger.warning("Ignoring start URL entry %r: not an http(s) URL", data[:200])
                continue
            if url_domain(url) not in self.allowed_domains:
                self.redis.sadd(self.redis_keys["domains"], url_domain(url))
                self.allowed_domains = sorted({*self.allowed_domains, url_domain(url)})
            requests.append(scrapy.Request(url))
        return requests

    def distributed_idle(self) -> None:
        """spider_idle: take start URLs from Redis, or wait for new work until the idle time runs out."""
        crawler = self.crawler  # type: ignore[attr-defined]
        seeds = self.seed_requests()
        for request in seeds:
            crawler.engine.crawl(request)
        responses = crawler.stats.get_value("response_received_count", 0)
        now = time.monotonic()
        if seeds or responses != self.last_responses or self.idle_since is None:
            self.last_responses, self.idle_since = responses, now
        if self.max_idle and now - self.idle_since >= self.max_idle:
            logger.info("No work from Redis for %.0f s (MAX_IDLE_TIME_BEFORE_CLOSE): closing", now - self.idle_since)
            return
        raise DontCloseSpider
