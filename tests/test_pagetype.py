"""Article vs listing pages."""

from __future__ import annotations

from lxml import html as lxml_html

from crawler.pagetype import classify_page, url_shape

BODY = "".join(f"<p>{'市政府今天召开新闻发布会，介绍今年经济运行情况和下一步工作安排。' * 3}</p>" for _ in range(4))
ARTICLE = f"<html><body><div class='nav'><a href='/'>首页</a><a href='/news/'>新闻</a></div>" \
          f"<h1>标题</h1>{BODY}</body></html>"
LISTING = "<html><body><ul>" + "".join(
    f"<li><a href='/news/2024/0226/c{n}.html'>第{n}条新闻标题比较长一些的样子</a> 2024-02-26</li>" for n in range(30)
) + "</ul><a href='list_2.html'>下一页</a></body></html>"


def test_url_shapes() -> None:
    assert url_shape("http://x.cn/news/2024/0226/c1001-123456.html") == 2
    assert url_shape("http://x.cn/gov/2022-07/27/content_5702.htm") == 2
    assert url_shape("http://x.cn/zw/t20240226_4567.html") == 2
    assert url_shape("http://x.cn/news/index.html") == -2
    assert url_shape("http://x.cn/news/list_2.html") == -2
    assert url_shape("http://x.cn/tag/economy.html") == -2
    assert url_shape("http://x.cn/news/") == -2
    assert url_shape("http://x.cn/search?q=1&page=3") == -2
    assert url_shape("http://x.cn/about.html") == 0


def test_article_page_by_text_even_with_plain_url() -> None:
    kind = classify_page("http://x.cn/story.html", lxml_html.document_fromstring(ARTICLE))
    assert kind.is_article, kind


def test_listing_page_by_links_even_with_dated_url() -> None:
    kind = classify_page("http://x.cn/2024/0226/", lxml_html.document_fromstring(LISTING))
    assert not kind.is_article, kind
    kind = classify_page("http://x.cn/news/c123456.html", lxml_html.document_fromstring(LISTING))
    assert not kind.is_article, kind


def test_short_page_is_not_an_article() -> None:
    page = "<html><body><h1>关于我们</h1><p>联系电话：010-12345678</p></body></html>"
    assert not classify_page("http://x.cn/about.html", lxml_html.document_fromstring(page)).is_article


def test_og_article_metadata_counts() -> None:
    page = ("<html><head><meta property='og:type' content='article'></head><body>"
            + BODY[: len(BODY) // 2] + "</body></html>")
    assert classify_page("http://x.cn/p.html", lxml_html.document_fromstring(page)).is_article


def test_short_brief_needs_an_article_url() -> None:
    brief = "<html><body>" + "".join(f"<p>{'记者从市水务局获悉，城区河道综合整治工程日前全面完工。'}</p>" for _ in range(3)) \
            + "</body></html>"
    tree = lxml_html.document_fromstring(brief)
    assert classify_page("http://x.cn/news/2024/1018/c1001-100002.html", tree).is_article
    assert not classify_page("http://x.cn/brief.html", tree).is_article


def test_one_tree_for_everything_classifies_as_lxml_html() -> None:
    """The spider's tree (parse_html: plain lxml elements, from UTF-8 bytes) classifies every page as an
    lxml.html tree of the same text does (what `scrapy clean` of a WARC uses)."""
    from pathlib import Path

    from crawler.pagetype import parse_html
    from pipelines.decode import decode_bytes

    root = Path(__file__).resolve().parent.parent
    paths = [*(root / "demo" / "site").rglob("*.html"), *(root / "tests" / "pages").glob("*.html")]
    kinds = set()
    for path in paths:
        text = decode_bytes(path.read_bytes()).text
        for url in ("http://x.cn/p.html", "http://x.cn/news/2024/0226/c1001-123456.html", "http://x.cn/list_2.html"):
            expected = classify_page(url, lxml_html.document_fromstring(text))
            assert classify_page(url, parse_html(text)) == expected, path
            kinds.add(expected.is_article)
    assert len(paths) > 20 and kinds == {True, False}


def test_xhtml_with_xml_declaration_parses() -> None:
    from crawler.pagetype import parse_html

    page = '<?xml version="1.0" encoding="utf-8"?>\n' + ARTICLE.replace("<html>", '<html xmlns="http://www.w3.org/1999/xhtml">')
    assert classify_page("http://x.cn/story.html", parse_html(page)).is_article
