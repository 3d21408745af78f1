"""`scrapy export -o OUT [--format jsonl|parquet] [filters]`: stored articles streamed to JSON lines or Parquet."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Iterable, Iterator
from datetime import date
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

import pyarrow as pa
import pyarrow.parquet as pq
from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from crawler.items import EXPORT_FIELDS
from pipelines.store import open_store
from pipelines.storesql import DB_ERRORS, parse_location

# Articles per Parquet row group: what is held in memory at once (~10 MB of Chinese text at ~2 KB an
# article), big enough for good compression and fast column scans.
ROW_GROUP_ROWS = 5000
PROGRESS_INTERVAL = 2.0  # seconds between progress lines on stderr
FORMAT_BY_SUFFIX = {".parquet": "parquet", ".pq": "parquet", ".jsonl": "jsonl", ".jl": "jsonl"}

# The Article schema (docs/design.md) as Parquet columns. Times stay ISO 8601 strings, as in the JSONL
# and the store: `published` is a bare date or a local time with its own offset, which a timestamp
# column would turn into an invented time in UTC.
LIST_FIELDS = frozenset({"authors"})
COUNT_FIELDS = frozenset({"cleaning"})  # reason -> how many removed or repaired
PARQUET_SCHEMA = pa.schema(
    [pa.field(name, pa.list_(pa.string()) if name in LIST_FIELDS
              else pa.map_(pa.string(), pa.int64()) if name in COUNT_FIELDS else pa.string())
     for name in EXPORT_FIELDS],
    metadata={"zhcrawl.schema": "Article (docs/design.md); times are ISO 8601 strings"},
)


def site_matches(record: dict[str, Any], sites: Iterable[str]) -> bool:
    """True when the article's URL host is one of `sites` or below one (news.cn matches www.news.cn), or
    its site_name is one of them."""
    host = (urlsplit(record.get("url") or "").hostname or "").lower()
    return any(host == site or host.endswith("." + site) or record.get("site_name") == site for site in sites)


def as_article(record: dict[str, Any]) -> dict[str, Any]:
    """The exported fields of a stored row, in schema order, with list / count fields in their types
    (`cleaning` keeps its numeric counts; anything else there has no place in a count column)."""
    article = {name: record.get(name) for name in EXPORT_FIELDS}
    authors = article["authors"]
    article["authors"] = [authors] if isinstance(authors, str) else [str(a) for a in authors or ()]
    article["cleaning"] = {str(reason): int(count) for reason, count in (article["cleaning"] or {}).items()
                           if isinstance(count, (int, float))}
    return article


class JsonLinesWriter:
    """One Article per line, UTF-8, fields in schema order (the same lines as the crawl's JSONL feed)."""

    def __init__(self, out: IO[bytes]) -> None:
        self.out = out

    def write(self, articles: list[dict[str, Any]]) -> None:
        self.out.write("".join(json.dumps(a, ensure_ascii=False) + "\n" for a in articles).encode("utf-8"))

    def close(self) -> None:
        self.out.flush()


class ParquetWriter:
    """Articles as Parquet row groups of ROW_GROUP_ROWS, written as they come: memory stays flat."""

    def __init__(self, path: Path) -> None:
        self.writer = pq.ParquetWriter(path, PARQUET_SCHEMA, compression="zstd")

    def write(self, articles: list[dict[str, Any]]) -> None:
        self.writer.write_table(pa.Table.from_pylist(articles, schema=PARQUET_SCHEMA), row_group_size=ROW_GROUP_ROWS)

    def close(self) -> None:
        self.writer.close()


def batches(articles: Iterator[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for article in articles:
        batch.append(article)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


class Command(ScrapyCommand):
    requires_project = True
    requires_crawler_process = False
    default_settings = {"LOG_LEVEL": "WARNING"}

    def syntax(self) -> str:
        return "-o OUT.parquet|OUT.jsonl|- [--format jsonl|parquet] [--since DATE] [--site HOST,...] " \
               "[--lang zh,...] [--no-duplicates] [--store URL]"

    def short_desc(self) -> str:
        return "Export stored articles to JSON lines or Parquet (streamed; filters by date, site, language)"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("-o", "--output", metavar="OUT", required=True,
                            help="file to write (.parquet or .jsonl), or - for JSON lines on stdout")
        parser.add_argument("--format", choices=["jsonl", "parquet"],
                            help="output format (default: from the extension of OUT)")
        parser.add_argument("--since", metavar="DATE",
                            help="only articles published on or after DATE (YYYY-MM-DD, the date as the page "
                                 "gives it); an article without a publication date counts from its fetch date")
        parser.add_argument("--site", metavar="HOST,...",
                            help="only these sites: URL host (subdomains included) or site name")
        parser.add_argument("--lang", metavar="CODE,...", help="only these languages (ISO 639-1, und)")
        parser.add_argument("--no-duplicates", action="store_true",
                            help="leave out near-duplicates (articles with duplicate_of set)")
        parser.add_argument("--store", metavar="URL",
                            help="store to read (default: STORE_URL, else STORE_PATH)")

    def output_format(self, opts: argparse.Namespace) -> str:
        if opts.format:
            chosen = opts.format
        elif opts.output == "-":
            chosen = "jsonl"
        else:
            suffix = Path(opts.output).suffix.lower()
            if suffix not in FORMAT_BY_SUFFIX:
                raise UsageError(f"cannot tell the format from {opts.output!r}: give --format jsonl|parquet")
            chosen = FORMAT_BY_SUFFIX[suffix]
        if chosen == "parquet" and opts.output == "-":
            raise UsageError("Parquet cannot be streamed to stdout: give a file name")
        return chosen

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if args:
            raise UsageError(f"unexpected arguments: {' '.join(args)}")
        assert self.settings is not None
        output_format = self.output_format(opts)
        since = None
        if opts.since:
            try:
                # Stored times are ISO strings starting with their date: `>= "YYYY-MM-DD"` compares dates.
                since = date.fromisoformat(opts.since).isoformat()
            except ValueError:
                raise UsageError(f"--since {opts.since!r} is not a date (YYYY-MM-DD)") from None
        location = parse_location(opts.store or self.settings.get("STORE_URL") or self.settings.get("STORE_PATH"))
        if location.sqlite_path is not None and not location.sqlite_path.exists():
            raise UsageError(f"no store at {location.sqlite_path}")
        sites = [s.strip().lower() for s in (opts.site or "").split(",") if s.strip()]
        languages = [s.strip() for s in (opts.lang or "").split(",") if s.strip()]
        try:
            store = open_store(location)
        except (ValueError, *DB_ERRORS) as error:
            print(f"Cannot open the store {location}: {error}", file=sys.stderr)
            self.exitcode = 1
            return
        started = time.monotonic()
        try:
            rows = store.iter_articles(since=since, languages=languages, originals_only=opts.no_duplicates)
            articles = (as_article(row) for row in rows if not sites or site_matches(row, sites))
            exported = self.write(articles, opts.output, output_format)
        finally:
            store.close()
        elapsed = time.monotonic() - started
        print(f"Exported {exported} articles from {location} to {opts.output} ({output_format}) in {elapsed:.1f}s"
              f" ({exported / max(elapsed, 1e-9):.0f} articles/s)", file=sys.stderr)

    def write(self, articles: Iterator[dict[str, Any]], output: str, output_format: str) -> int:
        """Stream `articles` to `output`; a file appears under its name only once complete."""
        partial = None
        if output == "-":
            writer: JsonLinesWriter | ParquetWriter = JsonLinesWriter(sys.stdout.buffer)
        else:
            path = Path(output)
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_name(path.name + ".partial")
            writer = ParquetWriter(partial) if output_format == "parquet" else JsonLinesWriter(open(partial, "wb"))
        exported = 0
        last_report = time.monotonic()
        try:
            try:
                for batch in batches(articles, ROW_GROUP_ROWS):
                    writer.write(batch)
                    exported += len(batch)
                    if time.monotonic() - last_report >= PROGRESS_INTERVAL:
                        last_report = time.monotonic()
                        print(f"[export] {exported} articles", file=sys.stderr, flush=True)
            finally:
                writer.close()
                if isinstance(writer, JsonLinesWriter) and partial is not None:
                    writer.out.close()
        except BaseException:
            if partial is not None:
                partial.unlink(missing_ok=True)
            raise
        if partial is not None:
            os.replace(partial, output)
        return exported
