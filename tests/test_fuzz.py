"""Fuzzing the whole chain (decode, limits, extract, clean, script, language, quality, dedup) with generated
pages: tag soup, random bytes in random encodings, huge attributes, deep nesting, odd Unicode. No step may raise
anything but DropItem, and no page may take longer than the extraction budget."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scrapy.exceptions import DropItem
from scrapy.utils.project import get_project_settings

from crawler.chain import Chain
from crawler.items import new_article

# Pieces of real and broken pages: tags (closed, unclosed, stray), attributes, entities, Chinese prose in both
# scripts, and the characters that break naive code: NUL, lone combining marks, RTL marks, private use,
# non-characters, BOMs, line and paragraph separators.
PIECES = st.sampled_from([
    "<html>", "<body>", "</body>", "<div>", "</div>", "<p>", "</p>", "<a href='/x'>", "</a>", "<table><tr><td>",
    "<script>var s='<div>';</script>", "<style>p{}</style>", "<!--", "-->", "<![CDATA[", "]]>", "<br/>",
    "<meta charset='gbk'>", "<meta property='og:type' content='article'>", "<h1>", "</h1>", "<title>", "</title>",
    "&nbsp;", "&#0;", "&#xD800;", "&#1114112;", "&amp", "<", ">", "\"", "'",
    "国务院新闻办公室今天举行新闻发布会。", "國務院新聞辦公室今天舉行新聞發布會。", "发布时间：2024-10-08 09:30",
    "来源：新华社", "记者 张三", "责任编辑：李四", "会(huì)议", "锟斤拷", "\x00", "\u0301", "\u200f", "\u202e",
    "\ue000", "\ufffe", "\ufeff", "\u2028", "\u2029", "\U0001f600", "\r\n", "\t",
])
SOUP = st.lists(PIECES, max_size=80).map("".join)
ODD_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=300)
ENCODINGS = st.sampled_from(["utf-8", "gbk", "gb18030", "big5", "utf-16", "latin-1", "shift_jis"])


@st.composite
def html_pages(draw: Any) -> str:
    body = draw(st.one_of(SOUP, ODD_TEXT, st.tuples(SOUP, ODD_TEXT).map("".join)))
    shape = draw(st.sampled_from(["plain", "deep", "huge_attribute", "many_links"]))
    if shape == "deep":
        depth = draw(st.integers(100, 3000))
        body = "<div>" * depth + body + "</div>" * draw(st.integers(0, depth))
    elif shape == "huge_attribute":
        body = f"<p title='{'x' * draw(st.integers(10_000, 300_000))}'>" + body
    elif shape == "many_links":
        body += "<a href='/l'>链</a>" * draw(st.integers(100, 30_000))
    return body


@st.composite
def raw_pages(draw: Any) -> tuple[bytes, str | None]:
    """Bytes as a server sends them: a generated page in some encoding (unencodable characters replaced), or
    random bytes; with a declared charset that may be wrong."""
    if draw(st.booleans()):
        body = draw(html_pages()).encode(draw(ENCODINGS), errors="replace")
    else:
        body = draw(st.binary(max_size=3000))
    return body, draw(st.one_of(st.none(), ENCODINGS, st.just("no-such-charset")))


@pytest.fixture(scope="module")
def chain() -> Iterator[Chain]:
    overrides = {"STORE_ENABLED": False, "NEARDUP_ENABLED": False, "LOG_LEVEL": "WARNING"}
    project = get_project_settings().copy()
    project.setdict(overrides, priority="cmdline")
    with Chain(project) as steps:
        yield steps


def run_steps(chain: Chain, item: Any) -> str:
    """Every step in turn, outside Chain.process (which would turn a step's bug into a drop): 'kept' or the
    drop reason. Any other exception fails the test."""
    budget = chain.settings.getfloat("LIMITS_MAX_SECONDS")
    started = time.monotonic()
    try:
        for step in chain.steps:
            item = step.process_item(item)
        outcome = "kept"
    except DropItem as drop:
        outcome = str(drop)
    assert time.monotonic() - started < budget
    return outcome


FUZZ = settings(max_examples=60, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example])


@FUZZ
@given(raw_pages(), st.integers(0, 10**6))
def test_bytes_through_every_step(chain: Chain, page: tuple[bytes, str | None], n: int) -> None:
    body, charset = page
    item = new_article(id=f"b{n}", url=f"https://news.example.com/2024/10/08/{n}.html", body=body,
                       http_encoding=charset, kind="html", fetched_at="2024-10-08T01:00:00+00:00")
    outcome = run_steps(chain, item)
    assert outcome == "kept" or ":" in outcome  # a drop always names its step and reason


@FUZZ
@given(html_pages(), st.integers(0, 10**6))
def test_html_through_every_step(chain: Chain, html: str, n: int) -> None:
    item = new_article(id=f"h{n}", url=f"https://news.example.com/2024/10/08/h{n}.html", html=html, kind="html")
    outcome = run_steps(chain, item)
    assert outcome == "kept" or ":" in outcome


@FUZZ
@given(st.one_of(ODD_TEXT, SOUP), st.integers(0, 10**6))
def test_text_documents_through_every_step(chain: Chain, text: str, n: int) -> None:
    item = new_article(id=f"t{n}", text=text, kind="text")
    outcome = run_steps(chain, item)
    assert outcome == "kept" or ":" in outcome
