"""Chinese datelines, bylines and titles: the edge cases real pages have."""

from __future__ import annotations

from datetime import date

import pytest

from pipelines.metadata import (date_from_url, labelled_dates, parse_byline, parse_dateline, parse_meta_datetime,
                                strip_site_suffix)


@pytest.mark.parametrize(("line", "published"), [
    ("2022年07月27日 11:04 来源：新华网", "2022-07-27T11:04+08:00"),
    ("发布时间：2024-02-26 10:30:15", "2024-02-26T10:30:15+08:00"),
    ("發布時間：2024年2月26日 08:05", "2024-02-26T08:05+08:00"),
    ("2024/3/5 8:05", "2024-03-05T08:05+08:00"),
    ("时间：2024.03.05 来源：县政府办", "2024-03-05"),
    ("2024年3月5日 星期二", "2024-03-05"),
    ("2024-03-05 25:70", "2024-03-05"),  # an impossible time is dropped, the date kept
])
def test_dateline_forms(line: str, published: str) -> None:
    assert parse_dateline([line]).published == published


def test_impossible_and_out_of_range_dates_are_not_dates() -> None:
    assert parse_dateline(["2024年02月30日"]).published is None
    assert parse_dateline(["1850年3月1日"]).published is None


@pytest.mark.parametrize(("line", "published", "updated"), [
    ("发布时间：2024-01-02 09:00 更新时间：2024-01-05 10:00", "2024-01-02T09:00+08:00", "2024-01-05T10:00+08:00"),
    ("更新时间：2024-01-05 10:00 发布时间：2024-01-02 09:00", "2024-01-02T09:00+08:00", "2024-01-05T10:00+08:00"),
    ("2024-01-02 09:00 发布 | 2024-01-05 10:00 更新", "2024-01-02T09:00+08:00", "2024-01-05T10:00+08:00"),
    ("Published: 2024-01-02 | Updated: 2024-01-04", "2024-01-02", "2024-01-04"),
])
def test_updated_vs_published_on_one_line(line: str, published: str, updated: str) -> None:
    assert parse_dateline([line]) == type(parse_dateline([]))(published, updated)


def test_updated_line_before_published_line() -> None:
    result = parse_dateline(["更新时间：2024-01-05", "标题下的导语", "发布日期：2024-01-02"])
    assert (result.published, result.updated) == ("2024-01-02", "2024-01-05")


def test_two_dates_first_in_header_wins() -> None:
    """The header dateline, not a date quoted in a later line, is the publication date."""
    result = parse_dateline(["2024-05-20 08:00 来源：本网", "会议回顾了2023年12月1日出台的办法。"])
    assert result.published == "2024-05-20T08:00+08:00" and result.updated is None


def test_long_body_lines_are_not_datelines() -> None:
    long_line = "据统计，" + "截至2024年3月1日，全市共完成投资。" * 20
    assert parse_dateline([long_line]).published is None


def test_dates_without_a_year() -> None:
    url = "http://news.example.cn/2023/1230/c1-1.html"
    assert parse_dateline(["12月30日 10:20"], url).published == "2023-12-30T10:20+08:00"  # the URL's year
    # No URL date: the fetch date's year, or the year before when that would put it in the future.
    assert parse_dateline(["3月5日 10:20"], today=date(2024, 11, 23)).published == "2024-03-05T10:20+08:00"
    assert parse_dateline(["12月30日 10:20"], today=date(2025, 1, 2)).published == "2024-12-30T10:20+08:00"
    assert parse_dateline(["3月5日 10:20"]).published is None  # no way to know the year
    assert labelled_dates("3月5日 10:20 发布 | 3月6日 08:00 更新", 2024) == [
        ("2024-03-05T10:20+08:00", "published"), ("2024-03-06T08:00+08:00", "updated")]


def test_url_dates() -> None:
    assert date_from_url("http://www.xinhuanet.com/2024-02/26/c_1130.htm") == "2024-02-26"
    assert date_from_url("http://paper.people.com.cn/rmrb/html/2024/0226/nw.D110000renmrb_20240226_1-01.htm") \
        == "2024-02-26"
    assert date_from_url("http://www.gov.cn/zhengce/content/202402/t20240226_123.html") == "2024-02-26"
    assert date_from_url("http://example.cn/news/20240226/abc.html") == "2024-02-26"
    assert date_from_url("http://example.cn/2024/1399/a.html") is None  # no month 13
    assert date_from_url("http://example.cn/id/12345678.html") is None
    assert parse_dateline(["正文里没有日期"], "http://x.cn/2024/0226/c1.html").published == "2024-02-26"


@pytest.mark.parametrize(("value", "expected"), [
    ("2024-05-20T02:30:00Z", "2024-05-20T02:30+00:00"),
    ("2024-05-20T10:30:00+08:00", "2024-05-20T10:30+08:00"),
    ("2024-05-20T10:30:15", "2024-05-20T10:30:15+08:00"),  # no offset: China time
    ("2024-05-20", "2024-05-20"),
    ("2024年05月20日 10:30", "2024-05-20T10:30+08:00"),
    ("0000-00-00", None), ("", None), (None, None), ("yesterday", None),
])
def test_meta_datetimes_keep_their_offset(value: str | None, expected: str | None) -> None:
    assert parse_meta_datetime(value) == expected


@pytest.mark.parametrize(("line", "authors"), [
    ("本报记者 王明 李华", ["王明", "李华"]),
    ("新华社北京2月26日电（记者王明、李华）", ["王明", "李华"]),
    ("文/张三", ["张三"]),
    ("作者：李四", ["李四"]),
    ("（记者 王五）", ["王五"]),
    ("記者 陳大文 報道", ["陳大文"]),
    ("本报记者 赵六 摄", ["赵六"]),
    ("记者从市水务局获悉，今年以来全市新建管网一百公里", []),  # "记者从…" is not a byline
    ("责任编辑：赵七", []),
])
def test_bylines(line: str, authors: list[str]) -> None:
    assert parse_byline([line]).authors == authors


def test_editor_source_and_authors_are_separate_fields() -> None:
    byline = parse_byline(["2024-02-26 来源：《人民日报》", "本报记者 王明", "正文……", "【编辑:刘六】"])
    assert (byline.authors, byline.editor, byline.source) == (["王明"], "刘六", "人民日报")
    assert parse_byline(["责任编辑：赵七 作者：李四"]).authors == ["李四"]
    assert parse_byline(["來源：示例日報"]).source == "示例日報"


@pytest.mark.parametrize(("title", "expected"), [
    ("全市新建供水管网_新华网", "全市新建供水管网"),
    ("全市新建供水管网-中国新闻网", "全市新建供水管网"),
    ("全市新建供水管网|人民网", "全市新建供水管网"),
    ("全市新建供水管网 - 要闻 - 示例新闻网", "全市新建供水管网"),
    ("2024年政府工作报告——全文", "2024年政府工作报告——全文"),  # a subtitle, not a site
    ("新质生产力-2024", "新质生产力-2024"),  # a tail with digits stays
    ("短-新华网", "短-新华网"),  # nothing of a title would be left
])
def test_site_suffix(title: str, expected: str) -> None:
    assert strip_site_suffix(title) == expected
