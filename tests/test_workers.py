"""The chain on worker processes (crawler/workers.py): same articles, drops and counters as in one process."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from scrapy.settings import Settings

from crawler.workers import split_steps, with_steps, worker_count
from demo.httpsite import serve_directory
from tests.crawlrun import run_crawl

ROOT = Path(__file__).resolve().parent.parent
TESTS = Path(__file__).parent
STATS_RE = re.compile(r"'((?:extract|clean|quality|language|dedup|neardup|limits)/[^']+)': (\d+)")


def test_worker_count_settings() -> None:
    assert worker_count(Settings({"CLEAN_WORKERS": 3})) == 3
    assert worker_count(Settings({"CLEAN_WORKERS": "auto"})) >= 1
    assert worker_count(Settings({"CLEAN_WORKERS": -1})) == worker_count(Settings({"CLEAN_WORKERS": "auto"}))
    assert worker_count(Settings({"CLEAN_WORKERS": 0})) == 0


def test_stateful_steps_stay_in_the_main_process() -> None:
    settings = Settings()
    settings.setmodule("crawler.settings")
    pure, stateful = split_steps(settings)
    assert "pipelines.extract.ExtractPipeline" in pure and "pipelines.decode.DecodePipeline" in pure
    assert {"pipelines.dedup.DedupPipeline", "pipelines.neardup.NearDupPipeline",
            "pipelines.store.StorePipeline"} <= set(stateful)
    assert max(pure.values()) < min(stateful.values())
    assert list(with_steps(settings, stateful).getwithbase("ITEM_PIPELINES")) == list(stateful)


def clean(inputs: Path, out: Path, workers: int) -> tuple[list[str], list[str], str]:
    result = subprocess.run([sys.executable, "-m", "scrapy", "clean", str(inputs), "-o", str(out / "kept.jsonl"),
                             "--rejected", str(out / "rejected.jsonl"), "--workers", str(workers)],
                            cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    kept = (out / "kept.jsonl").read_text(encoding="utf-8").splitlines()
    rejected = (out / "rejected.jsonl").read_text(encoding="utf-8").splitlines()
    return kept, rejected, result.stdout


def test_clean_on_workers_equals_one_process(tmp_path: Path) -> None:
    inputs = tmp_path / "in"
    shutil.copytree(TESTS / "pages", inputs / "pages", ignore=shutil.ignore_patterns("*.py", "*.json"))
    shutil.copytree(TESTS / "seeds", inputs / "seeds", ignore=shutil.ignore_patterns("*.expected.txt"))
    # An exact copy under another name: the duplicate step (main process) must see it after the original.
    shutil.copy(inputs / "pages" / "gbk_without_charset.html", inputs / "zz_copy_of_gbk.html")
    (inputs / "empty.html").write_bytes(b"")
    (inputs / "no_text.html").write_bytes(b"<html><body><script>var a = 1;</script></body></html>")
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    kept_one, rejected_one, summary_one = clean(inputs, tmp_path / "one", 0)
    kept_two, rejected_two, summary_two = clean(inputs, tmp_path / "two", 2)
    assert len(kept_one) >= 8
    assert kept_two == kept_one  # same articles, same order, byte for byte
    assert rejected_two == rejected_one
    reasons = [json.loads(line)["reason"] for line in rejected_one]
    assert {"dedup:exact", "decode:empty", "extract:empty"} <= set(reasons)
    # The counters the steps keep in the workers reach the summary.
    assert summary_two.split("s:", 1)[1].replace("/two/", "/one/") == summary_one.split("s:", 1)[1]


def stored(out: Path) -> dict[str, dict]:
    articles = {}
    for line in (out / "articles.jsonl").read_text(encoding="utf-8").splitlines():
        article = json.loads(line)
        article.pop("fetched_at")
        articles[article["id"]] = article
    return articles


def test_crawl_on_workers_equals_one_process(tmp_path: Path) -> None:
    with serve_directory(TESTS / "e2e_site" / "site") as site:
        inline = run_crawl("site", {"start": site.url}, tmp_path / "inline", {"CLEAN_WORKERS": "0"})
        pooled = run_crawl("site", {"start": site.url}, tmp_path / "pooled", {"CLEAN_WORKERS": "2"})
    assert inline.returncode == 0, inline.stderr[-3000:]
    assert pooled.returncode == 0, pooled.stderr[-3000:]
    assert "Cleaning on 2 worker processes" in pooled.stderr
    assert "worker processes" not in inline.stderr
    assert stored(tmp_path / "pooled") == stored(tmp_path / "inline") != {}
    # Drops and cleaning counters made in the workers are merged into the crawl's stats.
    counters = dict(STATS_RE.findall(pooled.stderr))
    assert counters == dict(STATS_RE.findall(inline.stderr))
    assert any(key.startswith("dedup/") for key in counters)


POOL_THEN_WAIT = r'''
import sys, time
from scrapy.utils.project import get_project_settings
from crawler.items import new_article
from crawler.workers import StepPool
pool = StepPool(get_project_settings(), 2)
futures = [pool.submit(new_article(id=str(n), html="<html><body><p>正文</p></body></html>", kind="html"))
           for n in range(8)]
[future.result() for future in futures]
print(" ".join(str(pid) for pid in pool.executor._processes), flush=True)
time.sleep(120)
'''


def running(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_workers_exit_when_their_crawl_is_killed() -> None:
    with subprocess.Popen([sys.executable, "-c", POOL_THEN_WAIT], cwd=ROOT, stdout=subprocess.PIPE,
                          text=True) as parent:
        assert parent.stdout is not None
        workers = [int(pid) for pid in parent.stdout.readline().split()]
        assert workers and all(running(pid) for pid in workers)
        parent.kill()  # SIGKILL: no shutdown of the pool
    deadline = time.monotonic() + 15
    while any(running(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(running(pid) for pid in workers)
