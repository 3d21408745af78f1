"""The store on both backends (SQLite, PostgreSQL): one row per URL, updates in place, versions kept on change."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from scrapy.utils.test import get_crawler

from crawler.items import new_article
from pipelines.store import ArticleStore, StorePipeline, open_store
from pipelines.storesql import StoreLocation, parse_location
from tests.pg import location, pg_url, postgres_server, store_settings  # noqa: F401  (fixtures)


def _record(url: str, text: str, **extra: object) -> dict[str, object]:
    record = dict(new_article(id=url[-3:], url=url, text=text, content_hash=text, authors=["张三"],
                              cleaning={"pinyin_removed": 2}))
    return record | extra  # extras beyond the Article: etag, last_modified, aliases


def test_upsert_updates_in_place(location: str) -> None:
    store = open_store(location)
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


def test_same_content_recrawl_keeps_version(location: str) -> None:
    store = open_store(location)
    store.upsert([_record("http://x/1", "同文")])
    store.upsert([_record("http://x/1", "同文")])
    assert [r["version"] for r in store.iter_articles()] == [1]
    store.close()


def test_records_without_url_are_keyed_by_id(location: str) -> None:
    store = open_store(location)
    store.upsert([dict(new_article(id="a", text="甲")), dict(new_article(id="b", text="乙"))])
    assert store.count() == 2
    assert store.lookup("id:a") is not None
    store.close()


def test_find_by_hash_excludes_own_key(location: str) -> None:
    store = open_store(location)
    store.upsert([_record("http://x/1", "h1")])
    assert store.find_by_hash("h1", exclude_key="http://x/2") == "x/1"
    assert store.find_by_hash("h1", exclude_key="http://x/1") is None
    assert store.find_by_hash("h1") == "x/1"
    assert store.find_by_hash("h2") is None
    store.close()


def test_pipeline_batches_and_flushes_on_close(location: str) -> None:
    crawler = get_crawler(settings_dict=store_settings(location, STORE_BATCH_SIZE=2))
    step = StorePipeline.from_crawler(crawler)
    step.open_spider()
    reader = open_store(location)  # another connection sees only committed batches
    for n in range(3):
        step.process_item(new_article(id=str(n), url=f"http://x/{n}", text=f"正文{n}", body=b"raw"))
    assert reader.count() == 2
    step.close_spider()
    assert reader.count() == 3
    assert crawler.stats.get_value("store/written") == 3
    reader.close()


def test_changed_article_keeps_earlier_version(location: str) -> None:
    store = open_store(location)
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
    store.close()


def test_validators_aliases_lookup_and_touch(location: str) -> None:
    store = open_store(location)
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
    # An alias moved to another article follows it.
    store.upsert([_record("http://x/3", "别的", aliases=["http://m.x/1"])])
    assert store.lookup("http://m.x/1").key == "http://x/3"  # type: ignore[union-attr]
    store.close()


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


def test_pipeline_counts_new_updated_unchanged(location: str) -> None:
    for texts in (["甲", "乙"], ["甲", "丙"]):
        crawler = get_crawler(settings_dict=store_settings(location, STORE_BATCH_SIZE=10))
        step = StorePipeline.from_crawler(crawler)
        step.open_spider()
        for n, text in enumerate(texts):
            step.process_item(new_article(id=str(n), url=f"http://x/{n}", text=text, content_hash=text))
        step.close_spider()
    assert {k: v for k, v in crawler.stats.get_stats().items() if k.startswith("store/")} == {
        "store/written": 2, "store/unchanged": 1, "store/updated": 1}


def test_outcomes_follow_input_order_within_a_batch(location: str) -> None:
    store = open_store(location)
    store.upsert([_record("http://x/b", "乙")])
    # Rows are written in key order (lock order for concurrent writers); outcomes stay in input order.
    assert store.upsert([_record("http://x/c", "丙"), _record("http://x/b", "乙2"), _record("http://x/a", "甲"),
                         _record("http://x/c", "丙")]) == ["new", "updated", "new", "unchanged"]
    assert {r["url"]: r["version"] for r in store.iter_articles()} == {
        "http://x/a": 1, "http://x/b": 2, "http://x/c": 1}
    store.close()


def test_iter_articles_filters(location: str) -> None:
    store = open_store(location)
    store.upsert([
        _record("http://x/1", "一", published="2024-03-01T09:00+08:00", language="zh"),
        _record("http://x/2", "二", published="2024-02-28", language="zh", duplicate_of="x/1"),
        _record("http://x/3", "三", published=None, fetched_at="2024-03-05T00:00:00+00:00", language="en"),
        _record("http://x/4", "四", published="", fetched_at="2024-01-05T00:00:00+00:00", language="und"),
    ])
    def urls(**filters: object) -> list[str]:
        return [r["url"][-1] for r in store.iter_articles(**filters)]  # type: ignore[arg-type]
    assert urls() == ["1", "2", "3", "4"]
    assert urls(since="2024-03-01") == ["1", "3"]  # no publication date: the fetch time decides
    assert urls(languages=["zh", "und"]) == ["1", "2", "4"]
    assert urls(originals_only=True) == ["1", "3", "4"]
    assert urls(since="2024-01-01", languages=["zh"], originals_only=True) == ["1"]
    store.close()


def test_concurrent_openers_migrate_once(location: str) -> None:
    stores = [open_store(location) for _ in range(3)]
    assert stores[0].upsert([_record("http://x/1", "甲")]) == ["new"]
    assert all(store.count() == 1 for store in stores)
    for store in stores:
        store.close()


@pytest.mark.parametrize(("given", "expected"), [
    ("output/articles.sqlite", StoreLocation("sqlite", "output/articles.sqlite")),
    ("sqlite:///output/articles.sqlite", StoreLocation("sqlite", "output/articles.sqlite")),
    ("sqlite:////var/lib/zh/a.sqlite", StoreLocation("sqlite", "/var/lib/zh/a.sqlite")),
    ("postgresql://crawler@db:5432/news", StoreLocation("postgresql", "postgresql://crawler@db:5432/news")),
    ("postgres://db/news", StoreLocation("postgresql", "postgres://db/news")),
])
def test_store_urls(given: str, expected: StoreLocation) -> None:
    assert parse_location(given) == expected


def test_bad_store_urls_are_refused() -> None:
    for bad in ("mysql://db/news", "sqlite://relative.sqlite"):
        with pytest.raises(ValueError, match="store URL"):
            parse_location(bad)


def test_logged_location_hides_the_password() -> None:
    assert "s3cret" not in str(parse_location("postgresql://crawler:s3cret@db:5432/news"))
    assert str(parse_location("postgresql://crawler:s3cret@db:5432/news")) == "postgresql://crawler@db:5432/news"


def test_store_url_wins_over_store_path(tmp_path: Path) -> None:
    url_path = tmp_path / "by-url.sqlite"
    crawler = get_crawler(settings_dict={"STORE_PATH": str(tmp_path / "by-path.sqlite"),
                                         "STORE_URL": f"sqlite:///{url_path}"})
    step = StorePipeline.from_crawler(crawler)
    step.open_spider()
    step.process_item(new_article(id="1", url="http://x/1", text="正文"))
    step.close_spider()
    assert url_path.exists() and not (tmp_path / "by-path.sqlite").exists()
    assert ArticleStore(url_path).count() == 1
