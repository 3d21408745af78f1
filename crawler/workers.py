"""The chain's stateless steps on every core: a process pool shared by crawls and `scrapy clean`.

The steps ordered below CLEAN_WORKERS_SPLIT in ITEM_PIPELINES (decode, extract, clean, script,
language, quality) keep no state between items: they run in worker processes. The steps from the split
on (exact and near-duplicate detection, the store) hold the run's state and its database connections:
they run in the main process, one item at a time, in the order items come back.

In a crawl this keeps CPU-bound extraction off the Twisted reactor, which goes on downloading while
workers clean; `ITEM_PROCESSOR = "crawler.workers.ItemProcessor"` (settings.py) does it. With
CLEAN_WORKERS = 0 every step runs in the main process, as plain Scrapy would run them.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import pickle
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

from itemadapter import ItemAdapter
from scrapy.exceptions import DropItem
from scrapy.pipelines import ItemPipelineManager
from scrapy.settings import BaseSettings, Settings
from scrapy.utils.asyncio import is_asyncio_available
from scrapy.utils.conf import build_component_list

from crawler.chain import Chain
from crawler.items import Article, new_article

logger = logging.getLogger(__name__)

# Steps ordered below this in ITEM_PIPELINES are stateless and may run in worker processes.
DEFAULT_SPLIT = 700
# How often a worker checks that its parent is alive (seconds).
PARENT_CHECK_S = 1.0


def worker_count(settings: BaseSettings) -> int:
    """CLEAN_WORKERS: a number, or -1 / "auto" for one per core."""
    value = settings.get("CLEAN_WORKERS", 0)
    if str(value).strip().lower() in ("auto", "-1"):
        return os.cpu_count() or 1
    return max(0, int(value))


def split_steps(settings: BaseSettings) -> tuple[dict[str, int], dict[str, int]]:
    """ITEM_PIPELINES as (stateless steps, stateful steps), each {path: order}."""
    split = settings.getint("CLEAN_WORKERS_SPLIT", DEFAULT_SPLIT)
    steps = settings.getwithbase("ITEM_PIPELINES")
    ordered = {path: steps[path] for path in build_component_list(steps)}
    pure = {path: order for path, order in ordered.items() if order is not None and order < split}
    return pure, {path: order for path, order in ordered.items() if path not in pure}


def _portable(value: Any) -> Any:
    """A setting's value as plain data: nested settings as dicts, classes and functions used as keys (Scrapy
    accepts them in component dicts such as SPIDER_MIDDLEWARES) as their import paths."""
    if isinstance(value, BaseSettings):
        value = {key: value[key] for key in value}
    if isinstance(value, dict):
        return {(f"{key.__module__}.{key.__qualname__}" if callable(key) else key): _portable(item)
                for key, item in value.items()}
    return value


def portable_settings(settings: BaseSettings) -> dict[str, Any]:
    """`settings` as a dict a spawned process can rebuild: values that cannot be pickled are left out."""
    values: dict[str, Any] = {}
    for name in settings:
        value = _portable(settings[name])
        try:
            pickle.dumps(value)
        except (pickle.PicklingError, TypeError, AttributeError):
            logger.debug("Setting %s not passed to the cleaning workers: not picklable", name)
            continue
        values[name] = value
    return values


def worker_settings(settings: BaseSettings, steps: dict[str, int]) -> dict[str, Any]:
    """`settings` as plain data whose ITEM_PIPELINES are exactly `steps`."""
    return {**portable_settings(settings), "ITEM_PIPELINES_BASE": {}, "ITEM_PIPELINES": _portable(steps)}


def with_steps(settings: BaseSettings, steps: dict[str, int]) -> Settings:
    """A copy of `settings` whose ITEM_PIPELINES are exactly `steps`."""
    return Settings(worker_settings(settings, steps))


# --- Worker side: one Chain of the stateless steps per process ----------------------------------
_chain: Chain | None = None


def _exit_with_parent(parent: int) -> None:
    """Stop this worker when the process that started it is gone (a crawl killed with SIGKILL cannot
    shut its pool down; its workers would wait for work forever)."""
    while os.getppid() == parent:
        time.sleep(PARENT_CHECK_S)
    os._exit(1)


def _init_worker(settings: dict[str, Any]) -> None:
    global _chain
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True).start()
    logging.basicConfig(level=settings.get("LOG_LEVEL", "INFO"), format="%(asctime)s [%(name)s] %(levelname)s: %(message)s")
    _chain = Chain(Settings(settings))
    _chain.open()


def _process(record: dict[str, Any]) -> tuple[str, Any, dict[str, Any]]:
    """("item", fields, stats) or ("drop", reason text, stats): what the stateless steps made of `record`."""
    assert _chain is not None
    _chain.stats.clear_stats()
    try:
        item = _chain.process(new_article(**record))
    except DropItem as error:
        return "drop", str(error), _chain.stats.get_stats()
    return "item", ItemAdapter(item).asdict(), _chain.stats.get_stats()


class StepPool:
    """The stateless steps in `workers` processes (spawned: safe next to a running reactor's threads)."""

    def __init__(self, settings: BaseSettings, workers: int) -> None:
        pure, _ = split_steps(settings)
        self.steps = list(pure)
        self.workers = workers
        self.executor = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                                            initializer=_init_worker,
                                            initargs=(worker_settings(settings, pure),))

    def submit(self, item: Article) -> Future[tuple[str, Any, dict[str, Any]]]:
        return self.executor.submit(_process, ItemAdapter(item).asdict())

    def close(self) -> None:
        self.executor.shutdown(wait=True, cancel_futures=True)


def merge_stats(stats: Any, deltas: dict[str, Any]) -> None:
    """Add a worker's per-item counters to the run's stats collector."""
    for key, value in deltas.items():
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            stats.inc_value(key, value)


class ItemProcessor(ItemPipelineManager):
    """Scrapy's item pipeline manager, with the stateless steps offloaded to a StepPool.

    With CLEAN_WORKERS = 0 it is Scrapy's own manager over every step."""

    @classmethod
    def _get_mwlist_from_settings(cls, settings: Settings) -> list[Any]:
        if worker_count(settings) == 0:
            return super()._get_mwlist_from_settings(settings)
        _, stateful = split_steps(settings)
        return build_component_list(stateful)

    def __init__(self, *middlewares: Any, crawler: Any = None) -> None:
        super().__init__(*middlewares, crawler=crawler)
        self.pool: StepPool | None = None
        if crawler is not None and (workers := worker_count(crawler.settings)):
            self.pool = StepPool(crawler.settings, workers)
            logger.info("Cleaning on %d worker processes: %s", workers,
                        ", ".join(getattr(step, "__name__", str(step)) for step in self.pool.steps))

    async def process_item_async(self, item: Any) -> Any:
        if self.pool is not None:
            future = self.pool.submit(item)
            if is_asyncio_available():
                kind, payload, deltas = await asyncio.wrap_future(future)
            else:  # a non-asyncio reactor: wait in a reactor thread
                from twisted.internet.threads import deferToThread

                kind, payload, deltas = await deferToThread(future.result)
            if self.crawler is not None:
                merge_stats(self.crawler.stats, deltas)
            if kind == "drop":
                raise DropItem(payload)
            item = new_article(**payload)
        return await super().process_item_async(item)

    async def close_spider_async(self) -> None:
        try:
            await super().close_spider_async()
        finally:
            if self.pool is not None:
                self.pool.close()
