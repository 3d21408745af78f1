"""Line repair: HTML residue, paragraphs broken mid-sentence, consecutive duplicate lines."""

from __future__ import annotations

import html
import re

# HTML element names only: "<The Palace: Tale of Jang Noksu>" or "<Title>" in prose is not a tag.
HTML_TAGS = (
    "a|abbr|article|aside|b|big|blockquote|body|br|button|center|cite|code|dd|del|div|dl|dt|em|font|footer|form|"
    "h[1-6]|head|header|hr|html|i|iframe|img|input|ins|label|li|link|main|mark|meta|nav|noscript|ol|option|p|pre|"
    "q|s|script|section|select|small|source|span|strike|strong|style|sub|sup|table|tbody|td|textarea|tfoot|th|"
    "thead|title|tr|tt|u|ul|video"
)
TAG_RE = re.compile(rf"</?(?:{HTML_TAGS})(?:\s[^<>]*)?/?>", re.IGNORECASE)
ENTITY_RE = re.compile(r"&(?:[a-zA-Z]{2,8}|#\d{2,6}|#x[0-9a-fA-F]{2,5});")
SPACES_RE = re.compile(r"[ \t\u00a0\u2002\u2003\u2009\u200b\ufeff]+")
# A line ends its sentence with one of these (both widths); anything else may continue on the next.
TERMINAL = "。！？；…!?;.\"”’」』)）】"
# Continuation marks: a line ending with one of these was cut mid-sentence, whatever its length.
CONTINUATION = "、，,：:（(“「《"
# Sentence-internal punctuation: a line carrying some is prose, not a heading or a caption.
PROSE_MARK_RE = re.compile(r"[，,、；;]")
LIST_ITEM_RE = re.compile(
    r"^\s*(?:[●○■□◆◇▲△►▶•·\-*]|[一二三四五六七八九十百]+、|[（(][一二三四五六七八九十\d]+[)）]|\d+[.、．)]|第[一二三四五六七八九十\d]+[章节条部分])"
)
CAPTION_RE = re.compile(r"^(?:图为|圖為|图片|圖片|图：|圖：|\(?图|（圖)|(?:摄|攝|供图|供圖|摄影|攝影)[)）]?$")
HAN_RE = re.compile(r"[\u4e00-\u9fff]")
# Two words of a Latin script meeting where a line was broken keep a space between them.
LATIN_JUNCTION_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9]$")
# Shorter lines without terminal punctuation are headings; broken prose halves are longer.
HEADING_MAX_CHARS = 30
# A prose line cut mid-sentence without a continuation mark is a full-width paragraph line;
# shorter unterminated lines are list items, labels or captions.
MIN_BROKEN_CHARS = 40


def strip_html_residue(text: str) -> tuple[str, int]:
    """Remove tags and entities a scraper left in the text (`</span>`, `&nbsp;`, `&amp;nbsp;`)."""
    count = len(TAG_RE.findall(text)) + len(ENTITY_RE.findall(text))
    if not count:
        return text, 0
    text = TAG_RE.sub("", text)
    for _ in range(2):  # "&amp;nbsp;" is an entity escaped twice
        text = html.unescape(text)
    return text, count


def normalise_spaces(text: str) -> str:
    """One paragraph per line: runs of spaces folded, lines stripped (also of ideographic space), blank lines gone."""
    lines = (line.strip(" \u3000") for line in SPACES_RE.sub(" ", text).splitlines())  # SPACES_RE stays in a line
    return "\n".join(line for line in lines if line)


def is_heading_like(line: str) -> bool:
    return len(line) <= HEADING_MAX_CHARS and not line.endswith(tuple(TERMINAL)) and not PROSE_MARK_RE.search(line)


def is_broken(line: str, following: str) -> bool:
    """Whether `line` was cut mid-sentence and `following` carries on with it.

    Only Chinese lines are judged: in other languages an unterminated line is as often a list item
    (tour dates, credits) as a broken sentence, and without marks to tell them apart, lines are kept."""
    if not (HAN_RE.search(line) and HAN_RE.search(following)):
        return False
    if line.endswith(tuple(TERMINAL)) or LIST_ITEM_RE.match(following) or CAPTION_RE.search(line):
        return False
    if CAPTION_RE.search(following) or is_heading_like(following):
        return False
    if line.endswith(tuple(CONTINUATION)):
        return True
    return len(line) >= MIN_BROKEN_CHARS and bool(PROSE_MARK_RE.search(line)) and not LIST_ITEM_RE.match(line)


def join_broken_lines(text: str) -> tuple[str, int]:
    """Join paragraphs broken mid-sentence; headings, list items and captions stay on their own."""
    joined = 0
    out: list[str] = []
    for line in text.split("\n"):
        if out and is_broken(out[-1], line):
            out[-1] += " " + line if LATIN_JUNCTION_RE.search(out[-1][-1:] + line[:1]) else line
            joined += 1
        else:
            out.append(line)
    return "\n".join(out), joined


def collapse_duplicate_lines(text: str) -> tuple[str, int]:
    """Consecutive identical lines (repeated captions, doubled share bars) collapse to one."""
    out: list[str] = []
    for line in text.split("\n"):
        if not out or line != out[-1]:
            out.append(line)
    return "\n".join(out), text.count("\n") + 1 - len(out) if text else 0
