"""Page limits: cheap pre-checks before extraction, the extraction time budget, drops with reasons."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from lxml import html as lxml_html
from scrapy.exceptions import DropItem
from scrapy.utils.project import get_project_settings

from crawler.chain import Chain, drop_reason
from crawler.items import new_article
from pipelines.limits import PageLimits, nesting_depth, page_problem

PAGES = Path(__file__).parent / "pages"
PROSE = "<p>国务院新闻办公室今天举行新闻发布会，介绍今年前三季度国民经济运行情况。发言人表示，经济运行总体平稳。</p>"


def page(body: str) -> str:
    return f"<html><head><title>新闻</title></head><body>{body}</body></html>"


def test_real_pages_pass_every_limit() -> None:
    pages = sorted(PAGES.glob("*.html"))
    assert pages
    for path in pages:
        html = path.read_text(encoding="utf-8", errors="replace")
        assert page_problem(html, PageLimits()) is None, path.name
        assert nesting_depth(html, 1000) < 60, path.name


@pytest.mark.parametrize(("html", "reason"), [
    (page(PROSE + "<!--" + "x" * 5_000_001 + "-->"), "too_large"),
    (page("<span>字</span>" * 200_001), "too_many_elements"),
    (page(PROSE + "<a href='/x'>链接</a>" * 20_001), "too_many_links"),
    (page("<div>" * 150 + PROSE + "</div>" * 150), "too_deep"),
])
def test_each_limit(html: str, reason: str) -> None:
    started = time.perf_counter()
    assert page_problem(html, PageLimits(max_depth=100)) == reason
    assert time.perf_counter() - started < 2.0  # a scan, not a parse


def test_depth_follows_what_the_parser_builds() -> None:
    assert nesting_depth(page("<div>" * 20 + "</div>" * 20), 1000) == 22
    # Unclosed paragraphs and list items are siblings, void elements hold nothing, stray end tags are ignored,
    # markup-looking text in scripts is not markup.
    soup = page("<ul>" + "<li>项<p>段" * 3000 + "</ul>" + "<br><img src=x><hr>" * 500 + "</span></div>" * 50
                + "<script>for(i=0;i<n;i++){s+='<div><div><div>'}</script>")
    tree = lxml_html.document_fromstring(soup)
    built = max(len(list(element.iterancestors())) for element in tree.iter()) + 1
    assert nesting_depth(soup, 1000) <= built + 1


def test_libxml2_loses_content_below_its_depth_cap() -> None:
    """Why LIMITS_MAX_DEPTH is 256: past 255 levels lxml silently drops the text, even the text after the deep
    block. If a newer libxml2 keeps it, this test says the limit can be raised."""
    shallow = lxml_html.document_fromstring(page("<div>" * 200 + "深" + "</div>" * 200 + PROSE))
    deep = lxml_html.document_fromstring(page("<div>" * 300 + "深" + "</div>" * 300 + PROSE))
    assert "经济运行总体平稳" in shallow.text_content()
    assert "经济运行总体平稳" not in deep.text_content()


def chain(**overrides: object) -> Chain:
    settings = get_project_settings().copy()
    settings.setdict({"STORE_ENABLED": False, "NEARDUP_ENABLED": False, **overrides}, priority="cmdline")
    return Chain(settings)


def article(html: str):
    return new_article(id="t", url="https://news.example.com/2024/01/02/a.html", html=html, kind="html")


def test_the_parser_reports_its_depth_cut_and_the_chain_drops_the_page() -> None:
    """At the default LIMITS_MAX_DEPTH (libxml2's cap) nothing is counted before parsing: the parser's error
    log says when it cut the page, and the extract step drops it under the limits step's reason."""
    deep, shallow = page("<div>" * 300 + PROSE + "</div>" * 300), page("<div>" * 200 + PROSE + "</div>" * 200)
    assert page_problem(deep, PageLimits()) is None
    with chain() as steps:
        with pytest.raises(DropItem) as dropped:
            steps.process(article(deep))
        assert drop_reason(dropped.value) == "limits:too_deep"
        assert steps.stats.get_value("limits/dropped/too_deep") == 1
        assert "经济运行总体平稳" in steps.process(article(shallow))["text"]


def test_the_chain_drops_with_limits_reasons() -> None:
    with chain() as steps:
        with pytest.raises(DropItem) as dropped:
            steps.process(article(page(PROSE * 3 + "<a href='/x'>链接</a>" * 20_001)))
        assert drop_reason(dropped.value) == "limits:too_many_links"
        assert steps.stats.get_value("limits/dropped/too_many_links") == 1
        kept = steps.process(article(page(f"<article><h1>标题</h1>{PROSE * 4}</article>")))
        assert "经济运行总体平稳" in kept["text"]


def test_slow_extraction_is_dropped() -> None:
    """A budget of 0 s makes every extraction too slow: the step after extraction drops it as limits:slow."""
    with chain(LIMITS_MAX_SECONDS=0.0) as steps:
        with pytest.raises(DropItem) as dropped:
            steps.process(article(page(f"<article><h1>标题</h1>{PROSE * 4}</article>")))
    assert drop_reason(dropped.value) == "limits:slow"
    assert steps.stats.get_value("limits/dropped/slow") == 1


def test_limits_can_be_switched_off() -> None:
    with chain(LIMITS_ENABLED=False, LIMITS_MAX_SECONDS=0.0) as steps:
        kept = steps.process(article(page(f"<article><h1>标题</h1>{PROSE * 4}</article>")))
    assert kept["text"]
    assert not any(key.startswith("limits/") for key in steps.stats.get_stats())
