"""Inputs of `scrapy clean`: find files and turn each into Articles (or a reported read error)."""

from __future__ import annotations

import gzip
import json
import logging
import re
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from crawler.canonical import canonical_url, choose_canonical
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


# <link> tags and their rel / href attributes: a WARC page's rel=canonical, read without parsing the page.
WARC_LINK_TAG_RE = re.compile(rb"<link\b[^>]*>", re.IGNORECASE)
WARC_ATTR_RE = re.compile(rb"""\b(rel|href)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.IGNORECASE)
# rel=canonical sits in <head>: the first bytes of a page are enough, as in the crawl's own reading.
CANONICAL_SCAN_BYTES = 64 * 1024


def declared_canonical(body: bytes) -> str | None:
    """The page's `<link rel="canonical" href>`, read from raw bytes (hrefs are ASCII in any charset we meet)."""
    for tag in WARC_LINK_TAG_RE.finditer(body[:CANONICAL_SCAN_BYTES]):
        attrs = {m.group(1).lower(): (m.group(2) or m.group(3) or m.group(4) or b"")
                 for m in WARC_ATTR_RE.finditer(tag.group(0))}
        if b"canonical" in attrs.get(b"rel", b"").lower().split() and attrs.get(b"href"):
            return attrs[b"href"].decode("latin-1")
    return None


def _warc_skip(record: object, source: str, url: str | None) -> InputError | None:
    """Why a WARC record is not an HTML page to clean, or None for a 200 HTML response."""
    rec_type = record.rec_type  # type: ignore[attr-defined]
    article_id = url_article_id(url) if url else None
    if rec_type != "response":  # request, revisit, resource, conversion
        return InputError(source, f"warc:{rec_type}", url or "", id=article_id)
    http = record.http_headers  # type: ignore[attr-defined]
    if http is None:
        return InputError(source, "warc:no_http_headers", url or "", id=article_id)
    status = http.get_statuscode()
    if status != "200":
        return InputError(source, f"warc:status_{status}", url or "", id=article_id)
    content_type = (http.get_header("Content-Type") or "").lower()
    if content_type and "html" not in content_type:
        return InputError(source, "warc:not_html", f"{url} {content_type}", id=article_id)
    return None


def _warc_listing(url: str, body: bytes, charset: str | None) -> str:
    """Why the crawl would not have stored this page (a listing, like the spider's read_page), or ""."""
    from lxml import etree

    from crawler.pagetype import classify_page, parse_html
    from pipelines.decode import DecodeError, decode_bytes

    try:
        tree = parse_html(decode_bytes(body, charset).text)  # as the crawl parses it (XHTML declarations too)
        kind = classify_page(url, tree)
    except (DecodeError, ValueError, etree.LxmlError):
        return ""  # the chain's decode step reports it with its own reason
    return "" if kind.is_article else ", ".join(kind.reasons)


def _read_warc(path: Path) -> Iterator[Article | InputError]:
    """The 200 HTML responses of a WARC (ours, crawler/warc.py, or any), as the crawl would have built them:
    url = the canonical URL (rel=canonical honoured as in Page.article), id from it, body decoded of its
    Content-Encoding, charset from the HTTP headers. Other records are counted `warc:<reason>`."""
    from warcio.archiveiterator import ArchiveIterator
    from warcio.bufferedreaders import BufferedReader
    from warcio.exceptions import ArchiveLoadFailed

    source = str(path)
    supported = set(BufferedReader.get_supported_decompressors())
    with path.open("rb") as stream:
        try:
            for record in ArchiveIterator(stream):
                target = record.rec_headers.get_header("WARC-Target-URI")
                if record.rec_type in ("warcinfo", "metadata"):
                    continue  # they describe the file or a fetch, they are not fetches: not counted
                skipped = _warc_skip(record, source, canonical_url(target) if target else None)
                if skipped is not None:
                    yield skipped
                    continue
                content_encoding = (record.http_headers.get_header("Content-Encoding") or "").strip().lower()
                if content_encoding not in ("", "identity") and content_encoding not in supported:
                    yield InputError(source, "warc:unsupported_encoding", f"{target} {content_encoding}",
                                     id=url_article_id(target) if target else None)
                    continue
                try:
                    body = record.content_stream().read()
                except (OSError, EOFError, zlib.error, ValueError) as error:
                    yield InputError(source, "warc:bad_content_encoding", f"{target} {error!r}",
                                     id=url_article_id(target) if target else None)
                    continue
                url = choose_canonical(target, declared_canonical(body)) if target else None
                content_type = record.http_headers.get_header("Content-Type") or ""
                charset = None
                if "charset=" in content_type.lower():
                    charset = content_type.lower().split("charset=", 1)[1].split(";")[0].strip(" \"'") or None
                listing = _warc_listing(target or "", body, charset)
                if listing:
                    yield InputError(source, "warc:listing", f"{target} {listing}",
                                     id=url_article_id(url) if url else None)
                    continue
                yield new_article(
                    id=url_article_id(url) if url else None, url=url, body=body,
                    http_encoding=charset, kind="html", fetched_at=record.rec_headers.get_header("WARC-Date"),
                    source_file=source,
                )
        except (ArchiveLoadFailed, OSError, EOFError, zlib.error) as error:
            yield InputError(source, "read:bad_warc", repr(error))
