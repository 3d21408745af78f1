"""SQLite store: one row per URL, updates in place, versions counted on change."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from scrapy.utils.test import get_crawler

from crawler.items import new_article
from pipelines.store import ArticleStore, StorePipeline


def _record(url: str, text: str, **extra: object) -> dict[str, object]:
    return dict(new_article(id=url[-3:], url=url, text=text, content_hash=text, authors=["张三"],
                            cleaning={"pinyin_removed": 2}, **extra))


def test_upsert_updates_in_place(tmp_path: Path) -> None:
    store = ArticleStore(tmp_path / "a.sqlite")
    store.upsert([_record("http://x/1", "第一版"), _record("http://x/2", "另一篇")])
    store.upsert([_record("http://x/1", "第二版", title="新标题")])
    rows = {r["url"]: r for r in store.iter_articles()}
    assert store.count() == 2
    assert rows["http://x/1"]["text"] == "第二版"
    assert rows["http://x/1"]["title"] == "新标题"
    assert rows["http://x/1"]["version"] == 2
    assert rows["http://x/2"]["version"] == 1
    assert rows["http://x/1"]["authors"] == ["张三"]
    assert rows["http://x/1"]["cleaning"] == {"pinyin_removed": 2}
    store.close()


def test_same_content_recrawl_keeps_version(tmp_path: Path) -> None:
    store = ArticleStore(tmp_path / "a.sqlite")
    store.upsert([_record("http://x/1", "同文")])
    store.upsert([_record("http://x/1", "同文")])
    assert [r["version"] for r in store.iter_articles()] == [1]


def test_records_without_url_are_keyed_by_id(tmp_path: Path) -> None:
    store = ArticleStore(tmp_path / "a.sqlite")
    store.upsert([dict(new_article(id="a", text="甲")), dict(new_article(id="b", text="乙"))])
    assert store.count() == 2


def test_find_by_hash_excludes_own_key(tmp_path: Path) -> None:
    store = ArticleStore(tmp_path / "a.sqlite")
    store.upsert([_record("http://x/1", "h1")])
    assert store.find_by_hash("h1", exclude_key="http://x/2") == "x/1"
    assert store.find_by_hash("h1", exclude_key="http://x/1") is None


def test_pipeline_batches_and_flushes_on_close(tmp_path: Path) -> None:
    path = tmp_path / "out" / "a.sqlite"
    crawler = get_crawler(settings_dict={"STORE_PATH": str(path), "STORE_BATCH_SIZE": 2})
    step = StorePipeline.from_crawler(crawler)
    step.open_spider()
    for n in range(3):
        step.process_item(new_article(id=str(n), url=f"http://x/{n}", text=f"正文{n}", body=b"raw"))
    assert sqlite3.connect(path).execute("SELECT COUNT(*) FROM articles").fetchone()[0] == 2
    step.close_spider()
    assert sqlite3.connect(path).execute("SELECT COUNT(*) FROM articles").fetchone()[0] == 3
    assert crawler.stats.get_value("store/written") == 3
