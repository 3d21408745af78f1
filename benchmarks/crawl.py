"""Crawl throughput and memory on a generated local news site (tests/sitegen.py), same run, same settings.

    python benchmarks/crawl.py [--pages 5000] [--workers auto] [--plain]
    python benchmarks/crawl.py --memory 10000,100000 [--no-jobdir]

Throughput (default): one generated site of --pages articles plus listings, served from memory by a
threaded local server, crawled three ways. Article pages are portal pages by default (~50 KB like real
Chinese news pages: stylesheet, ad and tracking scripts, channel navigation, share bar, related and hot-news
lists linking other articles, footer; tests/sitegen.py portal_chrome); --plain serves the bare ~3 KB
article, on which the crawl's fixed per-request cost weighs far more against the cleaning:

- bare Scrapy: a spider that only follows every link (`scrapy runspider`, plain Scrapy settings, no
  items), the ceiling the downloader and the server allow;
- product: `scrapy crawl site` with every step (decode, extract, clean, script, language, quality,
  dedup, near-dup, SQLite store, incremental state, report) and CLEAN_WORKERS worker processes;
- offline: `scrapy clean --workers N` of the same article pages (with their URLs, as JSON lines), the
  same steps without the network.

Both crawls use CONCURRENT_REQUESTS = CONCURRENT_REQUESTS_PER_DOMAIN = 32, no delay, no autothrottle
(politeness is not what is measured). Rates are pages/s over the time the command reports for its run
(Scrapy's elapsed_time_seconds; the clean command's own timing), start-up excluded.

The crawl's CPU time is read from /proc while it runs: seconds of the crawl process (Scrapy, the spider's
decoding, classification and link extraction, dedup, near-dup, store) and of its cleaning workers, per page.

Memory (--memory N1,N2,...): the product crawl of a generated site of each size, as the README tells users to
run long crawls: with a JOBDIR (Scrapy's request queue on disk, PickleFifoDiskQueue; --no-jobdir keeps it in
memory). Reported per size: peak RSS (VmHWM) of the crawl process and of its largest cleaning worker, sampled
from /proc while it runs. What stays in memory as a crawl grows: Scrapy's duplicate filter (a 20-byte
fingerprint per URL seen, ~80 bytes with the set: 8 MB at 100,000 URLs) and,
without a JOBDIR, the queue of requests not yet fetched (a breadth-first crawl of a generated site holds most
of its article URLs at once). The exact-duplicate step keeps only the hashes of the 10,000 most recent
articles (pipelines/dedup.py); the rest of the product's per-article state is in the store.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.sitegen import article_html, article_path, serve_site  # noqa: E402

FAST = {"AUTOTHROTTLE_ENABLED": "False", "DOWNLOAD_DELAY": "0", "CONCURRENT_REQUESTS": "32",
        "CONCURRENT_REQUESTS_PER_DOMAIN": "32", "LOG_LEVEL": "INFO"}
STAT_RE = re.compile(r"'(elapsed_time_seconds|response_received_count|item_scraped_count|item_dropped_count)': "
                     r"([\d.]+)")
SUMMARY_RE = re.compile(r"Cleaned \d+ files in ([\d.]+)s: (\d+) kept, (\d+) dropped")

BARE_SPIDER = '''
import scrapy


class Follow(scrapy.Spider):
    """Follows every link of the site and does nothing else."""
    name = "follow"

    def __init__(self, start: str, **kwargs):
        super().__init__(**kwargs)
        self.start_urls = [start]

    def parse(self, response):
        yield from response.follow_all(css="a::attr(href)", callback=self.parse)
'''


def settings_args(settings: dict[str, str]) -> list[str]:
    return [part for name, value in settings.items() for part in ("-s", f"{name}={value}")]


def run_measured(command: list[str], cwd: Path) -> tuple[subprocess.CompletedProcess[str], dict[str, float]]:
    """Run `command`, sampling from /proc the peak RSS (KiB) of it and of its largest child, and the CPU seconds
    of it and of its children (`main_cpu`, `workers_cpu`, as last seen, within a sampling period of the end)."""
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peaks: dict[str, float] = {"main": 0, "worker": 0}
    cpu: dict[int, float] = {}
    with process:
        output: dict[str, str] = {}
        readers = [threading.Thread(target=lambda name=name, stream=stream: output.__setitem__(name, stream.read()))
                   for name, stream in (("out", process.stdout), ("err", process.stderr))]
        for reader in readers:
            reader.start()
        while process.poll() is None:
            peaks["main"] = max(peaks["main"], peak_rss(process.pid))
            cpu[process.pid] = cpu_seconds(process.pid) or cpu.get(process.pid, 0.0)
            for child in children(process.pid):
                peaks["worker"] = max(peaks["worker"], peak_rss(child))
                cpu[child] = cpu_seconds(child) or cpu.get(child, 0.0)
            time.sleep(0.5)
        for reader in readers:
            reader.join()
    result = subprocess.CompletedProcess(command, process.returncode, output.get("out", ""), output.get("err", ""))
    peaks["main_cpu"] = cpu.pop(process.pid, 0.0)
    peaks["workers_cpu"] = sum(cpu.values())
    return result, peaks


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far; 0 when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss(pid: int) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    match = re.search(r"VmHWM:\s+(\d+) kB", status)
    return int(match.group(1)) if match else 0


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(child) for child in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def crawl_stats(result: subprocess.CompletedProcess[str], label: str) -> dict[str, float]:
    if result.returncode != 0:
        raise SystemExit(f"{label} failed ({result.returncode}):\n{result.stderr[-3000:]}")
    stats = {name: float(value) for name, value in STAT_RE.findall(result.stderr)}
    if "elapsed_time_seconds" not in stats:
        raise SystemExit(f"{label}: no final stats in the log:\n{result.stderr[-3000:]}")
    return stats


def bare_crawl(url: str, temp: Path) -> dict[str, float]:
    spider = temp / "follow.py"
    spider.write_text(BARE_SPIDER, encoding="utf-8")
    command = [sys.executable, "-m", "scrapy", "runspider", str(spider), "-a", f"start={url}",
               *settings_args({**FAST, "ROBOTSTXT_OBEY": "False"})]
    result, _ = run_measured(command, temp)  # outside the project: plain Scrapy settings
    return crawl_stats(result, "bare spider")


def product_crawl(url: str, temp: Path, workers: str, jobdir: bool = False) -> tuple[dict[str, float], dict[str, float]]:
    out = temp / f"product-{time.monotonic_ns()}"
    out.mkdir()
    settings = {**FAST, "NETWORK_ALLOW_PRIVATE": "True", "CLEAN_WORKERS": workers,
                "STORE_PATH": str(out / "articles.sqlite"), "REPORT_DIR": str(out / "reports"), "FEEDS": "{}"}
    if jobdir:
        settings["JOBDIR"] = str(out / "job")
    command = [sys.executable, "-m", "scrapy", "crawl", "site", "-a", f"start={url}", *settings_args(settings)]
    result, peaks = run_measured(command, ROOT)
    return crawl_stats(result, "product crawl"), peaks


def offline_clean(site_url: str, pages: int, temp: Path, workers: str, portal: bool) -> tuple[float, int]:
    source = temp / "pages.jsonl"
    with source.open("w", encoding="utf-8") as out:
        for n in range(pages):
            url = site_url.rstrip("/") + article_path(n)
            html = article_html(n, pages if portal else 0)
            out.write(json.dumps({"url": url, "html": html}, ensure_ascii=False) + "\n")
    count = str(os.cpu_count() or 1) if workers == "auto" else workers
    command = [sys.executable, "-m", "scrapy", "clean", str(source), "-o", str(temp / "clean.jsonl"),
               "--workers", count]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    match = SUMMARY_RE.search(result.stdout)
    if result.returncode != 0 or match is None:
        raise SystemExit(f"scrapy clean failed:\n{result.stdout}\n{result.stderr[-3000:]}")
    seconds, kept, dropped = float(match.group(1)), int(match.group(2)), int(match.group(3))
    return (kept + dropped) / seconds, kept


def throughput(pages: int, workers: str, portal: bool) -> None:
    with tempfile.TemporaryDirectory() as name, serve_site(pages, prerender=True, portal=portal) as site:
        temp = Path(name)
        print(f"generated site: {pages} articles ({'portal pages, ~50 KB' if portal else 'plain pages, ~3 KB'}), "
              f"{site.listings} listings; {os.cpu_count()} cores, CLEAN_WORKERS={workers}")
        bare = bare_crawl(site.url, temp)
        bare_rate = bare["response_received_count"] / bare["elapsed_time_seconds"]
        print(f"  {'bare Scrapy (follow links only)':<36}{bare_rate:>8.1f} pages/s  "
              f"({bare['response_received_count']:.0f} responses in {bare['elapsed_time_seconds']:.1f}s)")
        product, peaks = product_crawl(site.url, temp, workers)
        product_rate = product["response_received_count"] / product["elapsed_time_seconds"]
        print(f"  {'product crawl (every step, store)':<36}{product_rate:>8.1f} pages/s  "
              f"({product['response_received_count']:.0f} responses, {product.get('item_scraped_count', 0):.0f} "
              f"stored, {product.get('item_dropped_count', 0):.0f} dropped in {product['elapsed_time_seconds']:.1f}s;"
              f" peak RSS {peaks['main'] / 1024:.0f} MiB + worker {peaks['worker'] / 1024:.0f} MiB)")
        responses = product["response_received_count"]
        print(f"  {'':<36}CPU per page: crawl process {1000 * peaks['main_cpu'] / responses:.2f} ms, "
              f"cleaning workers {1000 * peaks['workers_cpu'] / responses:.2f} ms")
        clean_rate, kept = offline_clean(site.url, pages, temp, workers, portal)
        print(f"  {'offline scrapy clean, same pages':<36}{clean_rate:>8.1f} pages/s  ({kept} kept)")
        articles_per_s = product.get("item_scraped_count", 0) / product["elapsed_time_seconds"]
        print(f"product / bare Scrapy: {product_rate / bare_rate:.2f}x;  crawl / offline cleaning: "
              f"{articles_per_s / clean_rate:.2f}x (articles/s of the crawl against pages/s of clean; target 0.8x)")


def memory(sizes: list[int], workers: str, jobdir: bool) -> None:
    print(f"request queue: {'on disk (JOBDIR)' if jobdir else 'in memory (no JOBDIR)'}")
    print(f"{'articles':>9} {'responses':>10} {'stored':>8} {'seconds':>8} {'pages/s':>8} "
          f"{'crawl peak MiB':>15} {'worker peak MiB':>16}")
    with tempfile.TemporaryDirectory() as name:
        for size in sizes:
            with serve_site(size, prerender=True) as site:
                stats, peaks = product_crawl(site.url, Path(name), workers, jobdir)
            rate = stats["response_received_count"] / stats["elapsed_time_seconds"]
            print(f"{size:>9} {stats['response_received_count']:>10.0f} {stats.get('item_scraped_count', 0):>8.0f} "
                  f"{stats['elapsed_time_seconds']:>8.0f} {rate:>8.1f} {peaks['main'] / 1024:>15.0f} "
                  f"{peaks['worker'] / 1024:>16.0f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=5000)
    parser.add_argument("--workers", default="auto", help="CLEAN_WORKERS for the crawl and clean (default auto)")
    parser.add_argument("--memory", help="comma-separated site sizes: peak RSS per size instead of throughput")
    parser.add_argument("--no-jobdir", action="store_true", help="--memory without JOBDIR (request queue in memory)")
    parser.add_argument("--plain", action="store_true",
                        help="bare ~3 KB article pages instead of portal pages (~50 KB: navigation, scripts, lists)")
    args = parser.parse_args()
    if args.memory:
        memory([int(size) for size in args.memory.split(",")], args.workers, not args.no_jobdir)
    else:
        throughput(args.pages, args.workers, not args.plain)


if __name__ == "__main__":
    main()
