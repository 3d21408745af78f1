"""kill -9 during store writes: the SQLite store always opens cleanly, every batch is all-or-nothing, and
writing again after the kills (what a resumed crawl does) ends with the same store as a run never killed."""

from __future__ import annotations

import random
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

from pipelines.store import open_store
from tests.crawlrun import ROOT

ARTICLES = 1500
BATCH = 25

# Edition 1 writes every article (a crawl), edition 2 writes them again with every 7th changed (its re-crawl),
# so kills land in inserts, in-place updates (the earlier version archived) and unchanged touches.
WRITER = f"""
import hashlib, sys
from pipelines.store import open_store
store = open_store(sys.argv[1])
for edition in [int(sys.argv[2])]:
    for start in range(0, {ARTICLES}, {BATCH}):
        batch = []
        for n in range(start, start + {BATCH}):
            changed = edition == 2 and n % 7 == 0
            text = ("第%d篇文章，第%d版。" % (n, 2 if changed else 1)) * 60
            batch.append({{"id": str(n), "url": "https://news.example.com/a/%d.html" % n, "title": "标题%d" % n,
                          "text": text, "content_hash": hashlib.sha1(text.encode()).hexdigest(),
                          "language": "zh", "cleaning": {{"n": n}}, "authors": ["记者"],
                          "aliases": ["https://m.news.example.com/a/%d.html" % n]}})
        store.upsert(batch)
        print(edition, start, flush=True)
store.close()
"""


def writer(path: Path, edition: int) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", WRITER, str(path), str(edition)], cwd=ROOT,
                            stdout=subprocess.PIPE, text=True)


def run_to_end(path: Path, edition: int) -> int:
    process = writer(path, edition)
    process.communicate(timeout=120)
    return process.returncode


def snapshot(path: Path) -> tuple[list[tuple[str, str, str]], int, int]:
    """(url, text, hash) of every article, the number of archived versions, the number of aliases."""
    db = sqlite3.connect(path)
    try:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        rows = db.execute("SELECT url, text, content_hash FROM articles ORDER BY url").fetchall()
        versions = db.execute("SELECT count(*) FROM versions").fetchone()[0]
        aliases = db.execute("SELECT count(*) FROM aliases").fetchone()[0]
        return rows, versions, aliases
    finally:
        db.close()


def test_kill_9_during_writes(tmp_path: Path) -> None:
    clean = tmp_path / "uninterrupted.sqlite"
    assert run_to_end(clean, 1) == 0 and run_to_end(clean, 2) == 0
    expected = snapshot(clean)
    assert len(expected[0]) == ARTICLES and expected[1] == len(range(0, ARTICLES, 7))

    killed = tmp_path / "killed.sqlite"
    chance = random.Random(20241008)
    kills = 0
    batches = ARTICLES // BATCH
    for edition in (1, 2):
        for _ in range(4):
            process = writer(killed, edition)
            assert process.stdout is not None
            for _ in range(chance.randrange(1, batches - 1)):  # killed while batch k+1 (or the next) is written
                process.stdout.readline()
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=30)
            process.stdout.close()
            kills += process.returncode == -signal.SIGKILL
            rows, versions, aliases = snapshot(killed)  # integrity_check is ok after every kill
            assert len(rows) % BATCH == 0 and aliases == len(rows)  # no half-written batch
            assert versions <= expected[1]  # an interrupted re-crawl never archives a version twice
            open_store(killed).close()  # and the product opens it (schema check, migration) without complaint
        assert run_to_end(killed, edition) == 0  # the resumed run
    assert kills == 8
    assert snapshot(killed) == expected
