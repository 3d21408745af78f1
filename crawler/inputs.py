"""Inputs of `scrapy clean`: find files and turn each into Articles (or a reported read error)."""

from __future__ import annotations

import gzip
import json
import logging
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from crawler.items import INPUT_SUFFIXES, Article, file_article_id, new_article, url_article_id

logger = logging.getLogger(__name__)

HTML_SUFFIXES = (".html", ".htm", ".shtml")


@dataclass(frozen=True)
class InputError:
    """A file (or a record in it) that could not be read; reported in the summary and REJECTED."""

    source: str
    reason: str
    detail: str = ""
    id: str | None = None


def find_input_files(paths: Iterable[str | Path]) -> list[Path]:
    """Supported files among `paths`, directories read recursively, in a stable order."""
    found: list[Path] = []
    for path in map(Path, paths):
        candidates = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        found.extend(p for p in candidates if p.name.lower().endswith(INPUT_SUFFIXES))
    return found


def _read_bytes(path: Path) -> bytes:
    data = path.read_bytes()
    if path.name.lower().endswith(".gz") and not path.name.lower().endswith(".warc.gz"):
        data = gzip.decompress(data)
    return data


def read_documents(path: Path) -> Iterator[Article | InputError]:
    """Every document in `path` as an Article with `body` (or `html` / `text`), or an InputError."""
    name = path.name.lower()
    source = str(path)
    try:
        if name.endswith((".warc", ".warc.gz")):
            yield from _read_warc(path)
            return
        if name.endswith(".jsonl"):
            yield from _read_jsonl(path)
            return
        data = _read_bytes(path)
    except (OSError, EOFError, zlib.error) as error:
        yield InputError(source, "read:unreadable", repr(error), id=file_article_id(path.name))
        return
    kind = "text" if name.endswith(".txt") else "html"
    yield new_article(id=file_article_id(path.name), body=data, kind=kind, source_file=source)


def _read_jsonl(path: Path) -> Iterator[Article | InputError]:
    source = str(path)
    with path.open("rb") as lines:
        for number, raw in enumerate(lines, start=1):
            if not raw.strip():
                continue
            where = f"{source}:{number}"
            try:
                record = json.loads(raw)
            except ValueError as error:
                yield InputError(where, "read:bad_json", str(error))
                continue
            if not isinstance(record, dict) or not isinstance(record.get("html") or record.get("text"), str):
                yield InputError(where, "read:no_html_or_text", "a record needs an `html` or `text` string")
                continue
            url = record.get("url") if isinstance(record.get("url"), str) else None
            record_id = record.get("id")
            article_id = str(record_id) if record_id is not None else (
                url_article_id(url) if url else f"{file_article_id(path.name)}-{number}")
            if isinstance(record.get("html"), str) and record["html"]:
                yield new_article(id=article_id, url=url, html=record["html"], kind="html", source_file=where)
            else:
                yield new_article(id=article_id, url=url, text=record["text"], kind="text", source_file=where)


def _read_warc(path: Path) -> Iterator[Article | InputError]:
    from warcio.archiveiterator import ArchiveIterator
    from warcio.exceptions import ArchiveLoadFailed

    source = str(path)
    with path.open("rb") as stream:
        try:
            for record in ArchiveIterator(stream):
                if record.rec_type != "response" or record.http_headers is None:
                    continue
                content_type = record.http_headers.get_header("Content-Type") or ""
                if content_type and "html" not in content_type.lower():
                    continue
                url = record.rec_headers.get_header("WARC-Target-URI")
                charset = None
                if "charset=" in content_type.lower():
                    charset = content_type.lower().split("charset=", 1)[1].split(";")[0].strip(" \"'") or None
                yield new_article(
                    id=url_article_id(url) if url else None, url=url, body=record.content_stream().read(),
                    http_encoding=charset, kind="html", fetched_at=record.rec_headers.get_header("WARC-Date"),
                    source_file=source,
                )
        except (ArchiveLoadFailed, OSError, EOFError, zlib.error) as error:
            yield InputError(source, "read:bad_warc", repr(error))
