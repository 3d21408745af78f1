"""`make demo`: serve the bundled demo site on a free local port, crawl it into output/, print a summary."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from demo.httpsite import serve_directory  # noqa: E402

OUTPUT = ROOT / "output"
STORE = OUTPUT / "demo.sqlite"
FEED = OUTPUT / "demo.jsonl"


def main() -> int:
    OUTPUT.mkdir(exist_ok=True)
    feeds = {str(FEED): {"format": "jsonlines", "encoding": "utf8", "overwrite": True}}
    with serve_directory(ROOT / "demo" / "site") as site:
        print(f"Serving the demo news site at {site.url}")
        command = [sys.executable, "-m", "scrapy", "crawl", "site", "-a", f"start={site.url}",
                   "-s", f"STORE_PATH={STORE}", "-s", "FEEDS=" + json.dumps(feeds),
                   "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "LOG_LEVEL=WARNING",
                   "-s", "NETWORK_ALLOW_PRIVATE=True"]  # the demo site listens on 127.0.0.1
        result = subprocess.run(command, cwd=ROOT)
        print(f"Fetched {len(site.requests)} URLs from the demo site")
    if result.returncode != 0:
        print("The crawl failed; see the log above.")
        return result.returncode
    db = sqlite3.connect(STORE)
    rows = db.execute("SELECT title, published, original_script, script, language, text FROM articles "
                      "ORDER BY published").fetchall()
    print(f"\n{len(rows)} articles in {STORE.relative_to(ROOT)}; this run's articles in {FEED.relative_to(ROOT)}\n")
    for title, published, original, script, language, text in rows:
        print(f"  {published or '—':<26} {original or '?':>5}->{script or '?':<5} {language}  {len(text):>5} chars  {title}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
