"""Chinese news metadata from text: datelines, bylines, editors, sources, site-name title suffixes."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

# A title suffix naming the site: "标题_新华网", "标题-中国新闻网", "标题|人民网", "Title - Site".
# Site names are short; a longer tail is part of the title itself.
SITE_SUFFIX_MAX_CHARS = 20
# "——" is left out: in Chinese titles it introduces a subtitle, not a site name.
TITLE_SEPARATOR_RE = re.compile(r"\s*(?:_|\||｜| - | – | — |(?<!-)-(?!-)|－)\s*")

COLON = r"\s*[:：]\s*"
# Dates written the Chinese way or ISO-like, with an optional time. Groups: year, month, day, h, m, s.
DATE_RE = re.compile(
    r"(?<!\d)((?:19|20)\d\d)\s*[年\-/.]\s*(\d{1,2})\s*[月\-/.]\s*(\d{1,2})\s*日?"
    r"(?:\s*(?:T|\s)?\s*(\d{1,2})\s*[:：时]\s*(\d{2})(?:\s*[:：分]\s*(\d{2}))?)?"
)
# Dates without a year ("2月26日", "02-26 10:00") take the year from elsewhere on the page.
DATE_NO_YEAR_RE = re.compile(r"(?<![\d年])(\d{1,2})月(\d{1,2})日(?:\s*(\d{1,2})[:：](\d{2}))?")
URL_DATE_RE = re.compile(
    r"/((?:19|20)\d\d)[-_/]?([01]\d)[-_/]?([0-3]\d)(?=[/_-])|[/_t]((?:19|20)\d\d)([01]\d)([0-3]\d)(?=[_/.-])"
)
UPDATED_RE = re.compile(r"(更新|修改|修订|updated|modified)", re.IGNORECASE)
PUBLISHED_RE = re.compile(r"(发布|發布|发表|發表|时间|時間|日期|published|posted)", re.IGNORECASE)

NAME = r"([\u4e00-\u9fffA-Za-z·．.]{2,12}(?:[ 、，,和及][\u4e00-\u9fffA-Za-z·]{2,12}){0,4})"
AUTHOR_RES = (
    re.compile(r"(?:作者|撰文|撰稿|文字)" + COLON + NAME),
    # "记者 王明" but not "记者从市水务局获悉": names are 2-4 characters ending at a break or 报道/摄.
    re.compile(r"(?:本报|本刊|本台|本网|新华社|中新社|中新网)?(?:特约|见习)?(?:记者|記者)\s*[:：]?\s*"
               r"([\u4e00-\u9fff·]{2,4}(?:[ 、，,和][\u4e00-\u9fff·]{2,4}){0,4})"
               r"(?=$|[\s)）】\]/|]|报道|報道|摄|攝|通讯员|通訊員)"),
    re.compile(r"(?:^|\s|[（(])文\s*/\s*" + NAME),
)
EDITOR_RE = re.compile(r"(?:责任编辑|責任編輯|责编|責編|编辑|編輯)" + COLON + r"([\u4e00-\u9fffA-Za-z·]{2,10})")
SOURCE_RE = re.compile(r"(?:来源|來源|稿源|出处|出處)" + COLON + r"([^\s|｜,，;；]{2,30})")
# Words that end a captured name: a name is never followed by these in a byline.
NAME_STOP_RE = re.compile(r"(报道|報道|摄影|攝影|摄|攝|通讯员|通訊員|编辑|編輯|来源|來源|发布|發布|责任).*$")


@dataclass
class Dateline:
    published: str | None = None
    updated: str | None = None


@dataclass
class Byline:
    authors: list[str] = field(default_factory=list)
    editor: str | None = None
    source: str | None = None


def iso_datetime(year: int, month: int, day: int, hour: str | None = None, minute: str | None = None,
                 second: str | None = None) -> str | None:
    """`YYYY-MM-DD` or `YYYY-MM-DDTHH:MM[:SS]+08:00` (China time); None for an impossible date."""
    try:
        date(year, month, day)
    except ValueError:
        return None
    if not 1990 <= year <= 2100:
        return None
    day_part = f"{year:04d}-{month:02d}-{day:02d}"
    if hour is None or minute is None:
        return day_part
    h, m = int(hour), int(minute)
    if h > 23 or m > 59 or (second is not None and int(second) > 59):
        return day_part
    return f"{day_part}T{h:02d}:{m:02d}" + (f":{int(second):02d}" if second else "") + "+08:00"


def date_from_url(url: str | None) -> str | None:
    """The date in a news URL path (`/2024/0226/`, `/2024-02/26/`, `t20240226_`), if any."""
    if not url:
        return None
    match = URL_DATE_RE.search(url)
    if not match:
        return None
    groups = [g for g in match.groups() if g is not None]
    return iso_datetime(int(groups[0]), int(groups[1]), int(groups[2]))


def find_dates(line: str, year_hint: int | None = None) -> list[str]:
    """Every plausible date in `line`, in order, as ISO strings."""
    found = []
    for match in DATE_RE.finditer(line):
        value = iso_datetime(int(match[1]), int(match[2]), int(match[3]), match[4], match[5], match[6])
        if value:
            found.append(value)
    if not found and year_hint:
        for match in DATE_NO_YEAR_RE.finditer(line):
            value = iso_datetime(year_hint, int(match[1]), int(match[2]), match[3], match[4])
            if value:
                found.append(value)
    return found


def parse_dateline(lines: list[str], url: str | None = None) -> Dateline:
    """Published / updated time from the first date-bearing lines of a page (header area first).

    A line saying 更新/updated gives `updated`; the first other date gives `published`; a URL date
    decides the year of dates written without one."""
    url_date = date_from_url(url)
    year_hint = int(url_date[:4]) if url_date else None
    result = Dateline()
    for line in lines:
        if len(line) > 200:  # datelines are short; long lines are body text quoting dates
            continue
        for segment in re.split(r"(?=(?:更新|修改|发布|發布|updated|published))", line, flags=re.IGNORECASE):
            dates = find_dates(segment, year_hint)
            if not dates:
                continue
            if UPDATED_RE.search(segment):
                result.updated = result.updated or dates[0]
            elif result.published is None:
                result.published = dates[0]
        if result.published:
            break
    if result.published is None and url_date:
        result.published = url_date
    return result


def _clean_name(name: str) -> str:
    return NAME_STOP_RE.sub("", name).strip(" ·.．")


def parse_byline(lines: list[str]) -> Byline:
    """Authors, editor and source named in short header/footer lines."""
    byline = Byline()
    for line in lines:
        if len(line) > 120:
            continue
        if byline.editor is None and (match := EDITOR_RE.search(line)):
            byline.editor = _clean_name(match[1]) or None
        if byline.source is None and (match := SOURCE_RE.search(line)):
            byline.source = re.sub(r"[《》「」【】\[\]<>]", "", match[1]).strip("()（）") or None
        if not byline.authors:
            for pattern in AUTHOR_RES:
                if match := pattern.search(re.sub(r"(?:责任编辑|責任編輯|编辑|編輯)[:：].*$", "", line)):
                    names = [_clean_name(n) for n in re.split(r"[ 、，,和及]+", match[1])]
                    byline.authors = [n for n in names if len(n) >= 2]
                    break
    return byline


def strip_site_suffix(title: str | None, site_name: str | None = None) -> str | None:
    """The title without trailing site / channel names (`标题_新华网` -> `标题`).

    A tail is cut when it is short and has no digits (site names are; subtitles usually are not) and
    a real title of at least four characters stays in front of it."""
    if not title:
        return title
    title = re.sub(r"\s+", " ", title).strip()
    while True:
        separators = list(TITLE_SEPARATOR_RE.finditer(title))
        if not separators:
            return title
        last = separators[-1]
        head, tail = title[: last.start()].strip(), title[last.end():].strip()
        is_site = tail == site_name or (len(tail) <= SITE_SUFFIX_MAX_CHARS and not re.search(r"\d", tail))
        if not tail or not is_site or len(head) < 4:
            return title
        title = head


def site_from_title(title: str | None) -> str | None:
    """The site name a title ends with (`标题_新华网` -> `新华网`), when it has one."""
    if not title:
        return None
    stripped = strip_site_suffix(title)
    if not stripped or stripped == title.strip():
        return None
    tail = TITLE_SEPARATOR_RE.split(re.sub(r"\s+", " ", title).strip())[-1]
    return tail or None
