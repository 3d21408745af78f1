"""Article ids."""

from __future__ import annotations

from crawler.items import ARTICLE_FIELDS, file_article_id, new_article, url_article_id


def test_file_ids_drop_input_extensions() -> None:
    assert file_article_id("abc.html.gz") == "abc"
    assert file_article_id("dir/000_ff2d.txt") == "000_ff2d"
    assert file_article_id("page.SHTML") == "page"
    assert file_article_id("notes.v2.htm") == "notes.v2"


def test_url_ids_are_stable_over_canonical_forms() -> None:
    assert url_article_id("http://x.cn/a?b=1&a=2#top") == url_article_id("http://x.cn/a?a=2&b=1")
    assert len(url_article_id("http://x.cn/a")) == 16


def test_new_article_has_every_schema_field() -> None:
    assert set(ARTICLE_FIELDS) <= set(new_article().keys())
