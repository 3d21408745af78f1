"""Cleaning throughput: `scrapy clean` against bare `trafilatura.extract` on the same pages, same run.

    python benchmarks/throughput.py --data ../shared/benchmarks [--pages 2000] [--workers N] [--profile]

The benchmark pages (magic-html and scrapinghub, gzipped HTML) are repeated until there are at least
--pages of them, linked into a temporary directory as `copy<k>/<set>-<id>.html.gz`, and cleaned:

- bare: `trafilatura.extract(raw bytes)` on every page, in this process, one core;
- chain, 1 process: the real `scrapy clean DIR -o OUT --workers 0` (every step: decode, extract,
  clean, script, language, quality, exact and near-duplicate detection) in a child process;
- chain, N processes: the same with `--workers N` (default: every core).

Pages/s of the chain use the time the command reports for its run (reading, cleaning and writing the
output; interpreter start-up and imports excluded); a page is one input file. Copies of a page keep its
file name, so each counts as the same article seen again: every step runs on every copy, none is dropped
as a duplicate of another. The `unique pages` line runs the chain on each page once.
`--profile` prints the top functions of a single-process run of the chain (cProfile).
"""

from __future__ import annotations

import argparse
import cProfile
import gzip
import os
import pstats
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import trafilatura  # noqa: E402

from benchmarks.extraction import SETS  # noqa: E402
SUMMARY_RE = re.compile(r"Cleaned (\d+) files in ([\d.]+)s: (\d+) kept, (\d+) dropped")


def benchmark_pages(data: Path) -> list[Path]:
    pages = []
    for name in SETS:
        pages.extend(sorted((data / name / "html").glob("*.html.gz")))
    if not pages:
        raise SystemExit(f"no pages under {data}/{{{','.join(SETS)}}}/html")
    return pages


def link_copies(pages: list[Path], total: int, directory: Path) -> int:
    """Symlinks to `pages`, repeated in copy<k>/ folders until there are at least `total`; returns the count."""
    copies = max(1, -(-total // len(pages)))
    for k in range(copies):
        folder = directory / f"copy{k:02d}"
        folder.mkdir(parents=True)
        for page in pages:
            (folder / f"{page.parent.parent.name}-{page.name}").symlink_to(page.resolve())
    return copies * len(pages)


def bare_rate(pages: list[Path], total: int) -> float:
    raws = [gzip.decompress(page.read_bytes()) for page in pages]
    started = time.perf_counter()
    done = 0
    while done < total:
        for raw in raws:
            trafilatura.extract(raw)
            done += 1
    return done / (time.perf_counter() - started)


def clean_rate(directory: Path, workers: int, out: Path) -> tuple[float, str]:
    command = [sys.executable, "-m", "scrapy", "clean", str(directory), "-o", str(out), "--workers", str(workers)]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True)
    match = SUMMARY_RE.search(result.stdout)
    if match is None:
        raise SystemExit(f"no summary in the output of {' '.join(command)}:\n{result.stdout}\n{result.stderr}")
    files, seconds, kept, dropped = match.groups()
    return int(files) / float(seconds), f"{files} pages in {float(seconds):.1f}s, {kept} kept, {dropped} dropped"


def profile_chain(pages: list[Path], top: int) -> None:
    from scrapy.utils.project import get_project_settings

    from crawler.chain import Chain
    from crawler.inputs import read_documents
    from scrapy.exceptions import DropItem

    os.chdir(ROOT)
    documents = [doc for page in pages for doc in read_documents(page)]
    profiler = cProfile.Profile()
    with Chain(get_project_settings()) as chain:
        profiler.enable()
        for document in documents:
            try:
                chain.process(document)
            except DropItem:
                pass
        profiler.disable()
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(top)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path("../shared/benchmarks"))
    parser.add_argument("--pages", type=int, default=2000, help="at least this many pages (repeats the set)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="processes for --workers N")
    parser.add_argument("--profile", action="store_true", help="profile the chain in this process instead")
    args = parser.parse_args()
    pages = benchmark_pages(args.data.resolve())
    if args.profile:
        profile_chain(pages, 45)
        return
    with tempfile.TemporaryDirectory() as temp:
        unique, repeated = Path(temp) / "unique", Path(temp) / "repeated"
        link_copies(pages, len(pages), unique)
        total = link_copies(pages, args.pages, repeated)
        print(f"{len(pages)} distinct pages, {total} with repeats; {os.cpu_count()} cores")
        bare = bare_rate(pages, total)
        print(f"  {'bare trafilatura.extract, 1 process':<40}{bare:>8.1f} pages/s   1.00x")
        rows = [("chain (scrapy clean), unique pages", unique, 0),
                ("chain (scrapy clean), 1 process", repeated, 0),
                (f"chain (scrapy clean), {args.workers} processes", repeated, args.workers)]
        for label, directory, workers in rows:
            rate, detail = clean_rate(directory, workers, Path(temp) / "out.jsonl")
            print(f"  {label:<40}{rate:>8.1f} pages/s   {rate / bare:.2f}x   ({detail})")
        print(f"targets: 1 process >= 0.75x; {args.workers} processes >= {0.75 * args.workers:.2f}x")


if __name__ == "__main__":
    main()
