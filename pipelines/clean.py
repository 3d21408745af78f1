"""Clean step: text-level repair of extracted articles (spam, boilerplate, pinyin, mojibake, lines, punctuation)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from scrapy.exceptions import DropItem

from crawler.items import Article, count_cleaning
from pipelines.boilerplate import remove_boilerplate
from pipelines.lines import TERMINAL, collapse_duplicate_lines, join_broken_lines, normalise_spaces, strip_html_residue
from pipelines.mojibake import repair_mojibake
from pipelines.pinyin import strip_pinyin_annotations
from pipelines.punctuation import restore_punctuation
from pipelines.spam import clean_title_spam, remove_spam_lines

if TYPE_CHECKING:
    from scrapy.statscollectors import StatsCollector

logger = logging.getLogger(__name__)

# A body of which more than this share was spam lines is a hacked or spam page, not an article
# with a spam line injected.
SPAM_BODY_SHARE = 0.5
# Passes until cleaning reaches a fixed point; real pages settle in one or two.
MAX_PASSES = 3
# Text dumps put the title on the first line; longer first lines are prose.
TITLE_MAX_CHARS = 60


@dataclass
class CleanResult:
    text: str
    counts: dict[str, int] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)
    dropped_reason: str | None = None


def clean_text(text: str, title: str | None = None) -> CleanResult:
    """Clean `text` until it no longer changes (joined lines can form a new spam or dateline line),
    so that cleaning is idempotent; counts and metadata of every pass are merged."""
    result = _clean_once(text, title)
    if result.text == text:
        return result  # nothing changed: another pass would see the same text and change nothing
    for _ in range(MAX_PASSES - 1):
        again = _clean_once(result.text, title)
        if again.text == result.text:
            break
        for key, value in again.counts.items():
            result.counts[key] = result.counts.get(key, 0) + value
        for key, value in again.meta.items():
            result.meta.setdefault(key, value)
        result.text = again.text
        result.dropped_reason = result.dropped_reason or again.dropped_reason
    return result


def _clean_once(text: str, title: str | None = None) -> CleanResult:
    """Run the text repairs once, in the order they depend on each other.

    Tags and entities go first (they hide everything else); mojibake is repaired before any
    punctuation changes (repair reads the damaged bytes as they are); pinyin goes before the script
    step converts characters; spam and boilerplate lines go before broken lines are joined (so
    furniture is not glued to prose); punctuation is restored last."""
    counts: dict[str, int] = {}

    def add(more: dict[str, int]) -> None:
        for key, value in more.items():
            if value:
                counts[key] = counts.get(key, 0) + value

    text, residue = strip_html_residue(text)
    add({"html_residue": residue})
    text = normalise_spaces(text)
    text, mojibake = repair_mojibake(text)
    add(mojibake)
    text, pinyin = strip_pinyin_annotations(text)
    add({"pinyin_removed": pinyin})
    text, spam, spam_share = remove_spam_lines(text)
    add(spam)
    text, boilerplate, meta = remove_boilerplate(text, title)
    add(boilerplate)
    text = normalise_spaces(text)
    text, duplicates = collapse_duplicate_lines(text)
    add({"duplicate_lines": duplicates})
    text, joined = join_broken_lines(text)
    add({"broken_lines_joined": joined})
    text, punctuation = restore_punctuation(text)
    add({"punctuation_restored": punctuation})
    dropped = "spam:body" if spam_share > SPAM_BODY_SHARE else None
    return CleanResult(text, counts, meta, dropped)


def first_line_title(text: str) -> str | None:
    """The title of an already-extracted text dump: its first line, when that reads as a heading."""
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    if first and len(first) <= TITLE_MAX_CHARS and not first.endswith(tuple(TERMINAL)) and "，" not in first:
        return first
    return None


class CleanPipeline:
    """Cleans `text` and `title`, fills metadata found in the text, drops spam and empty bodies."""

    def __init__(self, enabled: bool = True, drop_spam: bool = True, stats: StatsCollector | None = None) -> None:
        self.enabled = enabled
        self.drop_spam = drop_spam
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Any) -> CleanPipeline:
        settings = crawler.settings
        return cls(settings.getbool("CLEAN_ENABLED", True), settings.getbool("CLEAN_DROP_SPAM", True),
                   stats=crawler.stats)

    def drop(self, reason: str) -> DropItem:
        if self.stats:
            self.stats.inc_value(f"clean/dropped/{reason.split(':')[-1]}")
        return DropItem(reason)

    def process_item(self, item: Article) -> Article:
        if not self.enabled:
            return item
        title = item.get("title")
        if not title and item.get("kind") == "text":
            title = first_line_title(item.get("text") or "")
            item["title"] = title
        if title:
            title, title_spam = clean_title_spam(title)
            title, _ = strip_pinyin_annotations(title)
            title, _ = restore_punctuation(title)
            item["title"] = title.strip() or None
            count_cleaning(item, {"title_spam_segments": title_spam})
        result = clean_text(item.get("text") or "", item.get("title"))
        count_cleaning(item, result.counts)
        if result.dropped_reason and self.drop_spam:
            raise self.drop(result.dropped_reason)
        if not result.text.strip():
            raise self.drop("clean:empty")
        item["text"] = result.text
        for name, value in result.meta.items():
            if value and not item.get(name):
                item[name] = value
        return item
