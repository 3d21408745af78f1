"""Script step: detect Traditional vs Simplified by what OpenCC changes, then convert to the target."""

from __future__ import annotations

import logging
import re
from collections import Counter
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import opencc

from crawler.items import Article, count_cleaning

if TYPE_CHECKING:
    from scrapy.statscollectors import StatsCollector

logger = logging.getLogger(__name__)

HAN_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")

# Share of script-specific characters above which a text is called one script; in between it is
# "mixed". 0.8 leaves room for the few characters OpenCC maps both ways (e.g. 著/着, 干/乾).
SCRIPT_MAJORITY = 0.8

SCRIPT_OF_TARGET = {"t2s": "Hans", "tw2s": "Hans", "hk2s": "Hans", "jp2t": "Hant",
                    "s2t": "Hant", "s2tw": "Hant", "s2hk": "Hant", "s2twp": "Hant",
                    "t2tw": "Hant", "t2hk": "Hant", "tw2sp": "Hans"}


@lru_cache(maxsize=None)
def converter(config: str) -> Any:
    """One OpenCC converter per config; native `opencc` and the pure reimplementation share this API."""
    return opencc.OpenCC(config)


def detect_script(text: str) -> str | None:
    """`Hans`, `Hant` or `mixed` from how many Han characters t2s and s2t each change; None without Han."""
    counts = Counter(HAN_RE.findall(text))
    if not counts:
        return None
    chars = "".join(counts)
    to_simplified = converter("t2s").convert(chars)
    to_traditional = converter("s2t").convert(chars)
    if len(to_simplified) != len(chars) or len(to_traditional) != len(chars):
        # Conversion is char-for-char for single characters; guard anyway, one char at a time.
        to_simplified = "".join(converter("t2s").convert(c)[:1] or c for c in chars)
        to_traditional = "".join(converter("s2t").convert(c)[:1] or c for c in chars)
    traditional = sum(counts[c] for c, s in zip(chars, to_simplified) if s != c)
    simplified = sum(counts[c] for c, t in zip(chars, to_traditional) if t != c)
    specific = traditional + simplified
    if specific == 0:
        # Every character is written the same in both scripts: Simplified by convention.
        return "Hans"
    share = traditional / specific
    if share >= SCRIPT_MAJORITY:
        return "Hant"
    if share <= 1 - SCRIPT_MAJORITY:
        return "Hans"
    return "mixed"


def convert_script(text: str, target: str) -> str:
    """`text` converted with the OpenCC config `target`; "none" returns it unchanged."""
    if target == "none" or not text:
        return text
    return converter(target).convert(text)


class ScriptPipeline:
    """Records `original_script`, converts title and text to SCRIPT_TARGET, records `script`."""

    def __init__(self, target: str = "t2s", stats: StatsCollector | None = None) -> None:
        self.target = target.removesuffix(".json")
        self.stats = stats
        if self.target != "none":
            converter(self.target)  # fail at start-up on an unknown config, not per item

    @classmethod
    def from_crawler(cls, crawler: Any) -> ScriptPipeline:
        return cls(crawler.settings.get("SCRIPT_TARGET", "t2s"), stats=crawler.stats)

    def process_item(self, item: Article) -> Article:
        text = item.get("text") or ""
        original = detect_script(text)
        item["original_script"] = original
        if self.target == "none":
            item["script"] = original if original in ("Hans", "Hant") else None
            return item
        converted = convert_script(text, self.target)
        changed = sum(1 for a, b in zip(text, converted) if a != b)
        item["text"] = converted
        # Metadata is stored in the same script as the text, so one query finds 编辑 and 編輯 alike.
        for name in ("title", "source", "editor", "site_name"):
            if item.get(name):
                item[name] = convert_script(item[name], self.target)
        if item.get("authors"):
            item["authors"] = [convert_script(author, self.target) for author in item["authors"]]
        item["script"] = SCRIPT_OF_TARGET.get(self.target, original) if original else None
        count_cleaning(item, {"script_converted_chars": changed})
        if changed and self.stats:
            self.stats.inc_value("script/converted_items")
        return item
