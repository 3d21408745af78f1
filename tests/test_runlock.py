"""Run lock: a second crawl on the same store is refused with a clear message and changes nothing."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from crawler.extensions.runlock import holder, try_lock
from tests.crawlrun import ROOT, run_crawl
from tests.incremental.site import build_site, serve

LOCK_HELPER = """
import sys, time
from pathlib import Path
from crawler.extensions.runlock import try_lock
handle = try_lock(Path(sys.argv[1]))
print("locked" if handle else "refused", flush=True)
time.sleep(float(sys.argv[2]))
"""


def test_lock_is_exclusive_between_processes_and_dies_with_its_holder(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite.lock"
    other = subprocess.Popen([sys.executable, "-c", LOCK_HELPER, str(path), "30"], cwd=ROOT,
                             stdout=subprocess.PIPE, text=True)
    try:
        assert other.stdout is not None and other.stdout.readline().strip() == "locked"
        assert try_lock(path) is None
        assert holder(path).startswith(f"pid {other.pid} since ")
    finally:
        other.kill()  # a killed holder leaves no stale lock
        other.communicate()
    handle = try_lock(path)
    assert handle is not None
    handle.close()


def test_overlapping_crawl_is_refused(tmp_path: Path) -> None:
    root, out = tmp_path / "site", tmp_path / "out"
    build_site(root, 40, per_page=40)
    with serve(root, delay=0.1) as site:
        first = subprocess.Popen(
            [sys.executable, "-m", "scrapy", "crawl", "site", "-a", f"start={site.url}",
             "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "NETWORK_ALLOW_PRIVATE=True", "-s", f"STORE_PATH={out / 'articles.sqlite'}",
             "-s", f"REPORT_DIR={out / 'reports'}", "-s", f"JOBDIR={out / 'job'}",
             "-s", "FEEDS=" + json.dumps({str(out / "first.jsonl"): {"format": "jsonlines"}})],
            cwd=ROOT, stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.monotonic() + 30
            while "/robots.txt" not in site.paths():  # the first crawl holds the lock before its first request
                assert time.monotonic() < deadline and first.poll() is None
                time.sleep(0.02)
            second = run_crawl("site", {"start": site.url}, out,
                               settings={"JOBDIR": str(out / "job"), "REPORT_DIR": str(out / "reports")})
            assert first.poll() is None, "the second run was refused while the first was still crawling"
            _, first_log = first.communicate(timeout=60)
        finally:
            if first.poll() is None:
                first.kill()
                first.communicate()
    assert first.returncode == 0
    assert "Another crawl is running on this store" in second.stderr
    assert "'finish_reason': 'run_locked'" in second.stderr
    assert "(finished)" in first_log
    # The refused run touched neither the store, the job directory, the feed nor the reports.
    db = sqlite3.connect(out / "articles.sqlite")
    assert db.execute("SELECT COUNT(*) FROM articles").fetchone() == (40,)
    assert len((out / "first.jsonl").read_text(encoding="utf-8").splitlines()) == 40
    assert not (out / "articles.jsonl").exists()
    assert len(list((out / "reports").glob("*.json"))) == 1


def test_crawlers_of_one_process_share_the_store_lock_not_the_jobdir(tmp_path: Path) -> None:
    from crawler.extensions.runlock import RunLock, lock_paths
    store = str(tmp_path / "a.sqlite")
    first = RunLock(lock_paths(store, str(tmp_path / "job-a")))
    second = RunLock(lock_paths(store, str(tmp_path / "job-b")))
    same_job = RunLock(lock_paths(store, str(tmp_path / "job-a")))
    assert first.refused is None and second.refused is None
    assert same_job.refused == (tmp_path / "job-a" / "run.lock").resolve()
    first.release()
    assert try_lock(tmp_path / "a.sqlite.lock") is None  # still held for the second crawler
    second.release()
    handle = try_lock(tmp_path / "a.sqlite.lock")
    assert handle is not None
    handle.close()
