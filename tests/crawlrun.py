"""Run a real `scrapy crawl` in a subprocess for tests, with test-friendly settings."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from crawler.items import EXPORT_FIELDS

ROOT = Path(__file__).resolve().parent.parent

# Local test sites answer at once: no throttling, no politeness delay.
TEST_SETTINGS = {
    "AUTOTHROTTLE_ENABLED": "False",
    "DOWNLOAD_DELAY": "0",
    "LOG_LEVEL": "INFO",
    "NETWORK_ALLOW_PRIVATE": "True",  # the test sites listen on 127.0.0.1
}


def run_crawl(spider: str, args: dict[str, str], out_dir: Path, settings: dict[str, Any] | None = None,
              timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Crawl with the store at out_dir/articles.sqlite and the feed at out_dir/articles.jsonl."""
    feeds = {str(out_dir / "articles.jsonl"): {"format": "jsonlines", "encoding": "utf8", "overwrite": True,
                                               "fields": list(EXPORT_FIELDS)}}
    merged = {**TEST_SETTINGS, "STORE_PATH": str(out_dir / "articles.sqlite"),
              "REPORT_DIR": str(out_dir / "reports"), **(settings or {})}
    command = [sys.executable, "-m", "scrapy", "crawl", spider]
    for name, value in args.items():
        command += ["-a", f"{name}={value}"]
    for name, value in merged.items():
        command += ["-s", f"{name}={value}"]
    command += ["-s", "FEEDS=" + json.dumps(feeds)]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
