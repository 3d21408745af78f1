"""Scale benchmark of the near-duplicate index: insert rate, lookup latency, size and memory up to 1M articles.

Usage: python benchmarks/neardup_scale.py [--n 1000000] [--db PATH|none] [--batch 200] [--every 100000]

Synthetic articles of ~500 Han characters: a few stock sentences from a shared pool (like the agency
formulas real news repeats) around a random body. Every COPY_EVERY-th article is a near-copy of an
earlier one (another header line, some characters changed), so detection recall and false positives
are measured along with speed.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pipelines.neardup import NearDupIndex  # noqa: E402

# 3,000 code points from the start of the CJK block: the size of a common-character vocabulary.
CHARS = [chr(code) for code in range(0x4E00, 0x4E00 + 3000)]
BODY_CHARS = 460
POOL_SENTENCES = 300  # stock sentences shared between articles (dateline formulas, closing lines)
SENTENCE_CHARS = 20
EDITS = 4  # characters replaced in a copy; with the extra header line, copies measure J ~ 0.85


def sentence_pool(seed: int) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choices(CHARS, k=SENTENCE_CHARS)) + "。" for _ in range(POOL_SENTENCES)]


def original_text(number: int, pool: list[str]) -> str:
    """Article `number`, regenerated the same way every time from its number."""
    rng = random.Random(number)
    body = "".join(rng.choices(CHARS, k=BODY_CHARS))
    return f"{rng.choice(pool)}\n{body[:230]}，{body[230:]}。\n{rng.choice(pool)}"


def copy_text(original: str, rng: random.Random) -> str:
    chars = list(original)
    for _ in range(EDITS):
        chars[rng.randrange(len(chars))] = rng.choice(CHARS)
    return "来源：转载自其他网站\n" + "".join(chars)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def size_mib(path: Path | None) -> float:
    if path is None:
        return 0.0
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*")) / 2**20


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="articles to insert")
    parser.add_argument("--db", default=None, help="SQLite file (default: a temporary file); 'none' = in memory")
    parser.add_argument("--batch", type=int, default=200, help="index batch size (NEARDUP_BATCH_SIZE)")
    parser.add_argument("--every", type=int, default=100_000, help="report every this many articles")
    parser.add_argument("--copy-every", type=int, default=20, help="every k-th article is a near-copy")
    parser.add_argument("--queries", type=int, default=2000, help="lookups timed at the end")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    if args.db == "none":
        path = None
    else:
        path = Path(args.db) if args.db else Path(tempfile.mkdtemp()) / "neardup.sqlite"
        if path.exists():
            sys.exit(f"{path} exists; give a new file")
    pool = sentence_pool(args.seed)
    rng = random.Random(args.seed)
    index = NearDupIndex(path, batch_size=args.batch)
    flush_times: list[float] = []
    flush = index.flush

    def timed_flush() -> None:
        started = time.perf_counter()
        flush()
        flush_times.append(time.perf_counter() - started)

    index.flush = timed_flush  # type: ignore[method-assign]
    print(f"db={path or ':memory:'} n={args.n} batch={args.batch} copy_every={args.copy_every}", flush=True)
    print("articles  indexed  chunk_ins/s  check_ms_mean  p50_ms  p99_ms  copy_check_ms  flush_ms  recall  "
          "false_pos  db_MiB  rss_MiB", flush=True)

    originals: list[int] = []
    expected = found = wrong = false_positive = 0
    chunk_times: list[float] = []
    copy_times: list[float] = []
    chunk_start = time.perf_counter()
    wall_start = chunk_start
    for number in range(args.n):
        if number % args.copy_every == args.copy_every - 1 and originals:
            source = rng.choice(originals)
            text, truth = copy_text(original_text(source, pool), rng), str(source)
        else:
            text, truth = original_text(number, pool), None
        started = time.perf_counter()
        verdict = index.check(str(number), text)
        elapsed = time.perf_counter() - started
        chunk_times.append(elapsed)
        if truth is None:
            false_positive += verdict.original is not None
            if verdict.status == "added":
                originals.append(number)
        else:
            copy_times.append(elapsed)
            expected += 1
            found += verdict.original == truth
            wrong += verdict.original not in (None, truth)
        if (number + 1) % args.every == 0 or number + 1 == args.n:
            now = time.perf_counter()
            print(f"{number + 1:>8}  {len(originals):>7}  {len(chunk_times) / (now - chunk_start):>11.0f}  "
                  f"{1000 * statistics.fmean(chunk_times):>13.3f}  {1000 * percentile(chunk_times, 0.5):>6.3f}  "
                  f"{1000 * percentile(chunk_times, 0.99):>6.2f}  "
                  f"{1000 * statistics.fmean(copy_times or [0]):>13.3f}  "
                  f"{1000 * statistics.fmean(flush_times or [0]):>8.1f}  "
                  f"{found / max(1, expected):>6.4f}  {false_positive:>9}  {size_mib(path):>6.0f}  "
                  f"{peak_rss_mib():>7.0f}", flush=True)
            chunk_times, copy_times, flush_times[:] = [], [], []
            chunk_start = time.perf_counter()
    index.flush()
    insert_seconds = time.perf_counter() - wall_start

    # Lookups against the full index, nothing added: near-copies of early and late articles, and new texts.
    timings: dict[str, list[float]] = {"copy_of_early": [], "copy_of_late": [], "new_text": []}
    hits = 0
    for query in range(args.queries):
        kind = ("copy_of_early", "copy_of_late", "new_text")[query % 3]
        if kind == "new_text":
            text = original_text(10**12 + query, pool)
        else:
            tenth = len(originals) // 10
            part = originals[:tenth] if kind == "copy_of_early" else originals[-tenth:]
            text = copy_text(original_text(rng.choice(part), pool), rng)
        started = time.perf_counter()
        verdict = index.find(text)
        timings[kind].append(time.perf_counter() - started)
        hits += verdict.original is not None
    index.close()
    print(f"\ninserted {args.n} in {insert_seconds:.0f} s ({args.n / insert_seconds:.0f}/s overall); "
          f"copies found {found}/{expected} (recall {found / max(1, expected):.4f}), wrong original {wrong}, "
          f"false positives {false_positive}")
    for kind, values in timings.items():
        print(f"final lookups {kind:>13}: mean {1000 * statistics.fmean(values):.3f} ms, "
              f"p50 {1000 * percentile(values, 0.5):.3f} ms, p99 {1000 * percentile(values, 0.99):.3f} ms "
              f"({len(values)} queries)")
    print(f"final lookup hits: {hits}/{args.queries} (2/3 are copies)")
    print(f"db size after close: {size_mib(path):.0f} MiB; peak RSS {peak_rss_mib():.0f} MiB; "
          f"pid {os.getpid()}")


if __name__ == "__main__":
    main()
