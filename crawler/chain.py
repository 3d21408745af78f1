"""The pipeline chain outside a crawl: the ITEM_PIPELINES steps, built from settings, one item at a time."""

from __future__ import annotations

import logging
from types import SimpleNamespace
from typing import Any

from scrapy.exceptions import DropItem, NotConfigured
from scrapy.settings import BaseSettings
from scrapy.statscollectors import MemoryStatsCollector
from scrapy.utils.conf import build_component_list
from scrapy.utils.misc import load_object

from crawler.items import Article

logger = logging.getLogger(__name__)


def drop_reason(error: DropItem) -> str:
    """The counted reason of a drop: `step:reason`, without any detail after a second colon."""
    return ":".join(str(error).split(":")[:2])


class Chain:
    """The crawl's item pipelines, in order, without a crawler: what `scrapy clean` runs.

    Steps only read `crawler.settings` and `crawler.stats` in `from_crawler`, so a namespace with those
    two is enough; a step that raises NotConfigured (the store, when STORE_ENABLED is off) is left out.
    """

    def __init__(self, settings: BaseSettings) -> None:
        self.settings = settings
        stand_in = SimpleNamespace(settings=settings, spider=None)
        self.stats = MemoryStatsCollector(stand_in)  # type: ignore[arg-type]
        stand_in.stats = self.stats
        self.steps: list[Any] = []
        for path in build_component_list(settings.getwithbase("ITEM_PIPELINES")):
            try:
                self.steps.append(load_object(path).from_crawler(stand_in))
            except NotConfigured as error:
                logger.debug("Step %s left out: %s", path, error)

    def open(self) -> None:
        for step in self.steps:
            if hasattr(step, "open_spider"):
                step.open_spider()

    def close(self) -> None:
        for step in self.steps:
            if hasattr(step, "close_spider"):
                step.close_spider()

    def process(self, item: Article) -> Article:
        """Run every step on `item`; raises DropItem with the step's reason when one drops it."""
        for step in self.steps:
            try:
                item = step.process_item(item)
            except DropItem:
                raise
            except Exception as error:  # a step's bug must cost one document, never the run
                logger.exception("%s failed on %s", type(step).__name__, item.get("id"))
                raise DropItem(f"error:{type(step).__name__}:{error!r}") from error
        return item

    def __enter__(self) -> Chain:
        self.open()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
