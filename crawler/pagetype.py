"""Tell article pages from listing / index / tag pages by URL shape, text density and metadata."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from lxml import etree

# URL shapes of articles on Chinese (and most other) news sites: a date in the path
# (/2024/0226/, /2024-02/26/, /20240226/, t20240226_123.html), or a long numeric id in the last segment.
ARTICLE_URL_RE = re.compile(
    r"/(19|20)\d\d[-_/]?[01]\d[-_/]?[0-3]\d[/_-]|/(19|20)\d\d[-_/][01]\d/|[/_t](19|20)\d{6}[_/-]"
    r"|/[^/]*\d{5,}[^/]*\.s?html?$|/(content|article|detail|doc|c)[_-]?\d+"
)
# Last path segments of listings: index pages, numbered list pages, tags, channels, searches.
LISTING_SEGMENT_RE = re.compile(
    r"^(index|default|list|lists|tag|tags|category|categories|channel|column|node|search|page|more|archive)"
    r"([_-]?\d+)?(\.s?html?|\.php|\.aspx?|\.jsp)?$",
    re.IGNORECASE,
)
LISTING_PATH_RE = re.compile(r"/(tag|tags|category|topic|column|channel|search|list)s?/", re.IGNORECASE)
HAN_RE = re.compile(r"[\u3400-\u9fff]")
# One token per Han character or per run of Latin letters and digits (the two never overlap, so one pass
# counts what separate Han and word searches would).
TOKEN_RE = re.compile(r"[\u3400-\u9fff]|[A-Za-z0-9]+")
# All the text under an element, as lxml.html's text_content(), for plain lxml trees too.
STRING_CONTENT = etree.XPath("string()")
# Never candidates for the main block: their text is code, or link text.
NOT_BLOCKS = frozenset(("script", "style", "a"))
# lxml's HTML parser with its plain elements (lxml.html's element classes cost a Python call for every element
# visited), reading UTF-8 bytes: lxml refuses a str that starts with an XML declaration (XHTML pages), not bytes.
HTML_PARSER = etree.HTMLParser(encoding="utf-8")

# A news body carries at least this much running (non-link) text in its longest block, counted as
# Han characters plus Latin words; Chinese briefs are rarely shorter, listing teasers rarely longer.
ARTICLE_BLOCK_CHARS = 150
# A news brief: a few short paragraphs. Enough with an article-shaped URL or metadata, not alone.
SHORT_ARTICLE_CHARS = 60
# Pages whose visible text is mostly link text are listings (and navigation-heavy index pages).
LISTING_LINK_DENSITY = 0.6
# A body paragraph rarely carries a link; listing teasers carry one each.
LINKS_PER_PARAGRAPH = 0.5
# Score at or above which a page is called an article.
ARTICLE_SCORE = 2


@dataclass(frozen=True)
class PageKind:
    is_article: bool
    score: int
    reasons: tuple[str, ...]


def parse_html(html: str) -> etree._Element:
    """The decoded page as one lxml tree, for classification, its canonical link and its links. Raises
    ValueError for a page lxml cannot read (NUL characters, no document at all) or lxml's own errors."""
    if "\x00" in html:  # lxml refuses such text; a page with NUL characters is not HTML worth reading
        raise ValueError("NUL character in the page")
    root = etree.fromstring(html.encode("utf-8"), HTML_PARSER)
    if root is None:
        raise ValueError("empty document")
    return root


def _text_size(text: str) -> int:
    """Han characters count one each, other words one each: a script-neutral size of text."""
    # Most text nodes of a page are the whitespace between tags: no regex needed for them.
    if not text or text.isspace():
        return 0
    return len(TOKEN_RE.findall(text))


def url_shape(url: str) -> int:
    """+2 for an article-shaped URL, -2 for a listing-shaped one, 0 when the URL says nothing."""
    parts = urlsplit(url)
    path = parts.path or "/"
    segment = path.rstrip("/").rsplit("/", 1)[-1]
    if path.endswith("/") or LISTING_SEGMENT_RE.match(segment) or LISTING_PATH_RE.search(path) \
            or re.search(r"(^|&)(page|p|pn)=\d+", parts.query):
        return -2
    if ARTICLE_URL_RE.search(path):
        return 2
    return 0


def _own_text(element: etree._Element) -> str:
    """Text of `element` outside links: its own text, and its children's except links'."""
    parts = [element.text or ""]
    for child in element:
        if child.tag != "a" and isinstance(child.tag, str):
            parts.append(_own_text(child))
        parts.append(child.tail or "")
    return "".join(parts)


def main_block(root: etree._Element) -> tuple[int, int, int]:
    """(size, paragraphs, links) of the element whose direct paragraphs and text hold the most non-link text."""
    best = (0, 0, 0)
    for element in root.iter(etree.Element):  # elements only: comments and processing instructions are no blocks
        if element.tag in NOT_BLOCKS:
            continue
        texts = [element.text or ""]
        size = paragraphs = links = 0
        for child in element:
            texts.append(child.tail or "")
            if child.tag == "p":
                size += _text_size(_own_text(child))
                paragraphs += 1
                links += sum(1 for _ in child.iter("a"))
        size += _text_size("".join(texts))
        if size > best[0]:
            best = (size, paragraphs, links)
    return best


def classify_page(url: str, tree: etree._Element) -> PageKind:
    """Whether a fetched page is an article worth storing (listings are followed, not stored). `tree` is the
    page parsed by lxml's HTML parser (lxml.html's elements or plain ones)."""
    score = 0
    reasons: list[str] = []
    shape = url_shape(url)
    if shape:
        score += shape
        reasons.append("url:article" if shape > 0 else "url:listing")
    og_type = tree.xpath('string(//meta[@property="og:type"]/@content)').strip().lower()
    if og_type == "article" or tree.xpath('//meta[@property="article:published_time"]'):
        score += 2
        reasons.append("meta:article")
    body = tree.find("body")
    root = body if body is not None else tree
    total = _text_size(STRING_CONTENT(root))
    # Joined by a space, which is no token, so no two links' words run together: the sum over the links.
    link_text = _text_size(" ".join(STRING_CONTENT(a) for a in root.iter("a")))
    density = link_text / total if total else 1.0
    block_size, block_paragraphs, block_links = main_block(root)
    if block_size >= ARTICLE_BLOCK_CHARS:
        score += 2
        reasons.append("text:long_block")
    elif block_size >= SHORT_ARTICLE_CHARS and block_paragraphs >= 2:
        score += 1
        reasons.append("text:short_article")
    else:
        score -= 1
        reasons.append("text:short")
    if block_paragraphs and block_links / block_paragraphs >= LINKS_PER_PARAGRAPH:
        score -= 2
        reasons.append("links:per_paragraph")
    if density >= LISTING_LINK_DENSITY:
        score -= 2
        reasons.append("links:dense")
    return PageKind(score >= ARTICLE_SCORE, score, tuple(reasons))
