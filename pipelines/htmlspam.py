"""HTML-level spam pruning before extraction: hidden elements, link farms, spam in title and meta."""

from __future__ import annotations

import logging
import re
from collections import Counter
from urllib.parse import urlsplit

from lxml import html as lxml_html

from pipelines.spam import clean_title_spam, spam_weight

logger = logging.getLogger(__name__)

# Inline styles that hide an element from readers (injected SEO spam hides itself this way).
HIDDEN_STYLE_RE = re.compile(
    r"display\s*:\s*none|visibility\s*:\s*hidden|(?:left|top|text-indent|margin-left)\s*:\s*-\d{3,}px"
    r"|(?:^|;)\s*(?:width|height)\s*:\s*0(?:px)?\s*(?:;|$)|font-size\s*:\s*0(?:px)?\s*(?:;|$)",
    re.IGNORECASE,
)
# A block of at least this many links pointing to this many different outside domains, with anchors
# that weigh as spam, is a link farm ("友情链接" to hacked sites, "主站蜘蛛池模板").
LINK_FARM_MIN_LINKS = 8
LINK_FARM_MIN_DOMAINS = 5
# Unambiguous spam terms among the anchors (weak ones such as 视频 / 免费 fill portal menus too).
LINK_FARM_MIN_STRONG = 3
# Share of a block's text that sits in its links, for the block to be a link farm.
LINK_FARM_LINK_SHARE = 0.6
# Never remove containers holding this share of the page's text: a hidden-style rule on a wrapper is
# a site's script-driven layout, not spam.
MAX_TEXT_SHARE = 0.3
# Hidden prose longer than this, without spam terms and not made of links, is content a script reveals
# (WeChat's `#js_content`, "展开全文" remainders, tabs): kept for extraction to judge.
HIDDEN_PROSE_MIN_CHARS = 40
HIDDEN_LINK_SHARE = 0.5
INVISIBLE_TAGS = ("script", "style", "noscript", "template")


# The whitespace pages carry (ASCII, ideographic space, no-break space); counted out with str.count, three
# times faster than splitting, and blocks are only compared with each other.
WHITESPACE = " \n\t\r\u3000\xa0\x0b\x0c"


def nonspace_len(text: str) -> int:
    """Characters of `text` that are not whitespace."""
    return len(text) - sum(map(text.count, WHITESPACE))


def text_len(element: lxml_html.HtmlElement) -> int:
    """Non-space characters under `element`: a cheap size for comparing blocks of one page."""
    return nonspace_len(element.text_content())


def _visible_len(element: lxml_html.HtmlElement) -> int:
    """Characters of text a reader could see: script, style and template bodies left out."""
    return text_len(element) - _invisible_len(element)


def _invisible_len(element: lxml_html.HtmlElement) -> int:
    """Characters in the script, style and template bodies under `element` (a script or style body is one
    text node: read directly, without text_content's XPath)."""
    return sum(nonspace_len(e.text or "") if e.tag in ("script", "style") else text_len(e)
               for e in element.iter(*INVISIBLE_TAGS))


def _drop(element: lxml_html.HtmlElement) -> bool:
    if element.getparent() is None or element.tag in ("html", "body", "head"):
        return False
    element.drop_tree()
    return True


def _is_hidden(element: lxml_html.HtmlElement) -> bool:
    return element.get("hidden") is not None or bool(HIDDEN_STYLE_RE.search(element.get("style") or ""))


def hidden_is_spam(element: lxml_html.HtmlElement, text: str | None = None) -> bool:
    """Whether a hidden element is injected spam or dead furniture rather than content to be revealed:
    it is too short to be prose, is made of links, or names spam terms."""
    text = element.text_content() if text is None else text
    length = nonspace_len(text)
    if length < HIDDEN_PROSE_MIN_CHARS:
        return True
    anchors = sum(text_len(a) for a in element.iter("a"))
    return anchors >= HIDDEN_LINK_SHARE * length or bool(spam_weight(text)[1])


def prune_hidden(tree: lxml_html.HtmlElement) -> int:
    total = 0  # the page's visible text, measured once a hidden element is found (most pages have none)
    removed = 0
    root = tree.getroottree().getroot()
    for element in tree.xpath("//body//*[@style or @hidden]"):
        if element.tag in INVISIBLE_TAGS or not _is_hidden(element):
            continue
        if element.getroottree().getroot() is not root:
            continue  # inside a block already removed
        total = total or _visible_len(tree) or 1
        text = element.text_content()
        visible = nonspace_len(text) - _invisible_len(element)
        if visible / total >= MAX_TEXT_SHARE or not hidden_is_spam(element, text):
            continue
        removed += _drop(element)
    return removed


def prune_link_farms(tree: lxml_html.HtmlElement, own_host: str | None = None) -> int:
    """Remove the smallest blocks whose links go to many outside domains with spam anchors."""
    # Most pages hold no spam anchor at all: one pass over every anchor rules them out.
    anchors = tree.xpath("//body//a[@href]")
    if len(anchors) < LINK_FARM_MIN_LINKS:
        return 0
    if spam_weight(" ".join(a.text_content() for a in anchors))[1] < LINK_FARM_MIN_STRONG:
        return 0
    removed = 0
    for block in tree.xpath("//body//*[count(.//a[@href]) >= $n]", n=LINK_FARM_MIN_LINKS):
        if block.getparent() is None or block.tag in ("html", "body"):
            continue
        links = block.xpath(".//a[@href]")
        domains = Counter(urlsplit(a.get("href") or "").hostname or "" for a in links)
        domains.pop("", None)
        if own_host:
            domains.pop(own_host, None)
        if len(domains) < LINK_FARM_MIN_DOMAINS:
            continue
        anchors = " ".join(a.text_content() for a in links)
        _, strong, _ = spam_weight(anchors)
        if strong < LINK_FARM_MIN_STRONG:
            continue
        # A farm is made of links: a container with an article and a farm at its end is not one.
        if len(re.sub(r"\s+", "", anchors)) < LINK_FARM_LINK_SHARE * text_len(block):
            continue
        # Prefer the innermost farm: skip when a child block is itself a farm (it will be seen too).
        if any(len(child.xpath(".//a[@href]")) == len(links) for child in block):
            continue
        removed += _drop(block)
    return removed


def clean_head_spam(tree: lxml_html.HtmlElement) -> int:
    """Spam segments out of <title>; spam meta keywords emptied."""
    cleaned = 0
    for title in tree.xpath("//title"):
        text, segments = clean_title_spam(title.text_content() or "")
        if segments:
            title.text = text
            cleaned += segments
    for meta in tree.xpath('//meta[@name="keywords" or @name="description"]'):
        if spam_weight(meta.get("content") or "")[1]:
            meta.set("content", "")
            cleaned += 1
    return cleaned


def prune_spam_html(tree: lxml_html.HtmlElement, own_host: str | None = None) -> dict[str, int]:
    """Remove spam from `tree` in place; counts by reason."""
    counts = {
        "hidden_elements": prune_hidden(tree),
        "link_farms": prune_link_farms(tree, own_host),
        "head_spam": clean_head_spam(tree),
    }
    return {reason: number for reason, number in counts.items() if number}
