"""The site spider reads each page once: its links are the ones Scrapy's LinkExtractor would follow, and a page
with too many links is neither parsed nor followed (the limits step drops it)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from scrapy.http import HtmlResponse, Request
from scrapy.linkextractors import LinkExtractor
from scrapy.utils.test import get_crawler

from crawler.items import Article
from crawler.pagetype import parse_html
from crawler.spiders.base import NON_PAGE_EXTENSIONS
from crawler.spiders.site import SiteSpider, page_links
from pipelines.decode import decode_bytes

ROOT = Path(__file__).resolve().parent.parent
PAGES = sorted([*(ROOT / "demo" / "site").rglob("*.html"), *(ROOT / "tests" / "pages").glob("*.html"),
                *(ROOT / "tests" / "e2e_site" / "site").rglob("*.html")])
# Every way a href can be odd: relative forms, whitespace, non-ASCII paths and queries, fragments, other schemes,
# non-page extensions (in any case, before a query, with ;params), duplicates, bogus hosts, <area>, no href.
TRICKY = """<html><head><title>链接</title>{base}</head><body>
<a href="/news/2024/0101/c1-100001.html">一</a><a href=" \n/news/2024/0101/c1-100001.html\t">一again</a>
<a href="list_2.html">二</a><a href="../up.html">上</a><a href="./same.html">同</a><a href="?page=3">页</a>
<a href="//cdn.example.cn/news/x.html">cdn</a><a href="https://other.example.com/路径/新闻.html?q=中文&x=1#frag">外</a>
<a href="#top">顶</a><a href="/a b/c%20d.html">空格</a><a href="/files/report.PDF">pdf</a>
<a href="/files/report.pdf?download=1">pdf2</a><a href="/img/x.jpg;jsessionid=1">jpg</a>
<a href="/data.json#x">json</a><a href="javascript:void(0)">js</a><a href="mailto:a@example.cn">mail</a>
<a href="ftp://ftp.example.cn/a.html">ftp</a><a href="http://[::1">bogus</a><a>no href</a><a href="">empty</a>
<map><area href="/map/area.html" alt="区"></map><a HREF="/Upper.HTML">大写</a><a href="/q?a=1&amp;b=2">amp</a>
<a href="/tag/经济/">标签</a><a href="HTTP://Example.CN/Case.html">case</a><a href="/news/" rel="nofollow">nf</a>
<p><a href="/news/2024/0101/c1-100001.html">一 once more</a></p>
</body></html>"""


def old_links(url: str, html: str, response: HtmlResponse) -> list[str]:
    """What the spider followed before: LinkExtractor on the page re-encoded as UTF-8, then response.follow."""
    reencoded = HtmlResponse(url, body=html.encode("utf-8"), encoding="utf-8")
    extractor = LinkExtractor(deny_extensions=NON_PAGE_EXTENSIONS, unique=True)
    return [response.follow(link.url).url for link in extractor.extract_links(reencoded)]


def new_links(url: str, html: str) -> list[str]:
    from w3lib.html import get_base_url

    return [Request(u).url for u in page_links(parse_html(html), url, get_base_url(html[:4096], url, "utf-8"))]


@pytest.mark.parametrize("base", ["", '<base href="http://www.example.cn/sub/dir/">', '<base href="/root/">'])
@pytest.mark.parametrize("url", ["http://www.example.cn/news/2024/0101/page.html", "https://例子.cn/a/b/"])
def test_tricky_links_as_link_extractor_follows_them(base: str, url: str) -> None:
    html = TRICKY.format(base=base)
    response = HtmlResponse(url, body=html.encode("gb18030"), encoding="gb18030")
    expected = old_links(url, html, response)
    assert len(expected) > 15  # the page really exercises the rules
    assert new_links(url, html) == expected


@pytest.mark.parametrize("path", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_site_pages_links_unchanged(path: Path) -> None:
    body = path.read_bytes()
    html = decode_bytes(body).text
    url = "http://news.example.cn/" + path.name
    response = HtmlResponse(url, body=body)
    assert new_links(url, html) == old_links(url, html, response)


def test_pages_are_there() -> None:
    assert len(PAGES) > 30


def spider(**settings: object) -> SiteSpider:
    crawler = get_crawler(SiteSpider, {"NETWORK_ALLOW_PRIVATE": True, "STORE_ENABLED": False,
                                       "INCREMENTAL_ENABLED": False, **settings})
    crawler.settings.frozen = False  # from_crawler sets DEPTH_LIMIT, as a crawl does before freezing
    site_spider = SiteSpider.from_crawler(crawler, start="http://news.example.cn/")
    crawler.spider = site_spider
    crawler.stats.open_spider()
    return site_spider


def farm_response(links: int) -> HtmlResponse:
    prose = "<p>" + "市政府今天召开新闻发布会，介绍今年经济运行情况和下一步工作安排。" * 5 + "</p>"
    farm = "".join(f'<a href="http://farm.example/{n}">农场{n}</a>' for n in range(links))
    html = (f'<html><head><meta property="og:type" content="article"></head><body><h1>链接农场</h1>{prose * 3}'
            f"<div>{farm}</div></body></html>")
    url = "http://news.example.cn/news/links.html"
    return HtmlResponse(url, body=html.encode("utf-8"), headers={"Content-Type": "text/html; charset=utf-8"},
                        request=Request(url))


def test_a_link_farm_is_neither_parsed_nor_followed() -> None:
    site_spider = spider()
    started = time.perf_counter()
    output = list(site_spider.parse(farm_response(100_000)))
    seconds = time.perf_counter() - started
    # Parsing and following 100,000 links holds the reactor for several seconds; counting them takes milliseconds.
    assert seconds < 1.0, seconds
    [item] = output
    assert isinstance(item, Article) and item["url"] == "http://news.example.cn/news/links.html"
    assert site_spider.crawler.stats.get_value("site/pages/too_many_links") == 1


def test_links_up_to_the_limit_are_followed() -> None:
    site_spider = spider(LIMITS_MAX_LINKS=50)
    output = list(site_spider.parse(farm_response(50)))
    assert [type(o) for o in output] == [Article] + [Request] * 50
    assert list(spider(LIMITS_MAX_LINKS=49).parse(farm_response(50)))[1:] == []


def test_without_page_limits_every_link_is_followed() -> None:
    output = list(spider(LIMITS_ENABLED=False, LIMITS_MAX_LINKS=10).parse(farm_response(50)))
    assert len(output) == 51
    assert output[1].url == "http://farm.example/0" and output[-1].url == "http://farm.example/49"


def test_xhtml_page_with_xml_declaration_is_read() -> None:
    # lxml refuses a str carrying an XML declaration: such pages were skipped as unparsable.
    html = ('<?xml version="1.0" encoding="utf-8"?>\n<html xmlns="http://www.w3.org/1999/xhtml"><head>'
            '<link rel="canonical" href="http://news.example.cn/news/2024/0101/c1-100001.html"/></head><body>'
            + "<p>市政府今天召开新闻发布会，介绍今年经济运行情况和下一步工作安排。</p>" * 6
            + '<a href="/news/list_2.html">下一页</a></body></html>')
    url = "http://news.example.cn/news/2024/0101/c1-100001.html?from=rss"
    response = HtmlResponse(url, body=html.encode("utf-8"), headers={"Content-Type": "text/html; charset=utf-8"},
                            request=Request(url))
    site_spider = spider()
    item, follow = list(site_spider.parse(response))
    assert item["url"] == "http://news.example.cn/news/2024/0101/c1-100001.html"
    assert follow.url == "http://news.example.cn/news/list_2.html"
    assert site_spider.crawler.stats.get_value("site/skipped/unparsable") is None


def test_unparsable_page_is_skipped_with_its_reason() -> None:
    url = "http://news.example.cn/a.html"
    response = HtmlResponse(url, body=b"<html><body>" + b"x" * 9000 + b"\x00</body></html>",
                            headers={"Content-Type": "text/html; charset=utf-8"}, request=Request(url))
    site_spider = spider()
    assert list(site_spider.parse(response)) == []
    assert site_spider.crawler.stats.get_value("site/skipped/unparsable") == 1


def listing_response(url: str, links: list[str], depth: int) -> HtmlResponse:
    items = "".join(f'<li><a href="{link}">新闻{n}</a></li>' for n, link in enumerate(links))
    html = f"<html><head><title>列表</title></head><body><ul>{items}</ul></body></html>"
    request = Request(url, meta={"depth": depth})
    return HtmlResponse(url, body=html.encode("utf-8"), headers={"Content-Type": "text/html; charset=utf-8"},
                        request=request)


def requested(output: list[object]) -> list[str]:
    return [o.url for o in output if isinstance(o, Request)]


def test_a_url_is_handed_to_scrapy_once_unless_first_seen_past_the_depth_limit() -> None:
    """Navigation links repeat on every page: each URL goes to Scrapy once. But a link first seen where
    following it would pass the depth limit (Scrapy drops that request) is handed over again when a page
    nearer the start links it."""
    site_spider = spider(SITE_DEPTH_LIMIT=2)
    story = "http://news.example.cn/news/2024/0101/c1000-100001.html"
    other = "http://news.example.cn/news/2024/0101/c1000-100002.html"
    deep = listing_response("http://news.example.cn/list_9.html", [story], depth=2)
    assert requested(list(site_spider.parse(deep))) == [story]  # depth 3: DepthMiddleware will drop it
    near = listing_response("http://news.example.cn/list_1.html", [story, other], depth=1)
    assert requested(list(site_spider.parse(near))) == [story, other]  # depth 2: within the limit
    again = listing_response("http://news.example.cn/list_2.html", [other, story], depth=1)
    assert requested(list(site_spider.parse(again))) == []
