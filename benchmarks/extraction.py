"""Extraction benchmark: the product's decode+extract(+clean) against bare trafilatura, same run.

    python benchmarks/extraction.py --data ../shared/benchmarks [--limit N] [--worst 10] [--jobs 2]

Sets: magic-html (base.json {id: {url, content}}) and scrapinghub (ground-truth.json {id: {articleBody,
url}}), pages at html/<id>.html.gz. The magic-html page with an empty reference is scored as "should
extract nothing" (F1 1 when nothing comes out, 0 otherwise) and reported separately from the mean."""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
from multiprocessing import Pool
from pathlib import Path
from statistics import mean

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import trafilatura  # noqa: E402

from benchmarks.metric import prf  # noqa: E402
from pipelines.clean import clean_text  # noqa: E402
from pipelines.decode import DecodeError, decode_bytes  # noqa: E402
from pipelines.extract import PageTooDeep, extract_article  # noqa: E402

# Output that is mostly rare / mis-decoded characters is mojibake (the wrong charset).
MOJIBAKE_RE = re.compile(r"[ÃÂâäåæçèéï][\x80-\xbf\u0152-\u2122]|锟斤拷|\ufffd|[\ue000-\uf8ff]")
SETS = {"magic-html": ("base.json", "content"), "scrapinghub": ("ground-truth.json", "articleBody")}


def is_mojibake(text: str) -> bool:
    return len(MOJIBAKE_RE.findall(text)) > max(3, len(text) / 200)


def score_page(task: tuple[str, str, str, str]) -> dict:
    set_name, page_id, path, reference = task
    raw = gzip.decompress(Path(path).read_bytes())
    bare = trafilatura.extract(raw) or ""
    try:
        decoded = decode_bytes(raw)
        extraction = extract_article(decoded.text)
    except (DecodeError, PageTooDeep):
        extraction = None
    product = extraction.text if extraction else ""
    cleaned = clean_text(product, extraction.title if extraction else None).text if product else ""
    return {"set": set_name, "id": page_id, "empty_reference": not reference.strip(),
            "bare": prf(bare, reference), "extract": prf(product, reference), "clean": prf(cleaned, reference),
            "mojibake": {"bare": is_mojibake(bare), "extract": is_mojibake(product), "clean": is_mojibake(cleaned)}}


def tasks(data: Path, limit: int | None) -> list[tuple[str, str, str, str]]:
    found = []
    for set_name, (truth_file, field) in SETS.items():
        truth = json.loads((data / set_name / truth_file).read_text(encoding="utf-8"))
        for page_id, record in list(truth.items())[:limit]:
            path = data / set_name / "html" / f"{page_id}.html.gz"
            if path.exists():
                found.append((set_name, page_id, str(path), record.get(field) or ""))
    return found


def report(results: list[dict], worst: int) -> None:
    for set_name in SETS:
        rows = [r for r in results if r["set"] == set_name and not r["empty_reference"]]
        if not rows:
            continue
        print(f"\n{set_name}: {len(rows)} pages with a reference")
        print(f"  {'system':<16}{'precision':>10}{'recall':>10}{'F1':>10}{'mojibake':>10}")
        for system in ("bare", "extract", "clean"):
            p, r, f = (mean(row[system][i] for row in rows) for i in range(3))
            label = {"bare": "bare trafilatura", "extract": "product extract", "clean": "extract+clean"}[system]
            bad = sum(row["mojibake"][system] for row in rows)
            print(f"  {label:<16}{p:>10.3f}{r:>10.3f}{f:>10.3f}{bad:>10d}")
        bare_f1 = mean(row["bare"][2] for row in rows)
        print(f"  F1 ratio extract+clean / bare: {mean(row['clean'][2] for row in rows) / bare_f1:.3f}")
        print(f"  worst pages (extract+clean F1, bare F1):")
        for row in sorted(rows, key=lambda r: r["clean"][2])[:worst]:
            print(f"    {row['id'][:24]:<26}{row['clean'][2]:.3f}  {row['bare'][2]:.3f}")
        empty = [r for r in results if r["set"] == set_name and r["empty_reference"]]
        for row in empty:
            print(f"  empty-reference page {row['id'][:16]}: extract+clean {'nothing' if row['clean'][2] == 1 else 'some text'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path("../shared/benchmarks"))
    parser.add_argument("--limit", type=int, default=None, help="pages per set")
    parser.add_argument("--worst", type=int, default=8)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    work = tasks(args.data, args.limit)
    with Pool(args.jobs) as pool:
        results = pool.map(score_page, work, chunksize=4)
    report(results, args.worst)


if __name__ == "__main__":
    main()
