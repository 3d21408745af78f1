"""Resume: a crawl killed mid-run (SIGKILL) or stopped (SIGTERM) and run again with the same command and
JOBDIR ends with the same stored articles as an uninterrupted crawl, none lost, none twice."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.crawlrun import ROOT, TEST_SETTINGS
from tests.incremental.site import Served, build_site, serve

ARTICLES = 200
DELAY = 0.02  # seconds per request: the crawl lasts several seconds


def command(url: str, out: Path, jobdir: Path | None) -> list[str]:
    settings = {**TEST_SETTINGS, "STORE_PATH": str(out / "articles.sqlite"), "REPORT_DIR": str(out / "reports"),
                "SITE_DEPTH_LIMIT": "0", "FEEDS": json.dumps({}), "LOG_FILE": str(out / "crawl.log"), "LOG_FILE_APPEND": "True"}
    if jobdir is not None:
        settings["JOBDIR"] = str(jobdir)
    args = [sys.executable, "-m", "scrapy", "crawl", "site", "-a", f"start={url}"]
    for name, value in settings.items():
        args += ["-s", f"{name}={value}"]
    return args


def stored(out: Path) -> list[str]:
    path = out / "articles.sqlite"
    if not path.exists():
        return []
    db = sqlite3.connect(path, timeout=30)
    try:
        return [url for (url,) in db.execute("SELECT url FROM articles")]
    except sqlite3.OperationalError:  # the crawl is still creating the schema
        return []
    finally:
        db.close()


def articles_fetched(site: Served, since: int = 0) -> list[str]:
    return [path for path, status, _ in site.log[since:] if path.startswith("/news/") and status == 200]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Served:
    root = tmp_path_factory.mktemp("site")
    build_site(root, ARTICLES, per_page=20)
    with serve(root, delay=DELAY) as served:
        yield served


@pytest.fixture(scope="module")
def uninterrupted(site: Served, tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    out = tmp_path_factory.mktemp("whole")
    subprocess.run(command(site.url, out, None), cwd=ROOT, check=True, timeout=120)
    urls = stored(out)
    assert len(urls) == ARTICLES
    return set(urls)


def interrupt(site: Served, out: Path, how: signal.Signals, after_rows: int) -> tuple[int, set[str]]:
    """Start the crawl, send `how` once `after_rows` articles are stored; the request-log position and the
    stored URLs when it ended."""
    process = subprocess.Popen(command(site.url, out, out / "job"), cwd=ROOT)
    try:
        deadline = time.monotonic() + 60
        while len(stored(out)) < after_rows:
            assert process.poll() is None, "the crawl ended before it could be interrupted"
            assert time.monotonic() < deadline
            time.sleep(0.05)
        process.send_signal(how)
        process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    time.sleep(10 * DELAY + 0.3)  # let the server log the answers it was still sending to the dead crawl
    return len(site.log), set(stored(out))


def check_resumed(site: Served, out: Path, position: int, before: set[str], uninterrupted: set[str],
                  outcome: str) -> None:
    assert 0 < len(before) < ARTICLES, "interrupted mid-run"
    subprocess.run(command(site.url, out, out / "job"), cwd=ROOT, check=True, timeout=120)
    db = sqlite3.connect(out / "articles.sqlite")
    assert db.execute("SELECT COUNT(*), COUNT(DISTINCT url), COUNT(DISTINCT id) FROM articles").fetchone() \
        == (ARTICLES, ARTICLES, ARTICLES)
    assert set(stored(out)) == uninterrupted
    refetched = articles_fetched(site, position)
    assert len(refetched) == ARTICLES - len(before), ("only what was not stored is fetched again",
                                                      sorted(refetched), len(before))
    assert not {site.url.rstrip("/") + path for path in refetched} & before
    log = (out / "crawl.log").read_text(encoding="utf-8")
    assert f": {outcome} (crawl started" in log
    assert not (out / "job" / "crawl.json").exists()  # finished: the next run is a new crawl


def test_killed_crawl_resumes_without_loss_or_duplicates(site: Served, uninterrupted: set[str],
                                                         tmp_path: Path) -> None:
    position, before = interrupt(site, tmp_path, signal.SIGKILL, after_rows=50)
    assert json.loads((tmp_path / "job" / "crawl.json").read_text())["state"] == "running"
    check_resumed(site, tmp_path, position, before, uninterrupted, "restarted_after_kill")


def test_stopped_crawl_resumes_from_scrapy_queue(site: Served, uninterrupted: set[str], tmp_path: Path) -> None:
    position, before = interrupt(site, tmp_path, signal.SIGTERM, after_rows=50)
    assert json.loads((tmp_path / "job" / "crawl.json").read_text())["state"] == "paused"
    assert (tmp_path / "job" / "requests.seen").exists()
    check_resumed(site, tmp_path, position, before, uninterrupted, "resumed")


def test_job_state_decisions(tmp_path: Path) -> None:
    from crawler.extensions.jobstate import MARKER, begin, end
    job = tmp_path / "job"
    marker, outcome = begin(job)
    assert outcome == "new" and marker["state"] == "running" and marker["attempts"] == 1
    (job / "requests.seen").write_text("fingerprint\n")
    (job / "requests.queue").mkdir()
    # Killed: the marker still says running; Scrapy's state is not trusted, the start time is kept.
    again, outcome = begin(job)
    assert outcome == "restarted_after_kill" and again["started"] == marker["started"] and again["attempts"] == 2
    assert not (job / "requests.seen").exists() and not (job / "requests.queue").exists()
    # Stopped by a signal: paused; Scrapy's saved queue and seen set are used.
    (job / "requests.seen").write_text("fingerprint\n")
    end(job, again, "shutdown")
    resumed, outcome = begin(job)
    assert outcome == "resumed" and (job / "requests.seen").exists() and resumed["started"] == marker["started"]
    # Finished: the next run is a new crawl with a clean JOBDIR.
    end(job, resumed, "finished")
    assert not (job / MARKER).exists()
    fresh, outcome = begin(job)
    assert outcome == "new" and not (job / "requests.seen").exists()
    (job / MARKER).write_text("{broken")  # a damaged marker counts as none
    assert begin(job)[1] == "new"
