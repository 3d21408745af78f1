"""The Article item: every field of the design's schema plus transient working fields."""

from __future__ import annotations

import hashlib

import scrapy
from w3lib.url import canonicalize_url

# Fields of the Article schema (docs/design.md), in export order. Scripts depend on these names.
ARTICLE_FIELDS: tuple[str, ...] = (
    "id",
    "url",
    "title",
    "text",
    "published",
    "authors",
    "source",
    "site_name",
    "language",
    "script",
    "original_script",
    "fetched_at",
    "content_hash",
    "duplicate_of",
    "cleaning",
)

# Extra fields kept in exports and the store (the design welcomes extras).
EXTRA_FIELDS: tuple[str, ...] = ("editor", "encoding", "updated", "encoding_reason")

# Working fields: filled by the spider or an early step, removed before an item is exported.
# Carried between steps, never exported: raw input, and HTTP validators / redirect aliases the store keeps
# for incremental re-crawls.
TRANSIENT_FIELDS: tuple[str, ...] = ("body", "http_encoding", "html", "kind", "source_file",
                                     "etag", "last_modified", "aliases", "neardup_fingerprint")

EXPORT_FIELDS: tuple[str, ...] = ARTICLE_FIELDS + EXTRA_FIELDS


class Article(scrapy.Item):
    """One news article on its way from a response (or a file) to the store."""

    locals().update({name: scrapy.Field() for name in ARTICLE_FIELDS + EXTRA_FIELDS + TRANSIENT_FIELDS})


def new_article(**values: object) -> Article:
    """An Article with every schema field present (None / empty defaults) and `values` applied."""
    item = Article(
        id=None, url=None, title=None, text="", published=None, authors=[], source=None,
        site_name=None, language="und", script=None, original_script=None, fetched_at=None,
        content_hash="", duplicate_of=None, cleaning={}, editor=None, encoding=None, updated=None,
        encoding_reason=None,
    )
    for key, value in values.items():
        item[key] = value
    return item


def count_cleaning(item: Article, counts: dict[str, int]) -> None:
    """Add non-zero `counts` (reason -> number) to the item's `cleaning` record."""
    cleaning = item.get("cleaning") or {}
    for reason, number in counts.items():
        if number:
            cleaning[reason] = cleaning.get(reason, 0) + number
    item["cleaning"] = cleaning


# Extensions `scrapy clean` reads, longest first so `.html.gz` is stripped whole.
INPUT_SUFFIXES: tuple[str, ...] = (
    ".html.gz", ".htm.gz", ".shtml.gz", ".warc.gz", ".html", ".htm", ".shtml", ".txt", ".jsonl", ".warc",
)


def url_article_id(url: str) -> str:
    """A stable id for a crawled page: 16 hex digits of the SHA-1 of its canonical URL."""
    return hashlib.sha1(canonicalize_url(url).encode("utf-8")).hexdigest()[:16]


def file_article_id(name: str) -> str:
    """A file's id: its name without the input extensions (`abc.html.gz` -> `abc`)."""
    base = name.rsplit("/", 1)[-1]
    lowered = base.lower()
    for suffix in INPUT_SUFFIXES:
        if lowered.endswith(suffix):
            return base[: -len(suffix)]
    return base
