"""`scrapy clean INPUT ... -o OUT.jsonl [--rejected REJECTED.jsonl]`: the crawl's chain, offline, on files."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path
from typing import IO, Any

from itemadapter import ItemAdapter
from scrapy.commands import ScrapyCommand
from scrapy.exceptions import DropItem, UsageError
from scrapy.exporters import JsonLinesItemExporter

from crawler.chain import Chain, drop_reason
from crawler.inputs import InputError, find_input_files, read_documents
from crawler.items import EXPORT_FIELDS

# Print a progress line at most this often (seconds), so long inputs show life without flooding.
PROGRESS_INTERVAL = 2.0


class CleanRun:
    """One offline run: documents in, kept Articles to OUT, drops to REJECTED, counts for the summary."""

    def __init__(self, chain: Chain, out: IO[bytes], rejected: IO[str] | None, progress: IO[str]) -> None:
        self.chain = chain
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
        for done, path in enumerate(files, start=1):
            for document in read_documents(path):
                if isinstance(document, InputError):
                    self.reject({"id": document.id, "url": None, "file": document.source,
                                 "reason": document.reason, "detail": document.detail})
                    continue
                origin = {"id": document.get("id"), "url": document.get("url"), "file": document.get("source_file")}
                try:
                    item = self.chain.process(document)
                except DropItem as error:
                    self.reject({**origin, "reason": drop_reason(error), "detail": str(error)})
                    continue
                self.exporter.export_item(ItemAdapter(item).asdict())
                self.kept += 1
            now = time.monotonic()
            if now - last_report >= PROGRESS_INTERVAL:
                last_report = now
                rate = done / (now - started)
                self.progress.write(f"[clean] {done}/{len(files)} files, {self.kept} kept, "
                                    f"{sum(self.dropped.values())} dropped, {rate:.1f} files/s\n")
                self.progress.flush()
        self.exporter.finish_exporting()
        self.elapsed = time.monotonic() - started

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
        return "INPUT [INPUT ...] -o OUT.jsonl [--rejected REJECTED.jsonl]"

    def short_desc(self) -> str:
        return "Clean HTML, text, JSONL and WARC files offline with the crawl's pipeline chain"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("-o", "--output", metavar="OUT.jsonl", required=True,
                            help="write one Article per kept document here (JSON lines)")
        parser.add_argument("--rejected", metavar="REJECTED.jsonl",
                            help="write every dropped document here with its reason")

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
        try:
            with open(opts.output, "wb") as out, Chain(settings) as chain:
                job = CleanRun(chain, out, rejected, sys.stderr)
                job.run(files)
        finally:
            if rejected is not None:
                rejected.close()
        print(job.summary(len(files)))
        print(f"Articles: {opts.output}" + (f"  Rejected: {opts.rejected}" if opts.rejected else ""))
