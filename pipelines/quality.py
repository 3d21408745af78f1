"""Quality gates: drop articles too short to be news after cleaning."""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

from scrapy.exceptions import DropItem

from crawler.items import Article

if TYPE_CHECKING:
    from scrapy.statscollectors import StatsCollector

logger = logging.getLogger(__name__)

WORD_CHAR_RE = re.compile(r"\w")


def quality_problem(text: str, min_chars: int) -> str | None:
    """The reason `text` fails the gates (`too_short`), or None when it passes."""
    if len(WORD_CHAR_RE.findall(text)) < min_chars:
        return "too_short"
    return None


class QualityPipeline:
    """Drops items whose text has fewer than QUALITY_MIN_CHARS word characters."""

    def __init__(self, min_chars: int = 30, stats: StatsCollector | None = None) -> None:
        self.min_chars = min_chars
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Any) -> QualityPipeline:
        return cls(crawler.settings.getint("QUALITY_MIN_CHARS", 30), stats=crawler.stats)

    def process_item(self, item: Article) -> Article:
        problem = quality_problem(item.get("text") or "", self.min_chars)
        if problem:
            if self.stats:
                self.stats.inc_value(f"quality/dropped/{problem}")
            raise DropItem(f"quality:{problem}")
        return item
