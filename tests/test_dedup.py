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


def test_with_a_store_memory_holds_only_recent_hashes(tmp_path: Path) -> None:
    """A long crawl keeps only the recent hashes in memory; older articles, written by the store step by
    then, are still found as originals through the store."""
    path = tmp_path / "a.sqlite"
    step = DedupPipeline(store_path=str(path))
    step.open_spider()
    step.index.recent = 3
    writer = ArticleStore(path)
    for n in range(10):
        text = f"第{n}篇报道的正文。"
        item = step.process_item(new_article(id=f"a{n}", url=f"http://x/{n}", text=text))
        writer.upsert([dict(item)])  # what the store step does with a kept article
        assert len(step.index.seen) <= 3
    with pytest.raises(DropItem, match="dedup:exact:a0"):  # long gone from memory: found in the store
        step.process_item(new_article(id="copy", url="http://y/0", text="第0篇报道的正文"))
    with pytest.raises(DropItem, match="dedup:exact:a9"):  # recent, not yet needed from the store
        step.process_item(new_article(id="copy9", url="http://y/9", text="第9篇报道的正文"))
    writer.close()
    step.close_spider()


def test_without_a_store_every_hash_of_the_run_is_kept() -> None:
    step = DedupPipeline()
    for n in range(50):
        step.process_item(new_article(id=f"a{n}", url=f"http://x/{n}", text=f"第{n}篇。"))
    with pytest.raises(DropItem, match="dedup:exact:a0"):
        step.process_item(new_article(id="copy", url="http://y/0", text="第0篇"))
