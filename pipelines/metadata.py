"""Chinese news metadata from text: datelines, bylines, editors, sources, site-name title suffixes."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

# A title suffix naming the site: "标题_新华网", "标题-中国新闻网", "标题|人民网", "Title - Site".
# Site names are short; a longer tail is part of the title itself.
SITE_SUFFIX_MAX_CHARS = 20
# "——" is left out: in Chinese titles it introduces a subtitle, not a site name.
TITLE_SEPARATOR_RE = re.compile(r"\s*(?:_|\||｜| - | – | — |(?<!-)-(?!-)|－)\s*")

CHINA_TIME = timezone(timedelta(hours=8))
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
_LABEL_WORDS = r"(更新|修改|修订|发布|發布|发表|發表|时间|時間|日期|updated|modified|published|posted)"
# A label right before its date ("发布时间：", "更新于") or right after it ("10:20 发布").
LEADING_LABEL_RE = re.compile(_LABEL_WORDS + r"(?:时间|時間|日期|于|於|on|at)?\s*[:：]?\s*$", re.IGNORECASE)
TRAILING_LABEL_RE = re.compile(r"\s*" + _LABEL_WORDS, re.IGNORECASE)
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


def parse_dateline(lines: list[str], url: str | None = None, today: date | None = None) -> Dateline:
    """Published / updated time from the first date-bearing lines of a page (header area first).

    A line saying 更新/updated gives `updated`; the first other date gives `published`. A date written
    without a year ("2月26日 10:00") takes the URL's year, else the latest year that does not put it
    after `today` (the fetch date), as news pages give the year only for older stories."""
    url_date = date_from_url(url)
    year_hint = int(url_date[:4]) if url_date else None
    if year_hint is None and today is not None:
        year_hint = _year_for(lines, today)
    result = Dateline()
    for line in lines:
        if len(line) > 200:  # datelines are short; long lines are body text quoting dates
            continue
        for value, label in labelled_dates(line, year_hint):
            if label == "updated":
                result.updated = result.updated or value
            elif result.published is None:
                result.published = value
        if result.published:
            break
    if result.published is None and url_date:
        result.published = url_date
    return result


def labelled_dates(line: str, year_hint: int | None = None) -> list[tuple[str, str | None]]:
    """The dates in `line`, each with the label that names it: "updated", "published" or None.

    A label stands before its date ("更新时间：2024-01-05") or right after it ("3月6日 08:00 更新")."""
    matches = list(DATE_RE.finditer(line)) or (list(DATE_NO_YEAR_RE.finditer(line)) if year_hint else [])
    found: list[tuple[str, str | None]] = []
    for index, match in enumerate(matches):
        groups = match.groups()
        if match.re is DATE_RE:
            value = iso_datetime(int(groups[0]), int(groups[1]), int(groups[2]), *groups[3:])
        else:
            value = iso_datetime(year_hint or 0, int(groups[0]), int(groups[1]), groups[2], groups[3])
        if not value:
            continue
        before = line[matches[index - 1].end() if index else 0: match.start()]
        after = line[match.end():]
        leading, trailing = LEADING_LABEL_RE.search(before), TRAILING_LABEL_RE.match(after)
        label = leading or trailing
        found.append((value, _label(label[1]) if label else None))
    return found


def _label(word: str) -> str:
    return "updated" if UPDATED_RE.search(word) else "published"


def _year_for(lines: list[str], today: date) -> int:
    """The year of the first yearless date in `lines`: this year, or last year if that would be in the future."""
    for line in lines:
        if match := DATE_NO_YEAR_RE.search(line):
            try:
                return today.year - 1 if date(today.year, int(match[1]), int(match[2])) > today else today.year
            except ValueError:
                continue
    return today.year


def parse_meta_datetime(value: str | None) -> str | None:
    """An ISO-like meta date (`article:published_time`) as the product writes dates: its own UTC offset
    kept when it has one, China time (+08:00) when it has none."""
    if not value or not value.strip():
        return None
    value = value.strip()
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        found = find_dates(value.replace("T", " "))
        return found[0] if found else None
    if not 1990 <= parsed.year <= 2100:
        return None
    if parsed.tzinfo is None:
        if len(value) <= 10:
            return parsed.date().isoformat()
        parsed = parsed.replace(tzinfo=CHINA_TIME)
    return parsed.isoformat(timespec="minutes" if parsed.second == 0 else "seconds")


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
                if match := pattern.search(re.sub(r"(?:责任编辑|責任編輯|编辑|編輯)[:：]\s*[^\s】\]]*", "", line)):
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
