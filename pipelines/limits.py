"""Page limits: pages too big, too many elements or links, too deep, or too slow to extract are dropped."""

from __future__ import annotations

import re
from itertools import accumulate, islice
from operator import sub
import time
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from scrapy.exceptions import DropItem, NotConfigured

from crawler.items import Article

if TYPE_CHECKING:
    from scrapy.statscollectors import StatsCollector

# An opening tag: what the parser turns into an element. Counted by regex, without parsing.
OPEN_TAG_RE = re.compile(r"<[A-Za-z]")
# Start and end tags, for a rough depth count.
ROUGH_TAG_RE = re.compile(r"<(/?)(?!(?:area|base|br|col|embed|hr|img|input|link|meta|param|source|track|wbr)\b)"
                          r"[A-Za-z]", re.IGNORECASE)
LINK_RE = re.compile(r"<a[\s>]", re.IGNORECASE)
TAG_RE = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9:-]*)[^>]*?(/?)>")
# Elements that never hold others, and elements a parser closes when a sibling of the same name opens (or, for
# <p>, when a block opens): without these rules tag soup would look far deeper than the tree it parses to.
VOID = frozenset("area base basefont br col command embed frame hr img input isindex keygen link meta param "
                 "source track wbr".split())
SIBLING_CLOSED = frozenset("a p li dt dd tr td th option optgroup thead tbody tfoot rt rp".split())
RAW_TEXT = frozenset({"script", "style", "textarea", "title", "xmp", "noscript"})
CLOSES_P = frozenset("address article aside blockquote div dl fieldset footer form h1 h2 h3 h4 h5 h6 header hr "
                     "main nav ol p pre section table ul li dt dd".split())
# libxml2 (lxml 6) stops nesting here and reports it (see LIMITS_MAX_DEPTH in crawler/settings.py).
LIBXML2_MAX_DEPTH = 255
SIBLING_REACH = 4  # levels looked up for that sibling: inline elements left open inside it


@dataclass(frozen=True)
class PageLimits:
    max_html_chars: int = 5_000_000  # a long article is 50,000 characters of HTML around 10,000 of text
    max_elements: int = 200_000  # news pages hold 1,000 to 20,000; 200,000 costs lxml ~0.5 s and 100 MB
    # libxml2 (lxml 6, libxml2 2.14) stops nesting at 255 levels and silently loses everything below and
    # after, so a deeper page extracts to nothing or to a fragment: dropped with a clear reason instead.
    max_depth: int = 256
    max_links: int = 20_000  # a link farm, not an article; trafilatura's link-density checks get slow past it
    max_seconds: float = 10.0  # extraction of a big page takes ~1 s; 10 s is a pathological page


def rough_depth(html: str) -> int:
    """The deepest running count of start tags (void elements left out) minus end tags, never below 0, in
    C-speed passes: implied end tags (unclosed <p>, <li>, <td>) only make it larger than the parser's depth,
    so a page far below the limit here needs no exact count. (Stray end tags make it smaller; a page of thousands of them among
    thousands of unclosed tags could slip through, and then loses what libxml2 cuts, nothing else.)"""
    # Clamped at 0, the running depth is the running sum minus the lowest the sum has been (when below 0):
    # C-level accumulations instead of a Python step per tag.
    sums = list(accumulate(map(_STEP.__getitem__, ROUGH_TAG_RE.findall(html))))
    lowest = islice(accumulate(sums, min, initial=0), 1, None)
    return max(map(sub, sums, lowest), default=0)


_STEP = {"": 1, "/": -1}


def nesting_depth(html: str, stop_at: int) -> int:
    """How deep the elements of `html` nest, as an HTML parser would build them (approximately: void elements,
    implied end tags, stray end tags and script text handled). Stops counting past
    `stop_at`."""
    stack: list[str] = []
    deepest = 0
    lowered = html.lower()
    position = 0
    while (match := TAG_RE.search(html, position)) is not None:
        position = match.end()
        closing, name, self_closing = match.group(1), match.group(2).lower(), match.group(3)
        if name in RAW_TEXT and not closing and not self_closing:
            end = lowered.find(f"</{name}", position)  # script and style text is not markup
            position = len(html) if end < 0 else end
            continue
        if closing:
            if name in stack:
                del stack[len(stack) - 1 - stack[::-1].index(name):]
            continue
        if name in VOID or self_closing:
            continue
        if stack and stack[-1] == "p" and name in CLOSES_P:
            stack.pop()
        if name in SIBLING_CLOSED:  # an open <li> (<td>, <p>...) a few levels up is closed by its sibling
            for back in range(1, min(SIBLING_REACH, len(stack)) + 1):
                if stack[-back] == name:
                    del stack[-back:]
                    break
        stack.append(name)
        if len(stack) > deepest:
            deepest = len(stack)
            if deepest > stop_at:
                break
    return deepest


def page_problem(html: str, limits: PageLimits) -> str | None:
    """The first limit `html` breaks (`too_large`, `too_many_elements`, `too_many_links`, `too_deep`), or
    None. Cheapest checks first; none parses the page. The depth is counted only for a limit below libxml2's
    cap: at the cap the parser itself reports a cut page (pipelines/extract.py)."""
    if len(html) > limits.max_html_chars:
        return "too_large"
    if len(OPEN_TAG_RE.findall(html)) > limits.max_elements:
        return "too_many_elements"
    if len(LINK_RE.findall(html)) > limits.max_links:
        return "too_many_links"
    # At libxml2's own cap the parser reports the cut (pipelines/extract.py parse_page drops the page as
    # limits:too_deep for free); only a lower limit needs counting here.
    if (limits.max_depth < LIBXML2_MAX_DEPTH and rough_depth(html) > limits.max_depth // 2
            and nesting_depth(html, limits.max_depth) > limits.max_depth):
        return "too_deep"
    return None


# When each item entered extraction (set by PageLimitsPipeline, read by ExtractionBudgetPipeline).
_started: weakref.WeakKeyDictionary[Article, float] = weakref.WeakKeyDictionary()


def limits_from_settings(settings: Any) -> PageLimits:
    if not settings.getbool("LIMITS_ENABLED", True):
        raise NotConfigured("LIMITS_ENABLED is off")
    default = PageLimits()
    return PageLimits(settings.getint("LIMITS_MAX_HTML_CHARS", default.max_html_chars),
                      settings.getint("LIMITS_MAX_ELEMENTS", default.max_elements),
                      settings.getint("LIMITS_MAX_DEPTH", default.max_depth),
                      settings.getint("LIMITS_MAX_LINKS", default.max_links),
                      settings.getfloat("LIMITS_MAX_SECONDS", default.max_seconds))


class _LimitsStep:
    def __init__(self, limits: PageLimits, stats: StatsCollector | None = None) -> None:
        self.limits = limits
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Any) -> Any:
        return cls(limits_from_settings(crawler.settings), stats=crawler.stats)

    def drop(self, reason: str) -> DropItem:
        if self.stats:
            self.stats.inc_value(f"limits/dropped/{reason}")
        return DropItem(f"limits:{reason}")


class PageLimitsPipeline(_LimitsStep):
    """Before extraction (150): drops a page above any limit, then starts its extraction clock."""

    def process_item(self, item: Article) -> Article:
        if item.get("kind") == "text":
            if len(item.get("text") or "") > self.limits.max_html_chars:
                raise self.drop("too_large")
            return item
        problem = page_problem(item.get("html") or "", self.limits)
        if problem:
            raise self.drop(problem)
        _started[item] = time.monotonic()
        return item


class ExtractionBudgetPipeline(_LimitsStep):
    """After extraction (250): drops a page whose extraction took longer than LIMITS_MAX_SECONDS. Parsing is C
    code and cannot be interrupted; the pre-checks are what keep a page from stalling a crawl, this catches
    what slips through them and counts it."""

    def process_item(self, item: Article) -> Article:
        started = _started.pop(item, None)
        if started is not None and time.monotonic() - started > self.limits.max_seconds:
            raise self.drop("slow")
        return item
