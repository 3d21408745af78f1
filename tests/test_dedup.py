"""Exact duplicates: same normalised text under another URL is dropped."""

from __future__ import annotations

from pathlib import Path

import pytest
from scrapy.exceptions import DropItem

from crawler.items import new_article
from pipelines.dedup import DedupPipeline, content_hash
from pipelines.store import ArticleStore


def test_hash_ignores_whitespace_punctuation_and_case() -> None:
    assert content_hash("新闻，正文。\nHello") == content_hash("新闻, 正文.  hello")
    assert content_hash("新闻正文") != content_hash("新闻正文二")


def test_second_url_with_same_text_is_dropped() -> None:
    step = DedupPipeline()
    step.process_item(new_article(id="a", url="http://x/a", text="同一篇报道。"))
    with pytest.raises(DropItem, match="dedup:exact:a"):
        step.process_item(new_article(id="b", url="http://y/b", text="同一篇报道"))


def test_same_url_again_is_not_a_duplicate() -> None:
    step = DedupPipeline()
    step.process_item(new_article(id="a", url="http://x/a", text="同一篇报道。"))
    assert step.process_item(new_article(id="a", url="http://x/a", text="同一篇报道。"))["content_hash"]


def test_duplicates_of_stored_articles_across_runs(tmp_path: Path) -> None:
    path = tmp_path / "a.sqlite"
    store = ArticleStore(path)
    store.upsert([dict(new_article(id="old", url="http://x/old", text="旧文", content_hash=content_hash("旧文")))])
    store.close()
    step = DedupPipeline(store_path=str(path))
    step.open_spider()
    with pytest.raises(DropItem, match="dedup:exact:old"):
        step.process_item(new_article(id="new", url="http://y/new", text="旧文"))
    step.close_spider()


def test_disabled_only_hashes() -> None:
    step = DedupPipeline(enabled=False)
    step.process_item(new_article(id="a", url="http://x/a", text="文"))
    assert step.process_item(new_article(id="b", url="http://x/b", text="文"))["content_hash"] == content_hash("文")
