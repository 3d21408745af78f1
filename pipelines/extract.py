"""Extract step: main text and metadata from decoded HTML (spam pruning, trafilatura, Chinese metadata)."""

from __future__ import annotations

import copy
import logging
import re
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import trafilatura
from lxml import etree
from lxml import html as lxml_html
from scrapy.exceptions import DropItem
from htmldate import find_date
from trafilatura.metadata import examine_meta, extract_author, extract_meta_json, extract_title, extract_url
from trafilatura.settings import Document, set_date_params, use_config

from crawler.items import Article, count_cleaning
from pipelines.htmlspam import prune_spam_html, text_len
from pipelines.metadata import (parse_byline, parse_dateline, parse_meta_datetime, site_from_title,
                                strip_site_suffix)

if TYPE_CHECKING:
    from scrapy.statscollectors import StatsCollector

logger = logging.getLogger(__name__)

DATA = Path(__file__).parent / "data"
# Chinese text carries about three times the information per character of English: trafilatura's
# defaults (250 / 1 characters, tuned on English) throw away short Chinese briefs, so the threshold
# for "the main extraction found enough" is lowered.
MIN_EXTRACTED_SIZE = 120
# A furniture element (share bar, related list...) is small; never prune one holding this share of
# the page's text, whatever its class name says (some sites call the article box "content-share").
FURNITURE_MAX_TEXT_SHARE = 0.3
# Header/footer lines scanned for datelines and bylines: the lines around the title and the end.
HEADER_LINES = 40
# A table cell holding this much text in sentences is a layout cell around prose, not a data cell.
LAYOUT_CELL_CHARS = 100
SENTENCE_END_RE = re.compile(r"[。！？]|[.!?](?=\s)")
FOOTER_LINES = 25
# trafilatura's second opinion (readability, then jusText: its non-fast mode) changes the main
# extractor's result only when that result is short, yet costs ~40% of the extraction time on every
# page. Measured on both benchmark sets: the same text on 321 of 338 pages; every page where it
# differed had a main result under 340 characters but one, where the second opinion was the worse.
SECOND_OPINION_BELOW_CHARS = 500
# ...and is taken when it holds this share of the first result (it extends it rather than replacing it)
# and what it adds is mostly sentences: lines of ADDED_LINE_CHARS or more non-space characters ending as
# SENTENCE_TAIL_RE (a sentence mark, then closing quotes or brackets).
SECOND_OPINION_HOLDS = 0.5
ADDED_LINE_CHARS = 10
SENTENCE_TAIL_RE = re.compile(r"[。！？.!?؟۔…][”’\"'」』）)]*$")
# A line of prose: this many non-space characters and a sentence end (Chinese, Latin, Arabic-script).
PROSE_LINE_CHARS = 40
PROSE_END_RE = re.compile(r"[。！？.!?؟۔]")
# A result under this many non-space characters holding under COVERAGE_LOW of the page's prose lines is
# checked against trafilatura's other modes (see _main_text); measured on both benchmark sets: a longer
# result that holds little of the page's prose is an article beside long comments or summaries, where the
# other modes take those in too.
COVERAGE_CHECK_BELOW_CHARS = 1000
COVERAGE_LOW = 0.2
COVERAGE_MIN = 0.3
COVERAGE_GAIN = 2.5
COVERAGE_HOLDS = 0.2
# A run of this many linked lines (or more) closing the extracted text is teaser cards or topic links,
# not the article's end (see trim_linked_tail); measured on both benchmark sets: 2 and 3 remove the same
# lines, 5 keeps a list of four related stories.
LINKED_TAIL_MIN_LINES = 3
# Phrasing (inline) elements: what a run of loose text in a block container is made of (wrap_loose_text).
PHRASING_TAGS = frozenset({"a", "abbr", "b", "bdi", "bdo", "br", "cite", "code", "data", "dfn", "em", "font", "i", "img",
                           "kbd", "mark", "q", "s", "samp", "small", "span", "strong", "sub", "sup", "time", "u", "var",
                           "wbr"})
LOOSE_TEXT_CONTAINERS = ("div", "section", "article", "main", "td", "center", "body")
URL_IN_TEXT_RE = re.compile(r"https?://|www\.")
ANCHOR_TEXT_XPATH = etree.XPath("//a//text()", smart_strings=False)
LIST_MARK_RE = re.compile(r"^(?:[-*•·|]\s*)+")
HAN_OR_WORD_RE = re.compile(r"[\u4e00-\u9fff]|\w+")
# libxml2 (lxml 6) stops building the tree 255 levels down and silently loses the rest of the page, even
# the text after the deep block; it says so in the parser's error log (ERR_RESOURCE_LIMIT).
DEPTH_CUT_MESSAGE = "Excessive depth"


@lru_cache(maxsize=1)
def trafilatura_config() -> Any:
    config = use_config()
    config.set("DEFAULT", "MIN_EXTRACTED_SIZE", str(MIN_EXTRACTED_SIZE))
    config.set("DEFAULT", "EXTRACTION_TIMEOUT", "0")  # signals do not work off the main thread
    return config


@lru_cache(maxsize=1)
def furniture_names() -> frozenset[str]:
    """Class / id names of page furniture, from data/extract_furniture.txt."""
    return _word_list("extract_furniture.txt")


def _word_list(name: str) -> frozenset[str]:
    """The lower-cased words of a data file, one a line, `#` comments left out."""
    lines = (DATA / name).read_text(encoding="utf-8").splitlines()
    return frozenset(word for line in lines if (word := line.split("#", 1)[0].strip().lower()))


@lru_cache(maxsize=1)
def furniture_parts() -> frozenset[str]:
    """Words that name furniture as a part of a compound class / id, from data/extract_furniture_parts.txt."""
    return _word_list("extract_furniture_parts.txt")


# Compound names join words with hyphens and underscores, BEM-style ("detail-content__content--recommend",
# "article_share_bar"); a furniture word is matched as one of those words, never as a substring of one.
NAME_PARTS_RE = re.compile(r"[-_]+")
# Inline elements are not furniture containers: a code listing's "hljs-comment" span is content.
INLINE_TAGS = frozenset({"a", "abbr", "b", "code", "em", "font", "i", "img", "label", "small", "span", "strong",
                         "sub", "sup", "u"})


def is_furniture(element: lxml_html.HtmlElement) -> bool:
    """Whether a class token or the id of `element` is exactly a furniture name, or (on a block element)
    holds a furniture word as one of its hyphen/underscore-joined parts. Never a substring: "font-sans" or
    "print-tips" on an article wrapper must not match "font" or "print"."""
    names = furniture_names()
    classes = (element.get("class") or "").lower().split()
    ident = (element.get("id") or "").lower()
    if not names.isdisjoint(classes) or ident in names:
        return True
    if element.tag in INLINE_TAGS:
        return False
    parts = furniture_parts()
    return any(not parts.isdisjoint(NAME_PARTS_RE.split(token)) for token in (*classes, ident) if token)


class PageTooDeep(ValueError):
    """The parser cut the page at libxml2's nesting limit: whatever extraction found would be a fragment."""


def parse_page(html: str) -> lxml_html.HtmlElement:
    """The page's tree; PageTooDeep when libxml2 cut it at its depth limit (checked in the parser's own error
    log: free, where counting the nesting in the HTML first cost a millisecond a page)."""
    # From UTF-8 bytes with the encoding given: lxml refuses a str that starts with an XML declaration naming
    # an encoding (XHTML pages of government sites), and would obey a stale declaration in bytes.
    parser = lxml_html.HTMLParser(encoding="utf-8")
    tree = lxml_html.document_fromstring(html.encode("utf-8", "surrogatepass"), parser=parser)
    if any(DEPTH_CUT_MESSAGE in entry.message for entry in parser.error_log):
        raise PageTooDeep("nested deeper than libxml2's 255 levels")
    return tree


# What no reader sees and no later step reads: scripts (but JSON-LD, which carries metadata), styles, SVG
# drawings, noscript fallbacks and templates. Dropped once after parsing, every later pass over the tree and
# trafilatura's own copies and cleaning get cheaper (~1.5 ms a page; the same text on every benchmark page).
INVISIBLE_XPATH = etree.XPath(
    "//script[not(@type='application/ld+json')] | //style | //noscript | //template"
    " | //*[local-name()='svg']")


def drop_invisible(tree: lxml_html.HtmlElement) -> None:
    for element in INVISIBLE_XPATH(tree):
        if element.getparent() is not None:
            element.drop_tree()


@dataclass
class Extraction:
    title: str | None = None
    text: str = ""
    published: str | None = None
    updated: str | None = None
    authors: list[str] = field(default_factory=list)
    source: str | None = None
    site_name: str | None = None
    editor: str | None = None
    counts: dict[str, int] = field(default_factory=dict)


def text_size(text: str) -> int:
    return len(HAN_OR_WORD_RE.findall(text))


def prune_furniture(tree: lxml_html.HtmlElement) -> int:
    """Remove share bars, font-size buttons, comment boxes, related lists... named so by class or id."""
    found = [e for e in tree.xpath("//*[@class or @id]") if e.tag not in ("html", "body") and is_furniture(e)]
    if not found:
        return 0
    total = text_len(tree) or 1
    removed = 0
    for element in found:
        if element.getparent() is None or text_len(element) / total >= FURNITURE_MAX_TEXT_SHARE:
            continue
        element.drop_tree()
        removed += 1
    return removed


def is_prose_cell(cell: lxml_html.HtmlElement) -> bool:
    return text_len(cell) >= LAYOUT_CELL_CHARS and len(SENTENCE_END_RE.findall(cell.text_content())) >= 2


def unwrap_layout_tables(tree: lxml_html.HtmlElement) -> int:
    """Turn tables used for page layout into plain blocks, so the article in a cell is extracted as
    paragraphs and not as a one-row table with the navigation beside it (old government CMS pages).

    A table is layout when a cell holds a nested table or prose: a block of text no data cell holds."""
    unwrapped = 0
    for table in tree.xpath("//table"):
        cells = table.xpath("./tr/td | ./tr/th | ./*/tr/td | ./*/tr/th")
        if not any(cell.find(".//table") is not None or is_prose_cell(cell) for cell in cells):
            continue
        for element in (table, *table.xpath("./tr | ./*"), *table.xpath("./*/tr"), *cells):
            if element.tag in ("table", "tbody", "thead", "tfoot", "tr"):
                element.tag = "div"
            elif element.tag in ("td", "th"):
                element.tag = "div"
        unwrapped += 1
    return unwrapped


def page_lines(tree: lxml_html.HtmlElement) -> list[str]:
    """The visible text of the page as short lines (block boundaries become line breaks)."""
    body = tree.find("body")
    root = body if body is not None else tree
    lines: list[str] = []
    for element in root.iter():
        if element.tag in ("script", "style", "noscript") or not isinstance(element.tag, str):
            continue
        for piece in (element.text, element.tail):
            if piece and not piece.isspace():
                lines.append(" ".join(piece.split()))
    return lines


def meta_index(tree: lxml_html.HtmlElement) -> dict[str, str]:
    """The page's <meta> contents by name, property and itemprop (the first non-empty one of each), in
    one pass over the tree."""
    index: dict[str, str] = {}
    for element in tree.iter("meta"):
        content = (element.get("content") or "").strip()
        if not content:
            continue
        for attribute in ("name", "property", "itemprop"):
            key = element.get(attribute)
            if key:
                index.setdefault(key, content)
    return index


def _meta(index: dict[str, str], *names: str) -> str | None:
    return next((index[name] for name in names if name in index), None)


def _trafilatura_text(tree: lxml_html.HtmlElement, options: dict[str, Any], **mode: bool) -> str:
    # bare_extraction works on its own copy of a parsed tree: `tree` stays as it is.
    found = trafilatura.bare_extraction(tree, **mode, **options)
    return (found.text or "") if found is not None else ""


def _squeeze(text: str) -> str:
    return "".join(text.split())


def prose_lines(lines: list[str]) -> list[str]:
    """The lines that read as prose (PROSE_LINE_CHARS non-space characters and a sentence end), spaces
    removed: what a page's article is made of, and what its menus, lists and buttons are not."""
    squeezed = (_squeeze(line) for line in lines)
    return [line for line in squeezed if len(line) >= PROSE_LINE_CHARS and PROSE_END_RE.search(line)]


def prose_covered(text: str, prose: list[str]) -> int:
    """Characters of the `prose` lines that `text` holds whole."""
    squeezed = _squeeze(text)
    return sum(len(line) for line in prose if line in squeezed)


def is_prose(text: str) -> bool:
    """Whether most of `text` is prose lines."""
    return sum(map(len, prose_lines(text.splitlines()))) >= 0.5 * len(_squeeze(text))


def adds_sentences(text: str, to: str) -> bool:
    """Whether the lines of `text` that `to` lacks are mostly sentences (lines of ADDED_LINE_CHARS
    non-space characters or more that end as a sentence ends): what extends an article, where a video
    player's controls and error messages, a speed menu or a caption row do not."""
    rest, added = _squeeze(to), []
    for line in filter(None, map(_squeeze, text.splitlines())):
        if line in rest:
            rest = rest.replace(line, "", 1)  # a paragraph the page repeats is held once per copy
        else:
            added.append(line)
    ended = sum(len(line) for line in added if len(line) >= ADDED_LINE_CHARS and SENTENCE_TAIL_RE.search(line))
    return bool(added) and ended >= 0.5 * sum(map(len, added))


def lines_held(text: str, by: str) -> float:
    """The share of `text` (its lines, by characters) that `by` holds whole."""
    lines = [line for line in map(_squeeze, text.splitlines()) if line]
    total = sum(map(len, lines))
    return prose_covered(by, lines) / total if total else 0.0


def _is_loose_prose(text: str) -> bool:
    return len(text) >= PROSE_LINE_CHARS and bool(SENTENCE_TAIL_RE.search(text)) and not URL_IN_TEXT_RE.search(text)


def wrap_loose_text(tree: lxml_html.HtmlElement) -> int:
    """Wrap the text a block container holds directly, beside its block children, in <p> elements: one per
    run of text and inline elements between two blocks. trafilatura reads such loose text inconsistently
    (an opening paragraph written straight into `<div class="post-body">` before a figure, paragraphs
    between ad slots: kept in one mode, lost in another); as paragraphs it weighs them like any other.

    Only containers where a run reads as prose (PROSE_LINE_CHARS characters ending as a sentence, no URL):
    a container's label or a widget's leftover attribute text stays as it was. Then every run of that
    container is wrapped, so its text stays in order. The number of paragraphs made is returned."""
    wrapped = 0
    for container in list(tree.iter(*LOOSE_TEXT_CONTAINERS)):  # the loop adds elements
        if not len(container) or not ((container.text and not container.text.isspace())
                                      or any(child.tail and not child.tail.isspace() for child in container)):
            continue  # no text of its own beside child elements
        if all(not isinstance(child.tag, str) or child.tag in PHRASING_TAGS for child in container):
            continue
        runs: list[tuple[lxml_html.HtmlElement | None, list[lxml_html.HtmlElement]]] = [(None, [])]
        for child in container:
            if isinstance(child.tag, str) and child.tag not in PHRASING_TAGS:
                runs.append((child, []))
            else:
                runs[-1][1].append(child)
        texts = [_squeeze((container.text if block is None else block.tail) or "")
                 + "".join(_squeeze((member.text_content() if isinstance(member.tag, str) else "") + (member.tail or ""))
                           for member in members)
                 for block, members in runs]
        if not any(map(_is_loose_prose, texts)):
            continue
        for (block, members), text in zip(runs, texts):
            if not text:
                continue
            paragraph = lxml_html.Element("p")
            if block is None:
                paragraph.text, container.text = container.text, None
                container.insert(0, paragraph)
            else:
                paragraph.text, block.tail = block.tail, None
                block.addnext(paragraph)
            paragraph.extend(members)  # moved, each with its tail
            wrapped += 1
    return wrapped


def _link_candidate(line: str, links: str | set[str]) -> bool:
    """Whether `line`, list and table marks aside, is empty, a bare number, or in `links` (the page's link
    text as one string: a substring test; or the set of link texts: an exact one)."""
    core = _squeeze(LIST_MARK_RE.sub("", line))
    return not core or core.isdigit() or core in links


def trim_linked_tail(text: str, tree: lxml_html.HtmlElement) -> tuple[str, int]:
    """`text` without its trailing run of linked lines, when the run is LINKED_TAIL_MIN_LINES long or more:
    the teaser cards, topic links and "more in this series" lists that close a content container. A line
    is linked when it is the whole text of a link or of an element inside one (a card's topic, title,
    counter), or a bare number; list and table marks aside. A text of nothing but linked lines is left whole."""
    lines = text.splitlines()
    if len(lines) <= LINKED_TAIL_MIN_LINES:
        return text, 0
    anchor_text = _squeeze("".join(ANCHOR_TEXT_XPATH(tree)))
    if not all(_link_candidate(line, anchor_text) for line in lines[-LINKED_TAIL_MIN_LINES:]):
        return text, 0  # the usual case, settled without building the set below
    linked = {_squeeze(element.text_content()) for anchor in tree.iter("a") for element in anchor.iter()
              if isinstance(element.tag, str)}
    end = len(lines)
    while end > 0 and _link_candidate(lines[end - 1], linked):
        end -= 1
    if end == 0 or len(lines) - end < LINKED_TAIL_MIN_LINES:
        return text, 0
    return "\n".join(lines[:end]), len(lines) - end


def _main_text(tree: lxml_html.HtmlElement, url: str | None) -> str:
    """Main text via trafilatura: its main extractor alone in precision mode (fast mode), second-guessed
    only when the result is short.

    Precision mode measured best on both benchmark sets (Chinese and English pages): news pages carry
    related lists, share prompts and newsletter boxes inside the content container, which the balanced
    mode keeps. A short result is second-guessed twice:
    - under SECOND_OPINION_BELOW_CHARS, by trafilatura's second opinion (readability, then jusText: its
      full mode), taken when it extends the first result with sentences (not a video player's
      controls), or when the first is no prose (counters, a button row); a prose result the second
      opinion does not hold (it found another story of the page, or a newsletter box) is kept;
    - under COVERAGE_CHECK_BELOW_CHARS, against the page's prose: a result holding under
      COVERAGE_LOW of it has missed the article (text in <div>s with <br>s, a body split by ad slots),
      and the first of the balanced (fast, then full) and recall modes' results that holds at least
      COVERAGE_GAIN times as much, COVERAGE_MIN of the page's prose, and part of the first result replaces it.
    Next to nothing found: the largest result of the other modes, then trafilatura's baseline."""
    options = {"url": url, "include_comments": False, "include_tables": True, "config": trafilatura_config()}
    text = _trafilatura_text(tree, options, favor_precision=True, fast=True)
    if text_size(text) < 10:
        return _fallback_text(tree, options, text)
    if len(" ".join(text.split())) < SECOND_OPINION_BELOW_CHARS:
        second = _trafilatura_text(tree, options, favor_precision=True)
        if text_size(second) >= 10 and (
                (lines_held(text, second) >= SECOND_OPINION_HOLDS and adds_sentences(second, text)) or not is_prose(text)):
            text = second
    if len(_squeeze(text)) >= COVERAGE_CHECK_BELOW_CHARS:
        return text
    prose = prose_lines(page_lines(tree))
    page_prose = sum(map(len, prose))
    covered = prose_covered(text, prose)
    if covered >= COVERAGE_LOW * page_prose:
        return text
    for mode in ({"fast": True}, {}, {"favor_recall": True}):  # cheapest first
        other = _trafilatura_text(tree, options, **mode)
        other_covered = prose_covered(other, prose)
        if (other_covered >= COVERAGE_MIN * page_prose and other_covered >= COVERAGE_GAIN * max(covered, 1)
                and lines_held(text, other) >= COVERAGE_HOLDS):
            return other
    return text


def _fallback_text(tree: lxml_html.HtmlElement, options: dict[str, Any], text: str) -> str:
    """The largest result of trafilatura's full modes, precision first, stopping at the first that finds
    something; then its baseline."""
    for mode in ({"favor_precision": True}, {}, {"favor_recall": True}):
        found = _trafilatura_text(tree, options, **mode)
        if text_size(found) > text_size(text):
            text = found
        if text_size(text) >= 10:
            return text
    _, baseline_text, _ = trafilatura.baseline(copy.deepcopy(tree))
    return baseline_text if text_size(baseline_text) > text_size(text) else text


def _trafilatura_metadata(tree: lxml_html.HtmlElement, url: str | None) -> Document | None:
    """trafilatura's title / author guesses: the slow path, taken only when the page's own markup and
    datelines gave no title or date.

    The parts of trafilatura's extract_metadata this step uses (meta tags and JSON-LD, its title
    search), without its category, tag and licence searches (their results went unused); its costly
    author search is left to `_trafilatura_author` (pages without a byline), the date to `_htmldate`."""
    try:
        document = extract_meta_json(tree, examine_meta(tree))
        if document.author and " " not in document.author:
            document.author = None  # a one-word meta author is a handle or a site name (as trafilatura)
        document.title = document.title or extract_title(tree)
        document.url = document.url or extract_url(tree, url)
        return document
    except (ValueError, TypeError, etree.LxmlError):  # a malformed page costs its metadata, not the text
        return None


def _htmldate(html: str, url: str | None) -> str | None:
    """htmldate's guess (fast mode, as trafilatura calls it) on the page as served: scripts included, which
    the extraction tree no longer has (drop_invisible)."""
    try:
        return find_date(html, url=url, **set_date_params(False))
    except (ValueError, TypeError, etree.LxmlError):
        return None


def _trafilatura_author(tree: lxml_html.HtmlElement) -> str | None:
    """trafilatura's author search by class names and XPaths (it works on its own copy of the tree)."""
    try:
        return extract_author(tree)
    except (ValueError, TypeError, etree.LxmlError):
        return None


def _date_of(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value[:10]) if value else None
    except ValueError:
        return None


def extract_article(html: str, url: str | None = None, today: date | None = None) -> Extraction | None:
    """Main text and metadata of a news page; None when the page holds no extractable text; PageTooDeep when
    the parser cut it.

    `today` (the fetch date) places dates the page writes without a year."""
    if not html or not html.strip():
        return None
    try:
        tree = parse_page(html)
    except PageTooDeep:
        raise
    except (etree.ParserError, ValueError):
        return None
    drop_invisible(tree)
    counts = dict(prune_spam_html(tree))
    lines = page_lines(tree)
    furniture = prune_furniture(tree)
    if furniture:
        counts["furniture_blocks"] = furniture
    if layout := unwrap_layout_tables(tree):
        counts["layout_tables"] = layout
    if loose := wrap_loose_text(tree):
        counts["loose_text_paragraphs"] = loose
    text = _main_text(tree, url)
    text = "\n".join(line.strip() for line in text.splitlines() if line.strip())
    text, trimmed = trim_linked_tail(text, tree)
    if trimmed:
        counts["linked_tail_lines"] = trimmed
    if not text:
        return None

    metas = meta_index(tree)
    raw_title = _meta(metas, "og:title") or (tree.findtext(".//title") or "").strip() or None
    site_name = _meta(metas, "og:site_name", "application-name") or site_from_title(raw_title)
    title = strip_site_suffix(raw_title, site_name)
    heading = tree.findtext(".//h1")
    if heading and heading.strip() and title and heading.strip() in title:
        title = heading.strip()  # the h1 is the title without any suffix the <title> had
    document = _trafilatura_metadata(tree, url) if not title else None
    if not title and document is not None:
        title = document.title

    head = lines[:HEADER_LINES] if not title else _lines_after_title(lines, title)
    meta_published = parse_meta_datetime(
        _meta(metas, "article:published_time", "pubdate", "publishdate", "PubDate", "datePublished"))
    dateline = parse_dateline(head, url, today=_date_of(meta_published) or today)
    published = dateline.published
    if meta_published and (published is None or len(published) == 10):
        published = meta_published  # the page's dateline gave no time: the meta tag's is more precise
    if published is None:
        document = document or _trafilatura_metadata(tree, url)
        published = _htmldate(html, (document.url if document is not None else None) or url)
    byline = parse_byline(head + lines[-FOOTER_LINES:])
    authors = byline.authors
    declared_author = _meta(metas, "author", "article:author", "dc.creator") or (document.author if document else None)
    if not authors and not declared_author and document is not None:
        declared_author = _trafilatura_author(tree)
    if not authors and declared_author and not declared_author.startswith(("http://", "https://")):
        authors = [a.strip() for a in re.split(r"[;,，、|]", declared_author) if a.strip()]
    updated = dateline.updated or parse_meta_datetime(_meta(metas, "article:modified_time", "dateModified"))
    if updated and published and updated <= published:
        updated = None  # "modified" stamped at publication says nothing more
    return Extraction(title=title, text=text, published=published, updated=updated, authors=authors,
                      source=byline.source, site_name=site_name, editor=byline.editor, counts=counts)


def _lines_after_title(lines: list[str], title: str) -> list[str]:
    """Page lines from the (last) heading with the title on: where datelines and bylines sit."""
    exact = [i for i, line in enumerate(lines) if line == title]
    near = [i for i, line in enumerate(lines) if len(title) >= 6 and title in line and len(line) <= len(title) + 10]
    start = (exact or near or [0])[0]
    return lines[start: start + HEADER_LINES]


class ExtractPipeline:
    """Fills title, text and metadata from `html`; drops pages with nothing to extract."""

    def __init__(self, max_bytes: int = 8 * 1024 * 1024, stats: StatsCollector | None = None) -> None:
        self.max_bytes = max_bytes
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Any) -> ExtractPipeline:
        return cls(crawler.settings.getint("EXTRACT_MAX_BYTES", 8 * 1024 * 1024), stats=crawler.stats)

    def drop(self, reason: str) -> DropItem:
        if self.stats:
            self.stats.inc_value(f"extract/dropped/{reason}")
        return DropItem(f"extract:{reason}")

    def process_item(self, item: Article) -> Article:
        item.pop("body", None)
        if item.get("kind") == "text":
            return item
        html = item.pop("html", None) or ""
        if len(html) > self.max_bytes:
            raise self.drop("too_large")
        try:
            extraction = extract_article(html, item.get("url"), today=_date_of(item.get("fetched_at")))
        except PageTooDeep:
            # The limits step's reason: LIMITS_MAX_DEPTH at libxml2's cap is enforced here, by the parser.
            if self.stats:
                self.stats.inc_value("limits/dropped/too_deep")
            raise DropItem("limits:too_deep") from None
        if extraction is None:
            raise self.drop("empty")
        item["text"] = extraction.text
        for name in ("title", "published", "updated", "authors", "source", "site_name", "editor"):
            value = getattr(extraction, name)
            if value and not item.get(name):
                item[name] = value
        count_cleaning(item, extraction.counts)
        return item
