"""Export benchmark: peak memory and speed of `scrapy export` to Parquet as the store grows.

Usage: python benchmarks/export_memory.py [--n 100000] [--checkpoints 10000,100000] [--postgres | --postgres-url URL]
       [--format parquet|jsonl] [--keep DIR]

Fills a store (SQLite; with --postgres also a throwaway PostgreSQL server started from the installed
binaries, or the server at --postgres-url) with synthetic articles of 300-1,500 Chinese characters,
and at each checkpoint runs the real `scrapy export` in a child process, reading that child's peak RSS
from os.wait4 (getrusage of the child). Flat memory means the peak hardly moves between checkpoints.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipelines.store import open_store  # noqa: E402

CHARS = [chr(code) for code in range(0x4E00, 0x4E00 + 3000)]  # a common-character vocabulary
POOL_CHARS = 2_000_000  # articles are slices of one random pool: generating text is not what is measured
SITES = ["www.news.cn", "www.people.com.cn", "www.chinanews.com.cn", "www.gov.cn", "news.sina.com.cn"]
INSERT_BATCH = 1000


def synthetic_articles(start: int, stop: int, pool: str, rng: random.Random) -> Iterator[dict[str, object]]:
    for number in range(start, stop):
        size = rng.randint(300, 1500)
        offset = rng.randrange(len(pool) - size)
        body = pool[offset:offset + size]
        text = "\n".join(body[i:i + 150] + "。" for i in range(0, size, 150))
        site = SITES[number % len(SITES)]
        yield {"id": f"{number:08x}", "url": f"http://{site}/2024/{number}.html", "title": body[:18],
               "text": text, "published": f"2024-{1 + number % 12:02d}-{1 + number % 28:02d}",
               "authors": ["记者" + body[20:22]], "source": "新华社", "site_name": site, "language": "zh",
               "script": "Hans", "original_script": "Hans", "fetched_at": "2024-12-01T00:00:00+00:00",
               "content_hash": f"{number:032x}", "duplicate_of": None if number % 20 else f"{number - 1:08x}",
               "cleaning": {"boilerplate_lines": number % 5, "pinyin_removed": number % 3}}


def fill(location: str, start: int, stop: int, pool: str, rng: random.Random) -> float:
    """Insert articles [start, stop); returns seconds taken."""
    began = time.monotonic()
    store = open_store(location)
    batch: list[dict[str, object]] = []
    for record in synthetic_articles(start, stop, pool, rng):
        batch.append(record)
        if len(batch) == INSERT_BATCH:
            store.upsert(batch)
            batch = []
    if batch:
        store.upsert(batch)
    store.close()
    return time.monotonic() - began


def measure_export(location: str, out: Path, output_format: str) -> tuple[float, float, int]:
    """Run `scrapy export` in a child: (seconds, peak RSS of the child in MiB, output bytes)."""
    command = [sys.executable, "-m", "scrapy", "export", "-o", str(out), "--format", output_format,
               "--store", location]
    began = time.monotonic()
    child = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert child.stderr is not None
    errors = child.stderr.read()
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    elapsed = time.monotonic() - began
    if child.returncode != 0:
        raise SystemExit(f"export failed ({child.returncode}): {errors.decode(errors='replace')[-2000:]}")
    return elapsed, usage.ru_maxrss / 1024, out.stat().st_size  # ru_maxrss is in KiB on Linux


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=100_000, help="articles in the store at the end")
    parser.add_argument("--checkpoints", default="10000,100000", help="store sizes at which to export")
    parser.add_argument("--postgres", action="store_true", help="also a throwaway PostgreSQL server")
    parser.add_argument("--postgres-url", help="also this PostgreSQL database (must be empty)")
    parser.add_argument("--format", choices=["parquet", "jsonl"], default="parquet")
    parser.add_argument("--keep", help="work in this directory and keep it (default: a temporary one)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    checkpoints = sorted({int(c) for c in args.checkpoints.split(",") if int(c) <= args.n} | {args.n})

    with ExitStack() as stack:
        work = Path(args.keep) if args.keep else Path(stack.enter_context(tempfile.TemporaryDirectory()))
        work.mkdir(parents=True, exist_ok=True)
        backends = {"sqlite": str(work / "bench.sqlite")}
        if args.postgres_url:
            backends["postgresql"] = args.postgres_url
        elif args.postgres:
            from tests.pg import running_postgres

            server = stack.enter_context(running_postgres())
            backends["postgresql"] = server.url(server.create_database())
        rng = random.Random(args.seed)
        pool = "".join(rng.choices(CHARS, k=POOL_CHARS))
        print(f"{'backend':<11} {'articles':>9} {'fill s':>7} {'export s':>9} {'rows/s':>8} {'peak RSS MiB':>13} "
              f"{'out MiB':>8}")
        for backend, location in backends.items():
            done = 0
            for checkpoint in checkpoints:
                fill_s = fill(location, done, checkpoint, pool, random.Random(args.seed + checkpoint))
                done = checkpoint
                out = work / f"export-{backend}-{checkpoint}.{args.format}"
                seconds, peak, size = measure_export(location, out, args.format)
                print(f"{backend:<11} {checkpoint:>9} {fill_s:>7.1f} {seconds:>9.1f} {checkpoint / seconds:>8.0f} "
                      f"{peak:>13.0f} {size / 2**20:>8.1f}", flush=True)
                if not args.keep:
                    out.unlink()


if __name__ == "__main__":
    main()
