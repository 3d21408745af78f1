"""`scrapy clean` over a directory of mixed inputs: good pages kept, bad files reported and skipped."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import pytest

from crawler.items import EXPORT_FIELDS, url_article_id

ROOT = Path(__file__).resolve().parent.parent

PARAGRAPHS = [
    "本报讯 市统计局今天发布数据显示，今年前三季度全市地区生产总值同比增长百分之五点二，经济运行总体平稳、稳中有进。",
    "从产业看，高技术制造业增加值增长百分之九点八，新能源汽车、集成电路等产品产量保持两位数增长。",
    "市统计局新闻发言人表示，下一步将继续加强经济运行监测，为科学决策提供数据支撑。",
]
TITLE = "前三季度全市经济运行稳中有进"


def page(charset_meta: str = "") -> str:
    body = "".join(f"<p>{p}</p>" for p in PARAGRAPHS)
    return (f"<html><head>{charset_meta}<title>{TITLE}_示例新闻网</title></head><body>"
            f"<div class='nav'><a href='/'>首页</a></div><h1>{TITLE}</h1>"
            f"<div class='article'>{body}</div></body></html>")


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("inputs")
    (root / "sub").mkdir()
    (root / "gbk_no_charset.html").write_bytes(page().encode("gbk"))
    (root / "gb2312_but_utf8.htm").write_bytes(page('<meta charset="gb2312">').encode("utf-8"))
    (root / "sub" / "zipped.shtml.gz").write_bytes(gzip.compress(page().encode("utf-8")))
    (root / "empty.html").write_bytes(b"")
    (root / "binary.html").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40)
    (root / "truncated.html.gz").write_bytes(gzip.compress(page().encode("utf-8"))[:60])
    (root / "note.txt").write_bytes("\n".join(PARAGRAPHS).encode("gb18030"))
    (root / "ignored.pdf").write_bytes(b"%PDF-1.4")
    records = [
        {"id": "rec-html", "url": "http://news.example.cn/2024/0101/a.html", "html": page()},
        {"url": "http://news.example.cn/2024/0101/b.html", "text": "\n".join(PARAGRAPHS[::-1])},
        "not a record",
    ]
    lines = [json.dumps(r, ensure_ascii=False) for r in records] + ["{broken json"]
    (root / "records.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def run(inputs: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    out_dir = tmp_path_factory.mktemp("out")
    out, rejected = out_dir / "out.jsonl", out_dir / "rejected.jsonl"
    result = subprocess.run(
        [sys.executable, "-m", "scrapy", "clean", str(inputs), "-o", str(out), "--rejected", str(rejected),
         "-s", "DEDUP_ENABLED=False"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    return {
        "stdout": result.stdout,
        "kept": [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()],
        "rejected": [json.loads(line) for line in rejected.read_text(encoding="utf-8").splitlines()],
    }


def test_good_pages_kept_with_file_ids(run: dict) -> None:
    kept = {a["id"]: a for a in run["kept"]}
    text_record_id = url_article_id("http://news.example.cn/2024/0101/b.html")
    assert set(kept) == {"gbk_no_charset", "gb2312_but_utf8", "zipped", "note", "rec-html", text_record_id}
    assert kept[text_record_id]["text"].splitlines() == PARAGRAPHS[::-1]
    for name in ("gbk_no_charset", "gb2312_but_utf8", "zipped", "rec-html"):
        article = kept[name]
        assert article["text"].splitlines() == PARAGRAPHS, name
        assert article["title"] == TITLE, name
        assert article["language"] == "zh" and article["script"] == "Hans"
    assert kept["gbk_no_charset"]["encoding"] == "gb18030"
    assert kept["gb2312_but_utf8"]["encoding"] == "utf-8"
    # Why each encoding was chosen is kept with the article.
    assert kept["gbk_no_charset"]["encoding_reason"] == "strict fallback"
    assert kept["gb2312_but_utf8"]["encoding_reason"] == "strict fallback (meta gb18030 rejected)"
    assert kept["note"]["text"].splitlines() == PARAGRAPHS
    assert kept["rec-html"]["url"] == "http://news.example.cn/2024/0101/a.html"


def test_every_kept_record_has_the_schema(run: dict) -> None:
    for article in run["kept"]:
        assert list(article) == list(EXPORT_FIELDS)


def test_bad_inputs_reported_and_skipped(run: dict) -> None:
    reasons = {(r["file"].rsplit("/", 1)[-1], r["reason"]) for r in run["rejected"]}
    assert ("empty.html", "decode:empty") in reasons
    assert ("binary.html", "decode:binary") in reasons
    assert ("truncated.html.gz", "read:unreadable") in reasons
    assert ("records.jsonl:3", "read:no_html_or_text") in reasons
    assert ("records.jsonl:4", "read:bad_json") in reasons
    assert len(run["rejected"]) == 5
    assert not any("ignored.pdf" in r["file"] for r in run["rejected"])


def test_summary_counts_kept_and_dropped(run: dict) -> None:
    stdout = run["stdout"]
    assert "6 kept, 5 dropped" in stdout
    assert "dropped decode:empty: 1" in stdout
