"""`scrapy clean INPUT ... -o OUT.jsonl [--rejected REJECTED.jsonl]`: the crawl's chain, offline, on files."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter, deque
from collections.abc import Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import IO, Any

from itemadapter import ItemAdapter
from scrapy.commands import ScrapyCommand
from scrapy.exceptions import DropItem, UsageError
from scrapy.exporters import JsonLinesItemExporter

from crawler.chain import Chain, drop_reason
from crawler.inputs import InputError, find_input_files, read_documents
from crawler.items import EXPORT_FIELDS, new_article
from crawler.workers import StepPool, merge_stats, split_steps, with_steps, worker_count

# Print a progress line at most this often (seconds), so long inputs show life without flooding.
PROGRESS_INTERVAL = 2.0


class CleanRun:
    """One offline run: documents in, kept Articles to OUT, drops to REJECTED, counts for the summary.

    With a StepPool the stateless steps run on its worker processes, a bounded window of documents
    ahead, and `chain` (then the stateful steps only) finishes each item in input order."""

    def __init__(self, chain: Chain, out: IO[bytes], rejected: IO[str] | None, progress: IO[str],
                 pool: StepPool | None = None) -> None:
        self.chain = chain
        self.pool = pool
        self.exporter = JsonLinesItemExporter(out, fields_to_export=list(EXPORT_FIELDS), ensure_ascii=False)
        self.rejected = rejected
        self.progress = progress
        self.kept = 0
        self.dropped: Counter[str] = Counter()

    def reject(self, record: dict[str, Any]) -> None:
        self.dropped[record["reason"]] += 1
        if self.rejected is not None:
            self.rejected.write(json.dumps(record, ensure_ascii=False) + "\n")

    def run(self, files: list[Path]) -> None:
        started = last_report = time.monotonic()
        self.exporter.start_exporting()
        for done, outcome in self._outcomes(files):
            if isinstance(outcome, InputError):
                self.reject({"id": outcome.id, "url": None, "file": outcome.source,
                             "reason": outcome.reason, "detail": outcome.detail})
            elif outcome is not None:
                self._finish(*outcome)
            now = time.monotonic()
            if now - last_report >= PROGRESS_INTERVAL:
                last_report = now
                rate = done / (now - started)
                self.progress.write(f"[clean] {done}/{len(files)} files, {self.kept} kept, "
                                    f"{sum(self.dropped.values())} dropped, {rate:.1f} files/s\n")
                self.progress.flush()
        self.exporter.finish_exporting()
        self.elapsed = time.monotonic() - started

    def _outcomes(self, files: list[Path]) -> Iterator[tuple[int, Any]]:
        """(files done, outcome) in input order; an outcome is an InputError, (origin, item or DropItem), or
        None after the last document of a file."""
        pending: deque[tuple[int, Any, Any]] = deque()
        window = 4 * self.pool.workers if self.pool else 0
        for done, path in enumerate(files, start=1):
            for document in read_documents(path):
                if isinstance(document, InputError):
                    pending.append((done, document, None))
                else:
                    origin = {"id": document.get("id"), "url": document.get("url"),
                              "file": document.get("source_file")}
                    work = self.pool.submit(document) if self.pool else document
                    pending.append((done, origin, work))
                while len(pending) > window:
                    yield self._resolve(pending.popleft())
            pending.append((done, None, None))
        while pending:
            yield self._resolve(pending.popleft())

    def _resolve(self, entry: tuple[int, Any, Any]) -> tuple[int, Any]:
        done, origin, work = entry
        if origin is None or isinstance(origin, InputError):
            return done, origin
        if isinstance(work, Future):
            kind, payload, deltas = work.result()
            merge_stats(self.chain.stats, deltas)
            if kind == "drop":
                return done, (origin, DropItem(payload))
            work = new_article(**payload)
        try:
            return done, (origin, self.chain.process(work))
        except DropItem as error:
            return done, (origin, error)

    def _finish(self, origin: dict[str, Any], result: Any) -> None:
        if isinstance(result, DropItem):
            self.reject({**origin, "reason": drop_reason(result), "detail": str(result)})
            return
        self.exporter.export_item(ItemAdapter(result).asdict())
        self.kept += 1

    def summary(self, files: int) -> str:
        dropped = sum(self.dropped.values())
        lines = [f"Cleaned {files} files in {self.elapsed:.1f}s: {self.kept} kept, {dropped} dropped"]
        lines += [f"  dropped {reason}: {count}" for reason, count in sorted(self.dropped.items())]
        return "\n".join(lines)


class Command(ScrapyCommand):
    requires_project = True
    requires_crawler_process = False
    default_settings = {"LOG_LEVEL": "WARNING"}

    def syntax(self) -> str:
        return "INPUT [INPUT ...] -o OUT.jsonl [--rejected REJECTED.jsonl] [--workers N]"

    def short_desc(self) -> str:
        return "Clean HTML, text, JSONL and WARC files offline with the crawl's pipeline chain"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("-o", "--output", metavar="OUT.jsonl", required=True,
                            help="write one Article per kept document here (JSON lines)")
        parser.add_argument("--rejected", metavar="REJECTED.jsonl",
                            help="write every dropped document here with its reason")
        parser.add_argument("--workers", metavar="N", type=int, default=None,
                            help="processes for the stateless steps (default: CLEAN_WORKERS, one per core; "
                                 "0 or 1: this process only)")

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if not args:
            raise UsageError("give at least one INPUT file or directory")
        missing = [a for a in args if not Path(a).exists()]
        if missing:
            raise UsageError(f"no such input: {', '.join(missing)}")
        assert self.settings is not None
        settings = self.settings.copy()
        # Offline cleaning writes OUT, not the crawl's store; duplicates are found within the run.
        settings.set("STORE_ENABLED", False, priority="cmdline")
        files = find_input_files(args)
        Path(opts.output).parent.mkdir(parents=True, exist_ok=True)
        rejected = None
        if opts.rejected:
            Path(opts.rejected).parent.mkdir(parents=True, exist_ok=True)
            rejected = open(opts.rejected, "w", encoding="utf-8")
        workers = worker_count(settings) if opts.workers is None else opts.workers
        pool = StepPool(settings, workers) if workers > 1 else None
        # With workers, this process runs only the stateful steps (dedup, near-dup) on what they return.
        chain_settings = with_steps(settings, split_steps(settings)[1]) if pool else settings
        try:
            with open(opts.output, "wb") as out, Chain(chain_settings) as chain:
                job = CleanRun(chain, out, rejected, sys.stderr, pool)
                job.run(files)
        finally:
            if pool is not None:
                pool.close()
            if rejected is not None:
                rejected.close()
        print(job.summary(len(files)))
        print(f"Articles: {opts.output}" + (f"  Rejected: {opts.rejected}" if opts.rejected else ""))
