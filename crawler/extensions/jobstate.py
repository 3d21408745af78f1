"""Job state in JOBDIR: a crawl killed mid-run resumes as the same crawl; a finished one leaves JOBDIR clean."""

from __future__ import annotations

import json
import logging
import os
import shutil
from pathlib import Path
from typing import Any

from scrapy import signals
from scrapy.exceptions import NotConfigured

from crawler.middlewares.incremental import utc_now

logger = logging.getLogger(__name__)

MARKER = "crawl.json"
# What Scrapy keeps in JOBDIR: the pending-request queue, the seen-request fingerprints, spider.state.
SCRAPY_JOB_FILES = ("requests.queue", "requests.seen", "spider.state")
RUNNING, PAUSED = "running", "paused"


def read_marker(path: Path) -> dict[str, Any] | None:
    try:
        marker = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return marker if isinstance(marker, dict) and marker.get("started") else None


def write_marker(path: Path, marker: dict[str, Any]) -> None:
    """Write atomically and durably: the marker is what a run after a kill trusts."""
    temporary = path.with_suffix(".tmp")
    with open(temporary, "w", encoding="utf-8") as handle:
        json.dump(marker, handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def clear_scrapy_state(jobdir: Path) -> None:
    for name in SCRAPY_JOB_FILES:
        path = jobdir / name
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()


def begin(jobdir: Path) -> tuple[dict[str, Any], str]:
    """Start or resume the crawl kept in `jobdir`: the marker to run under and what happened.

    - no marker: a new crawl; leftovers of an earlier finished crawl are cleared (`new`).
    - marker `paused` (stopped with Ctrl-C / SIGTERM): Scrapy saved its queue and seen set; resume them (`resumed`).
    - marker `running`: that run died (SIGKILL, crash, power loss) and Scrapy's queue and seen set were not
      saved consistently: clear them; the crawl starts again from its start URLs under the same start time,
      and what it stored is not fetched again (crawler/middlewares/incremental.py) (`restarted_after_kill`).
    """
    jobdir.mkdir(parents=True, exist_ok=True)
    marker = read_marker(jobdir / MARKER)
    if marker is None:
        clear_scrapy_state(jobdir)
        marker, outcome = {"started": utc_now(), "attempts": 0}, "new"
    elif marker.get("state") == PAUSED:
        outcome = "resumed"
    else:
        clear_scrapy_state(jobdir)
        outcome = "restarted_after_kill"
    marker = marker | {"state": RUNNING, "attempts": int(marker.get("attempts", 0)) + 1}
    write_marker(jobdir / MARKER, marker)
    return marker, outcome


def end(jobdir: Path, marker: dict[str, Any], reason: str) -> None:
    """A crawl stopped by a signal is paused (resumed next time); any other end finishes it."""
    if reason == "shutdown":
        write_marker(jobdir / MARKER, marker | {"state": PAUSED})
    else:
        (jobdir / MARKER).unlink(missing_ok=True)


class JobState:
    """Extension (needs JOBDIR): decides at start whether this run is a new crawl, a resume after a pause,
    or a restart after a kill, before the scheduler opens JOBDIR; publishes the crawl's start time as
    JOBSTATE_CRAWL_STARTED."""

    def __init__(self, jobdir: Path, stats: Any = None) -> None:
        self.jobdir = jobdir
        self.marker, self.outcome = begin(jobdir)
        if stats is not None:
            stats.set_value("jobstate/outcome", self.outcome)
            stats.set_value("jobstate/attempt", self.marker["attempts"])
        log = logger.warning if self.outcome == "restarted_after_kill" else logger.info
        log("Job %s: %s (crawl started %s, attempt %d)", jobdir, self.outcome, self.marker["started"],
            self.marker["attempts"])

    @classmethod
    def from_crawler(cls, crawler: Any) -> JobState:
        settings = crawler.settings
        if not settings.getbool("JOBSTATE_ENABLED", True):
            raise NotConfigured("JOBSTATE_ENABLED is off")
        if not settings.get("JOBDIR"):
            raise NotConfigured("no JOBDIR")
        state = cls(Path(settings.get("JOBDIR")), crawler.stats)
        settings.set("JOBSTATE_CRAWL_STARTED", state.marker["started"], priority="cmdline")
        crawler.signals.connect(state.spider_closed, signal=signals.spider_closed)
        return state

    def spider_closed(self, reason: str) -> None:
        end(self.jobdir, self.marker, reason)
