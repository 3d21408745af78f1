"""Log formatter: a dropped item is logged as its reason and URL, not as the whole item."""

from __future__ import annotations

import logging
from typing import Any

from scrapy.logformatter import LogFormatter, LogFormatterResult


class ReasonLogFormatter(LogFormatter):
    """Drops are expected events of a crawl (duplicates, listings, spam): INFO with the reason only."""

    def dropped(self, item: Any, exception: BaseException, response: Any, spider: Any = None,
                *args: Any, **kwargs: Any) -> LogFormatterResult:
        url = item.get("url") if hasattr(item, "get") else None
        return {"level": logging.INFO, "msg": "Dropped: %(exception)s (%(url)s)",
                "args": {"exception": exception, "url": url}}
