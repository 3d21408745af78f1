"""Boilerplate lines: page furniture removed; dateline, source, author and editor lines moved to metadata."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from pipelines.metadata import find_dates, parse_byline

DATA = Path(__file__).parent / "data"
# Furniture lines are short; a longer line is prose even when it mentions 版权 or 评论.
MAX_BOILERPLATE_CHARS = 200
# A dateline is short and mostly date, source and byline.
MAX_DATELINE_CHARS = 80
# What may remain of a dateline once date, source and byline are taken out (a name, 发布时间, 字号...).
DATELINE_REST_CHARS = 12
EDITOR_LINE_RE = re.compile(
    r"^[【\[(（]?\s*(?:责任编辑|責任編輯|责编|責編|编辑|編輯|校对|校對|审核|審核)\s*[:：]\s*([^】\])）]{1,24})[】\])）]?$"
)
AUTHOR_LINE_RE = re.compile(
    r"^[【\[(（]?\s*(?:作\s*者|撰文|撰稿|本报记者|本報記者|特约记者|记者|記者|通讯员|通訊員|文\s*/|文/|文／)\s*[:：]?\s*"
    r"([\u4e00-\u9fffA-Za-z·][^【】\[\]。！？；，]{1,40}?)[】\])）]?$"  # a sentence ("记者从...获悉，...") is no byline
)
SOURCE_LINE_RE = re.compile(r"^(?:来源|來源|稿源|出处|出處)\s*[:：]\s*(.{2,30})$")
DATELINE_WORDS_RE = re.compile(
    r"(发布时间|發布時間|发布日期|發布日期|发布|發布|时间|時間|日期|更新时间|更新時間|来源|來源|作者|记者|記者|编辑|編輯|"
    r"浏览次数|瀏覽次數|点击|點擊|阅读|閱讀|字号|字號|[:：|｜/\s【】\[\]()（）《》\d年月日时分秒:\-.])"
)


@lru_cache(maxsize=1)
def boilerplate_patterns() -> re.Pattern[str]:
    lines = (DATA / "boilerplate_patterns.txt").read_text(encoding="utf-8").splitlines()
    patterns = [line for line in lines if line.strip() and not line.lstrip().startswith("#")]
    return re.compile("|".join(f"(?:{p})" for p in patterns))


def _key(text: str) -> str:
    return re.sub(r"[\W_]+", "", text).lower()


def _dateline(line: str, meta: dict[str, Any]) -> bool:
    """Take date, source and byline from a dateline into `meta`; False when `line` is not one."""
    if len(line) > MAX_DATELINE_CHARS:
        return False
    dates = find_dates(line)
    byline = parse_byline([line])
    if not dates and not byline.source:
        return False
    rest = line
    for value in [byline.source or "", *(byline.authors or []), byline.editor or ""]:
        if value:
            rest = rest.replace(value, "")
    rest = DATELINE_WORDS_RE.sub("", rest)
    trailing_name = None
    if dates and not byline.authors and 2 <= len(rest) <= 4 and re.fullmatch(r"[\u4e00-\u9fff]+", rest):
        trailing_name = rest  # "2024-01-01 00:00:00孟衛紅": a name fused to the date
        rest = ""
    if len(rest) > DATELINE_REST_CHARS:
        return False
    if dates:
        meta.setdefault("published", dates[0])
    if byline.source:
        meta.setdefault("source", byline.source)
    if byline.authors or trailing_name:
        meta.setdefault("authors", byline.authors or [trailing_name])
    if byline.editor:
        meta.setdefault("editor", byline.editor)
    return True


def remove_boilerplate(text: str, title: str | None = None) -> tuple[str, dict[str, int], dict[str, Any]]:
    """Drop furniture lines; move dateline / source / author / editor lines into metadata."""
    counts = {"boilerplate_lines": 0, "title_repeated": 0, "metadata_lines": 0}
    meta: dict[str, Any] = {}
    title_key = _key(title) if title else ""
    kept = []
    for line in text.split("\n"):
        stripped = line.strip()
        if not stripped:
            continue
        if title_key and _key(stripped) == title_key:
            counts["title_repeated"] += 1
            continue
        if len(stripped) <= MAX_BOILERPLATE_CHARS and boilerplate_patterns().fullmatch(stripped):
            counts["boilerplate_lines"] += 1
            continue
        if match := EDITOR_LINE_RE.match(stripped):
            meta.setdefault("editor", match[1].strip())
            counts["metadata_lines"] += 1
            continue
        if match := SOURCE_LINE_RE.match(stripped):
            meta.setdefault("source", re.sub(r"[《》]", "", match[1]).strip())
            counts["metadata_lines"] += 1
            continue
        if (match := AUTHOR_LINE_RE.match(stripped)) and len(stripped) <= 60:
            # "作者：重庆市侨联主席" is a byline bio: the line goes, only real names become authors.
            names = [n for n in re.split(r"[ 、，,]+", match[1]) if 2 <= len(n) <= 6]
            if names and len(names) == len(re.split(r"[ 、，,]+", match[1].strip())):
                meta.setdefault("authors", names)
            counts["metadata_lines"] += 1
            continue
        if _dateline(stripped, meta):
            counts["metadata_lines"] += 1
            continue
        kept.append(stripped)
    return "\n".join(kept), {k: v for k, v in counts.items() if v}, meta
