"""SQLite store: one row per URL, updates in place, versions counted on change."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from scrapy.utils.test import get_crawler

from crawler.items import new_article
from pipelines.store import ArticleStore, StorePipeline


def _record(url: str, text: str, **extra: object) -> dict[str, object]:
    record = dict(new_article(id=url[-3:], url=url, text=text, content_hash=text, authors=["张三"],
                              cleaning={"pinyin_removed": 2}))
    return record | extra  # extras beyond the Article: etag, last_modified, aliases


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


def test_changed_article_keeps_earlier_version(tmp_path: Path) -> None:
    store = ArticleStore(tmp_path / "a.sqlite")
    assert store.upsert([_record("http://x/1", "第一版", title="旧标题", fetched_at="2024-01-01T00:00:00+00:00")]) \
        == ["new"]
    assert store.upsert([_record("http://x/1", "第一版")]) == ["unchanged"]
    assert store.upsert([_record("http://x/1", "第二版", title="新标题")]) == ["updated"]
    assert store.upsert([_record("http://x/1", "第三版"), _record("http://x/2", "另一篇")]) == ["updated", "new"]
    versions = list(store.iter_versions("http://x/1"))
    assert [(v["version"], v["text"], v["title"], v["content_hash"]) for v in versions] == [
        (1, "第一版", "旧标题", "第一版"), (2, "第二版", "新标题", "第二版")]
    assert versions[0]["fetched_at"] == "2024-01-01T00:00:00+00:00" and versions[0]["replaced_at"]
    assert [(r["url"], r["version"], r["text"]) for r in store.iter_articles()] == [
        ("http://x/1", 3, "第三版"), ("http://x/2", 1, "另一篇")]


def test_validators_aliases_lookup_and_touch(tmp_path: Path) -> None:
    store = ArticleStore(tmp_path / "a.sqlite")
    store.upsert([_record("http://x/1", "正文", etag='"v1"', last_modified="Mon, 01 Jan 2024 00:00:00 GMT",
                          aliases=["http://m.x/1", "http://x/1"])])
    found = store.lookup("http://m.x/1")
    assert found is not None and found.key == "http://x/1"
    assert (found.etag, found.last_modified) == ('"v1"', "Mon, 01 Jan 2024 00:00:00 GMT")
    assert store.lookup("http://x/2") is None
    # Same content, no validators in the new response: the recorded ones stay.
    store.upsert([_record("http://x/1", "正文")])
    assert store.lookup("http://x/1").etag == '"v1"'  # type: ignore[union-attr]
    store.upsert([_record("http://x/1", "正文", etag='"v2"')])
    assert store.lookup("http://x/1").etag == '"v2"'  # type: ignore[union-attr]
    store.touch("http://x/1", "2030-01-01T00:00:00+00:00")
    assert store.lookup("http://x/1").last_seen == "2030-01-01T00:00:00+00:00"  # type: ignore[union-attr]


V1_SCHEMA = """
CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE articles (key TEXT PRIMARY KEY, id TEXT, url TEXT, title TEXT, text TEXT, content_hash TEXT,
    first_seen TEXT NOT NULL, last_seen TEXT NOT NULL, version INTEGER NOT NULL DEFAULT 1);
INSERT INTO meta VALUES ('schema_version', '1');
INSERT INTO articles VALUES ('http://x/1', 'a1', 'http://x/1', '标题', '旧正文', 'h1', '2024-01-01', '2024-01-01', 1);
"""


def test_schema_1_store_is_upgraded(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    old = sqlite3.connect(path)
    old.executescript(V1_SCHEMA)
    old.close()
    store = ArticleStore(path)
    assert store.db.execute("SELECT value FROM meta WHERE name = 'schema_version'").fetchone() == ("2",)
    assert store.lookup("http://x/1") == store.lookup("http://x/1") and store.count() == 1
    assert store.upsert([_record("http://x/1", "新正文", etag="e")]) == ["updated"]
    assert [v["text"] for v in store.iter_versions("http://x/1")] == ["旧正文"]
    store.close()
    ArticleStore(path).close()  # opening an upgraded store again is a no-op


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "new.sqlite"
    ArticleStore(path).close()
    db = sqlite3.connect(path)
    with db:
        db.execute("UPDATE meta SET value = '99' WHERE name = 'schema_version'")
    db.close()
    with pytest.raises(ValueError, match="schema 99"):
        ArticleStore(path)


def test_pipeline_counts_new_updated_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "a.sqlite"
    for texts in (["甲", "乙"], ["甲", "丙"]):
        crawler = get_crawler(settings_dict={"STORE_PATH": str(path), "STORE_BATCH_SIZE": 10})
        step = StorePipeline.from_crawler(crawler)
        step.open_spider()
        for n, text in enumerate(texts):
            step.process_item(new_article(id=str(n), url=f"http://x/{n}", text=text, content_hash=text))
        step.close_spider()
    assert {k: v for k, v in crawler.stats.get_stats().items() if k.startswith("store/")} == {
        "store/written": 2, "store/unchanged": 1, "store/updated": 1}
