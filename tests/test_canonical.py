"""Canonical URLs: tracking parameters, fragments, index files, mobile twins, rel=canonical."""

from __future__ import annotations

import pytest

from crawler.canonical import canonical_url, choose_canonical, desktop_host, same_site, site_of


@pytest.mark.parametrize(("url", "expected"), [
    ("http://www.example.com/a/1.html", "http://www.example.com/a/1.html"),
    ("HTTP://WWW.Example.COM:80/a/1.html#comments", "http://www.example.com/a/1.html"),
    ("https://example.com:443/a", "https://example.com/a"),
    ("http://127.0.0.1:8080/a/1.html", "http://127.0.0.1:8080/a/1.html"),
    ("http://x.com/a.html?utm_source=wx&utm_medium=social&id=5", "http://x.com/a.html?id=5"),
    ("http://x.com/a.html?from=singlemessage&isappinstalled=0", "http://x.com/a.html"),
    ("http://x.com/a.html?spm=a21bo.2017&fbclid=abc&gclid=1&share_token=9", "http://x.com/a.html"),
    ("http://x.com/a.html?b=2&a=1&UTM_Campaign=z", "http://x.com/a.html?a=1&b=2"),
    ("http://x.com/a.html?page=2", "http://x.com/a.html?page=2"),
    ("http://x.com/news/index.html", "http://x.com/news/"),
    ("http://x.com/news/INDEX.HTM", "http://x.com/news/"),
    ("http://x.com/default.html", "http://x.com/"),
    ("http://x.com/news/index_2.html", "http://x.com/news/index_2.html"),
    ("http://x.com/news/myindex.html", "http://x.com/news/myindex.html"),
    ("http://m.example.com/a/1.html", "http://www.example.com/a/1.html"),
    ("http://wap.example.com.cn/a/1.html", "http://www.example.com.cn/a/1.html"),
    ("http://3g.163.com/news/1.html", "http://www.163.com/news/1.html"),
    ("http://m.news.example.com/a/1.html", "http://news.example.com/a/1.html"),
    ("http://m.sc.gov.cn/a.html", "http://www.sc.gov.cn/a.html"),
    ("http://www.example.com/m/news/1.html", "http://www.example.com/news/1.html"),
    ("http://www.example.com/wap/2024/1.html", "http://www.example.com/2024/1.html"),
    ("http://www.example.com/m/", "http://www.example.com/m/"),
    ("http://www.example.com/media/1.html", "http://www.example.com/media/1.html"),
    ("http://mail.example.com/a", "http://mail.example.com/a"),
    ("http://x.com/新闻/1.html", "http://x.com/%E6%96%B0%E9%97%BB/1.html"),
    ("ftp://x.com/a#b", "ftp://x.com/a#b"),
    ("not a url", "not a url"),
    ("http://[::1]:8080/a#x", "http://[::1]:8080/a"),
])
def test_canonical_url(url: str, expected: str) -> None:
    assert canonical_url(url) == expected


def test_canonical_url_is_idempotent() -> None:
    for url in ("http://m.example.com/m/a/index.html?utm_x=1&b=2#f", "http://x.com/新闻/1.html?q=中文"):
        once = canonical_url(url)
        assert canonical_url(once) == once


def test_hosts() -> None:
    assert desktop_host("m.cn") == "m.cn"
    assert desktop_host("www.example.com") == "www.example.com"
    assert site_of("m.example.com") == site_of("www.example.com") == site_of("example.com") == "example.com"
    assert site_of("www.gov.cn") == "www.gov.cn"  # gov.cn is a public suffix: www.gov.cn is the site
    assert same_site("http://m.x.com/1", "https://www.x.com/2")
    assert not same_site("http://news.x.com/1", "http://sports.x.com/1")


@pytest.mark.parametrize(("declared", "expected"), [
    (None, "http://www.x.com/a/1.html"),
    ("", "http://www.x.com/a/1.html"),
    ("/a/1-full.html", "http://www.x.com/a/1-full.html"),
    ("https://x.com/a/1.html?utm_source=rss", "https://x.com/a/1.html"),
    ("http://other.com/a/1.html", "http://www.x.com/a/1.html"),  # another site: ignored
    ("http://www.x.com/", "http://www.x.com/a/1.html"),  # home page for an article: template error
    ("javascript:void(0)", "http://www.x.com/a/1.html"),
])
def test_choose_canonical(declared: str | None, expected: str) -> None:
    assert choose_canonical("http://m.x.com/a/1.html?from=timeline#top", declared) == expected
