"""`scrapy export`: JSON lines and Parquet from both store backends, filters, schema, round trip."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from crawler.commands import export
from crawler.items import EXPORT_FIELDS, new_article
from pipelines.store import open_store
from tests.crawlrun import ROOT
from tests.pg import location, pg_url, postgres_server  # noqa: F401  (fixtures)


def article(article_id: str, url: str | None, **fields: object) -> dict[str, object]:
    defaults = {"text": f"{article_id}号文章的正文，第一段。\n第二段：記者現場報道。", "content_hash": f"hash-{article_id}",
                "fetched_at": "2024-03-20T01:00:00+00:00", "language": "zh"}
    return dict(new_article(id=article_id, url=url, **(defaults | fields)))


ARTICLES = [
    article("a", "http://www.news.cn/a", published="2024-03-02", authors=["王明", "李华"],
            cleaning={"pinyin_removed": 2, "spam_lines": 1}, title="杭州湾跨海铁路大桥通车", site_name="新华网",
            script="Hans", original_script="Hant", source="新华社", editor="张华", encoding="gb18030"),
    article("b", "http://news.cn/b", published="2024-02-01T10:00+08:00"),
    article("c", "http://www.news.cn/c", published=None, fetched_at="2024-03-05T00:00:00+00:00", duplicate_of="a"),
    article("d", "http://www.people.com.cn/d", published="2024-03-10", site_name="人民网"),
    article("e", "http://www.news.cn/e", published="2024-04-01", language="en", text="English text, not Chinese."),
    article("f", None, published=None, fetched_at=None, language="und", text="没有网址的记录"),
    article("g", "http://fakenews.cn/g", published="2024-05-01"),
]


@pytest.fixture
def filled(location: str) -> str:
    store = open_store(location)
    store.upsert(ARTICLES)
    store.close()
    return location


def run_export(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "scrapy", "export", *args], cwd=ROOT, capture_output=True,
                          timeout=60)


def parquet_rows(path: Path) -> list[dict[str, object]]:
    rows = pq.read_table(path).to_pylist()
    for row in rows:
        row["cleaning"] = dict(row["cleaning"])  # a Parquet map reads back as (key, value) pairs
    return rows


def by_id(rows: list[dict[str, object]]) -> dict[object, dict[str, object]]:
    return {row["id"]: row for row in rows}


def test_parquet_schema_and_round_trip(filled: str, tmp_path: Path) -> None:
    out = tmp_path / "out" / "articles.parquet"
    result = run_export("-o", str(out), "--store", filled)
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    assert b"Exported 7 articles" in result.stderr
    schema = pq.read_schema(out)
    assert schema.names == list(EXPORT_FIELDS)
    assert schema.field("authors").type == pa.list_(pa.string())
    assert schema.field("cleaning").type == pa.map_(pa.string(), pa.int64())
    assert all(schema.field(name).type == pa.string() for name in EXPORT_FIELDS
               if name not in ("authors", "cleaning"))
    # What went into the store comes back out, field for field.
    assert by_id(parquet_rows(out)) == {a["id"]: {name: a[name] for name in EXPORT_FIELDS} for a in ARTICLES}
    assert not list(out.parent.glob("*.partial"))


def test_jsonl_file_and_stdout_are_the_stored_rows(filled: str, tmp_path: Path) -> None:
    out = tmp_path / "articles.jsonl"
    to_file = run_export("-o", str(out), "--store", filled)
    to_stdout = run_export("-o", "-", "--store", filled)
    assert to_file.returncode == 0 and to_stdout.returncode == 0, to_file.stderr.decode()[-2000:]
    assert out.read_bytes() == to_stdout.stdout
    lines = [json.loads(line) for line in to_stdout.stdout.decode("utf-8").splitlines()]
    assert all(list(line) == list(EXPORT_FIELDS) for line in lines)
    store = open_store(filled)
    stored = [{name: row[name] for name in EXPORT_FIELDS} for row in store.iter_articles()]
    store.close()
    assert lines == stored  # same rows, same order (oldest first)
    assert "杭州湾跨海铁路大桥通车" in to_stdout.stdout.decode("utf-8")  # UTF-8, not \\u escapes


def test_all_filters_together(filled: str, tmp_path: Path) -> None:
    out = tmp_path / "filtered.parquet"
    result = run_export("-o", str(out), "--store", filled, "--since", "2024-03-01", "--site", "news.cn",
                        "--lang", "zh", "--no-duplicates")
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    # b: published before; c: a near-duplicate; d: another site; e: English; f: no URL; g: another host.
    assert [row["id"] for row in parquet_rows(out)] == ["a"]


@pytest.mark.parametrize(("filters", "expected"), [
    (["--since", "2024-03-01"], "acdeg"),  # c has no publication date: fetched 2024-03-05; f has neither
    (["--since", "2024-03-02"], "acdeg"),  # a: published that day
    (["--since", "20240303"], "cdeg"),
    (["--since", "2024-03-06"], "deg"),
    (["--site", "news.cn,人民网"], "abcde"),  # subdomains of news.cn, and d by its site name; not fakenews.cn
    (["--site", "WWW.NEWS.CN"], "ace"),
    (["--lang", "zh,und"], "abcdfg"),
    (["--no-duplicates"], "abdefg"),
])
def test_each_filter(filters: list[str], expected: str, tmp_path: Path) -> None:
    path = tmp_path / "a.sqlite"
    store = open_store(path)
    store.upsert(ARTICLES)
    store.close()
    result = run_export("-o", "-", "--store", f"sqlite:///{path}", *filters)
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    assert "".join(sorted(json.loads(line)["id"] for line in result.stdout.splitlines())) == expected


def test_parquet_is_written_row_group_by_row_group(filled: str, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(export, "ROW_GROUP_ROWS", 3)
    out = tmp_path / "groups.parquet"
    store = open_store(filled)
    try:
        count = export.Command().write((export.as_article(row) for row in store.iter_articles()), str(out),
                                       "parquet")
    finally:
        store.close()
    assert count == 7
    assert pq.ParquetFile(out).metadata.num_row_groups == 3
    assert sorted(row["id"] for row in parquet_rows(out)) == list("abcdefg")


def test_usage_errors_write_nothing(tmp_path: Path) -> None:
    missing = tmp_path / "missing.sqlite"
    for args, message in (
        (["-o", str(tmp_path / "x.csv"), "--store", str(missing)], b"cannot tell the format"),
        (["-o", "-", "--format", "parquet", "--store", str(missing)], b"cannot be streamed to stdout"),
        (["-o", str(tmp_path / "x.jsonl"), "--store", str(missing)], b"no store at"),
        (["-o", str(tmp_path / "x.jsonl"), "--store", "mysql://db/x"], b"unknown store URL scheme"),
        (["-o", str(tmp_path / "x.jsonl"), "--store", str(missing), "--since", "2024-03-01T08:00"], b"is not a date"),
    ):
        result = run_export(*args)
        assert result.returncode != 0 and message in result.stderr, (args, result.stderr[-500:])
    assert list(tmp_path.iterdir()) == []  # no store created, no output left


def test_format_option_overrides_the_extension(tmp_path: Path) -> None:
    path = tmp_path / "a.sqlite"
    store = open_store(path)
    store.upsert(ARTICLES[:2])
    store.close()
    out = tmp_path / "articles.data"
    result = run_export("-o", str(out), "--format", "parquet", "--store", str(path))
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    assert pq.read_table(out).num_rows == 2
